/**
 * Group commit for the LevelDB store. `commit()` makes its writes visible (overlay.ts) and queues
 * them here; the promise it returns resolves once they are in a synced LevelDB batch. Whatever
 * queues while a batch is being synced goes out as the next single batch: one fsync covers many
 * operations, and each operation is still all-or-nothing because a LevelDB batch is. A failed
 * synced batch fails the store (STORE_FAILED): writes that readers already saw can no longer be
 * promised, so nothing more is acknowledged.
 *
 * The log entries of all the commits of a synced batch go into one log record in that batch (one
 * LevelDB write per batch, not per change), with the revisions record: a crash leaves the
 * classes, their events and the revision together or none of them. Retention is by revision: the
 * entries of the newest `eventRetention` revisions are kept (every class change the service makes
 * has one, so that is the newest N events); reads skip older entries, and #trim deletes the
 * records that hold only older entries, with the history copies of those revisions, every
 * TRIM_EVERY revisions, outside any commit (a crash before it only leaves records that reads skip).
 *
 * A put's log entry names its target by reference ("the class record of my revision") instead of
 * holding a second copy of the class: a create writes the class once. Whatever later replaces or
 * deletes that class record (a put, a deleteClass, a namespace wipe) first copies it to
 * h!<its revision> in the same batch, unless its revision is already out of retention. So a
 * reference always resolves: to the class record while it is still that revision's, else to its
 * h! copy.
 */
import type { Level } from 'level';
import { StoreError, type ClassEventRecord } from '../class-store';
import {
  encodeEventBatch,
  encodeLogRecordInSlices,
  logRecordsOf,
  type LoggedEntry,
} from './event-codec';
import {
  CLASS_RECORDS,
  END,
  EVENT_RECORDS,
  eventKey,
  HISTORY_RECORDS,
  historyKey,
  REVISIONS_KEY,
} from './keys';
import type { Overlay, PendingStep } from './overlay';
import { encodeRevisions, revisionOfEncodedClass } from './record-codec';
import { bytes, type Op } from './write-plan';
import { TimeSlicer } from '../time-slices';

/** A commit made visible, waiting for a synced batch. */
export interface QueuedCommit {
  readonly steps: readonly PendingStep[];
  /** Its log records, published once the batch is synced. */
  readonly events: readonly ClassEventRecord[];
  /** The same, encoded but for their derivations, which their log record writes (event-codec.ts). */
  readonly logged: readonly LoggedEntry[];
  /** The store revision and first retained revision once this commit is applied (the revisions record). */
  readonly revisions: { readonly revision: bigint; readonly firstRetained: bigint };
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** Read-only counters, for metrics and tests. */
export interface LevelStoreStats {
  /** Synced LevelDB batches written. */
  readonly batches: number;
  /** Commits acknowledged (operations, not batches). */
  readonly commits: number;
  /** Duration of the last synced batch, in milliseconds. */
  readonly lastSyncMs: number;
}

/** Observes each synced batch (for metrics: batch size and fsync latency). */
export type BatchObserver = (batch: {
  readonly commits: number;
  readonly ops: number;
  readonly syncMs: number;
}) => void;

/** What group commit needs of the store it writes for. */
export interface GroupCommitHost {
  /** The open database (undefined once closed). */
  database(): Level<string, string> | undefined;
  /** The log's first retained revision, as it moves: history copies below it are not kept. */
  firstRetainedRevision(): bigint;
  /** What the synced steps leave (settle). */
  readonly overlay: Overlay;
  /** Hands a synced batch's log records to the listeners, before its commits resolve. */
  publish(events: readonly ClassEventRecord[]): void;
  /** A synced batch failed: latch `error` and forget what was only visible, before the commits reject. */
  fail(error: StoreError): void;
  readonly onBatch?: BatchObserver | undefined;
}

/** How far (in revisions) retention moves before #trim deletes what fell out of it. */
const TRIM_EVERY = 1024n;

/**
 * A batch of at least this many operations is built and handed to LevelDB in slices that yield
 * to the event loop (a CompileMof's one commit holds thousands; a group of PutClass commits, a few
 * dozen, is done at once).
 */
const SLICED_BATCH_OPS = 256;

/** A sliced batch's log entries go into records of about this many characters (logRecordsOf). */
const LOG_RECORD_CHARS = 512 * 1024;

/** Steps of a big group settled between two looks at the slice's clock. */
const SETTLED_PER_TICK = 64;

/** A value at least this big is handed to a sliced batch at the start of a turn of its own. */
const BIG_VALUE_BYTES = 1024 * 1024;

/** How the chained batch is told a value is bytes (the database's default is utf8 text). */
const BYTES_VALUE = { valueEncoding: 'buffer' } as const;

export class GroupCommit {
  readonly #host: GroupCommitHost;
  readonly #queue: QueuedCommit[] = [];
  #flushing: Promise<void> | undefined;
  #stats: LevelStoreStats = { batches: 0, commits: 0, lastSyncMs: 0 };
  /** Log and history records below this revision have been deleted by #trim (0: none yet since open). */
  #trimmedBelow = 0n;

  constructor(host: GroupCommitHost) {
    this.#host = host;
  }

  get stats(): LevelStoreStats {
    return { ...this.#stats };
  }

  /** Queues a visible commit; the promise resolves once a synced batch holds it. */
  enqueue(commit: Omit<QueuedCommit, 'resolve' | 'reject'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // Field by field rather than a spread: this runs for every commit.
      const { steps, events, logged, revisions } = commit;
      this.#queue.push({ steps, events, logged, revisions, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  /** Waits until everything queued is durable (or failed). */
  async drain(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
  }

  async #flush(): Promise<void> {
    try {
      // Let the commits of the requests already read in this turn of the event loop join the
      // first group: without this the first commit after an idle moment is synced alone and every
      // later one waits a whole extra sync behind it.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0);
        const db = this.#host.database();
        if (db === undefined)
          throw new StoreError('STORE_NOT_OPEN', 'the class store closed with commits pending');
        // One slicer for building and handing over a big batch: a slice runs on across the two.
        const steps = group.reduce((sum, commit) => sum + commit.steps.length, 0);
        const slicer = steps >= SLICED_BATCH_OPS ? new TimeSlicer() : undefined;
        const batch = await new BatchBuilder(db, this.#host).build(group, slicer);
        const syncMs = await this.#write(db, batch, group, slicer);
        if (syncMs === undefined) return;
        // Durable now: the overlay keeps only what was written again after this group.
        if (slicer === undefined) for (const { steps } of group) this.#host.overlay.settle(steps);
        else await this.#settleInSlices(group, slicer);
        this.#acknowledge(group, batch.size, syncMs);
        // After the acknowledgements, which it is no part of: trimming is cleanup outside any batch.
        if (this.#host.firstRetainedRevision() - this.#trimmedBelow >= TRIM_EVERY)
          await this.#trim(db);
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  /** Writes one synced batch: its duration in milliseconds, or undefined when it failed the store. */
  async #write(
    db: Level<string, string>,
    batch: ReadonlyMap<string, Op>,
    group: readonly QueuedCommit[],
    buildSlicer: TimeSlicer | undefined,
  ): Promise<number | undefined> {
    // A few steps can make many operations too (a namespace wiped).
    const slicer = buildSlicer ?? (batch.size >= SLICED_BATCH_OPS ? new TimeSlicer() : undefined);
    const started = process.hrtime.bigint();
    try {
      // A chained batch hands each operation to LevelDB's native batch as it is added; the
      // array form clones every operation object first (abstract-level): ~1.3 KB of garbage and
      // ≈ 11.7 against ≈ 3.5 µs of main-thread work per operation (micro-benchmark,
      // docs/performance.md).
      const chained = db.batch();
      for (const op of batch.values()) {
        if (slicer !== undefined) {
          // A put of megabytes (a class record that big, or one log entry: a sliced batch's log
          // records are ~512 KB each) is one native copy, and the batch's buffer grows with it: a
          // stretch by itself, which no slice should add to.
          if (op.type === 'put' && op.value.length >= BIG_VALUE_BYTES) await slicer.endSlice();
          else await slicer.tick();
        }
        if (op.type === 'put') chained.put(op.key, op.value, BYTES_VALUE);
        else chained.del(op.key);
      }
      await chained.write({ sync: true });
    } catch (cause) {
      this.#fail(
        new StoreError(
          'STORE_FAILED',
          'a synced write to the data directory failed; the store refuses further work',
          { cause },
        ),
        group,
      );
      return undefined;
    }
    return Number(process.hrtime.bigint() - started) / 1e6;
  }

  /**
   * A big group is durable: the overlay keeps only what was written again after it, settled in
   * slices (10,000 records handed to the record cache are ≈ 10 ms): until a record is
   * settled the overlay answers its reads with the same value as the disk now would.
   */
  async #settleInSlices(group: readonly QueuedCommit[], slicer: TimeSlicer): Promise<void> {
    for (const { steps } of group) {
      for (let from = 0; from < steps.length; from += SETTLED_PER_TICK) {
        await slicer.tick();
        this.#host.overlay.settle(steps, from, Math.min(steps.length, from + SETTLED_PER_TICK));
      }
    }
  }

  /** The group is durable and settled: counted, published, then resolved. */
  #acknowledge(group: readonly QueuedCommit[], ops: number, syncMs: number): void {
    this.#stats = {
      batches: this.#stats.batches + 1,
      commits: this.#stats.commits + group.length,
      lastSyncMs: syncMs,
    };
    this.#host.onBatch?.({ commits: group.length, ops, syncMs });
    this.#host.publish(group.flatMap((commit) => commit.events));
    for (const commit of group) commit.resolve();
  }

  /**
   * Deletes the log records whose every entry fell out of retention (a record is keyed by its last
   * revision) and the history copies of those revisions. Not part of any commit's batch: a crash
   * before it, or a failed delete, leaves old records behind, which reads skip and the next trim
   * (after the next synced batch) deletes. A failing disk is reported by that batch, not here.
   */
  async #trim(db: Level<string, string>): Promise<void> {
    const below = this.#host.firstRetainedRevision();
    try {
      await db.clear({ gte: EVENT_RECORDS, lt: eventKey(below) });
      await db.clear({ gte: HISTORY_RECORDS, lt: historyKey(below) });
      this.#trimmedBelow = below;
    } catch {
      // #trimmedBelow stays: the next flush tries again.
    }
  }

  #fail(error: StoreError, group: readonly QueuedCommit[]): void {
    this.#host.fail(error);
    for (const commit of [...group, ...this.#queue.splice(0)]) commit.reject(error);
  }
}

/** The revision of a class record, as text from disk or as bytes still to be written. */
function revisionOfValue(value: string | Buffer): bigint | null {
  // The revision is the record's tail (`"r":"<revision>"}`, see record-codec): decode only that.
  return revisionOfEncodedClass(
    typeof value === 'string' ? value : value.toString('latin1', Math.max(0, value.length - 40)),
  );
}

/**
 * The one synced batch of a group of commits. Last write wins per key, in commit order; a wipe
 * deletes everything under its prefixes that is on disk or was written earlier in this group.
 */
class BatchBuilder {
  readonly #ops = new Map<string, Op>();
  /**
   * Class records as this group leaves them so far (null = deleted): the old value a history copy
   * needs, when it is not yet on disk.
   */
  readonly #written = new Map<string, Buffer | null>();
  readonly #db: Level<string, string>;
  readonly #host: GroupCommitHost;

  constructor(db: Level<string, string>, host: GroupCommitHost) {
    this.#db = db;
    this.#host = host;
  }

  async build(group: readonly QueuedCommit[], slicer?: TimeSlicer): Promise<Map<string, Op>> {
    for (const commit of group) {
      for (const step of commit.steps) {
        if (slicer !== undefined) await slicer.tick();
        if (step.kind === 'wipe') {
          for (const prefix of step.prefixes) await this.#addWipe(prefix);
          continue;
        }
        // Only a step that replaces a class record may need a read (a create's never does).
        if (step.history) this.#keepHistory(await this.#currentValue(step.op.key));
        this.#addOp(step.op);
      }
    }
    await this.#addRecords(group, slicer);
    return this.#ops;
  }

  /** A class record's value as the group leaves it so far, else as on disk. */
  #currentValue(key: string): Buffer | null | undefined | Promise<string | undefined> {
    return this.#written.has(key) ? this.#written.get(key) : this.#db.get(key);
  }

  #addOp(op: Op): void {
    this.#ops.set(op.key, op);
    if (op.key.startsWith(CLASS_RECORDS))
      this.#written.set(op.key, op.type === 'put' ? op.value : null);
  }

  async #addWipe(prefix: string): Promise<void> {
    const classes = prefix.startsWith(CLASS_RECORDS);
    for (const key of this.#ops.keys()) {
      if (!key.startsWith(prefix)) continue;
      if (classes) this.#keepHistory(this.#written.get(key));
      this.#ops.set(key, { type: 'del', key });
      if (classes) this.#written.set(key, null);
    }
    for await (const [key, value] of this.#db.iterator({ gte: prefix, lt: prefix + END })) {
      if (classes && !this.#written.has(key)) this.#keepHistory(value);
      this.#ops.set(key, { type: 'del', key });
      if (classes) this.#written.set(key, null);
    }
  }

  /**
   * The batch's log records (one, or for a sliced batch one per ~512 KB of entries), each keyed by
   * its last revision, and one revisions record, as of its last commit: a crash keeps them with
   * the changes they describe, or none of it.
   */
  async #addRecords(group: readonly QueuedCommit[], slicer?: TimeSlicer): Promise<void> {
    // The revisions record first, the log record last: LevelDB's batch is one growing buffer, and
    // a put after a log record of tens of MB (a deep chain's) copied all of it again, in one
    // stretch of the event loop (≈ 17 ms on a busy host). The order in a batch changes nothing else.
    const last = group[group.length - 1];
    if (last !== undefined) {
      const { revision, firstRetained } = last.revisions;
      this.#put(REVISIONS_KEY, bytes(encodeRevisions(revision, firstRetained)));
    }
    const entries = group.flatMap((commit) => commit.logged);
    const lastEntry = entries[entries.length - 1];
    if (lastEntry === undefined) return;
    if (slicer === undefined) {
      this.#put(eventKey(lastEntry.revision), bytes(encodeEventBatch(entries)));
      return;
    }
    const tick = (): Promise<void> => slicer.tick();
    for (const record of await logRecordsOf(entries, LOG_RECORD_CHARS, tick))
      this.#put(eventKey(record.lastRevision), await encodeLogRecordInSlices(record, tick));
  }

  /** Copies a class record about to be replaced or deleted to h!<its revision>. */
  #keepHistory(old: string | Buffer | null | undefined): void {
    if (old === undefined || old === null) return;
    const revision = revisionOfValue(old);
    // A record older than the log's retention is named by no log record any more.
    if (revision === null || revision < this.#host.firstRetainedRevision()) return;
    this.#put(historyKey(revision), typeof old === 'string' ? bytes(old) : old);
  }

  #put(key: string, value: Buffer): void {
    this.#ops.set(key, { type: 'put', key, value });
  }
}
