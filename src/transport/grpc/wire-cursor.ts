/**
 * The protobuf wire primitives of put-class-decoding.ts's one-pass reader. Each reads only the
 * plain form a well-formed request uses and gives up (throws GIVE_UP) on anything else, so that
 * the caller can hand the bytes to the reference decoder instead: a field running past its
 * message, a varint longer than the field's values need, a tag of a field above 15.
 */

/** Thrown when the bytes take a shape the cursor does not handle; never leaves the reader. */
export const GIVE_UP = new Error('not on the one-pass path');

export function giveUp(): never {
  throw GIVE_UP;
}

/** A position in a request's bytes; `end` is the end of the message being read. */
export class WireCursor {
  pos = 0;
  constructor(readonly bytes: Buffer) {}

  /** A varint of at most `maxBytes` bytes (≤ 7: exact as a number), inside the message. */
  varint(end: number, maxBytes: number): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < maxBytes && this.pos < end; i++) {
      const byte = this.bytes[this.pos++] ?? giveUp();
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    return giveUp();
  }

  /** A field's tag, called while `pos < end`: one byte (fields 1–15), never 0 or a group's. */
  tag(): number {
    const byte = this.bytes[this.pos++] ?? giveUp();
    return byte >= 0x80 || byte < 8 ? giveUp() : byte;
  }

  /** int32 / uint32 / enum fields up to 28 bits (a negative int32 takes 10 bytes: given up). */
  smallInt(end: number): number {
    return this.varint(end, 4);
  }

  bool(end: number): boolean {
    if (this.pos >= end) giveUp();
    const byte = this.bytes[this.pos++] ?? giveUp();
    return byte >= 0x80 ? giveUp() : byte !== 0;
  }

  /** The end of the length-delimited field that starts here; it must end inside its message. */
  fieldEnd(end: number): number {
    const length = this.varint(end, 4);
    const stop = this.pos + length;
    return stop > end ? giveUp() : stop;
  }

  /** A string field: one native UTF-8 decode (invalid bytes become U+FFFD, as BufferReader's). */
  string(end: number): string {
    const stop = this.fieldEnd(end);
    const start = this.pos;
    this.pos = stop;
    return this.bytes.toString('utf8', start, stop);
  }

  /** Past a length-delimited field not kept. */
  skip(end: number): void {
    this.pos = this.fieldEnd(end);
  }

  /** `decoded` if the message's fields ended exactly where its length said. */
  closed<T>(end: number, decoded: T): T {
    return this.pos === end ? decoded : giveUp();
  }

  double(end: number): number {
    if (this.pos + 8 > end) giveUp();
    const value = this.bytes.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** sint64 (zigzag) up to 7 bytes, as the generated decoder's bigint. */
  sint64(end: number): bigint {
    const zigzag = this.varint(end, 7);
    return BigInt(zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2);
  }

  /** uint64 up to 7 bytes, as the generated decoder's bigint. */
  uint64(end: number): bigint {
    return BigInt(this.varint(end, 7));
  }
}

/**
 * What `read` makes of a request's bytes, or undefined when it gave up (GIVE_UP, or anything it
 * did not foresee): the reference decoder then decides what the bytes are.
 */
export function readInOnePass<T>(
  bytes: Buffer,
  read: (c: WireCursor, end: number) => T,
): T | undefined {
  try {
    return read(new WireCursor(bytes), bytes.length);
  } catch {
    return undefined;
  }
}
