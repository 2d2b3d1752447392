/**
 * Rounds pooled into figures, and the summary table: each figure beside its goal and a status.
 */
import type { LoadgenResult } from './loadgen';

/** Several rounds of one side pooled: calls over total time, percentiles over every call. */
export interface Pooled {
  readonly rounds: number;
  readonly calls: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly maxms: number;
  /** Server CPU (utime+stime, all threads) per call, µs; NaN without a watched pid. */
  readonly cpuUsPerCall: number;
  /** Server CPU seconds per wall second over the window (cores busy). */
  readonly serverCores: number;
  /** The load generator's own CPU per call, µs. */
  readonly clientUsPerCall: number;
  readonly messagesPerCall: number;
  readonly bytesPerCall: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

export function median(values: readonly number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

export function pool(results: readonly LoadgenResult[]): Pooled {
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const calls = results.reduce((s, r) => s + r.calls, 0);
  const seconds = results.reduce((s, r) => s + r.seconds, 0);
  const cpu = results.reduce((s, r) => s + (r.servers[0]?.cpuSec ?? NaN), 0);
  const client = results.reduce((s, r) => s + r.clientCpuSec, 0);
  return {
    rounds: results.length,
    calls,
    seconds,
    rps: calls / seconds,
    p50ms: quantile(latencies, 0.5) / 1e3,
    p99ms: quantile(latencies, 0.99) / 1e3,
    maxms: quantile(latencies, 1) / 1e3,
    cpuUsPerCall: (cpu / calls) * 1e6,
    serverCores: cpu / seconds,
    clientUsPerCall: (client / calls) * 1e6,
    messagesPerCall: results.reduce((s, r) => s + r.messages, 0) / calls,
    bytesPerCall: results.reduce((s, r) => s + r.bytes, 0) / calls,
  };
}

const fixed = (value: number, digits: number, width: number): string =>
  (Number.isFinite(value) ? value.toFixed(digits) : '-').padStart(width);

/** One detail line: throughput, p50/p99, server CPU per call, cores busy, client CPU per call. */
export function detail(label: string, p: Pooled): string {
  return `  ${label.padEnd(40)} ${fixed(p.rps, 0, 7)}/s  p50 ${fixed(p.p50ms, 2, 8)} ms  p99 ${fixed(p.p99ms, 2, 8)} ms  server ${fixed(p.cpuUsPerCall, 0, 7)} µs/call (${fixed(p.serverCores, 2, 4)} cores)  client ${fixed(p.clientUsPerCall, 0, 5)} µs/call  [${p.calls} calls, ${p.rounds} rounds]`;
}

export type Status = 'meets' | 'MISSES' | 'info' | 'skipped' | 'partial';

/** One figure of the summary table. */
export interface Row {
  readonly id: string;
  readonly figure: string;
  readonly measured: string;
  readonly goal: string;
  readonly status: Status;
}

export const rows: Row[] = [];

export function addRow(row: Row): void {
  rows.push(row);
  console.log(
    `  => ${row.id} ${row.figure}: ${row.measured}   goal ${row.goal}   ${row.status.toUpperCase()}`,
  );
}

/** `meets` when `value <= limit` (or `>=` with atLeast). */
export function judge(value: number, limit: number, atLeast = false): Status {
  if (!Number.isFinite(value)) return 'MISSES';
  return (atLeast ? value >= limit : value <= limit) ? 'meets' : 'MISSES';
}

export function formatTable(): string {
  const header = ['row', 'figure', 'measured', 'goal', 'status'];
  const cells = rows.map((r) => [r.id, r.figure, r.measured, r.goal, r.status]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string =>
    `| ${c.map((text, i) => text.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
