/**
 * The LevelDB ClassStore (level 10 = classic-level).
 *
 * Keys: keys.ts. The class index (which classes exist, whose children they are): class-index.ts.
 *
 * Commits: `commit()` applies its writes to an in-memory overlay before returning (the commit
 * point: every later read sees them), queues them, and returns a promise that resolves once they
 * are in a synced LevelDB batch. Whatever queues while a batch is being synced goes out as the
 * next single batch (group commit): one fsync covers many operations, and each operation is still
 * all-or-nothing because a LevelDB batch is. A failed synced batch fails the store (STORE_FAILED):
 * writes that readers already saw can no longer be promised, so nothing more is acknowledged.
 *
 * Revisions and the event log: each class change gets the next revision at the commit point and
 * its class record keeps it. The log entries of all the commits of a synced batch go into one log
 * record in that batch (one LevelDB write per batch, not per change), with the revisions record:
 * a crash leaves the classes, their events and the revision together or none of them. Log records
 * are read from disk only: what `readEvents` returns is durable, as what `onDurableEvents`
 * publishes (after the synced batch). Retention is by revision: the entries of the newest
 * `eventRetention` revisions are kept (every class change the service makes has one, so that is
 * the newest N events); reads skip older entries, and #trim deletes the records that hold only
 * older entries, with the history copies of those revisions, every TRIM_EVERY revisions, outside
 * any commit (a crash before it only leaves records that reads skip).
 *
 * A put's log entry names its target by reference ("the class record of my revision") instead of
 * holding a second copy of the class: a create writes the class once. Whatever later replaces or
 * deletes that class record (a put, a deleteClass, a namespace wipe) first copies it to
 * h!<its revision> in the same batch, unless its revision is already out of retention. So a
 * reference always resolves: to the class record while it is still that revision's, else to its
 * h! copy.
 */
import { Level } from 'level';
import type { ClassDefinition, QualifierDeclaration } from '../../domain/class-model';
import type { StoredInstance } from '../../domain/instance-model';
import { classKey, type ClassKey, type NamespaceKey } from '../../domain/names';
import {
  changeEventRecord,
  checkRetention,
  DEFAULT_EVENT_RETENTION,
  firstRetainedAt,
  LEGACY_CLASS_REVISION,
  publishEvents,
  StoreError,
  type ClassEventRecord,
  type ClassStore,
  type InstanceEntry,
  type NamespaceRecord,
  type StoreWrite,
} from '../class-store';
import {
  encodeEventBatch,
  encodeEventBody,
  eventEntriesOf,
  unpackEvent,
  type PackedEvent,
} from './event-codec';
import {
  decodeClass,
  decodeInstance,
  decodeNamespace,
  decodeQualifierDeclaration,
  decodeRevisions,
  encodeRevisions,
  revisionOfEncodedClass,
  type StoredClass,
} from './record-codec';
import {
  CLASS_RECORDS,
  classPrefix,
  classRecordKey,
  END,
  EVENT_RECORDS,
  eventKey,
  HISTORY_RECORDS,
  historyKey,
  instancePrefix,
  instanceRecordKey,
  NAMESPACE_RECORDS,
  namespaceRecordKey,
  qualifierPrefix,
  REVISIONS_KEY,
} from './keys';
import { ClassIndexes } from './class-index';
import { Overlay, type OverlayEntry, type PendingStep } from './overlay';
import { RecordCache } from './record-cache';
import { bytes, planWrite, type Decoded, type Op } from './write-plan';

/** How the chained batch is told a value is bytes (the database's default is utf8 text). */
const BYTES_VALUE = { valueEncoding: 'buffer' } as const;

/** The revision of a class record, as text from disk or as bytes still to be written. */
function revisionOfValue(value: string | Buffer): bigint | null {
  // The revision is the record's tail (`"r":"<revision>"}`, see record-codec): decode only that.
  return revisionOfEncodedClass(
    typeof value === 'string' ? value : value.toString('latin1', Math.max(0, value.length - 40)),
  );
}

interface QueuedCommit {
  readonly steps: readonly PendingStep[];
  /** Its log records, published once the batch is synced. */
  readonly events: readonly ClassEventRecord[];
  /** The same, encoded: the entries of the batch's one log record. */
  readonly logged: readonly { readonly revision: bigint; readonly body: string }[];
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

/** How far (in revisions) retention moves before #trim deletes what fell out of it. */
const TRIM_EVERY = 1024n;

export class LevelClassStore implements ClassStore {
  readonly #location: string;
  #db: Level<string, string> | undefined;
  #open = false;
  #failed: StoreError | undefined;
  readonly #overlay = new Overlay();
  readonly #queue: QueuedCommit[] = [];
  #flushing: Promise<void> | undefined;
  readonly #cache = new RecordCache();
  readonly #classIndexes = new ClassIndexes((prefix) => this.#scan(prefix));
  #stats = { batches: 0, commits: 0, lastSyncMs: 0 };
  #observer: BatchObserver | undefined;
  #revision = 0n;
  #firstRetained = 1n;
  /** Log and history records below this revision have been deleted by #trim (0: none yet since open). */
  #trimmedBelow = 0n;
  readonly #retention: bigint;
  readonly #listeners = new Set<(events: readonly ClassEventRecord[]) => void>();

  constructor(
    location: string,
    options: { onBatch?: BatchObserver; eventRetention?: number } = {},
  ) {
    this.#location = location;
    this.#observer = options.onBatch;
    this.#retention = BigInt(checkRetention(options.eventRetention ?? DEFAULT_EVENT_RETENTION));
  }

  get isOpen(): boolean {
    return this.#open;
  }

  get revision(): bigint {
    return this.#revision;
  }

  get firstRetainedRevision(): bigint {
    return this.#firstRetained;
  }

  get stats(): LevelStoreStats {
    return { ...this.#stats };
  }

  async open(): Promise<void> {
    if (this.#open) return;
    const db = new Level<string, string>(this.#location, { valueEncoding: 'utf8' });
    try {
      await db.open();
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      if (cause?.code === 'LEVEL_LOCKED') {
        throw new StoreError(
          'STORE_LOCKED',
          `data directory ${this.#location} is in use by another process`,
          { cause: error },
        );
      }
      throw new StoreError('STORE_NOT_OPEN', `cannot open data directory ${this.#location}`, {
        cause: error,
      });
    }
    try {
      const revisions = await db.get(REVISIONS_KEY);
      if (revisions !== undefined) {
        ({ revision: this.#revision, firstRetained: this.#firstRetained } = decodeRevisions(
          revisions,
          REVISIONS_KEY,
        ));
      } else {
        // A new store, or one written before revisions: its classes (if any) are LEGACY_CLASS_REVISION,
        // and no event of them was ever logged.
        let hasClasses = false;
        for await (const _key of db.keys({ gte: CLASS_RECORDS, lt: CLASS_RECORDS + END, limit: 1 }))
          hasClasses = true;
        this.#revision = hasClasses ? LEGACY_CLASS_REVISION : 0n;
        this.#firstRetained = this.#revision + 1n;
      }
    } catch (error) {
      await db.close();
      throw error;
    }
    this.#db = db;
    this.#failed = undefined;
    this.#open = true;
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    // Everything acknowledged as visible gets its chance to become durable first.
    while (this.#flushing !== undefined) await this.#flushing;
    await this.#db?.close();
    this.#db = undefined;
    this.#overlay.clear();
    this.#cache.clear();
    this.#classIndexes.clear();
  }

  #readyDb(): Level<string, string> {
    if (this.#failed !== undefined) throw this.#failed;
    if (!this.#open || this.#db === undefined)
      throw new StoreError('STORE_NOT_OPEN', 'the class store is not open');
    return this.#db;
  }

  // ---- reads ---------------------------------------------------------------------------------

  async #get<T extends Decoded>(
    key: string,
    decode: (text: string, key: string) => T,
  ): Promise<T | undefined> {
    const db = this.#readyDb();
    const pending = this.#overlay.pending(key);
    if (pending === 'wiped') return undefined;
    if (pending !== undefined) return (pending.decoded ?? undefined) as T | undefined;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached as T;
    const generation = this.#overlay.generation;
    const text = await db.get(key);
    if (text === undefined) return undefined;
    const decoded = decode(text, key);
    // A commit that happened while we read may have replaced the value: don't cache what may be stale.
    if (generation === this.#overlay.generation) this.#cache.remember(key, decoded);
    return decoded;
  }

  /** Keys and values under a prefix as reads see them (Overlay.scan). */
  #scan(prefix: string): Promise<Map<string, string | OverlayEntry>> {
    const db = this.#readyDb();
    return this.#overlay.scan(prefix, db.iterator({ gte: prefix, lt: prefix + END }));
  }

  getNamespace(namespace: NamespaceKey): Promise<NamespaceRecord | undefined> {
    return this.#get(namespaceRecordKey(namespace), decodeNamespace);
  }

  async listNamespaces(): Promise<readonly NamespaceRecord[]> {
    return [...(await this.#scan(NAMESPACE_RECORDS)).entries()].map(([key, value]) =>
      typeof value === 'string' ? decodeNamespace(value, key) : (value.decoded as NamespaceRecord),
    );
  }

  async getClass(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<ClassDefinition | undefined> {
    return (await this.#getStoredClass(namespace, className))?.definition;
  }

  async getClassRevision(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<bigint | undefined> {
    return (await this.#getStoredClass(namespace, className))?.revision;
  }

  async #getStoredClass(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<StoredClass | undefined> {
    const key = classRecordKey(namespace, className);
    if (this.#overlay.pending(key) === undefined && !this.#cache.has(key)) {
      const index = await this.#classIndexes.of(namespace);
      if (!index.parentOf.has(className)) return undefined;
    }
    return this.#get(key, decodeClass);
  }

  async readEvents(
    namespace: NamespaceKey,
    afterRevision: bigint,
    limit: number,
  ): Promise<readonly ClassEventRecord[]> {
    const db = this.#readyDb();
    const found: ClassEventRecord[] = [];
    if (limit <= 0) return found;
    // From disk only: what is there is durable (see the header). A record is keyed by its last
    // revision, so the first one with a key above `afterRevision` may start below it; entries out
    // of retention may still be on disk until #trim: both are skipped.
    const from = afterRevision >= this.#firstRetained ? afterRevision : this.#firstRetained - 1n;
    const page: { entry: PackedEvent; key: string }[] = [];
    read: for await (const [key, value] of db.iterator({
      gt: eventKey(from),
      lt: EVENT_RECORDS + END,
    })) {
      for (const entry of eventEntriesOf(value, key)) {
        if (entry.revision <= from || entry.namespace !== namespace) continue;
        page.push({ entry, key });
        if (page.length >= limit) break read;
      }
    }
    for (const { entry, key } of page) {
      const target =
        entry.targetRef === undefined
          ? undefined
          : await this.#classAtRevision(db, namespace, entry.targetRef as ClassKey, entry.revision);
      found.push(unpackEvent(entry, key, target));
    }
    return found;
  }

  /**
   * The class a log record names by reference: its class record while that still is the
   * revision's, else the history copy made when the record was replaced (in the same batch).
   */
  async #classAtRevision(
    db: Level<string, string>,
    namespace: NamespaceKey,
    className: ClassKey,
    revision: bigint,
  ): Promise<ClassDefinition> {
    const current = await db.get(classRecordKey(namespace, className));
    if (current !== undefined && revisionOfEncodedClass(current) === revision)
      return decodeClass(current, classRecordKey(namespace, className)).definition;
    const kept = await db.get(historyKey(revision));
    if (kept !== undefined) return decodeClass(kept, historyKey(revision)).definition;
    // Only a log record trimmed while this page was read can lose its class.
    throw new StoreError(
      'STORE_CORRUPT_RECORD',
      `the class of log record ${revision} is gone (trimmed while read?)`,
    );
  }

  onDurableEvents(listener: (events: readonly ClassEventRecord[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async listSubclasses(
    namespace: NamespaceKey,
    parent: ClassKey | null,
  ): Promise<readonly ClassKey[]> {
    const index = await this.#classIndexes.of(namespace);
    return [...(index.children.get(parent ?? '') ?? [])].sort((a, b) =>
      a < b ? -1 : a > b ? 1 : 0,
    ) as ClassKey[];
  }

  async listQualifiers(namespace: NamespaceKey): Promise<readonly QualifierDeclaration[]> {
    return [...(await this.#scan(qualifierPrefix(namespace))).entries()].map(([key, value]) =>
      typeof value === 'string'
        ? decodeQualifierDeclaration(value, key)
        : (value.decoded as QualifierDeclaration),
    );
  }

  async listClasses(namespace: NamespaceKey): Promise<readonly ClassDefinition[]> {
    return [...(await this.#scan(classPrefix(namespace))).entries()].map(
      ([key, value]) =>
        (typeof value === 'string' ? decodeClass(value, key) : (value.decoded as StoredClass))
          .definition,
    );
  }

  getInstance(
    namespace: NamespaceKey,
    className: ClassKey,
    key: string,
  ): Promise<StoredInstance | undefined> {
    return this.#get(instanceRecordKey(namespace, className, key), decodeInstance);
  }

  async listInstances(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<readonly InstanceEntry[]> {
    const prefix = instancePrefix(namespace, className);
    return [...(await this.#scan(prefix)).entries()].map(([key, value]) => ({
      key: key.slice(prefix.length),
      instance:
        typeof value === 'string' ? decodeInstance(value, key) : (value.decoded as StoredInstance),
    }));
  }

  async countInstances(namespace: NamespaceKey, className: ClassKey): Promise<number> {
    // Values are read by the scan but never decoded; the update gate asks this per subclass.
    return (await this.#scan(instancePrefix(namespace, className))).size;
  }

  // ---- commits -------------------------------------------------------------------------------

  commit(writes: readonly StoreWrite[]): Promise<void> {
    try {
      this.#readyDb();
      // Encode everything first: a write that cannot be encoded leaves nothing visible (and takes
      // no revision).
      let revision = this.#revision;
      const events: ClassEventRecord[] = [];
      const logged: { revision: bigint; body: string }[] = [];
      const planned = writes.map((write) => {
        if (write.op !== 'putClass' && write.op !== 'deleteClass') return planWrite(write, 0n);
        const event = changeEventRecord(write, ++revision);
        if (event !== undefined) {
          events.push(event);
          // A put's entry names its target by reference: the class record written with it (one copy
          // of the class per create instead of two; see the header for how the reference stays good).
          logged.push({
            revision,
            body: encodeEventBody(
              event,
              write.op === 'putClass' ? classKey(write.definition.name) : undefined,
            ),
          });
        }
        return planWrite(write, revision, event);
      });
      if (revision !== this.#revision) this.#advanceRevision(revision);
      this.#classIndexes.noteWrites(writes);
      const steps: PendingStep[] = [];
      for (const plan of planned) {
        for (const step of plan) {
          steps.push(this.#overlay.makeVisible(step));
          if (step.kind === 'wipe') this.#cache.forgetUnder(step.prefixes);
          else this.#cache.forget(step.op.key);
        }
      }
      return new Promise<void>((resolve, reject) => {
        this.#queue.push({
          steps,
          events,
          logged,
          revisions: { revision: this.#revision, firstRetained: this.#firstRetained },
          resolve,
          reject,
        });
        this.#flushing ??= this.#flush();
      });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * The store revision moves to `revision`, and retention with it. The revisions record is written
   * once per synced batch by #flush; what falls out of retention is deleted by #trim.
   */
  #advanceRevision(revision: bigint): void {
    this.#firstRetained = firstRetainedAt(revision, this.#retention, this.#firstRetained);
    this.#revision = revision;
  }

  async #flush(): Promise<void> {
    try {
      // Let the commits of the requests already read in this turn of the event loop join the
      // first group: without this the first commit after an idle moment is synced alone and every
      // later one waits a whole extra sync behind it.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0);
        const db = this.#db;
        if (db === undefined)
          throw new StoreError('STORE_NOT_OPEN', 'the class store closed with commits pending');
        // Last write wins per key, in commit order; a wipe deletes everything under its prefixes
        // that is on disk or was written earlier in this group.
        const batch = new Map<string, Op>();
        // Class records as this group leaves them so far (null = deleted): the old value a history
        // copy needs, when it is not yet on disk.
        const written = new Map<string, Buffer | null>();
        const keepHistory = (old: string | Buffer | null | undefined): void => {
          if (old === undefined || old === null) return;
          const revision = revisionOfValue(old);
          // A record older than the log's retention is named by no log record any more.
          if (revision === null || revision < this.#firstRetained) return;
          batch.set(historyKey(revision), {
            type: 'put',
            key: historyKey(revision),
            value: typeof old === 'string' ? bytes(old) : old,
          });
        };
        for (const commit of group) {
          for (const step of commit.steps) {
            if (step.kind === 'op') {
              if (step.history)
                keepHistory(
                  written.has(step.op.key) ? written.get(step.op.key) : await db.get(step.op.key),
                );
              batch.set(step.op.key, step.op);
              if (step.op.key.startsWith(CLASS_RECORDS))
                written.set(step.op.key, step.op.type === 'put' ? step.op.value : null);
              continue;
            }
            for (const prefix of step.prefixes) {
              const classes = prefix.startsWith(CLASS_RECORDS);
              for (const key of batch.keys()) {
                if (!key.startsWith(prefix)) continue;
                if (classes) keepHistory(written.get(key));
                batch.set(key, { type: 'del', key });
                if (classes) written.set(key, null);
              }
              for await (const [key, value] of db.iterator({ gte: prefix, lt: prefix + END })) {
                if (classes && !written.has(key)) keepHistory(value);
                batch.set(key, { type: 'del', key });
                if (classes) written.set(key, null);
              }
            }
          }
        }
        // One log record per batch, keyed by its last revision, and one revisions record, as of its
        // last commit: a crash keeps them with the changes they describe, or none of it.
        const entries = group.flatMap((commit) => commit.logged);
        const lastEntry = entries[entries.length - 1];
        if (lastEntry !== undefined)
          batch.set(eventKey(lastEntry.revision), {
            type: 'put',
            key: eventKey(lastEntry.revision),
            value: bytes(encodeEventBatch(entries)),
          });
        const last = group[group.length - 1];
        if (last !== undefined) {
          batch.set(REVISIONS_KEY, {
            type: 'put',
            key: REVISIONS_KEY,
            value: bytes(encodeRevisions(last.revisions.revision, last.revisions.firstRetained)),
          });
        }
        const started = process.hrtime.bigint();
        try {
          // A chained batch hands each operation to LevelDB's native batch as it is added; the
          // array form clones every operation object first (abstract-level): ~1.3 KB of garbage and
          // ≈ 11.7 against ≈ 3.5 µs of main-thread work per operation (micro-benchmark,
          // docs/performance.md).
          const chained = db.batch();
          for (const op of batch.values()) {
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
          return;
        }
        const syncMs = Number(process.hrtime.bigint() - started) / 1e6;
        this.#stats = {
          batches: this.#stats.batches + 1,
          commits: this.#stats.commits + group.length,
          lastSyncMs: syncMs,
        };
        // Durable now: the overlay keeps only what was written again after this group.
        for (const commit of group) {
          this.#overlay.settle(commit.steps);
        }
        this.#observer?.({ commits: group.length, ops: batch.size, syncMs });
        const events = group.flatMap((commit) => commit.events);
        if (events.length > 0) publishEvents(this.#listeners, events);
        for (const commit of group) commit.resolve();
        // After the acknowledgements, which it is no part of: trimming is cleanup outside any batch.
        if (this.#firstRetained - this.#trimmedBelow >= TRIM_EVERY) await this.#trim(db);
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  /**
   * Deletes the log records whose every entry fell out of retention (a record is keyed by its last
   * revision) and the history copies of those revisions. Not part of any commit's batch: a crash
   * before it, or a failed delete, leaves old records behind, which reads skip and the next trim
   * (after the next synced batch) deletes. A failing disk is reported by that batch, not here.
   */
  async #trim(db: Level<string, string>): Promise<void> {
    const below = this.#firstRetained;
    try {
      await db.clear({ gte: EVENT_RECORDS, lt: eventKey(below) });
      await db.clear({ gte: HISTORY_RECORDS, lt: historyKey(below) });
      this.#trimmedBelow = below;
    } catch {
      // #trimmedBelow stays: the next flush tries again.
    }
  }

  #fail(error: StoreError, group: readonly QueuedCommit[]): void {
    this.#failed = error;
    // Until reopened the disk is the only truth; what was only visible is gone with the failure.
    this.#overlay.clear();
    this.#cache.clear();
    this.#classIndexes.clear();
    for (const commit of [...group, ...this.#queue.splice(0)]) commit.reject(error);
  }
}
