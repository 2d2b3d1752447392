/**
 * A long pure computation (a rule checked against 10,000 subclasses) written as a generator that
 * yields between units of work. The domain keeps no clock and does no I/O; the service decides
 * when to let the event loop turn between two steps (src/service/time-slice.ts, issue #13), and
 * `finish` runs the steps to their end at once where that does not matter.
 */
export type Steps<T> = Generator<void, T, undefined>;

/** Runs the steps to their end without pausing, and returns what they computed. */
export function finish<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}
