/**
 * A protobuf reader whose strings are decoded straight from the request's Buffer (one native
 * UTF-8 decode each). @bufbuild/protobuf's reader builds an array of char codes for every short
 * ASCII string and a subarray view for every other one: about 6 KB of garbage per PutClass
 * request of the benchmark's 2 KB class, which the young-generation GC then has to clear
 * (docs/performance.md). Everything else is the library's. Invalid UTF-8 becomes U+FFFD in both.
 */
import { BinaryReader } from '@bufbuild/protobuf/wire';

export class BufferReader extends BinaryReader {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    super(bytes);
    this.#bytes = bytes;
  }

  override string(): string {
    const length = this.uint32();
    const start = this.pos;
    this.pos += length;
    if (this.pos > this.len) throw new RangeError('premature EOF');
    return this.#bytes.toString('utf8', start, this.pos);
  }
}
