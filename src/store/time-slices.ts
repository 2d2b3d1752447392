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

export class TimeSlicer {
  #since = performance.now();

  constructor(private readonly sliceMs: number = SLICE_MS) {}

  /** The current slice has run its time: the next tick yields. */
  due(): boolean {
    return performance.now() - this.#since >= this.sliceMs;
  }

  /** Yields to the event loop when the current slice has run its time; cheap otherwise. */
  async tick(): Promise<void> {
    if (!this.due()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#since = performance.now();
  }
}

/** `items.map(step)`, yielding to the event loop between slices. */
export async function mapInSlices<T, R>(items: readonly T[], step: (item: T) => R): Promise<R[]> {
  const slicer = new TimeSlicer();
  const results: R[] = [];
  for (const item of items) {
    await slicer.tick();
    results.push(step(item));
  }
  return results;
}
