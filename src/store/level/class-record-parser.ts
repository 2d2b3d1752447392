/**
 * A class record (record-codec.ts, `{"v":2,"body":[…],"r":"42"}`) read in one pass: the definition
 * built straight from the text, where `JSON.parse` made arrays that packed-form.ts then unpacked
 * into the same objects (together ~60% of what a cold 100,000-class enumeration spent in the
 * store, docs/performance.md, R3). It accepts only what `JSON.stringify` writes for the forms of
 * packed-form.ts, with the types those forms have; anything else (whitespace, another order, a
 * damaged record) gives `undefined`, and the record is read by JSON.parse and unpackClass as
 * before, with their errors. A string with an escape is read by JSON.parse alone. Its strings are
 * slices of the text, which V8 keeps whole while any lives: used for scans only
 * (record-codec.ts, decodeScannedClass), whose reads nothing keeps.
 */
import type {
  CimValue,
  ClassDefinition,
  MethodDef,
  ParameterDef,
  PropertyDef,
  QualifierDef,
} from '../../domain/class-model';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const ZERO = 0x30;
const DECIMAL = /^[0-9]+$/;
/** JSON's number grammar, matched where the cursor is. */
const JSON_NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** Thrown inside the parser for anything it does not take; never leaves this module. */
const NOT_PLAIN = new Error('not a plainly written class record');

class Cursor {
  pos = 0;
  /** Whether the text has no backslash (the common case): a string ends at its next quote. */
  readonly plain: boolean;
  constructor(readonly text: string) {
    this.plain = !text.includes('\\');
  }

  expect(code: number): void {
    if (this.text.charCodeAt(this.pos) !== code) throw NOT_PLAIN;
    this.pos++;
  }

  /** Whether the next character is `code` (consumed when it is). */
  take(code: number): boolean {
    if (this.text.charCodeAt(this.pos) !== code) return false;
    this.pos++;
    return true;
  }

  literal(word: string): void {
    if (!this.text.startsWith(word, this.pos)) throw NOT_PLAIN;
    this.pos += word.length;
  }

  string(): string {
    const text = this.text;
    if (text.charCodeAt(this.pos) !== QUOTE) throw NOT_PLAIN;
    const start = this.pos + 1;
    if (this.plain) {
      // No escape anywhere: the string ends at the next quote. (A raw control character, which
      // JSON.stringify never writes, is taken as it is here; JSON.parse would refuse it.)
      const end = text.indexOf('"', start);
      if (end < 0) throw NOT_PLAIN;
      this.pos = end + 1;
      return text.slice(start, end);
    }
    let at = start;
    for (;;) {
      const code = text.charCodeAt(at);
      if (code === QUOTE) break;
      if (code === BACKSLASH) return this.#escaped();
      if (code < 0x20 || Number.isNaN(code)) throw NOT_PLAIN; // a control character, or the end
      at++;
    }
    this.pos = at + 1;
    return text.slice(start, at);
  }

  /** A string with escapes: its end found, its value read by JSON.parse. */
  #escaped(): string {
    const text = this.text;
    let at = this.pos + 1;
    for (;;) {
      const code = text.charCodeAt(at);
      if (Number.isNaN(code)) throw NOT_PLAIN;
      if (code === QUOTE) break;
      at += code === BACKSLASH ? 2 : 1;
    }
    const value: unknown = JSON.parse(text.slice(this.pos, at + 1));
    if (typeof value !== 'string') throw NOT_PLAIN;
    this.pos = at + 1;
    return value;
  }

  /** A number as JSON writes it (any JSON number: reals too). */
  number(): number {
    // A small non-negative integer (types, flags, flavors) digit by digit; anything else by regex.
    const text = this.text;
    let at = this.pos;
    let value = 0;
    for (; at < this.pos + 9; at++) {
      const code = text.charCodeAt(at);
      if (code < ZERO || code > ZERO + 9) break;
      value = value * 10 + (code - ZERO);
    }
    const next = text.charCodeAt(at);
    const digits = at - this.pos;
    if (
      (next === COMMA || next === CLOSE) &&
      digits > 0 &&
      (digits === 1 || value >= 10 ** (digits - 1))
    ) {
      this.pos = at;
      return value;
    }
    JSON_NUMBER.lastIndex = this.pos;
    const match = JSON_NUMBER.exec(this.text);
    if (match === null) throw NOT_PLAIN;
    this.pos += match[0].length;
    return Number(match[0]);
  }

  /** 0 or 1, as packed-form writes booleans. */
  flag(): boolean {
    const code = this.text.charCodeAt(this.pos);
    if (code !== ZERO && code !== ZERO + 1) throw NOT_PLAIN;
    this.pos++;
    return code !== ZERO;
  }

  /** `[item, item, …]`. */
  list<T>(item: (cursor: Cursor) => T): T[] {
    this.expect(OPEN);
    const items: T[] = [];
    if (this.take(CLOSE)) return items;
    do items.push(item(this));
    while (this.take(COMMA));
    this.expect(CLOSE);
    return items;
  }
}

function value(c: Cursor): CimValue | null {
  if (c.text.startsWith('null', c.pos)) {
    c.pos += 4;
    return null;
  }
  c.expect(OPEN);
  const kind = c.string();
  c.expect(COMMA);
  let parsed: CimValue;
  switch (kind) {
    case 'b':
      if (c.text.startsWith('true', c.pos)) {
        c.pos += 4;
        parsed = { kind: 'boolean', value: true };
      } else {
        c.literal('false');
        parsed = { kind: 'boolean', value: false };
      }
      break;
    case 's':
      parsed = { kind: 'sint', value: BigInt(c.string()) };
      break;
    case 'u':
      parsed = { kind: 'uint', value: BigInt(c.string()) };
      break;
    case 'r':
      parsed = { kind: 'real', value: real(c) };
      break;
    case 'S':
      parsed = { kind: 'string', value: c.string() };
      break;
    case 'd':
      parsed = { kind: 'datetime', value: c.string() };
      break;
    case 'R':
      parsed = { kind: 'reference', value: c.string() };
      break;
    case 'c':
      parsed = { kind: 'char16', value: c.string() };
      break;
    case 'o':
      parsed = { kind: 'object', value: definition(c) };
      break;
    case 'a':
      parsed = { kind: 'array', value: c.list(value) as CimValue[] };
      break;
    default:
      throw NOT_PLAIN;
  }
  c.expect(CLOSE);
  return parsed;
}

/** A real: a number, or the text packed-form writes for what JSON cannot hold. */
function real(c: Cursor): number {
  if (c.text.charCodeAt(c.pos) !== QUOTE) return c.number();
  const text = c.string();
  return text === '-0' ? -0 : Number(text);
}

function qualifier(c: Cursor): QualifierDef {
  c.expect(OPEN);
  const name = c.string();
  c.expect(COMMA);
  const parsed = value(c);
  c.expect(COMMA);
  const flavor = c.number();
  c.expect(CLOSE);
  return { name, value: parsed, flavor };
}

const qualifiers = (c: Cursor): QualifierDef[] => c.list(qualifier);

function property(c: Cursor): PropertyDef {
  c.expect(OPEN);
  const name = c.string();
  c.expect(COMMA);
  const type = c.number();
  c.expect(COMMA);
  const array = c.flag();
  c.expect(COMMA);
  const parsed = value(c);
  c.expect(COMMA);
  const own = qualifiers(c);
  c.expect(COMMA);
  const referenceClass = c.string();
  c.expect(COMMA);
  const embeddedClass = c.string();
  c.expect(CLOSE);
  return { name, type, array, value: parsed, qualifiers: own, referenceClass, embeddedClass };
}

function parameter(c: Cursor): ParameterDef {
  c.expect(OPEN);
  const name = c.string();
  c.expect(COMMA);
  const type = c.number();
  c.expect(COMMA);
  const array = c.flag();
  c.expect(COMMA);
  const referenceClass = c.string();
  c.expect(COMMA);
  const embeddedClass = c.string();
  c.expect(COMMA);
  const isIn = c.flag();
  c.expect(COMMA);
  const isOut = c.flag();
  c.expect(COMMA);
  const own = qualifiers(c);
  c.expect(CLOSE);
  return {
    name,
    type,
    array,
    referenceClass,
    embeddedClass,
    in: isIn,
    out: isOut,
    qualifiers: own,
  };
}

function method(c: Cursor): MethodDef {
  c.expect(OPEN);
  const name = c.string();
  c.expect(COMMA);
  const returnType = c.number();
  c.expect(COMMA);
  const parameters = c.list(parameter);
  c.expect(COMMA);
  const own = qualifiers(c);
  c.expect(CLOSE);
  return { name, returnType, parameters, qualifiers: own };
}

function definition(c: Cursor): ClassDefinition {
  c.expect(OPEN);
  const name = c.string();
  c.expect(COMMA);
  const superclass = c.string();
  c.expect(COMMA);
  const own = qualifiers(c);
  c.expect(COMMA);
  const properties = c.list(property);
  c.expect(COMMA);
  const methods = c.list(method);
  c.expect(CLOSE);
  return { name, superclass, qualifiers: own, properties, methods };
}

/** A plainly written class record: its definition and its revision, decimal (null: version 1). */
export interface ParsedClassRecord {
  readonly definition: ClassDefinition;
  readonly revision: string | null;
}

/**
 * The record read in one pass, or undefined when it is not plainly written (see the header): its
 * definition is then what `unpackClass(JSON.parse(text).body)` gives.
 */
export function parseClassRecord(text: string): ParsedClassRecord | undefined {
  const c = new Cursor(text);
  try {
    c.literal('{"v":');
    const version = c.number();
    if (version !== 1 && version !== 2) return undefined;
    c.literal(',"body":');
    const parsed = definition(c);
    let revision: string | null = null;
    if (c.text.startsWith(',"r":', c.pos)) {
      c.pos += 5;
      revision = c.string();
      if (!DECIMAL.test(revision)) return undefined;
    }
    c.literal('}');
    return c.pos === text.length ? { definition: parsed, revision } : undefined;
  } catch {
    // Not plainly written (NOT_PLAIN), or a value the old path refuses too (BigInt of a bad text):
    // read as before, which reports the damage as before.
    return undefined;
  }
}
