/**
 * Instance paths (docs/wmi-semantics.md §5.6, §6.9; issue #4 item 4): the text form
 * `Class.K1="a",K2=5`, `Class="a"`, `Class=@`, the canonical __RELPATH, and where an instance
 * lives in the store. Object paths compare case-insensitively (§5.6), so the location of an
 * instance is its key text case-folded, filed under the class that introduced the keys.
 */
import {
  cimTypeInfo,
  type CimValue,
  type ResolvedClass,
  type ResolvedProperty,
} from './class-model';
import { derivationNames } from './resolve-class';
import { hasTrue } from './class-rules';
import type { InstanceLocation, InstancePath, PathKey } from './instance-model';
import {
  classKey,
  isClassName,
  isIdentifier,
  findNamed,
  MAX_IDENTIFIER,
  preview,
  sameName,
} from './names';
import { checkValueFits } from './value-rules';
import { isWbemError, WbemError } from './wbem-status';

/** WBEM_MAX_PATH (§5.7): the longest object path accepted, in UTF-16 code units. */
export const MAX_PATH = 8192;

/** A literal as the path spells it, before it meets the key property's type. */
type PathLiteral = Extract<CimValue, { kind: 'string' | 'sint' | 'uint' | 'boolean' }>;

/** A cursor over the path text; every failure names the whole path and the position. */
class PathReader {
  position = 0;
  constructor(readonly text: string) {}

  invalid(why: string): WbemError {
    return new WbemError(
      'WBEM_E_INVALID_OBJECT_PATH',
      `object path "${preview(this.text)}" is not valid: ${why}`,
    );
  }

  get atEnd(): boolean {
    return this.position >= this.text.length;
  }

  peek(): string {
    return this.text.charAt(this.position);
  }

  expect(char: string, what: string): void {
    if (this.peek() !== char) throw this.invalid(`expected ${what} at position ${this.position}`);
    this.position++;
  }

  /** The longest run of identifier characters from here ('' when there is none). */
  word(): string {
    const start = this.position;
    while (!this.atEnd && /[A-Za-z0-9_]/.test(this.peek())) this.position++;
    return this.text.slice(start, this.position);
  }

  literal(): PathLiteral {
    const first = this.peek();
    if (first === '"') return { kind: 'string', value: this.quoted() };
    if (first === '-' || first === '+' || /[0-9]/.test(first)) return this.integer();
    const word = this.word();
    if (sameName(word, 'TRUE')) return { kind: 'boolean', value: true };
    if (sameName(word, 'FALSE')) return { kind: 'boolean', value: false };
    throw this.invalid(
      word === ''
        ? `expected a key value at position ${this.position}`
        : `"${preview(word)}" is not a key value (a quoted string, an integer, TRUE or FALSE)`,
    );
  }

  /** A double-quoted string; `\"` and `\\` are the only escapes object paths have. */
  private quoted(): string {
    const opening = this.position;
    this.position++;
    let value = '';
    while (!this.atEnd) {
      const char = this.peek();
      this.position++;
      if (char === '"') return value;
      if (char === '\\') {
        const escaped = this.peek();
        if (escaped !== '"' && escaped !== '\\') {
          throw this.invalid(
            `"\\${escaped}" at position ${this.position - 1} is not an escape (only \\" and \\\\ are)`,
          );
        }
        this.position++;
        value += escaped;
      } else {
        value += char;
      }
    }
    throw this.invalid(`the string opened at position ${opening} is not closed`);
  }

  /** Decimal, optional sign; kept exact as bigint (sint when negative) and ranged later. */
  private integer(): PathLiteral {
    const start = this.position;
    const sign = this.peek();
    if (sign === '-' || sign === '+') this.position++;
    const digitsStart = this.position;
    while (!this.atEnd && /[0-9]/.test(this.peek())) this.position++;
    if (this.position === digitsStart)
      throw this.invalid(`expected digits at position ${digitsStart}`);
    const value = BigInt(this.text.slice(start, this.position));
    return sign === '-' ? { kind: 'sint', value } : { kind: 'uint', value };
  }
}

/**
 * Where the namespace prefix ends (the index of its `:`), or -1 when there is none. A prefix is
 * `\\machine\ns:` or `ns\path:`; the class name and keys come after, and a key string may
 * itself hold `:` (a reference), so the search stops at the first character of the key part.
 */
function namespaceEnd(reader: PathReader): number {
  const text = reader.text;
  // Machine names may contain dots (`\\host.example\root:`), so only `=` and `"` end the search there.
  const withMachine = text.startsWith('\\\\') || text.startsWith('//');
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (char === ':') return i;
    if (char === '=' || char === '"' || (char === '.' && !withMachine)) break;
  }
  if (withMachine)
    throw reader.invalid('a machine and namespace prefix must end with ":" before the class name');
  return -1;
}

/**
 * Parses an instance path. Throws WBEM_E_INVALID_OBJECT_PATH for any syntax error, for a path
 * that names only a class, and for a path longer than WBEM_MAX_PATH. The namespace prefix is
 * returned as written: whether it names the bound namespace is the service's question.
 */
export function parseInstancePath(text: string): InstancePath {
  const reader = new PathReader(text);
  if (text.length === 0) throw reader.invalid('it is empty');
  if (text.length > MAX_PATH) {
    throw new WbemError(
      'WBEM_E_INVALID_OBJECT_PATH',
      `object path is ${text.length} characters long; the limit is ${MAX_PATH}`,
    );
  }
  const colon = namespaceEnd(reader);
  let namespace: string | undefined;
  if (colon >= 0) {
    namespace = text.slice(0, colon);
    if (namespace.length === 0) throw reader.invalid('the namespace before ":" is empty');
    reader.position = colon + 1;
  }
  const className = reader.word();
  if (className === '')
    throw reader.invalid(`expected a class name at position ${reader.position}`);
  // A path may name a system class (`__`), as CLASS-NAME allows.
  if (className.length > MAX_IDENTIFIER || !isClassName(className)) {
    throw reader.invalid(`"${preview(className)}" is not a class name`);
  }
  if (reader.atEnd)
    throw reader.invalid(
      `it names the class ${preview(className)}; an instance path needs its keys or "=@"`,
    );
  if (reader.peek() === '=') {
    reader.position++;
    if (reader.peek() === '@') {
      reader.position++;
      if (!reader.atEnd)
        throw reader.invalid(`unexpected text after "=@" at position ${reader.position}`);
      return { namespace, className, keys: 'singleton' };
    }
    const value = reader.literal();
    if (!reader.atEnd)
      throw reader.invalid(`unexpected text after the key value at position ${reader.position}`);
    return { namespace, className, keys: [{ name: '', value }] };
  }
  reader.expect('.', '"." or "=" after the class name');
  const keys: PathKey[] = [];
  for (;;) {
    const name = reader.word();
    if (!isIdentifier(name)) {
      throw reader.invalid(
        name === ''
          ? `expected a key name at position ${reader.position}`
          : `"${preview(name)}" is not a property name`,
      );
    }
    if (findNamed(keys, name) !== undefined)
      throw reader.invalid(`key ${preview(name)} is given twice`);
    reader.expect('=', `"=" after key ${preview(name)}`);
    keys.push({ name, value: reader.literal() });
    if (reader.atEnd) return { namespace, className, keys };
    reader.expect(',', '"," between keys');
  }
}

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/** A key value as a path literal. Only keyable kinds reach here (C8: WBEM_E_CANNOT_BE_KEY at PutClass). */
function literalText(value: CimValue): string {
  switch (value.kind) {
    case 'string':
    case 'datetime':
    case 'reference':
    case 'char16':
      return quote(value.value);
    case 'sint':
    case 'uint':
      return value.value.toString();
    case 'boolean':
      return value.value ? 'TRUE' : 'FALSE';
    default:
      throw new WbemError(
        'WBEM_E_CANNOT_BE_KEY',
        `a ${value.kind} value cannot be part of an object path`,
      );
  }
}

function keyListText(keys: readonly { name: string; value: CimValue }[]): string {
  return keys.map((key) => `${key.name}=${literalText(key.value)}`).join(',');
}

/**
 * The canonical __RELPATH: `Class.A="x",B=5` with keys sorted by name case-insensitively (the
 * order WMI writes), `Class=@` for a singleton. An unnamed single key (name '') gives `Class="x"`.
 */
export function formatRelPath(
  className: string,
  keys: readonly { name: string; value: CimValue }[] | 'singleton',
): string {
  if (keys === 'singleton') return `${className}=@`;
  const only = keys[0];
  if (keys.length === 1 && only !== undefined && only.name === '')
    return `${className}=${literalText(only.value)}`;
  const sorted = [...keys].sort((a, b) => {
    const x = a.name.toLowerCase();
    const y = b.name.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return `${className}.${keyListText(sorted)}`;
}

/** The class's key properties, in its property order (Key is inherited whatever its flavor, §5.4 rule 4). */
export function keyPropertiesOf(resolved: ResolvedClass): ResolvedProperty[] {
  return resolved.properties.filter((property) => hasTrue(property.qualifiers, 'Key'));
}

/** A class with `Singleton` in force (its own, or inherited through a ToSubclass flavor). */
export function isSingleton(resolved: ResolvedClass): boolean {
  return hasTrue(resolved.qualifiers, 'Singleton');
}

/**
 * The class whose key space the instances share. C8 lets keys appear only where every ancestor
 * is keyless, so all classes below that point have the same key properties. A class there may
 * make an inherited property a key as well as add its own: the deepest __CLASS_ORIGIN among the
 * keys is then the class that introduced them. When every key is an inherited property made key
 * lower down, the origin is the ancestor that declared the property, which siblings share:
 * WMI, too, refuses an instance with the keys of one in a sibling class (PutInstance remarks).
 */
function keyRootOf(resolved: ResolvedClass, keys: readonly ResolvedProperty[]): string {
  // __DERIVATION is nearest first; depth 0 = the top-most ancestor.
  const lineage = [...derivationNames(resolved.derivation)].reverse().concat(resolved.name);
  let root = keys[0]?.classOrigin ?? resolved.name;
  let rootDepth = -1;
  for (const key of keys) {
    const depth = lineage.findIndex((name) => sameName(name, key.classOrigin));
    if (depth > rootDepth) {
      root = key.classOrigin;
      rootDepth = depth;
    }
  }
  return root;
}

/**
 * The location of the instance of `resolved` with these key values (in the class's key order,
 * names as the class spells them). Both GetInstance (through locateByPath) and PutInstance
 * (through prepareInstance) come here, so one instance has one location.
 */
export function instanceLocation(
  resolved: ResolvedClass,
  keys: readonly PathKey[] | 'singleton',
): InstanceLocation {
  if (keys === 'singleton') return { keyRoot: classKey(resolved.name), key: '@' };
  const keyRoot = classKey(keyRootOf(resolved, keyPropertiesOf(resolved)));
  // §5.6: object paths compare case-insensitively, names and string values alike.
  return { keyRoot, key: keyListText(keys).toLowerCase() };
}

/**
 * A path literal as a value of the key property's type: a quoted string for string, datetime,
 * reference and char16 keys; an integer within the type's range; TRUE/FALSE for booleans.
 */
function coerceKey(literal: CimValue, property: ResolvedProperty, pathText: string): CimValue {
  const info = cimTypeInfo(property.type);
  const mismatch = (why: string): WbemError =>
    new WbemError(
      'WBEM_E_INVALID_OBJECT_PATH',
      `object path "${preview(pathText)}": key ${property.name} ${why}`,
    );
  if (info === undefined)
    throw mismatch(`has type ${property.type}, which no path literal can give`);
  let value: CimValue;
  switch (info.valueKind) {
    case 'string':
    case 'datetime':
    case 'reference':
    case 'char16':
      if (literal.kind !== 'string')
        throw mismatch(`is a ${info.mofName}; its value must be quoted`);
      value = { kind: info.valueKind, value: literal.value };
      break;
    case 'sint':
    case 'uint':
      if (literal.kind !== 'sint' && literal.kind !== 'uint')
        throw mismatch(`is a ${info.mofName}; its value must be an integer`);
      value = { kind: info.valueKind, value: literal.value };
      break;
    case 'boolean':
      if (literal.kind !== 'boolean')
        throw mismatch('is a boolean; its value must be TRUE or FALSE');
      value = literal;
      break;
    default:
      throw mismatch(`is a ${info.mofName}, which cannot be a key`);
  }
  try {
    checkValueFits(property.type, false, value, `key ${property.name}`);
  } catch (error) {
    // A value out of the type's range, a malformed datetime, a char16 of more than one character.
    if (isWbemError(error)) throw mismatch(`does not take this value: ${error.param}`);
    throw error;
  }
  return value;
}

/**
 * Matches a parsed path against the class it names: the keys must be exactly the class's key
 * properties (case-insensitive; one unnamed key when the class has exactly one), each literal
 * fitting the key's type; `=@` exactly for a singleton. Throws WBEM_E_INVALID_OBJECT_PATH.
 * Returns the location and the keys typed and named as the class spells them, in its key order.
 */
export function locateByPath(
  pathClass: ResolvedClass,
  path: InstancePath,
): { location: InstanceLocation; keys: PathKey[] | 'singleton' } {
  const pathText = formatPathForMessage(path);
  const invalid = (why: string): WbemError =>
    new WbemError('WBEM_E_INVALID_OBJECT_PATH', `object path "${preview(pathText)}": ${why}`);
  if (isSingleton(pathClass)) {
    if (path.keys !== 'singleton')
      throw invalid(`${pathClass.name} is a singleton; its path is ${pathClass.name}=@`);
    return { location: instanceLocation(pathClass, 'singleton'), keys: 'singleton' };
  }
  if (path.keys === 'singleton')
    throw invalid(`${pathClass.name} is not a singleton; "=@" names no instance of it`);
  const keyProperties = keyPropertiesOf(pathClass);
  if (keyProperties.length === 0)
    throw invalid(
      `${pathClass.name} has no key properties, so no instance path names one of its instances`,
    );
  const given = path.keys;
  const unnamed = given.length === 1 && given[0]?.name === '';
  if (unnamed && keyProperties.length !== 1) {
    throw invalid(
      `${pathClass.name} has ${keyProperties.length} keys; an unnamed key value is only for a class with one`,
    );
  }
  for (const key of given) {
    if (key.name !== '' && findNamed(keyProperties, key.name) === undefined) {
      throw invalid(`${preview(key.name)} is not a key of ${pathClass.name}`);
    }
  }
  const keys = keyProperties.map((property): PathKey => {
    const literal = unnamed ? given[0] : findNamed(given, property.name);
    if (literal === undefined)
      throw invalid(`key ${property.name} of ${pathClass.name} is missing`);
    return { name: property.name, value: coerceKey(literal.value, property, pathText) };
  });
  return { location: instanceLocation(pathClass, keys), keys };
}

/** The path again, for messages (the parser keeps no text). */
function formatPathForMessage(path: InstancePath): string {
  const relative = formatRelPath(path.className, path.keys);
  return path.namespace === undefined ? relative : `${path.namespace}:${relative}`;
}
