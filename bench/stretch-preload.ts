/**
 * A `node -r` preload for bench/stretches.ts: notes every stretch in which the main thread ran
 * more than WBEMD_STRETCH_MS (default 12) ms of CPU between two ticks of a 2 ms timer, and every
 * GC pause of 5 ms or more, as JSON lines appended to WBEMD_STRETCH_LOG. CPU is the main thread's
 * own (`/proc/self/task/PID/schedstat`), so time the thread spent descheduled on a busy machine
 * does not count as a stretch. `monoUs` is on the clock of `--cpu-prof`'s sample times.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const log = process.env['WBEMD_STRETCH_LOG'];
const thresholdMs = Number(process.env['WBEMD_STRETCH_MS'] ?? '12');
const schedstat = `/proc/self/task/${process.pid}/schedstat`;

function threadCpuMs(): number {
  return Number(readFileSync(schedstat, 'latin1').split(' ')[0]) / 1e6;
}

if (log !== undefined) {
  let lastCpu = threadCpuMs();
  let lastWall = performance.now();
  let lastMonoUs = process.hrtime.bigint() / 1000n;
  setInterval(() => {
    const cpu = threadCpuMs();
    const wall = performance.now();
    if (cpu - lastCpu > thresholdMs)
      appendFileSync(
        log,
        `${JSON.stringify({ at: performance.timeOrigin + lastWall, monoUs: Number(lastMonoUs), cpuMs: cpu - lastCpu, wallMs: wall - lastWall })}\n`,
      );
    lastCpu = threadCpuMs();
    lastWall = performance.now();
    lastMonoUs = process.hrtime.bigint() / 1000n;
  }, 2).unref();
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      if (entry.duration >= 5)
        appendFileSync(
          log,
          `${JSON.stringify({ at: performance.timeOrigin + entry.startTime, gcMs: entry.duration, ...(entry as unknown as { detail?: object }).detail })}\n`,
        );
  }).observe({ entryTypes: ['gc'] });
}
