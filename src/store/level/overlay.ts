/**
 * The visible overlay: the LevelDB store's writes that readers already see but that are not yet
 * in a synced batch (commit() applies them here before returning: the commit point), and pending
 * wipes of whole namespaces. Every change takes the next sequence number, so a synced batch
 * removes only what no later commit has written again, and a wipe hides exactly the entries
 * written before it.
 */
import type { Decoded, Op, PlannedStep } from './write-plan';

/** One pending (visible, not yet durable) change to a key. */
export interface OverlayEntry {
  readonly value: Buffer | null;
  readonly decoded: Decoded | null;
  readonly seq: number;
}

/** A planned step once visible, pending until a synced batch holds it. */
export type PendingStep =
  /** `history`: the op replaces a class record a log record may name by reference (group-commit.ts). */
  | { readonly kind: 'op'; readonly op: Op; readonly seq: number; readonly history: boolean }
  | { readonly kind: 'wipe'; readonly prefixes: readonly string[]; readonly seq: number };

interface Wipe {
  readonly prefixes: readonly string[];
  readonly seq: number;
}

/** The newest of `wipes` that covers `key`. */
function latestWipe(wipes: readonly Wipe[], key: string): number | undefined {
  let latest: number | undefined;
  for (const wipe of wipes) if (wipe.prefixes.some((p) => key.startsWith(p))) latest = wipe.seq;
  return latest;
}

/**
 * Told of each record that leaves the overlay as its key's latest value (no later write): for a
 * commit of at least `minSteps` steps with no later pending wipe over it, `settled`, what a read
 * would now find on disk, already decoded; for any other, `left`. (The LevelDB store's record
 * cache drops or replaces the key then, not at the commit point: until then the overlay answers
 * every read of it, and the commit point of 10,000 writes was that much shorter.)
 */
export interface SettledRecords {
  readonly minSteps: number;
  settled(key: string, decoded: Decoded): void;
  left(key: string): void;
}

export class Overlay {
  readonly #entries = new Map<string, OverlayEntry>();
  readonly #onSettled: SettledRecords | undefined;
  /** Pending wipes of whole namespaces (deleteNamespace), newest last. */
  readonly #wipes: Wipe[] = [];
  #seq = 0;

  constructor(onSettled?: SettledRecords) {
    this.#onSettled = onSettled;
  }

  /** Moves with every change made visible: a disk read that sees it unchanged read no stale value. */
  get generation(): number {
    return this.#seq;
  }

  /** Makes a planned step visible (the commit point). */
  makeVisible(step: PlannedStep): PendingStep {
    const seq = ++this.#seq;
    if (step.kind === 'wipe') {
      this.#wipes.push({ prefixes: step.prefixes, seq });
      return { kind: 'wipe', prefixes: step.prefixes, seq };
    }
    this.#entries.set(step.op.key, {
      value: step.op.type === 'put' ? step.op.value : null,
      decoded: step.decoded,
      seq,
    });
    return { kind: 'op', op: step.op, seq, history: step.history === true };
  }

  /** The overlay's word on a key: an entry (value or deletion), 'wiped', or undefined (ask the disk). */
  pending(key: string): OverlayEntry | 'wiped' | undefined {
    const entry = this.#entries.get(key);
    const wipe = latestWipe(this.#wipes, key);
    if (wipe !== undefined && (entry === undefined || entry.seq < wipe)) return 'wiped';
    return entry;
  }

  /**
   * Keys and values under a prefix: the disk's, then the overlay's changes on top. The overlay is
   * copied in the same tick as the caller created `disk` (an iterator, which reads a snapshot): a
   * flush finishing during the scan removes overlay entries the snapshot predates.
   */
  async scan(
    prefix: string,
    disk: AsyncIterable<[string, string]>,
  ): Promise<Map<string, string | OverlayEntry>> {
    const overlay = [...this.#entries].filter(([key]) => key.startsWith(prefix));
    const wipes = this.#wipes.filter((w) =>
      w.prefixes.some((p) => p.startsWith(prefix) || prefix.startsWith(p)),
    );
    const result = new Map<string, string | OverlayEntry>();
    for await (const [key, value] of disk) {
      if (latestWipe(wipes, key) === undefined) result.set(key, value);
    }
    for (const [key, entry] of overlay) {
      const wiped = latestWipe(wipes, key);
      if (wiped !== undefined && entry.seq < wiped) continue;
      if (entry.value === null) result.delete(key);
      else result.set(key, entry);
    }
    return new Map([...result.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** The steps are durable: the overlay keeps only what was written again after them. */
  settle(steps: readonly PendingStep[]): void {
    const onSettled = this.#onSettled;
    const told = onSettled !== undefined && steps.length >= onSettled.minSteps;
    for (const step of steps) {
      if (step.kind === 'op') {
        const entry = this.#entries.get(step.op.key);
        if (entry?.seq !== step.seq) continue;
        this.#entries.delete(step.op.key);
        if (onSettled === undefined) continue;
        // Settled unless a wipe pending after it covers the key (-1: no pending wipe does).
        if (
          told &&
          entry.decoded !== null &&
          (latestWipe(this.#wipes, step.op.key) ?? -1) < step.seq
        )
          onSettled.settled(step.op.key, entry.decoded);
        else onSettled.left(step.op.key);
      } else {
        const at = this.#wipes.findIndex((w) => w.seq === step.seq);
        if (at >= 0) this.#wipes.splice(at, 1);
      }
    }
  }

  /** Forgets every pending change (closed, or failed: the disk is the only truth). */
  clear(): void {
    this.#entries.clear();
    this.#wipes.length = 0;
  }
}
