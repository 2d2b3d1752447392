/**
 * MOF → class definitions (DMTF DSP0221, as the CIM Schema 2.41 and WMI's mofcomp use it):
 * `#pragma include/namespace/locale`, qualifier declarations (type, default, scope, flavor),
 * class and association declarations (properties, references, arrays, defaults, methods and
 * parameters) and `instance of`. Pure: files are read through the `readSource` callback, so the
 * compiler does no I/O of its own. No WMI rule is checked here beyond what the grammar needs;
 * the definitions go through the same domain rules as any PutClass.
 */
import { posix } from 'node:path';
import {
  CIM_TYPE,
  FLAVOR,
  cimTypeByMofName,
  cimTypeInfo,
  type CimValue,
  type ClassDefinition,
  type MethodDef,
  type ParameterDef,
  type PropertyDef,
  type QualifierDeclaration,
  type QualifierDef,
} from '../domain/class-model';
import { unsliced } from '../domain/names';
import { MofError, MofLexer, type MofPosition, type MofToken } from './lexer';
import { checkInclusion, countCharacters, type IncludeBudget } from './limits';

export interface MofQualifierDecl extends QualifierDeclaration {
  /** The `#pragma namespace` in force where it was declared ('' = the caller's). */
  readonly namespace: string;
  readonly at: MofPosition;
}

export interface MofClass {
  readonly definition: ClassDefinition;
  /** The namespace of the last `#pragma namespace` before it ('' = the one the caller chose). */
  readonly namespace: string;
  readonly at: MofPosition;
}

export interface MofInstance {
  readonly className: string;
  readonly alias: string | undefined;
  readonly properties: readonly { readonly name: string; readonly value: MofLiteral }[];
  readonly namespace: string;
  readonly at: MofPosition;
}

export interface MofUnit {
  readonly qualifiers: readonly MofQualifierDecl[];
  readonly classes: readonly MofClass[];
  readonly instances: readonly MofInstance[];
  /** Every file read, entry first, in the order they were included. */
  readonly files: readonly string[];
  /** Pragmas that were understood but have no effect here (locale, unknown ones). */
  readonly notes: readonly string[];
}

/** A value as written, before the declared type gives it a CIM type. */
export type MofLiteral =
  MofScalar | { readonly kind: 'array'; readonly items: readonly MofScalar[] };

/** A literal that is not an array: what an array holds (CIM has no arrays of arrays). */
export type MofScalar =
  | { readonly kind: 'integer'; readonly value: bigint }
  | { readonly kind: 'real'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'char'; readonly value: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'alias'; readonly name: string };

/** Reads a file named by a path relative to the MOF root (posix separators). */
export type ReadMofSource = (path: string) => string;

/**
 * A MOF data type keyword → its CIM type code. `ref` is not one: a reference is spelled
 * `ClassName REF name`.
 */
function dataType(keyword: string): number | undefined {
  const info = cimTypeByMofName(keyword);
  return info === undefined || info.code === CIM_TYPE.REFERENCE ? undefined : info.code;
}

/** Qualifier flavors of DSP0004: EnableOverride and ToSubclass unless declared otherwise. */
const DEFAULT_FLAVOR = FLAVOR.TO_SUBCLASS;

/**
 * Compiles `entry` and everything it includes. `declared` carries qualifier declarations already
 * known (for example those stored in the target namespace), by lower-case name.
 */
export function compileMof(
  entry: string,
  readSource: ReadMofSource,
  declared: ReadonlyMap<string, MofQualifierDecl> = new Map(),
): MofUnit {
  const steps = compileMofSteps(entry, readSource, declared);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/**
 * compileMof as a generator that pauses after each production (a class, an instance, a
 * declaration, a pragma) and returns the unit: a caller on a server's event loop compiles a big
 * MOF in slices (src/service/compile-mof.ts), the same work in the same order.
 */
export function* compileMofSteps(
  entry: string,
  readSource: ReadMofSource,
  declared: ReadonlyMap<string, MofQualifierDecl> = new Map(),
): Generator<void, MofUnit, void> {
  const state: CompileState = {
    qualifierDecls: new Map(declared),
    qualifiers: [],
    classes: [],
    instances: [],
    files: [],
    notes: [],
    namespace: '',
    includes: { stack: [], files: 0, characters: 0 },
    aliases: new Map(),
    readSource,
  };
  yield* compileFile(state, posix.normalize(entry), undefined);
  return {
    qualifiers: state.qualifiers,
    classes: state.classes,
    instances: state.instances,
    files: state.files,
    notes: state.notes,
  };
}

interface CompileState {
  readonly qualifierDecls: Map<string, MofQualifierDecl>;
  readonly qualifiers: MofQualifierDecl[];
  readonly classes: MofClass[];
  readonly instances: MofInstance[];
  readonly files: string[];
  readonly notes: string[];
  namespace: string;
  readonly includes: IncludeBudget;
  /** Instance aliases declared so far, by lower-case name: one name names one instance. */
  readonly aliases: Map<string, MofPosition>;
  readonly readSource: ReadMofSource;
}

/** Compiles one file; `from` is the `#pragma include` that names it (undefined for the entry). */
function* compileFile(
  state: CompileState,
  path: string,
  from: MofPosition | undefined,
): Generator<void, void, void> {
  const at = from ?? { file: path, line: 1, column: 1 };
  checkInclusion(state.includes, path, at);
  let text: string;
  try {
    text = state.readSource(path);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new MofError(`cannot read "${path}": ${reason}`, at);
  }
  countCharacters(state.includes, text.length, at);
  state.files.push(path);
  state.includes.stack.push(path);
  yield* new Parser(state, new MofLexer(text, path), path).parseFile();
  state.includes.stack.pop();
}

/**
 * The file `#pragma include("value")` in `from` names: relative to `from`'s directory, `\\` read as
 * `/`, normalized (what the compiler asks `readSource` for).
 */
export function includedPath(from: string, value: string): string {
  return posix.normalize(posix.join(posix.dirname(from), value.replace(/\\/g, '/')));
}

/** What a qualifier is used on, as DSP0004 names scopes. */
type ScopeElement =
  'class' | 'association' | 'indication' | 'property' | 'reference' | 'method' | 'parameter';

interface TypedName {
  readonly type: number;
  readonly name: string;
  readonly referenceClass: string;
  readonly array: boolean;
  readonly token: MofToken;
}

type QualifierUse = {
  readonly name: string;
  readonly literal: MofLiteral | undefined;
  readonly flavors: readonly string[];
  readonly at: MofPosition;
};

class Parser {
  /** The tokens read so far: the lexer runs only as far ahead as the parser looks. */
  readonly #tokens: MofToken[] = [];
  #index = 0;
  constructor(
    private readonly state: CompileState,
    private readonly lexer: MofLexer,
    private readonly path: string,
  ) {}

  /** Pauses after each production; a `#pragma include` compiles the file it names in between. */
  *parseFile(): Generator<void, void, void> {
    while (this.#peek().kind !== 'end') {
      if (this.#peek().kind === 'pragma') yield* this.#pragma();
      else this.#production();
      yield;
    }
  }

  // ---- tokens ----------------------------------------------------------------------------------

  #peek(offset = 0): MofToken {
    const tokens = this.#tokens;
    while (tokens.length <= this.#index + offset && tokens.at(-1)?.kind !== 'end')
      tokens.push(this.lexer.next());
    return tokens[Math.min(this.#index + offset, tokens.length - 1)] as MofToken;
  }

  #next(): MofToken {
    const token = this.#peek();
    if (token.kind !== 'end') this.#index++;
    return token;
  }

  #fail(reason: string, token: MofToken = this.#peek()): never {
    throw new MofError(reason, token.at);
  }

  #isPunct(text: string, offset = 0): boolean {
    const token = this.#peek(offset);
    return token.kind === 'punct' && token.text === text;
  }

  #isWord(word: string, offset = 0): boolean {
    const token = this.#peek(offset);
    return token.kind === 'identifier' && token.text.toLowerCase() === word;
  }

  #punct(text: string): void {
    if (!this.#isPunct(text)) this.#fail(`expected "${text}", found ${describe(this.#peek())}`);
    this.#index++;
  }

  #acceptPunct(text: string): boolean {
    if (!this.#isPunct(text)) return false;
    this.#index++;
    return true;
  }

  #word(word: string): void {
    if (!this.#isWord(word)) this.#fail(`expected "${word}", found ${describe(this.#peek())}`);
    this.#index++;
  }

  #identifier(what: string): { text: string; at: MofPosition } {
    const token = this.#peek();
    if (token.kind !== 'identifier') this.#fail(`expected ${what}, found ${describe(token)}`);
    this.#index++;
    return { text: token.text, at: token.at };
  }

  #string(what: string): string {
    const token = this.#peek();
    if (token.kind !== 'string')
      this.#fail(`expected ${what} (a string), found ${describe(token)}`);
    const pieces: string[] = [];
    while (this.#peek().kind === 'string') {
      const { value } = this.#next() as { value: string };
      if (value !== '') pieces.push(value);
    }
    // A string of its own, not pieces of the source: a compiled class keeps its values (a
    // Description is mostly a few adjacent literals), and a slice would keep the whole source
    // alive. Joining two or more pieces copies them (joined with an empty one, a piece came back
    // as itself); a lone piece is copied by unsliced().
    return pieces.length > 1 ? pieces.join('') : unsliced(pieces[0] ?? '');
  }

  // ---- productions -----------------------------------------------------------------------------

  #production(): void {
    if (this.#isWord('qualifier')) return this.#qualifierDeclaration();
    const qualifiers = this.#isPunct('[') ? this.#qualifierList() : [];
    if (this.#isWord('class')) return this.#classDeclaration(qualifiers);
    if (this.#isWord('instance')) return this.#instanceDeclaration(qualifiers);
    this.#fail(
      `expected a class, instance or qualifier declaration or a #pragma, found ${describe(this.#peek())}`,
    );
  }

  *#pragma(): Generator<void, void, void> {
    const at = this.#next().at;
    const name = this.#identifier('a pragma name').text.toLowerCase();
    this.#punct('(');
    const value = this.#string(`the argument of #pragma ${name}`);
    while (this.#acceptPunct(',')) this.#string('a pragma argument');
    this.#punct(')');
    switch (name) {
      case 'include':
        yield* compileFile(this.state, includedPath(this.path, value), at);
        return;
      case 'namespace':
        this.state.namespace = value;
        return;
      case 'locale':
        this.state.notes.push(`${at.file}:${at.line}: #pragma locale("${value}") has no effect`);
        return;
      default:
        this.state.notes.push(
          `${at.file}:${at.line}: #pragma ${name} is not supported and was ignored`,
        );
    }
  }

  #qualifierDeclaration(): void {
    const at = this.#next().at;
    const name = this.#identifier('a qualifier name');
    this.#punct(':');
    const typeToken = this.#identifier('a qualifier type');
    const type = dataType(typeToken.text);
    if (type === undefined || type === CIM_TYPE.OBJECT)
      this.#fail(`"${typeToken.text}" is not a qualifier type`);
    let array = false;
    if (this.#acceptPunct('[')) {
      array = true;
      if (this.#peek().kind === 'integer') this.#next();
      this.#punct(']');
    }
    const defaultValue = this.#acceptPunct('=')
      ? this.#typed(this.#literal(), type, array, `qualifier ${name.text}`, at)
      : null;
    let scopes: string[] = [];
    let flavor: number = DEFAULT_FLAVOR;
    while (this.#acceptPunct(',')) {
      if (this.#isWord('scope')) {
        this.#next();
        scopes = this.#wordList().map((s) => s.toLowerCase());
      } else if (this.#isWord('flavor')) {
        this.#next();
        flavor = applyFlavors(DEFAULT_FLAVOR, this.#wordList(), (word) =>
          this.#fail(`unknown flavor "${word}"`),
        );
      } else {
        this.#fail(`expected Scope(...) or Flavor(...), found ${describe(this.#peek())}`);
      }
    }
    this.#punct(';');
    const decl: MofQualifierDecl = {
      name: name.text,
      type,
      array,
      defaultValue,
      scopes,
      flavor,
      namespace: this.state.namespace,
      at,
    };
    this.state.qualifierDecls.set(name.text.toLowerCase(), decl);
    this.state.qualifiers.push(decl);
  }

  #wordList(): string[] {
    this.#punct('(');
    const words = [this.#identifier('a name').text];
    while (this.#acceptPunct(',')) words.push(this.#identifier('a name').text);
    this.#punct(')');
    return words;
  }

  #qualifierList(): QualifierUse[] {
    this.#punct('[');
    const uses: QualifierUse[] = [];
    do {
      const name = this.#identifier('a qualifier name');
      let literal: MofLiteral | undefined;
      if (this.#acceptPunct('(')) {
        literal = this.#literal();
        this.#punct(')');
      } else if (this.#isPunct('{')) {
        literal = this.#literal();
      }
      const flavors: string[] = [];
      if (this.#acceptPunct(':')) {
        flavors.push(this.#identifier('a flavor').text);
        // `: ToSubclass DisableOverride` — several flavors separated by spaces.
        while (this.#peek().kind === 'identifier') flavors.push(this.#identifier('a flavor').text);
      }
      uses.push({ name: name.text, literal, flavors, at: name.at });
    } while (this.#acceptPunct(','));
    this.#punct(']');
    return uses;
  }

  /**
   * A value or an array of values. Nothing here recurses: CIM has no arrays of arrays, so a `{`
   * inside an array is an error where it stands, however deep the input would have gone.
   */
  #literal(): MofLiteral {
    if (!this.#acceptPunct('{')) return this.#scalar();
    const items: MofScalar[] = [];
    if (!this.#isPunct('}')) {
      do items.push(this.#scalar());
      while (this.#acceptPunct(','));
    }
    this.#punct('}');
    return { kind: 'array', items };
  }

  #scalar(): MofScalar {
    const token = this.#peek();
    if (this.#isPunct('{'))
      this.#fail('an array cannot hold an array (CIM has no arrays of arrays)');
    switch (token.kind) {
      case 'integer':
        this.#index++;
        return { kind: 'integer', value: token.value };
      case 'real':
        this.#index++;
        return { kind: 'real', value: token.value };
      case 'string':
        return { kind: 'string', value: this.#string('a string') };
      case 'char':
        this.#index++;
        return { kind: 'char', value: token.value };
      case 'alias':
        this.#index++;
        return { kind: 'alias', name: token.text };
      case 'identifier': {
        const word = token.text.toLowerCase();
        if (word === 'true' || word === 'false') {
          this.#index++;
          return { kind: 'boolean', value: word === 'true' };
        }
        if (word === 'null') {
          this.#index++;
          return { kind: 'null' };
        }
        if (word === 'instance')
          this.#fail(
            'embedded instance values (`instance of` as a value) are not supported in MOF here',
          );
        break;
      }
      default:
        break;
    }
    return this.#fail(`expected a value, found ${describe(token)}`);
  }

  #classDeclaration(uses: readonly QualifierUse[]): void {
    const at = this.#next().at;
    const name = this.#identifier('a class name');
    let superclass = '';
    if (this.#acceptPunct(':')) superclass = this.#identifier('a superclass name').text;
    this.#punct('{');
    const properties: PropertyDef[] = [];
    const methods: MethodDef[] = [];
    while (!this.#acceptPunct('}')) this.#feature(name.text, properties, methods);
    this.#punct(';');
    // An association is marked so, or known by its references (only associations have them).
    const marked = (qualifier: string): boolean =>
      uses.some(
        (u) =>
          u.name.toLowerCase() === qualifier &&
          !(u.literal?.kind === 'boolean' && !u.literal.value),
      );
    const kind =
      marked('association') || properties.some((p) => p.type === CIM_TYPE.REFERENCE)
        ? 'association'
        : marked('indication')
          ? 'indication'
          : 'class';
    const qualifiers = this.#qualifiers(uses, kind, `class ${name.text}`);
    this.state.classes.push({
      definition: { name: name.text, superclass, qualifiers, properties, methods },
      namespace: this.state.namespace,
      at,
    });
  }

  /** A property, reference or method of `owner`. */
  #feature(owner: string, properties: PropertyDef[], methods: MethodDef[]): void {
    const uses = this.#isPunct('[') ? this.#qualifierList() : [];
    const typed = this.#typeAndName();
    if (this.#isPunct('(')) {
      const where = `method ${typed.name} of ${owner}`;
      if (typed.array) this.#fail(`${where}: a method cannot return an array`, typed.token);
      const parameters = this.#parameters(where);
      this.#punct(';');
      methods.push({
        name: typed.name,
        returnType: typed.type,
        parameters,
        qualifiers: this.#qualifiers(uses, 'method', where),
      });
      return;
    }
    const where = `property ${typed.name} of ${owner}`;
    const array = typed.array || this.#arraySuffix();
    const value = this.#acceptPunct('=')
      ? this.#typed(this.#literal(), typed.type, array, where, typed.token.at)
      : null;
    this.#punct(';');
    properties.push({
      name: typed.name,
      type: typed.type,
      array,
      value,
      qualifiers: this.#qualifiers(
        uses,
        typed.type === CIM_TYPE.REFERENCE ? 'reference' : 'property',
        where,
      ),
      referenceClass: typed.referenceClass,
      embeddedClass: '',
    });
  }

  /** `uint32 Name`, `CIM_Foo REF Name`; an array suffix directly after the name is read by the caller. */
  #typeAndName(): TypedName {
    const token = this.#peek();
    const typeName = this.#identifier('a data type or class name');
    if (this.#isWord('ref')) {
      this.#next();
      const name = this.#identifier('a reference name').text;
      return { type: CIM_TYPE.REFERENCE, name, referenceClass: typeName.text, array: false, token };
    }
    const type = dataType(typeName.text);
    if (type === undefined)
      this.#fail(`"${typeName.text}" is not a data type (a class name needs REF)`, token);
    const name = this.#identifier('a name').text;
    return { type, name, referenceClass: '', array: false, token };
  }

  #arraySuffix(): boolean {
    if (!this.#acceptPunct('[')) return false;
    if (this.#peek().kind === 'integer') this.#next();
    this.#punct(']');
    return true;
  }

  #parameters(where: string): ParameterDef[] {
    this.#punct('(');
    const declared: { uses: QualifierUse[]; typed: TypedName; array: boolean }[] = [];
    if (!this.#isPunct(')')) {
      do {
        const uses = this.#isPunct('[') ? this.#qualifierList() : [];
        const typed = this.#typeAndName();
        const array = this.#arraySuffix();
        // DSP0221 allows a default value for a parameter; it has no place in a WMI class.
        if (this.#acceptPunct('=')) this.#literal();
        declared.push({ uses, typed, array });
      } while (this.#acceptPunct(','));
    }
    this.#punct(')');
    // mofcomp numbers parameters in declaration order when none carries an ID (WMI needs them).
    const numbered = !declared.some((d) => d.uses.some((u) => u.name.toLowerCase() === 'id'));
    return declared.map((d, index) => {
      const pWhere = `parameter ${d.typed.name} of ${where}`;
      const qualifiers = this.#qualifiers(d.uses, 'parameter', pWhere);
      const has = (name: string): QualifierDef | undefined =>
        qualifiers.find((q) => q.name.toLowerCase() === name);
      const isIn = has('in');
      const isOut = has('out');
      const truthy = (q: QualifierDef | undefined): boolean =>
        q !== undefined && !(q.value?.kind === 'boolean' && !q.value.value);
      return {
        name: d.typed.name,
        type: d.typed.type,
        array: d.array,
        referenceClass: d.typed.referenceClass,
        embeddedClass: '',
        in: isIn === undefined && isOut === undefined ? true : truthy(isIn),
        out: truthy(isOut),
        qualifiers: numbered
          ? [
              ...qualifiers,
              {
                name: 'ID',
                value: { kind: 'sint', value: BigInt(index) },
                flavor: FLAVOR.NOT_OVERRIDABLE,
              },
            ]
          : qualifiers,
      };
    });
  }

  #instanceDeclaration(uses: readonly QualifierUse[]): void {
    const at = this.#next().at;
    if (uses.length > 0)
      this.#fail('qualifiers on an instance are not supported', this.#tokens[this.#index - 1]);
    this.#word('of');
    const className = this.#identifier('a class name').text;
    let alias: string | undefined;
    if (this.#isWord('as')) {
      this.#next();
      const token = this.#next();
      if (token.kind !== 'alias') this.#fail('expected an alias ($name) after "as"', token);
      const first = this.state.aliases.get(token.text.toLowerCase());
      if (first !== undefined)
        this.#fail(
          `alias $${token.text} is already declared at ${first.file}:${first.line}:${first.column}`,
          token,
        );
      this.state.aliases.set(token.text.toLowerCase(), token.at);
      alias = token.text;
    }
    this.#punct('{');
    const properties: { name: string; value: MofLiteral }[] = [];
    while (!this.#acceptPunct('}')) {
      if (this.#isPunct('[')) this.#qualifierList();
      const name = this.#identifier('a property name').text;
      this.#punct('=');
      properties.push({ name, value: this.#literal() });
      this.#punct(';');
    }
    this.#punct(';');
    this.state.instances.push({
      className,
      alias,
      properties,
      namespace: this.state.namespace,
      at,
    });
  }

  // ---- qualifiers and values -------------------------------------------------------------------

  /**
   * Qualifier uses → QualifierDefs: a declared qualifier must be used within its scope and takes
   * its declared type and flavor (flavors on the use override); an undeclared one, as in WMI's
   * own MOF, takes the literal's type and flavor 0.
   */
  #qualifiers(uses: readonly QualifierUse[], element: ScopeElement, where: string): QualifierDef[] {
    return uses.map((use) => {
      const decl = this.state.qualifierDecls.get(use.name.toLowerCase());
      if (decl !== undefined && !decl.scopes.includes('any') && !decl.scopes.includes(element)) {
        this.#fail(
          `qualifier ${decl.name} is not allowed on ${where} (a ${element}; its scope is ${decl.scopes.join(', ') || 'empty'})`,
          { kind: 'end', at: use.at },
        );
      }
      let value: CimValue | null;
      if (use.literal === undefined) {
        // `[Key]`: a boolean qualifier named alone is TRUE; any other takes its declared default.
        value =
          decl === undefined || decl.type === CIM_TYPE.BOOLEAN
            ? { kind: 'boolean', value: true }
            : decl.defaultValue;
      } else if (decl !== undefined) {
        value = this.#typed(
          use.literal,
          decl.type,
          decl.array,
          `qualifier ${use.name} on ${where}`,
          use.at,
        );
      } else {
        value = inferred(use.literal, (reason) =>
          this.#fail(`qualifier ${use.name} on ${where}: ${reason}`, { kind: 'end', at: use.at }),
        );
      }
      value = asWmiQualifierValue(value);
      // Declared: the declaration's flavor (DMTF default ToSubclass). Undeclared, as in WMI's own
      // MOF: WMI's default flavor 0 (overridable, not propagated; spec §5.4 rule 1).
      const flavor = applyFlavors(decl?.flavor ?? 0, use.flavors, (word) =>
        this.#fail(`unknown flavor "${word}"`, { kind: 'end', at: use.at }),
      );
      return { name: decl?.name ?? use.name, value, flavor };
    });
  }

  #typed(
    literal: MofLiteral,
    type: number,
    array: boolean,
    where: string,
    at: MofPosition,
  ): CimValue | null {
    return typedLiteral(literal, type, array, (reason) =>
      this.#fail(`${where}: ${reason}`, { kind: 'end', at }),
    );
  }
}

/**
 * A literal as a value of a declared type. `fail` says why it does not fit (and does not return).
 * An alias (`$Disk`) in a reference stays `$Disk`: whoever knows the aliased object resolves it.
 */
export function typedLiteral(
  literal: MofLiteral,
  type: number,
  array: boolean,
  fail: (reason: string) => never,
): CimValue | null {
  if (literal.kind === 'null') return null;
  if (array) {
    const items = literal.kind === 'array' ? literal.items : [literal];
    return { kind: 'array', value: items.map((item) => scalar(item, type, fail)) };
  }
  if (literal.kind === 'array') return fail('an array value for a scalar');
  return scalar(literal, type, fail);
}

function scalar(literal: MofLiteral, type: number, fail: (reason: string) => never): CimValue {
  const info = cimTypeInfo(type);
  if (info === undefined) return fail(`unknown type ${type}`);
  switch (info.valueKind) {
    case 'sint':
    case 'uint':
      if (literal.kind !== 'integer') return fail(`${info.mofName} needs an integer`);
      return { kind: info.valueKind, value: literal.value };
    case 'real':
      if (literal.kind === 'integer') return { kind: 'real', value: Number(literal.value) };
      if (literal.kind !== 'real') return fail(`${info.mofName} needs a number`);
      return { kind: 'real', value: literal.value };
    case 'boolean':
      if (literal.kind !== 'boolean') return fail('boolean needs TRUE or FALSE');
      return { kind: 'boolean', value: literal.value };
    case 'string':
    case 'datetime':
      if (literal.kind !== 'string') return fail(`${info.mofName} needs a string`);
      return { kind: info.valueKind, value: literal.value };
    case 'reference':
      if (literal.kind === 'alias') return { kind: 'reference', value: `$${literal.name}` };
      if (literal.kind !== 'string') return fail('a reference needs an object path or an alias');
      return { kind: 'reference', value: literal.value };
    case 'char16':
      if ((literal.kind === 'char' || literal.kind === 'string') && literal.value.length === 1)
        return { kind: 'char16', value: literal.value };
      return fail('char16 needs one character');
    case 'object':
      return fail('embedded object values are not supported in MOF here');
  }
}

/** The value of an undeclared qualifier: its type follows the literal (integers are sint32 in WMI). */
function inferred(literal: MofLiteral, fail: (reason: string) => never): CimValue | null {
  switch (literal.kind) {
    case 'null':
      return null;
    case 'integer':
      return { kind: 'sint', value: literal.value };
    case 'real':
      return { kind: 'real', value: literal.value };
    case 'string':
      return { kind: 'string', value: literal.value };
    case 'char':
      return { kind: 'char16', value: literal.value };
    case 'boolean':
      return { kind: 'boolean', value: literal.value };
    case 'alias':
      return { kind: 'reference', value: `$${literal.name}` };
    case 'array': {
      const items = literal.items.map((item) => inferred(item, fail));
      if (items.some((item) => item === null)) return fail('an array cannot hold NULL');
      return { kind: 'array', value: items as CimValue[] };
    }
  }
}

/**
 * WMI stores qualifier values as VT_I4, VT_R8, VT_BSTR or VT_BOOL (and arrays of them), whatever
 * type DSP0004 declares (`MaxLen : uint32`): integers become sint32, datetimes, references and
 * char16 become strings, as mofcomp converts them. Out-of-range integers are left for the rules.
 */
function asWmiQualifierValue(value: CimValue | null): CimValue | null {
  if (value === null) return null;
  switch (value.kind) {
    case 'uint':
      return { kind: 'sint', value: value.value };
    case 'datetime':
    case 'reference':
    case 'char16':
      return { kind: 'string', value: value.value };
    case 'array':
      return {
        kind: 'array',
        value: value.value.map((item) => asWmiQualifierValue(item) as CimValue),
      };
    default:
      return value;
  }
}

function applyFlavors(
  base: number,
  words: readonly string[],
  unknown: (word: string) => never,
): number {
  let flavor = base;
  for (const word of words) {
    switch (word.toLowerCase()) {
      case 'enableoverride':
        flavor &= ~FLAVOR.NOT_OVERRIDABLE;
        break;
      case 'disableoverride':
        flavor |= FLAVOR.NOT_OVERRIDABLE;
        break;
      case 'tosubclass':
        flavor |= FLAVOR.TO_SUBCLASS;
        break;
      case 'restricted':
        flavor &= ~FLAVOR.TO_SUBCLASS;
        break;
      case 'toinstance':
        flavor |= FLAVOR.TO_INSTANCE;
        break;
      case 'amended':
        flavor |= FLAVOR.AMENDED;
        break;
      case 'translatable':
        // DSP0004: may be localized. Not WMI's Amended (which means "stored in a locale
        // namespace"): mapping it would make every Description amended (docs/decisions.md D26).
        break;
      default:
        unknown(word);
    }
  }
  return flavor;
}

function describe(token: MofToken): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the file';
    case 'identifier':
    case 'punct':
      return `"${token.text}"`;
    case 'string':
      return 'a string';
    case 'char':
      return 'a char16 literal';
    case 'integer':
    case 'real':
      return `the number ${token.text}`;
    case 'alias':
      return `$${token.text}`;
    case 'pragma':
      return '#pragma';
  }
}
