/**
 * A protobuf writer for the encoders that write domain objects straight to bytes
 * (class-members-bytes.ts): one growing Buffer, reused from message to message, with the same
 * byte output as @bufbuild/protobuf's BinaryWriter (which ts-proto's generated code uses) for the
 * field kinds written here. A nested message reserves one byte for its length and moves its bytes
 * when the length needs more (as BinaryWriter's fork/join do); strings are written in place.
 */

const INITIAL_SIZE = 16 * 1024;
/** A buffer grown past this is dropped after its message, so one huge class does not stay. */
const KEEP_LIMIT = 256 * 1024;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;
/** Shorter strings are copied in a loop, longer ones by Buffer.write (faster from ~20 chars). */
const SHORT_STRING = 24;

/** How many bytes a uint32 varint of `value` takes. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

export class WireWriter {
  #buffer = Buffer.allocUnsafe(INITIAL_SIZE);
  #pos = 0;

  /** Room for `size` more bytes (a larger buffer, the bytes so far copied, when needed). */
  #reserve(size: number): void {
    const required = this.#pos + size;
    if (required <= this.#buffer.length) return;
    let length = this.#buffer.length * 2;
    while (length < required) length *= 2;
    const grown = Buffer.allocUnsafe(length);
    this.#buffer.copy(grown, 0, 0, this.#pos);
    this.#buffer = grown;
  }

  /** An unsigned 32-bit varint (a tag, a length, a uint32 field). */
  uint32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > UINT32_MAX)
      throw new Error(`invalid uint32: ${value}`);
    this.#reserve(5);
    const buffer = this.#buffer;
    let pos = this.#pos;
    while (value > 0x7f) {
      buffer[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buffer[pos++] = value;
    this.#pos = pos;
    return this;
  }

  /** A signed 32-bit varint: a negative one takes ten bytes (sign-extended to 64 bits). */
  int32(value: number): this {
    if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX)
      throw new Error(`invalid int32: ${value}`);
    if (value >= 0) return this.uint32(value);
    this.#reserve(10);
    const buffer = this.#buffer;
    for (let i = 0; i < 9; i++) {
      buffer[this.#pos++] = (value & 0x7f) | 0x80;
      value >>= 7;
    }
    buffer[this.#pos++] = 1;
    return this;
  }

  /** An unsigned 64-bit varint of a value in [0, 2^64). */
  varint64(value: bigint): this {
    this.#reserve(10);
    const buffer = this.#buffer;
    while (value > 0x7fn) {
      buffer[this.#pos++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    buffer[this.#pos++] = Number(value);
    return this;
  }

  bool(value: boolean): this {
    this.#reserve(1);
    this.#buffer[this.#pos++] = value ? 1 : 0;
    return this;
  }

  /** A little-endian IEEE 754 double (wire type 1). */
  double(value: number): this {
    this.#reserve(8);
    this.#buffer.writeDoubleLE(value, this.#pos);
    this.#pos += 8;
    return this;
  }

  /** A string's UTF-8 length and bytes (lone surrogates become U+FFFD, as TextEncoder does). */
  string(value: string): this {
    const length = value.length;
    this.#reserve(length * 3 + 5);
    const buffer = this.#buffer;
    const start = this.#pos;
    if (length < SHORT_STRING) {
      // A short ASCII string byte by byte (a native call costs more); anything else below.
      let pos = start + 1;
      let i = 0;
      for (; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code > 0x7f) break;
        buffer[pos++] = code;
      }
      if (i === length) {
        buffer[start] = length;
        this.#pos = pos;
        return this;
      }
    }
    const guess = varintSize(length);
    const written = buffer.write(value, start + guess, 'utf8');
    const size = varintSize(written);
    if (size !== guess) buffer.copyWithin(start + size, start + guess, start + guess + written);
    this.uint32(written);
    this.#pos += written;
    return this;
  }

  /** Bytes as they are (an encoded part). */
  raw(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#pos);
    this.#pos += bytes.length;
    return this;
  }

  /** Starts a length-delimited part (after its tag); `end` with what this returns closes it. */
  begin(): number {
    this.#reserve(1);
    return this.#pos++;
  }

  /** Writes the length of the part `begin` started, moving its bytes when it takes > 1 byte. */
  end(at: number): this {
    const length = this.#pos - at - 1;
    if (length < 0x80) {
      this.#buffer[at] = length;
      return this;
    }
    const size = varintSize(length);
    this.#reserve(size - 1);
    this.#buffer.copyWithin(at + size, at + 1, this.#pos);
    const end = this.#pos + size - 1;
    this.#pos = at;
    this.uint32(length);
    this.#pos = end;
    return this;
  }

  /** How many bytes are written so far (offsets of parts within the message). */
  get length(): number {
    return this.#pos;
  }

  /** A copy of the bytes written; the writer is empty again. */
  finish(): Buffer {
    const bytes = Buffer.allocUnsafe(this.#pos);
    this.#buffer.copy(bytes, 0, 0, this.#pos);
    this.reset();
    return bytes;
  }

  /** Empties the writer (also after a failed encoding), dropping an outgrown buffer. */
  reset(): void {
    this.#pos = 0;
    if (this.#buffer.length > KEEP_LIMIT) this.#buffer = Buffer.allocUnsafe(INITIAL_SIZE);
  }
}
