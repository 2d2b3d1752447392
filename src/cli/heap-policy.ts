/**
 * The server's memory budget (docs/performance.md, "Memory budget"): how far V8 lets the old
 * generation grow past what its last full GC left live, set again after each full GC, and no
 * allocation site pretenured (`stopPretenuring`, D82). And, for the event loop's sake, when the
 * young generation is collected during long work (at the end).
 *
 * V8 lets the old generation grow to up to 4× its live size before the next full GC. Under write
 * load a server promotes a steady stream of short-lived call state, so with ≈ 50 MB live (M1's
 * 5,000 classes read and written) the old generation filled with garbage up to ≈ 200 MB. A fixed
 * smaller factor (`--heap-growing-percent=50`) bounded that, but made a full GC come after every
 * ≈ 10 MB promoted for a server with little live data (R1: 21 MB live, GetClass at 1.8× the CPU).
 * So the headroom is additive: after each full GC the factor is set to what lets the old
 * generation grow by OLD_GENERATION_HEADROOM_MB past the live size, and left to V8's own dynamic
 * factor (up to 4×) while that gives less (a live heap under a third of the headroom).
 *
 * `--heap-growing-percent` is read at every full GC, so it can be set at run time; NODE_OPTIONS
 * does not accept it. A value given on node's command line is kept, and no policy runs.
 */
import {
  constants,
  PerformanceObserver,
  type NodeGCPerformanceDetail,
  type PerformanceEntry,
} from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setBetweenSlices } from '../store/time-slices';

/**
 * How far past its live size the old generation may grow between full GCs. 64 until the M1 soak
 * showed what fills it: call state the transport promotes whatever wbemd does (a bare grpc-js
 * server promotes ≈ 4.8 KB a unary call), and the peaks were the floating garbage of one full GC
 * times the factor set for the next. 32 MB: M1 ≈ 28 MB lower at its median and 68 MB at its peak
 * in same-time runs, for ≈ 7% more CPU under M1's load, W1 +1% (noise), R1, R3 and P3 unchanged
 * (docs/performance.md, "M1: what is promoted, where the peaks come from").
 */
export const OLD_GENERATION_HEADROOM_MB = 32;

/** V8's largest dynamic factor: below it the policy leaves the factor to V8. */
const V8_MAX_FACTOR = 4;

const FLAG = '--heap-growing-percent';

/** The V8 heap spaces that make up the old generation (the young generation's are `new_*`). */
function oldGenerationBytes(): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics())
    if (!space.space_name.startsWith('new_')) bytes += space.space_used_size;
  return bytes;
}

/** The percent that lets `liveBytes` grow by `headroomBytes`; 0 (V8's own factor) when V8 allows that already. */
export function growingPercentFor(liveBytes: number, headroomBytes: number): number {
  if (liveBytes * (V8_MAX_FACTOR - 1) <= headroomBytes) return 0;
  return Math.max(1, Math.round((headroomBytes / liveBytes) * 100));
}

/** A 'gc' entry of a full GC (mark-compact). */
function isMajorGc(entry: PerformanceEntry): boolean {
  const { detail } = entry as PerformanceEntry & { readonly detail?: NodeGCPerformanceDetail };
  return detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
}

/**
 * Whether node's command line sets the V8 flag `flag` (`--name`) in any form V8 reads: `--name`,
 * `--name=…` or `--no-name`, with `_` for `-`.
 */
function givenOnCommandLine(execArgv: readonly string[], flag: string): boolean {
  const forms = [flag, `--no-${flag.slice(2)}`];
  return execArgv.some((arg) => forms.includes(arg.replaceAll('_', '-').split('=')[0] ?? ''));
}

/**
 * Starts the policy for this process (`wbemd serve`): after each full GC, the growth allowed until
 * the next one. Returns what stops it.
 */
export function applyServerHeapPolicy(
  headroomMb: number = OLD_GENERATION_HEADROOM_MB,
  execArgv: readonly string[] = process.execArgv,
): () => void {
  if (givenOnCommandLine(execArgv, FLAG)) return () => undefined;
  const headroomBytes = headroomMb * 1024 * 1024;
  let applied = 0;
  const adapt = (): void => {
    const percent = growingPercentFor(oldGenerationBytes(), headroomBytes);
    if (percent === applied) return;
    applied = percent;
    setFlagsFromString(`${FLAG}=${percent}`);
  };
  const observer = new PerformanceObserver((list) => {
    if (list.getEntries().some(isMajorGc)) adapt();
  });
  observer.observe({ entryTypes: ['gc'] });
  adapt();
  return () => {
    observer.disconnect();
    if (applied !== 0) setFlagsFromString(`${FLAG}=0`);
    applied = 0;
  };
}

const PRETENURING = '--allocation-site-pretenuring';

/**
 * Turns off V8's allocation-site pretenuring for this process (`wbemd serve`), unless node's
 * command line gives the flag either way. V8 watches each allocation site's objects at young
 * collections: a site whose objects it finds ≥ 85% alive is "tenured" and from then on allocates
 * in the old generation, for the life of the process. A server's sites serve calls of every size:
 * in 6 of 53 server processes measured, young collections that landed while an EnumClasses page
 * was being resolved (its 128 classes all alive) tenured several sites, and from then on every
 * enumeration promoted nearly all it allocated (the record parser's, `deriveClass`'s objects): a
 * full GC every ≈ 150 ms, scavenges of ≈ 10 ms, 6.5–9.7 CPU-s an enumeration of 100,000 classes
 * (median 8.2) against a median of 4.5 in the other processes (docs/performance.md, "R3: pretenured
 * enumerations"). NODE_OPTIONS does not accept the flag, and V8 reads it at every young
 * collection, so it is set here, at run time.
 */
export function stopPretenuring(execArgv: readonly string[] = process.execArgv): void {
  if (!givenOnCommandLine(execArgv, PRETENURING))
    setFlagsFromString('--no-allocation-site-pretenuring');
}

/** A young generation holding at least this much is collected between two slices of long work. */
export const YOUNG_COLLECTION_MB = 4;

function youngGenerationBytes(): number {
  for (const space of getHeapSpaceStatistics())
    if (space.space_name === 'new_space') return space.space_used_size;
  return 0;
}

type Collect = (options: { readonly type: 'minor' }) => void;

/**
 * V8's gc(), taken from a context of its own: the process's global gets none (unless node was
 * started with --expose-gc). Undefined if this V8 does not hand it out.
 */
function minorCollector(execArgv: readonly string[]): Collect | undefined {
  const given = execArgv.some((arg) => arg === '--expose-gc' || arg === '--expose_gc');
  if (!given) setFlagsFromString('--expose-gc');
  try {
    const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    return typeof gc === 'function' ? (gc as Collect) : undefined;
  } finally {
    if (!given) setFlagsFromString('--no-expose-gc');
  }
}

/**
 * Long work (a big CompileMof, a FORCE update over thousands of subclasses) keeps nearly all it
 * allocates until it ends, so a scavenge in the middle of it copies nearly a whole semi-space
 * (32 MB, `--max-semi-space-size`): 15-45 ms, added to the slice it lands in. Collected between
 * two slices once it holds `thresholdMb`, the young generation is never that full: a scavenge
 * copies a few MB, in a turn of the event loop of its own (src/store/time-slices.ts). Work that is
 * not sliced (every small call) is left to V8. Returns what stops it.
 */
export function collectYoungBetweenSlices(
  thresholdMb: number = YOUNG_COLLECTION_MB,
  execArgv: readonly string[] = process.execArgv,
): () => void {
  const collect = minorCollector(execArgv);
  if (collect === undefined) return () => undefined;
  const threshold = thresholdMb * 1024 * 1024;
  // Every slice end, also after a collection that found mostly garbage: long work turns from
  // garbage (a MOF's tokens, a chain's listings) to what it keeps (the parsed classes, a commit's
  // records) from one slice to the next, and a semi-space filled in between is V8's to copy
  // (25-56 ms, the longest stretches of L1's heavy calls while those slice ends were skipped).
  // A collection of garbage costs about a millisecond. Streamed work opts out (its slicer).
  const previous = setBetweenSlices(() => {
    if (youngGenerationBytes() < threshold) return false;
    collect({ type: 'minor' });
    return true;
  });
  return () => {
    setBetweenSlices(previous);
  };
}
