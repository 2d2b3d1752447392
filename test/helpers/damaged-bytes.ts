/**
 * Damaged copies of well-formed request bytes, the same every run: the one-pass decoders' tests
 * compare what each gives for them with the reference decoder's.
 */

/** xorshift32: a repeatable source of numbers below `below`. */
export function random(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % below;
  };
}

/** `bytes` with one byte replaced, one inserted or one bit flipped, or cut short. */
export function damaged(bytes: Buffer, next: (below: number) => number): Buffer {
  const copy = Buffer.from(bytes);
  const at = next(copy.length);
  switch (next(4)) {
    case 0:
      copy[at] = next(256);
      return copy;
    case 1:
      return copy.subarray(0, at);
    case 2:
      return Buffer.concat([copy.subarray(0, at), Buffer.from([next(256)]), copy.subarray(at)]);
    default:
      copy[at] = (copy[at] ?? 0) ^ (1 << next(8));
      return copy;
  }
}
