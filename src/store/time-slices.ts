/**
 * Long CPU work (a deep enumeration, a big CompileMof, a big commit) cut into slices, so that one
 * call never holds the event loop for more than about a slice: health checks, other calls and
 * timers run in between (issue #13). Reads may all resolve as microtasks, which never let the
 * event loop turn; a slice ends with a macrotask (setImmediate). The one slicer of the store's
 * loops and the service's (src/service/time-slice.ts re-exports it): the store may not import the
 * service.
 */
import { performance } from 'node:perf_hooks';

/** Work between two yields to the event loop, in milliseconds. */
export const SLICE_MS = 10;

/**
 * Work the process runs between two slices of long work, after the yield, in its own turn of the
 * event loop (the server's young-generation collection, src/cli/heap-policy.ts); true when it did
 * something (the next slice waits for one more turn in any case).
 */
export type BetweenSlices = () => boolean;

let betweenSlices: BetweenSlices | undefined;

/** Sets (or, with undefined, removes) the process's work between slices; returns the one it replaced. */
export function setBetweenSlices(work: BetweenSlices | undefined): BetweenSlices | undefined {
  const before = betweenSlices;
  betweenSlices = work;
  return before;
}

const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

export class TimeSlicer {
  #since = performance.now();

  /**
   * `retaining`: the work keeps what it allocates until it ends (a CompileMof, a FORCE, a commit),
   * so the work between slices (the server's young collection) runs at its slices' ends; not for
   * work that streams what it makes (an enumeration): collected early, its pages in flight were
   * promoted, and the old generation's collections grew longer (L1 during R3).
   */
  constructor(
    private readonly sliceMs: number = SLICE_MS,
    private readonly retaining: boolean = true,
  ) {}

  /** The current slice has run its time: the next tick yields. */
  due(): boolean {
    return performance.now() - this.#since >= this.sliceMs;
  }

  /** Yields to the event loop when the current slice has run its time; cheap otherwise. */
  async tick(): Promise<void> {
    if (this.due()) await this.endSlice();
  }

  /**
   * Yields to the event loop now, whatever the slice has left: before a step that is one long
   * stretch by itself (a commit point, a put of megabytes), so that it is not added to the slice.
   */
  async endSlice(): Promise<void> {
    await nextTurn();
    if (this.retaining) betweenSlices?.();
    // Always a second turn: a slice that ended in an I/O callback (libuv's poll phase) was followed
    // by the next one at once, in the same iteration's check phase, with no timer and no other I/O
    // between them: two slices in one stretch (≈ 20 ms). After this turn a poll phase has passed,
    // and work done between slices (a young collection) had a turn of its own.
    await nextTurn();
    this.#since = performance.now();
  }
}

/** `items.map(step)`, yielding to the event loop between slices (of `slicer`, if given). */
export async function mapInSlices<T, R>(
  items: readonly T[],
  step: (item: T) => R,
  slicer: TimeSlicer = new TimeSlicer(),
): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) {
    await slicer.tick();
    results.push(step(item));
  }
  return results;
}
