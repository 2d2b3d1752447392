/**
 * The service's side of slicing long CPU work (issue #13): the slicer itself is shared with the
 * store's loops (src/store/time-slices.ts), plus running a pure computation written as steps.
 */
import type { Steps } from '../domain/steps';
import { TimeSlicer } from '../store/time-slices';

export { SLICE_MS, TimeSlicer } from '../store/time-slices';

/**
 * Runs a pure computation written as steps (domain/steps.ts) to its end, letting the event loop
 * turn whenever a slice has run its time, and returns what it computed.
 */
export async function finishInSlices<T>(
  steps: Steps<T>,
  slicer: TimeSlicer = new TimeSlicer(),
): Promise<T> {
  return finishSoon(steps, slicer);
}

/**
 * finishInSlices without a promise when the steps end within the current slice (a create's
 * decision takes no step at all); a promise only once a slice has run its time, the rest of the
 * steps then running after a turn of the event loop.
 */
export function finishSoon<T>(steps: Steps<T>, slicer: TimeSlicer): T | Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    if (slicer.due()) return slicer.tick().then(() => finishSoon(steps, slicer));
  }
}
