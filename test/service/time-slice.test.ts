/**
 * finishSoon (src/service/time-slice.ts): steps that end within the current slice are finished at
 * once, without a promise (a create's decision, W1); steps that run past it continue after a turn
 * of the event loop, as finishInSlices does.
 */
import { readFile } from 'node:fs';
import type { Steps } from '../../src/domain/steps';
import { finishSoon, TimeSlicer } from '../../src/service/time-slice';
import { setBetweenSlices } from '../../src/store/time-slices';

/** `count` steps, noting in `log` when each runs; returns `count`. */
function* counted(count: number, log: string[]): Steps<number> {
  for (let i = 1; i <= count; i++) {
    log.push(`step ${i}`);
    yield;
  }
  return count;
}

test('steps that end within the slice are finished at once, without a promise', () => {
  const log: string[] = [];
  const result = finishSoon(counted(3, log), new TimeSlicer(60_000));
  expect(result).toBe(3);
  expect(log).toEqual(['step 1', 'step 2', 'step 3']);
});

test('steps that run past the slice let the event loop turn before the next step', async () => {
  const log: string[] = [];
  setImmediate(() => log.push('macrotask'));
  // A slice of 0 ms is over after the first step.
  const result = finishSoon(counted(3, log), new TimeSlicer(0));
  expect(result).toBeInstanceOf(Promise);
  await expect(result).resolves.toBe(3);
  expect(log.slice(0, 2)).toEqual(['step 1', 'macrotask']);
  expect(log.filter((entry) => entry.startsWith('step'))).toEqual(['step 1', 'step 2', 'step 3']);
});

test('a slice that ends in an I/O callback lets timers run before the next slice', async () => {
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    readFile(__filename, () => {
      // In libuv's poll phase now; the timer is due before the slice ends.
      setTimeout(() => log.push('timer'), 0);
      const until = performance.now() + 3;
      while (performance.now() < until);
      new TimeSlicer(0).endSlice().then(() => {
        log.push('next slice');
        resolve();
      }, reject);
    });
  });
  expect(log).toEqual(['timer', 'next slice']);
});

describe('the work between slices (setBetweenSlices, src/store/time-slices.ts)', () => {
  afterEach(() => setBetweenSlices(undefined));

  test('runs after the yield, and when it did something the next slice waits one more turn', async () => {
    const log: string[] = [];
    setBetweenSlices(() => {
      log.push('between');
      setImmediate(() => log.push('turn after the work'));
      return true;
    });
    setImmediate(() => log.push('turn before the work'));
    await finishSoon(counted(2, log), new TimeSlicer(0));
    expect(log.slice(0, 5)).toEqual([
      'step 1',
      'turn before the work',
      'between',
      'turn after the work',
      'step 2',
    ]);
  });

  test('does not run for work that streams what it makes (a slicer that is not retaining)', async () => {
    let runs = 0;
    setBetweenSlices(() => {
      runs++;
      return true;
    });
    await expect(finishSoon(counted(3, []), new TimeSlicer(0, false))).resolves.toBe(3);
    expect(runs).toBe(0);
    await expect(finishSoon(counted(3, []), new TimeSlicer(0))).resolves.toBe(3);
    expect(runs).toBeGreaterThan(0);
  });

  test('does not run while a slice has time left', () => {
    let runs = 0;
    setBetweenSlices(() => {
      runs++;
      return false;
    });
    expect(finishSoon(counted(3, []), new TimeSlicer(60_000))).toBe(3);
    expect(runs).toBe(0);
  });
});
