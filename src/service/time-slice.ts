/**
 * Long CPU work (a deep enumeration, a big CompileMof) cut into slices, so that one call never
 * holds the event loop for more than about a slice: health checks, other calls and timers run in
 * between (issue #13). The store's reads may all resolve as microtasks, which never let the event
 * loop turn; a slice ends with a macrotask (setImmediate).
 */
import { performance } from 'node:perf_hooks';
import type { Steps } from '../domain/steps';

/** Work between two yields to the event loop, in milliseconds. */
export const SLICE_MS = 10;

export class TimeSlicer {
  #since = performance.now();

  constructor(private readonly sliceMs: number = SLICE_MS) {}

  /** Yields to the event loop when the current slice has run its time; cheap otherwise. */
  async tick(): Promise<void> {
    if (performance.now() - this.#since < this.sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#since = performance.now();
  }
}

/**
 * Runs a pure computation written as steps (domain/steps.ts) to its end, letting the event loop
 * turn whenever a slice has run its time, and returns what it computed.
 */
export async function finishInSlices<T>(
  steps: Steps<T>,
  slicer: TimeSlicer = new TimeSlicer(),
): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    await slicer.tick();
  }
}
