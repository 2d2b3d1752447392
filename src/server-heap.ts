/**
 * The server's memory budget (docs/performance.md, "Memory budget"): how far V8 lets the old
 * generation grow before its next full GC, set when a server starts.
 *
 * By default V8 lets the old generation grow to up to 4× what the last full GC left live. A
 * server under write load promotes a steady stream of short-lived call state out of the young
 * generation (what 64 calls in flight hold at each scavenge), so its old generation filled with
 * garbage up to ≈ 4 × 50 MB before each full GC: RSS swung between ≈ 300 and 430 MB in M1's soak.
 * At 1.5× it stays ≈ 60–75 MB, the peak RSS ≈ 275–290 MB; full GCs come more often, each over the
 * same live data (W1's server CPU per call 0–10% higher in paired runs on a busy machine).
 *
 * `--heap-growing-percent` is read at every full GC, so it can be set at run time; NODE_OPTIONS
 * does not accept it. A value given on node's command line is kept.
 */
import { setFlagsFromString } from 'node:v8';

/** The old generation may grow to 1.5× what the last full GC left live. */
export const HEAP_GROWING_PERCENT = 50;

const FLAG = '--heap-growing-percent';

/** Applies the server's heap growth, unless node was started with its own. */
export function applyServerHeapPolicy(execArgv: readonly string[] = process.execArgv): void {
  if (execArgv.some((arg) => arg === FLAG || arg.startsWith(`${FLAG}=`))) return;
  setFlagsFromString(`${FLAG}=${HEAP_GROWING_PERCENT}`);
}
