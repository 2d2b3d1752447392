/**
 * MOF tokens (DMTF DSP0221 / DSP0004 Annex A): identifiers, the literal forms of every CIM value
 * (decimal, hex, binary, octal and real numbers, strings with escapes, char16), punctuation,
 * `#pragma`, `$alias`; `//` and block comments are skipped. Every token knows where it starts.
 *
 * No regular expression runs on the source itself, nor on a view into it (a slice of 13 or more
 * characters): V8 keeps the subject of the last successful match (for RegExp.lastMatch and $1),
 * and a MOF source matched last stayed alive, all of it, until some other match ran
 * (test/mof/source-retention.test.ts). Patterns run on short copies only.
 */
import { NameTable, unsliced } from '../domain/names';

export interface MofPosition {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** A MOF syntax or semantic error, always with its file, line and column. */
export class MofError extends Error {
  override readonly name = 'MofError';
  constructor(
    readonly reason: string,
    readonly position: MofPosition,
  ) {
    super(`${position.file}:${position.line}:${position.column}: ${reason}`);
  }
}

export type MofToken =
  | { readonly kind: 'identifier'; readonly text: string; readonly at: MofPosition }
  | {
      readonly kind: 'integer';
      readonly value: bigint;
      readonly text: string;
      readonly at: MofPosition;
    }
  | {
      readonly kind: 'real';
      readonly value: number;
      readonly text: string;
      readonly at: MofPosition;
    }
  | { readonly kind: 'string'; readonly value: string; readonly at: MofPosition }
  | { readonly kind: 'char'; readonly value: string; readonly at: MofPosition }
  | { readonly kind: 'alias'; readonly text: string; readonly at: MofPosition }
  | { readonly kind: 'pragma'; readonly at: MofPosition }
  | { readonly kind: 'punct'; readonly text: string; readonly at: MofPosition }
  | { readonly kind: 'end'; readonly at: MofPosition };

/**
 * Identifiers and aliases as strings of their own, one for each distinct name: a compiled class
 * keeps its names, and a name sliced from the source would keep the whole source alive.
 */
const IDENTIFIERS = new NameTable();

const PUNCTUATION = new Set(['{', '}', '(', ')', '[', ']', ';', ',', ':', '=']);
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  b: '\b',
  t: '\t',
  n: '\n',
  f: '\f',
  r: '\r',
  '"': '"',
  "'": "'",
  '\\': '\\',
};

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isIdentStart = (c: string): boolean =>
  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c > '\u007f';
/** A character an identifier or alias goes on with (isIdentStart's, or a digit), as a UTF-16 unit. */
const isIdentPartUnit = (unit: number): boolean =>
  (unit >= 97 && unit <= 122) ||
  (unit >= 65 && unit <= 90) ||
  (unit >= 48 && unit <= 57) ||
  unit === 95 ||
  unit > 127;

/** Every token of `source`, the closing `end` included. */
export function tokenize(source: string, file: string): MofToken[] {
  const lexer = new MofLexer(source, file);
  const tokens: MofToken[] = [];
  for (;;) {
    const token = lexer.next();
    tokens.push(token);
    if (token.kind === 'end') return tokens;
  }
}

/**
 * Reads tokens one at a time, as the parser asks for them: an error is found, and reported, when
 * the parser reaches it, without reading the rest of the input first.
 */
export class MofLexer {
  #i = 0;
  #line = 1;
  #lineStart = 0;
  /**
   * The next backslash and line end at or after where they were last looked for (the source's
   * length if none): offsets only grow as the lexer reads, so a string literal's search for them
   * resumes where the last one stopped instead of running ahead again at every literal.
   */
  #nextBackslash = -1;
  #nextLineEnd = -1;

  constructor(
    private readonly source: string,
    private readonly file: string,
  ) {
    // A byte-order mark is not part of the text.
    if (source.charCodeAt(0) === 0xfeff) this.#i = 1;
  }

  /** The next token; at the end of the input, `end` (again on every later call). */
  next(): MofToken {
    this.#skipSpaceAndComments();
    const { source } = this;
    const start = this.#i;
    if (start >= source.length) return { kind: 'end', at: this.#at(start) };
    const c = source[start] as string;
    if (c === '"') return this.#string();
    if (c === "'") return this.#char();
    if (c === '#') {
      if (!/^#pragma\b/i.test(source.slice(start, start + 8)))
        this.#fail('unexpected "#" (only #pragma is allowed)', start);
      this.#i += 7;
      return { kind: 'pragma', at: this.#at(start) };
    }
    if (c === '$') {
      let i = start + 1;
      while (i < source.length && isIdentPartUnit(source.charCodeAt(i))) i++;
      if (i === start + 1) this.#fail('an alias needs a name after "$"', start);
      this.#i = i;
      return {
        kind: 'alias',
        text: IDENTIFIERS.shared(source.slice(start + 1, i)),
        at: this.#at(start),
      };
    }
    if (
      isDigit(c) ||
      ((c === '-' || c === '+' || c === '.') &&
        /^[+-]?\.?[0-9]/.test(source.slice(start, start + 3)))
    ) {
      const token = readNumber(source, start, this.#at(start), (reason) =>
        this.#fail(reason, start),
      );
      this.#i += (token as { text: string }).text.length;
      return token;
    }
    if (isIdentStart(c)) {
      let i = start + 1;
      while (i < source.length && isIdentPartUnit(source.charCodeAt(i))) i++;
      this.#i = i;
      return {
        kind: 'identifier',
        text: IDENTIFIERS.shared(source.slice(start, i)),
        at: this.#at(start),
      };
    }
    if (PUNCTUATION.has(c)) {
      this.#i++;
      return { kind: 'punct', text: c, at: this.#at(start) };
    }
    return this.#fail(`unexpected character ${JSON.stringify(c)}`, start);
  }

  #at(offset: number): MofPosition {
    return { file: this.file, line: this.#line, column: offset - this.#lineStart + 1 };
  }

  #fail(reason: string, offset: number): never {
    throw new MofError(reason, this.#at(offset));
  }

  /**
   * White space, line ends (counted), `//` and block comments. A comment's end is found by
   * indexOf, not a character at a time: in a fresh server that loop runs interpreted at first
   * (a comment and a string are most of a MOF file's characters: docs/performance.md, P3).
   */
  #skipSpaceAndComments(): void {
    const { source } = this;
    const length = source.length;
    let i = this.#i;
    while (i < length) {
      const c = source.charCodeAt(i);
      if (c === 0x0a) {
        i++;
        this.#line++;
        this.#lineStart = i;
      } else if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0c || c === 0x0b) {
        i++;
      } else if (c === 0x2f && source.charCodeAt(i + 1) === 0x2f) {
        const lineEnd = source.indexOf('\n', i);
        i = lineEnd < 0 ? length : lineEnd;
      } else if (c === 0x2f && source.charCodeAt(i + 1) === 0x2a) {
        const close = source.indexOf('*/', i + 2);
        if (close < 0) throw new MofError('unterminated comment', this.#at(i));
        for (
          let n = source.indexOf('\n', i);
          n >= 0 && n < close;
          n = source.indexOf('\n', n + 1)
        ) {
          this.#line++;
          this.#lineStart = n + 1;
        }
        i = close + 2;
      } else {
        break;
      }
    }
    this.#i = i;
  }

  /**
   * A string literal at `"`. Whole runs between escapes are sliced, not built a character at a
   * time (that garbage was two thirds of the time to compile the CIM Schema).
   */
  #string(): MofToken {
    const { source } = this;
    const start = this.#i;
    let i = start + 1;
    let value = '';
    let run = i;
    for (;;) {
      // To the next quote, backslash or line end in one step (see #skipSpaceAndComments).
      if (this.#nextBackslash < i) this.#nextBackslash = indexOrEnd(source, '\\', i);
      if (this.#nextLineEnd < i) this.#nextLineEnd = indexOrEnd(source, '\n', i);
      i = Math.min(indexOrEnd(source, '"', i), this.#nextBackslash, this.#nextLineEnd);
      const code = source.charCodeAt(i);
      if (code === 0x22) break; // "
      // Else a backslash, a line end, or the end of the input.
      if (code !== 0x5c) this.#fail('unterminated string', start);
      value += source.slice(run, i);
      const at = i;
      const [decoded, next] = readEscape(source, i, () => this.#fail('bad escape sequence', at));
      value += decoded;
      i = next;
      run = i;
    }
    value += source.slice(run, i);
    this.#i = i + 1;
    return { kind: 'string', value, at: this.#at(start) };
  }

  /** A char16 literal at `'`: exactly one character or escape. */
  #char(): MofToken {
    const { source } = this;
    const start = this.#i;
    let i = start + 1;
    let value: string;
    if (source[i] === '\\') {
      const at = i;
      const [decoded, next] = readEscape(source, i, () => this.#fail('bad escape sequence', at));
      value = decoded;
      i = next;
    } else {
      value = source[i] ?? '';
      i++;
    }
    if (source[i] !== "'" || value === '')
      this.#fail('a char16 literal holds exactly one character', start);
    this.#i = i + 1;
    return { kind: 'char', value, at: this.#at(start) };
  }
}

/** The offset of the next `char` in `source` at or after `from`; the source's length if none. */
function indexOrEnd(source: string, char: string, from: number): number {
  const at = source.indexOf(char, from);
  return at < 0 ? source.length : at;
}

/** `\n`, `\"`, `\x41`, `\X263A`… at source[i] === '\\'; returns the character and the next offset. */
function readEscape(source: string, i: number, bad: () => never): [string, number] {
  const e = source[i + 1] ?? '';
  const simple = SIMPLE_ESCAPES[e];
  if (simple !== undefined) return [simple, i + 2];
  if (e === 'x' || e === 'X') {
    const hex = /^[0-9a-fA-F]{1,4}/.exec(source.slice(i + 2, i + 6));
    if (hex === null) bad();
    return [String.fromCharCode(parseInt(hex[0], 16)), i + 2 + hex[0].length];
  }
  return bad();
}

function readNumber(
  source: string,
  i: number,
  position: MofPosition,
  bad: (reason: string) => never,
): MofToken {
  // A copy: the patterns below must not run on a view into the source (see the file's header).
  const rest = unsliced(source.slice(i, i + 80));
  const real = /^[+-]?[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?/.exec(rest);
  if (real !== null) return { kind: 'real', value: Number(real[0]), text: real[0], at: position };
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]+)/.exec(rest);
  if (hex !== null) return integer(hex[0], hex[1] === '-', BigInt(`0x${hex[2] ?? ''}`), position);
  const binary = /^([+-]?)([01]+)[bB](?![0-9a-zA-Z_])/.exec(rest);
  if (binary !== null)
    return integer(binary[0], binary[1] === '-', BigInt(`0b${binary[2] ?? ''}`), position);
  const octal = /^([+-]?)0([0-7]+)(?![0-9])/.exec(rest);
  if (octal !== null)
    return integer(octal[0], octal[1] === '-', BigInt(`0o${octal[2] ?? ''}`), position);
  const decimal = /^([+-]?)([0-9]+)/.exec(rest);
  if (decimal === null) return bad('malformed number');
  const exponent = /^[+-]?[0-9]+[eE][+-]?[0-9]+/.exec(rest);
  if (exponent !== null)
    return { kind: 'real', value: Number(exponent[0]), text: exponent[0], at: position };
  return integer(decimal[0], decimal[1] === '-', BigInt(decimal[2] ?? '0'), position);
}

function integer(text: string, negative: boolean, magnitude: bigint, at: MofPosition): MofToken {
  return { kind: 'integer', value: negative ? -magnitude : magnitude, text, at };
}
