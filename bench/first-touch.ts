/**
 * What a page costs the first time a process touches it, on this machine. A fresh process pays
 * it for every page its heap, its buffers and its libraries grow into (P3's fresh servers and
 * commands touch tens of thousands: `minorFaults` in procs.ts). On a bare Linux host a minor fault
 * is well under a microsecond; a VM whose host takes freed memory back (free page reporting, a
 * balloon) pays for the host to provide the page again, which can be tens of times that. The
 * figure turns a process's fault count into time, so a fresh process's figures can be read.
 */
import { performance } from 'node:perf_hooks';
import { median } from './report';

const PAGE_BYTES = 4096;
/** Above glibc's largest mmap threshold (32 MB): always a mapping of its own, never reused heap. */
const PROBE_BYTES = 64 * 1024 * 1024;
const PROBES = 3;

export interface FirstTouch {
  /** Microseconds a 4 KB page takes the first time it is written (median of the probes). */
  readonly firstUs: number;
  /** The same pages written again: the cost of the write itself. */
  readonly againUs: number;
}

/** Writes one byte a page of `bytes`; the time it took a page, in microseconds. */
function touchEachPage(bytes: Buffer, value: number): number {
  const started = performance.now();
  for (let at = 0; at < bytes.length; at += PAGE_BYTES) bytes[at] = value;
  return ((performance.now() - started) * 1000) / (bytes.length / PAGE_BYTES);
}

/**
 * Measures it in this process: memory the allocator maps anew (a buffer this big is a mapping of
 * its own, unmapped when collected), written a byte a page, then written again.
 */
export function measureFirstTouch(): FirstTouch {
  const first: number[] = [];
  const again: number[] = [];
  for (let probe = 0; probe < PROBES; probe++) {
    const fresh = Buffer.allocUnsafeSlow(PROBE_BYTES);
    first.push(touchEachPage(fresh, 1));
    again.push(touchEachPage(fresh, 2));
  }
  return { firstUs: median(first), againUs: median(again) };
}

/** `N (≈ T ms)`: a count of page faults with what they cost at the measured first touch. */
function faultsAndCost(faults: number, touch: FirstTouch): string {
  return `${faults.toLocaleString('en')} (≈ ${((faults * touch.firstUs) / 1000).toFixed(0)} ms)`;
}

/** The page faults of a run's two processes, as its loads measured them. */
export interface RunFaults {
  readonly serverFaults: number;
  readonly clientFaults: number;
}

/**
 * `page faults: SERVER N (≈ T ms), CLIENT N (≈ T ms)`: the medians over the rounds, with what they
 * cost at the measured first touch (an indented line under a row's figures).
 */
export function faultsLine(
  loads: readonly RunFaults[],
  names: { readonly server: string; readonly client: string },
  touch: FirstTouch,
): string {
  const faults = (pick: (load: RunFaults) => number): string =>
    faultsAndCost(median(loads.map(pick)), touch);
  return `    page faults: ${names.server} ${faults((l) => l.serverFaults)}, ${names.client} ${faults((l) => l.clientFaults)}`;
}
