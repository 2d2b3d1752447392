import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { growingPercentFor, OLD_GENERATION_HEADROOM_MB } from '../../src/cli/heap-policy';

const MB = 1024 * 1024;
/** The built policy (`npm run build` first): V8's flags are set in a child process, never in jest's. */
const BUILT = resolve(__dirname, '..', '..', 'dist', 'src', 'cli', 'heap-policy.js');

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
});
