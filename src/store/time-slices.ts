/**
 * A big commit's CPU work cut into slices (issue #13: no call holds the event loop for more than
 * about a slice). The service's TimeSlicer does the same for its loops; the store may not import
 * the service, hence this one for the store's own loops.
 */
import { performance } from 'node:perf_hooks';

/** Work between two yields to the event loop, in milliseconds. */
const SLICE_MS = 10;

/** Yields to the event loop (a macrotask: timers and I/O run) once a slice has run its time. */
export class StoreSlicer {
  #since = performance.now();

  async tick(): Promise<void> {
    if (performance.now() - this.#since < SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#since = performance.now();
  }
}

/** `items.map(step)`, yielding to the event loop between slices. */
export async function mapInSlices<T, R>(items: readonly T[], step: (item: T) => R): Promise<R[]> {
  const slicer = new StoreSlicer();
  const results: R[] = [];
  for (const item of items) {
    await slicer.tick();
    results.push(step(item));
  }
  return results;
}
