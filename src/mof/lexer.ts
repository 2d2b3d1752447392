/**
 * MOF tokens (DMTF DSP0221 / DSP0004 Annex A): identifiers, the literal forms of every CIM value
 * (decimal, hex, binary, octal and real numbers, strings with escapes, char16), punctuation,
 * `#pragma`, `$alias`; `//` and block comments are skipped. Every token knows where it starts.
 */

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
const isIdentPart = (c: string): boolean => isIdentStart(c) || isDigit(c);

export function tokenize(source: string, file: string): MofToken[] {
  const tokens: MofToken[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = (offset: number): MofPosition => ({ file, line, column: offset - lineStart + 1 });
  const fail = (reason: string, offset: number): never => {
    throw new MofError(reason, at(offset));
  };
  const length = source.length;
  // A byte-order mark is not part of the text.
  if (source.charCodeAt(0) === 0xfeff) i = 1;
  while (i < length) {
    const c = source[i] as string;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '/' && source[i + 1] === '/') {
      while (i < length && source[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && source[i + 1] === '*') {
      const start = i;
      i += 2;
      while (i < length && !(source[i] === '*' && source[i + 1] === '/')) {
        if (source[i] === '\n') {
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      if (i >= length) fail('unterminated comment', start);
      i += 2;
      continue;
    }
    const start = i;
    if (c === '"') {
      i++;
      // Whole runs between escapes are sliced, not built a character at a time (that garbage
      // was two thirds of the time to compile the CIM Schema).
      let value = '';
      let run = i;
      for (;;) {
        const code = source.charCodeAt(i);
        if (code === 0x22) break; // "
        if (code === 0x0a || i >= length) fail('unterminated string', start);
        if (code === 0x5c) {
          value += source.slice(run, i);
          const [decoded, next] = readEscape(source, i, () => fail('bad escape sequence', i));
          value += decoded;
          i = next;
          run = i;
          continue;
        }
        i++;
      }
      value += source.slice(run, i);
      i++;
      tokens.push({ kind: 'string', value, at: at(start) });
      continue;
    }
    if (c === "'") {
      i++;
      let value: string;
      if (source[i] === '\\') {
        const [decoded, next] = readEscape(source, i, () => fail('bad escape sequence', i));
        value = decoded;
        i = next;
      } else {
        value = source[i] ?? '';
        i++;
      }
      if (source[i] !== "'" || value === '')
        fail('a char16 literal holds exactly one character', start);
      i++;
      tokens.push({ kind: 'char', value, at: at(start) });
      continue;
    }
    if (c === '#') {
      const word = /^#pragma\b/i.exec(source.slice(i, i + 8));
      if (word === null) fail('unexpected "#" (only #pragma is allowed)', i);
      i += 7;
      tokens.push({ kind: 'pragma', at: at(start) });
      continue;
    }
    if (c === '$') {
      i++;
      while (i < length && isIdentPart(source[i] as string)) i++;
      if (i === start + 1) fail('an alias needs a name after "$"', start);
      tokens.push({ kind: 'alias', text: source.slice(start + 1, i), at: at(start) });
      continue;
    }
    if (
      isDigit(c) ||
      ((c === '-' || c === '+' || c === '.') && /^[+-]?\.?[0-9]/.test(source.slice(i, i + 3)))
    ) {
      tokens.push(readNumber(source, i, at(start), (reason) => fail(reason, start)));
      i += (tokens[tokens.length - 1] as { text: string }).text.length;
      continue;
    }
    if (isIdentStart(c)) {
      while (i < length && isIdentPart(source[i] as string)) i++;
      tokens.push({ kind: 'identifier', text: source.slice(start, i), at: at(start) });
      continue;
    }
    if (PUNCTUATION.has(c)) {
      i++;
      tokens.push({ kind: 'punct', text: c, at: at(start) });
      continue;
    }
    fail(`unexpected character ${JSON.stringify(c)}`, i);
  }
  tokens.push({ kind: 'end', at: at(i) });
  return tokens;
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
  const rest = source.slice(i, i + 80);
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
