/**
 * A protobuf reader whose strings are decoded straight from the request's Buffer (one native
 * UTF-8 decode each). @bufbuild/protobuf's reader builds an array of char codes for every short
 * ASCII string and a subarray view for every other one: about 6 KB of garbage per PutClass
 * request of the benchmark's 2 KB class, which the young-generation GC then has to clear
 * (docs/performance.md). Everything else is the library's. Invalid UTF-8 becomes U+FFFD in both.
 */
import { BinaryReader } from '@bufbuild/protobuf/wire';

/** How many messages deep ts-proto's generated decoders go before they throw. */
export const TS_PROTO_MAX_DEPTH = 100;

/**
 * Where ts-proto's generated decoders (2.x) count the messages being decoded, on the reader they
 * are given: each decode reads it (`?? 0`), refuses at TS_PROTO_MAX_DEPTH, and adds one.
 */
const TS_PROTO_DEPTH_COUNTER = '__tsProtoDecodeDepth';

export class BufferReader extends BinaryReader {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    super(bytes);
    this.#bytes = bytes;
  }

  /**
   * Lets the generated decoders go `depth` messages deep, by starting their count below zero. Only
   * for bytes whose depth was measured and bounded without recursing (wire-scan.ts): the guard is
   * ts-proto's protection against deep recursion, and this moves it, never removes it.
   */
  allowDepth(depth: number): this {
    Object.assign(this, { [TS_PROTO_DEPTH_COUNTER]: Math.min(0, TS_PROTO_MAX_DEPTH - depth) });
    return this;
  }

  override string(): string {
    const length = this.uint32();
    const start = this.pos;
    this.pos += length;
    if (this.pos > this.len) throw new RangeError('premature EOF');
    return this.#bytes.toString('utf8', start, this.pos);
  }
}
