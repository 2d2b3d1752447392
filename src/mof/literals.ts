/**
 * MOF literals for the writer: values as MOF spells them, string escapes, and the splitting of a
 * long escaped string into pieces that MOF concatenates again.
 */
import type { CimValue } from '../domain/class-model';

export function literal(value: CimValue): string {
  switch (value.kind) {
    case 'boolean':
      return value.value ? 'TRUE' : 'FALSE';
    case 'sint':
    case 'uint':
      return value.value.toString();
    case 'real':
      return realLiteral(value.value);
    case 'string':
    case 'datetime':
    case 'reference':
      return `"${escapeMofString(value.value, '"')}"`;
    case 'char16':
      return `'${escapeMofString(value.value, "'")}'`;
    case 'array':
      return `{${value.value.map(literal).join(', ')}}`;
    case 'object':
      throw new Error('embedded object values have no MOF literal here');
  }
}

/** Always with a decimal point, so it reads back as a real. */
function realLiteral(value: number): string {
  const text = String(value);
  if (/^-?[0-9]+$/.test(text)) return `${text}.0`;
  if (/^-?[0-9]+e[+-]?[0-9]+$/i.test(text)) return text.replace(/e/i, '.0e');
  return text;
}

export function escapeMofString(text: string, quote: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (code < 0x20 || code > 0x7e) {
      // Characters outside the BMP are two UTF-16 units, each escaped on its own.
      for (let i = 0; i < ch.length; i++)
        out += `\\x${ch.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')}`;
    } else out += ch;
  }
  return out;
}

/** The units of an escaped string: an escape sequence is one unit, never split. */
function unitsOf(escaped: string): string[] {
  return escaped.match(/\\x[0-9A-F]{4}|\\.|[^\\]/g) ?? [];
}

/** Where a piece may end, best first: after a space (between words), else after punctuation. */
const BREAK_AFTER = [' ', '.', ',', '_', '-', '/', ':'];

function cutOf(piece: readonly string[]): number {
  for (const mark of BREAK_AFTER) {
    const at = piece.lastIndexOf(mark);
    if (at > 0) return at + 1;
  }
  return piece.length;
}

/** Greedy pieces of at most `width` characters, ending after a `\n` escape where there is one. */
function greedyPieces(units: readonly string[], width: number): string[][] {
  const pieces: string[][] = [];
  let piece: string[] = [];
  let length = 0;
  for (const unit of units) {
    while (length + unit.length > width && piece.length > 0) {
      const cut = cutOf(piece);
      pieces.push(piece.slice(0, cut));
      piece = piece.slice(cut);
      length = piece.join('').length;
    }
    piece.push(unit);
    length += unit.length;
    if (unit === '\\n') {
      pieces.push(piece);
      piece = [];
      length = 0;
    }
  }
  if (piece.length > 0 || pieces.length === 0) pieces.push(piece);
  return pieces;
}

/**
 * Splits an escaped string into pieces of at most `room` characters, the last of at most
 * `room - lastReserve` (its suffix goes on the same line): after a space where one is found (DMTF
 * breaks between words), after a `\n`, else after punctuation, else where the room ends.
 */
export function splitEscaped(escaped: string, room: number, lastReserve: number): string[] {
  const width = Math.max(room, 8);
  const pieces = greedyPieces(unitsOf(escaped), width);
  const last = pieces[pieces.length - 1] as string[];
  const lastRoom = Math.max(width - lastReserve, 4);
  if (last.join('').length > lastRoom) pieces.splice(-1, 1, ...greedyPieces(last, lastRoom));
  return pieces.map((units) => units.join(''));
}
