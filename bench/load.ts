/** A closed-loop load generator: keeps N calls in flight for a fixed time, records latencies. */
export interface LoadResult {
  readonly inFlight: number;
  readonly calls: number;
  readonly failures: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
}

/** The raw outcome of one timed stretch of load. */
export interface LoadSample {
  readonly latencies: number[];
  readonly failures: number;
  readonly seconds: number;
}

export async function measure(
  inFlight: number,
  seconds: number,
  call: (index: number) => Promise<void>,
): Promise<LoadSample> {
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  const worker = async (): Promise<void> => {
    while (process.hrtime.bigint() < deadline) {
      const index = next++;
      const began = process.hrtime.bigint();
      try {
        await call(index);
        latencies.push(Number(process.hrtime.bigint() - began) / 1e6);
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { latencies, failures, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

/** Several stretches as one result: calls over total time, percentiles over every call. */
export function summarize(inFlight: number, samples: readonly LoadSample[]): LoadResult {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const seconds = samples.reduce((sum, s) => sum + s.seconds, 0);
  const quantile = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    inFlight,
    calls: latencies.length,
    failures: samples.reduce((sum, s) => sum + s.failures, 0),
    seconds,
    rps: latencies.length / seconds,
    p50ms: quantile(0.5),
    p99ms: quantile(0.99),
  };
}

export async function runLoad(
  inFlight: number,
  seconds: number,
  call: (index: number) => Promise<void>,
): Promise<LoadResult> {
  return summarize(inFlight, [await measure(inFlight, seconds, call)]);
}

export function formatRow(label: string, r: LoadResult): string {
  return `${label.padEnd(34)} in-flight ${String(r.inFlight).padStart(3)}  ${r.rps.toFixed(0).padStart(7)} RPC/s  p50 ${r.p50ms
    .toFixed(2)
    .padStart(
      7,
    )} ms  p99 ${r.p99ms.toFixed(2).padStart(7)} ms  (${r.calls} calls, ${r.failures} failed)`;
}
