import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { growingPercentFor, OLD_GENERATION_HEADROOM_MB } from '../../src/cli/heap-policy';
import { SERVER_NODE_FLAGS } from '../../src/cli/node-flags';

const MB = 1024 * 1024;
/** The built policy (`npm run build` first): V8's flags are set in a child process, never in jest's. */
const BUILT = resolve(__dirname, '..', '..', 'dist', 'src', 'cli', 'heap-policy.js');
const BUILT_SLICES = resolve(__dirname, '..', '..', 'dist', 'src', 'store', 'time-slices.js');

/**
 * A child node that holds ≈ 40 MB live, starts the policy, and runs two full GCs; returns V8's own
 * account of each new old-generation limit (`--trace-gc-verbose`): the live size and the factor.
 */
function limitsInChild(nodeFlags: readonly string[]): { oldKb: number; factor: number }[] {
  const script = `
    const { applyServerHeapPolicy } = require(${JSON.stringify(BUILT)});
    const keep = [];
    for (let i = 0; i < 40 * 1024; i++) keep.push(new Array(120).fill(i));
    applyServerHeapPolicy();
    global.gc();
    setTimeout(() => { global.gc(); console.log('kept ' + keep.length); }, 100);`;
  const out = execFileSync(
    process.execPath,
    [...nodeFlags, '--expose-gc', '--trace-gc-verbose', '-e', script],
    { encoding: 'utf8', maxBuffer: 64 * MB },
  );
  expect(out).toContain('kept 40960');
  return [...out.matchAll(/Limit: old size: (\d+) KB, new limit: \d+ KB \(([\d.]+)\)/g)].map(
    (m) => ({ oldKb: Number(m[1]), factor: Number(m[2]) }),
  );
}

describe("the server's old-generation headroom (src/cli/heap-policy.ts)", () => {
  test('is additive: the factor shrinks as the live heap grows, and V8 keeps its own below a third of the headroom', () => {
    const headroom = 64 * MB;
    expect(growingPercentFor(10 * MB, headroom)).toBe(0);
    expect(growingPercentFor(21 * MB, headroom)).toBe(0);
    expect(growingPercentFor(22 * MB, headroom)).toBe(291);
    expect(growingPercentFor(64 * MB, headroom)).toBe(100);
    expect(growingPercentFor(128 * MB, headroom)).toBe(50);
    expect(growingPercentFor(100_000 * MB, headroom)).toBe(1);
  });

  test('V8 takes the factor at the next full GC: live + the headroom', () => {
    const limits = limitsInChild([]);
    const last = limits[limits.length - 1];
    expect(last).toBeDefined();
    if (last === undefined) return;
    const wanted = 1 + (OLD_GENERATION_HEADROOM_MB * 1024) / last.oldKb;
    expect(last.oldKb).toBeGreaterThan(30 * 1024);
    expect(Math.abs(last.factor - wanted)).toBeLessThan(0.2);
  });

  test('a --heap-growing-percent given on the command line is kept', () => {
    const limits = limitsInChild(['--heap-growing-percent=20']);
    expect(limits.length).toBeGreaterThan(0);
    for (const { factor } of limits) expect(factor).toBeCloseTo(1.2, 5);
  });

  test('… also in the form with underscores, which V8 reads the same', () => {
    const limits = limitsInChild(['--heap_growing_percent=20']);
    expect(limits.length).toBeGreaterThan(0);
    for (const { factor } of limits) expect(factor).toBeCloseTo(1.2, 5);
  });
});

/**
 * A child node with the server's flags that fills its young generation with ≈ 3 MB it keeps,
 * starts `collectYoungBetweenSlices(thresholdMb)` unless thresholdMb is undefined, then ends one
 * slice of long work: how many young-generation GCs ran across that slice's end, and whether
 * the process's own global got a gc().
 */
function youngGcsAcrossSliceEnd(
  thresholdMb: number | undefined,
  garbageFirst = false,
): {
  young: number;
  globalGc: boolean;
} {
  const script = `
    const { collectYoungBetweenSlices } = require(${JSON.stringify(BUILT)});
    const { TimeSlicer } = require(${JSON.stringify(BUILT_SLICES)});
    const { PerformanceObserver, constants } = require('node:perf_hooks');
    const threshold = ${JSON.stringify(thresholdMb ?? null)};
    if (threshold !== null) collectYoungBetweenSlices(threshold);
    const starts = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) starts.push(e.startTime);
    }).observe({ entryTypes: ['gc'] });
    // Work that keeps nothing it allocates (its own frame gone before the slice ends).
    const garbage = () => {
      const made = [];
      for (let i = 0; i < 40000; i++) made.push({ i, pair: [i, String(i)] });
      return made.length;
    };
    const keep = [];
    (async () => {
      if (${JSON.stringify(garbageFirst)}) {
        // Two slices of it: the first collection also finds what the start left young.
        for (let slice = 0; slice < 2; slice++) {
          garbage();
          await new TimeSlicer(0).tick();
        }
      }
      for (let i = 0; i < 40000; i++) keep.push({ i, pair: [i, String(i)] });
      const from = performance.now();
      await new TimeSlicer(0).tick();
      const to = performance.now();
      setTimeout(() => {
        const young = starts.filter((t) => t >= from && t <= to).length;
        console.log(JSON.stringify({ young, globalGc: typeof globalThis.gc === 'function', kept: keep.length }));
      }, 100);
    })();`;
  // No scavenge V8 schedules itself as a task (at 80% of the young generation's current size),
  // which could run in the same turns.
  const flags = [...SERVER_NODE_FLAGS, '--no-minor-gc-task'];
  const out = execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' });
  const result = JSON.parse(out.trim()) as { young: number; globalGc: boolean; kept: number };
  expect(result.kept).toBe(40000);
  return result;
}

describe('the young generation between slices of long work (collectYoungBetweenSlices)', () => {
  test('is collected at the end of a slice once it holds the threshold, in a turn of its own', () => {
    expect(youngGcsAcrossSliceEnd(1)).toMatchObject({ young: 1, globalGc: false });
  });

  test('is collected at every slice end, also after a collection that found mostly garbage', () => {
    expect(youngGcsAcrossSliceEnd(1, true).young).toBe(1);
  });

  test('is left to V8 below the threshold, and without the policy', () => {
    expect(youngGcsAcrossSliceEnd(1000).young).toBe(0);
    expect(youngGcsAcrossSliceEnd(undefined).young).toBe(0);
  });
});

/**
 * A child node (the server's flags plus `extraFlags`) that keeps every object one allocation site
 * makes, so V8's pretenuring feedback finds them all alive, after `stopPretenuring()` when
 * `stop`; returns how many sites V8 decided to tenure (`--trace-pretenuring-statistics`).
 */
function tenuredSites(stop: boolean, extraFlags: readonly string[] = []): number {
  const script = `
    const { stopPretenuring } = require(${JSON.stringify(BUILT)});
    if (${JSON.stringify(stop)}) stopPretenuring();
    const keep = [];
    const make = (i) => ({ i, pair: [i, i + 1] });
    for (let i = 0; i < 2000000; i++) keep.push(make(i));
    console.log('kept ' + keep.length);`;
  // V8 tenures a site only at a young collection of a young generation at its largest size (else
  // "maybe tenure"): pinned there, the decision does not depend on how fast the young generation
  // grew (on a busy host the control case below saw none in about one run of ten).
  const largest = SERVER_NODE_FLAGS.find((flag) => flag.startsWith('--max-semi-space-size='));
  const pinned = largest === undefined ? [] : [largest.replace('--max-', '--min-')];
  const flags = [...SERVER_NODE_FLAGS, ...pinned, ...extraFlags, '--trace-pretenuring-statistics'];
  const out = execFileSync(process.execPath, [...flags, '-e', script], {
    encoding: 'utf8',
    maxBuffer: 64 * MB,
  });
  expect(out).toContain('kept 2000000');
  return [...out.matchAll(/=> tenure$/gm)].length;
}

describe("V8's allocation-site pretenuring (stopPretenuring)", () => {
  test('V8 tenures a site whose objects all survive, without the policy', () => {
    expect(tenuredSites(false)).toBeGreaterThan(0);
  });

  test('is off once the policy ran: no site is tenured', () => {
    expect(tenuredSites(true)).toBe(0);
  });

  test('a --allocation-site-pretenuring given on the command line is kept', () => {
    expect(tenuredSites(true, ['--allocation-site-pretenuring'])).toBeGreaterThan(0);
  });
});
