/**
 * The visible overlay: the LevelDB store's writes that readers already see but that are not yet
 * in a synced batch (commit() applies them here before returning: the commit point), and pending
 * wipes of whole namespaces. Every change takes the next sequence number, so a synced batch
 * removes only what no later commit has written again, and a wipe hides exactly the entries
 * written before it.
 */
import type { Decoded, Op, PlannedCommit, PlannedStep } from './write-plan';

/** One pending (visible, not yet durable) change to a key. */
export interface OverlayEntry {
  readonly value: Buffer | null;
  readonly decoded: Decoded | null;
  readonly seq: number;
}

/** A planned step once visible, pending until a synced batch holds it. */
export type PendingStep =
  /**
   * `history`: the op replaces a class record a log record may name by reference (group-commit.ts).
   * `layer`: the entries of the big commit it was made visible with (else the overlay's own).
   */
  | {
      readonly kind: 'op';
      readonly op: Op;
      readonly seq: number;
      readonly history: boolean;
      readonly layer?: Map<string, OverlayEntry>;
    }
  | { readonly kind: 'wipe'; readonly prefixes: readonly string[]; readonly seq: number };

/**
 * A big commit's steps made into overlay entries ahead of its commit point (in slices), with the
 * sequence numbers they take if nothing else is made visible first.
 */
export interface PreparedLayer {
  /** The overlay's sequence number it was prepared after. */
  readonly after: number;
  readonly last: number;
  readonly entries: Map<string, OverlayEntry>;
  readonly steps: readonly PendingStep[];
}

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
 * Told of each record that leaves the overlay as its key's latest value (no later write): a put
 * with no later pending wipe over it is `settled`, what a read would now find on disk, already
 * decoded (`big`: from a commit of at least `minSteps` steps); a delete, or a put a later wipe
 * covers, has `left`. (The LevelDB store's record cache drops or replaces the key then, not at the
 * commit point: until then the overlay answers every read of it, and the commit point of 10,000
 * writes was that much shorter.)
 */
export interface SettledRecords {
  readonly minSteps: number;
  settled(key: string, decoded: Decoded, big: boolean): void;
  left(key: string): void;
}

/**
 * A commit as the LevelDB store prepares it; a big one (prepared in slices) also as one layer,
 * which its commit point adds at once: 10,000 entries made visible one by one were ≈ 10-25 ms of
 * a FORCE's commit point on a busy host.
 */
export type LayeredCommit = PlannedCommit & { readonly layer?: PreparedLayer };

export class Overlay {
  readonly #entries = new Map<string, OverlayEntry>();
  /**
   * The entries of big commits, each made visible at once (addLayer), oldest first, until settled.
   * A key's newest entry (highest seq) may be here or in #entries.
   */
  readonly #layers: Map<string, OverlayEntry>[] = [];
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

  /**
   * A big commit's steps (no wipe among them) as one layer of entries, prepared a step per `tick`
   * before its commit point: nothing of it is visible until addLayer. Undefined if a step is a wipe.
   */
  async prepareLayer(
    planned: readonly (readonly PlannedStep[])[],
    tick: () => Promise<void>,
  ): Promise<PreparedLayer | undefined> {
    const after = this.#seq;
    let seq = after;
    const entries = new Map<string, OverlayEntry>();
    const steps: PendingStep[] = [];
    for (const plan of planned) {
      for (const step of plan) {
        if (step.kind === 'wipe') return undefined;
        await tick();
        const value = step.op.type === 'put' ? step.op.value : null;
        entries.set(step.op.key, { value, decoded: step.decoded, seq: ++seq });
        steps.push({
          kind: 'op',
          op: step.op,
          seq,
          history: step.history === true,
          layer: entries,
        });
      }
    }
    return { after, last: seq, entries, steps };
  }

  /**
   * Makes a prepared layer visible at once (the commit point of a big commit): its steps, or
   * undefined (nothing made visible) if something else was made visible since it was prepared.
   */
  addLayer(layer: PreparedLayer): readonly PendingStep[] | undefined {
    if (layer.after !== this.#seq) return undefined;
    this.#layers.push(layer.entries);
    this.#seq = layer.last;
    return layer.steps;
  }

  /**
   * A commit's steps made visible (its commit point): its prepared layer at once if it has one
   * that still can be added, else step by step; `onWipe` hears of each namespace wipe.
   */
  makeCommitVisible(
    planned: readonly (readonly PlannedStep[])[],
    layer: PreparedLayer | undefined,
    onWipe: (prefixes: readonly string[]) => void,
  ): readonly PendingStep[] {
    const added = layer === undefined ? undefined : this.addLayer(layer);
    if (added !== undefined) return added;
    const steps: PendingStep[] = [];
    for (const plan of planned)
      for (const step of plan) {
        steps.push(this.makeVisible(step));
        if (step.kind === 'wipe') onWipe(step.prefixes);
      }
    return steps;
  }

  /** A key's newest pending entry, in #entries or a layer. */
  #newest(key: string): OverlayEntry | undefined {
    let entry = this.#entries.get(key);
    for (const layer of this.#layers) {
      const older = entry;
      const candidate = layer.get(key);
      if (candidate !== undefined && (older === undefined || candidate.seq > older.seq))
        entry = candidate;
    }
    return entry;
  }

  /** The overlay's word on a key: an entry (value or deletion), 'wiped', or undefined (ask the disk). */
  pending(key: string): OverlayEntry | 'wiped' | undefined {
    const entry = this.#layers.length === 0 ? this.#entries.get(key) : this.#newest(key);
    const wipe = latestWipe(this.#wipes, key);
    if (wipe !== undefined && (entry === undefined || entry.seq < wipe)) return 'wiped';
    return entry;
  }

  /**
   * Keys and values under a prefix: the disk's, each reduced by `reduce` as it is read (what the
   * caller keeps of a record, not the record: an index of 100,000 classes needs their superclass
   * names, not 240 MB of record text held at once), then the overlay's changes on top. The overlay
   * is copied in the same tick as the caller created `disk` (an iterator, which reads a snapshot):
   * a flush finishing during the scan removes overlay entries the snapshot predates.
   */
  async scan<Found>(
    prefix: string,
    disk: AsyncIterable<[string, string]>,
    reduce: (key: string, text: string) => Found,
  ): Promise<Map<string, Found | OverlayEntry>> {
    const overlay = this.#entriesUnder(prefix);
    const wipes = this.#wipes.filter((w) =>
      w.prefixes.some((p) => p.startsWith(prefix) || prefix.startsWith(p)),
    );
    const result = new Map<string, Found | OverlayEntry>();
    for await (const [key, value] of disk) {
      if (latestWipe(wipes, key) === undefined) result.set(key, reduce(key, value));
    }
    for (const [key, entry] of overlay) {
      const wiped = latestWipe(wipes, key);
      if (wiped !== undefined && entry.seq < wiped) continue;
      if (entry.value === null) result.delete(key);
      else result.set(key, entry);
    }
    return new Map([...result.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Each key under `prefix` with its newest pending entry. */
  #entriesUnder(prefix: string): [string, OverlayEntry][] {
    const under = [...this.#entries].filter(([key]) => key.startsWith(prefix));
    if (this.#layers.length === 0) return under;
    const newest = new Map(under);
    for (const layer of this.#layers)
      for (const [key, entry] of layer)
        if (key.startsWith(prefix) && (newest.get(key)?.seq ?? -1) < entry.seq)
          newest.set(key, entry);
    return [...newest];
  }

  /**
   * The steps are durable: the overlay keeps only what was written again after them. `from` and
   * `to` settle a part of one commit's steps (a big commit is settled in slices); `steps` is still
   * the whole commit's.
   */
  settle(steps: readonly PendingStep[], from = 0, to = steps.length): void {
    const onSettled = this.#onSettled;
    const big = onSettled !== undefined && steps.length >= onSettled.minSteps;
    for (let i = from; i < to; i++) {
      const step = steps[i] as PendingStep;
      if (step.kind === 'op') {
        const held = step.layer ?? this.#entries;
        const entry = held.get(step.op.key);
        if (entry?.seq !== step.seq) continue;
        held.delete(step.op.key);
        if (step.layer !== undefined && step.layer.size === 0) this.#dropLayer(step.layer);
        // Written again since (in another layer, or in #entries after a layer): not the latest.
        if (this.#layers.length > 0 && this.#newest(step.op.key) !== undefined) continue;
        if (onSettled === undefined) continue;
        // Settled unless a wipe pending after it covers the key (-1: no pending wipe does).
        if (entry.decoded !== null && (latestWipe(this.#wipes, step.op.key) ?? -1) < step.seq)
          onSettled.settled(step.op.key, entry.decoded, big);
        else onSettled.left(step.op.key);
      } else {
        const at = this.#wipes.findIndex((w) => w.seq === step.seq);
        if (at >= 0) this.#wipes.splice(at, 1);
      }
    }
  }

  #dropLayer(layer: Map<string, OverlayEntry>): void {
    const at = this.#layers.indexOf(layer);
    if (at >= 0) this.#layers.splice(at, 1);
  }

  /** Forgets every pending change (closed, or failed: the disk is the only truth). */
  clear(): void {
    this.#entries.clear();
    // Emptied too: a step still holds its layer.
    for (const layer of this.#layers) layer.clear();
    this.#layers.length = 0;
    this.#wipes.length = 0;
  }
}
