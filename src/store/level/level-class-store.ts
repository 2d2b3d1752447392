/**
 * The LevelDB ClassStore (level 10 = classic-level).
 *
 * Keys: keys.ts. The class index (which classes exist, whose children they are): class-index.ts.
 *
 * Commits: `commit()` applies its writes to an in-memory overlay before returning (the commit
 * point: every later read sees them, overlay.ts) and queues them for group commit, which writes
 * them in a synced batch with their log entries (group-commit.ts).
 *
 * Revisions and the event log: each class change gets the next revision at the commit point and
 * its class record keeps it. Log records are read from disk only: what `readEvents` returns is
 * durable, as what `onDurableEvents` publishes (after the synced batch).
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
import { encodeEventBody, eventEntriesOf, unpackEvent, type PackedEvent } from './event-codec';
import {
  decodeClass,
  decodeInstance,
  decodeNamespace,
  decodeQualifierDeclaration,
  decodeRevisions,
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
  historyKey,
  instancePrefix,
  instanceRecordKey,
  NAMESPACE_RECORDS,
  namespaceRecordKey,
  qualifierPrefix,
  REVISIONS_KEY,
} from './keys';
import { ClassIndexes } from './class-index';
import { GroupCommit, type BatchObserver, type LevelStoreStats } from './group-commit';
import { Overlay, type OverlayEntry, type PendingStep } from './overlay';
import { RecordCache } from './record-cache';
import { planWrite, type Decoded } from './write-plan';

export type { BatchObserver, LevelStoreStats } from './group-commit';

export class LevelClassStore implements ClassStore {
  readonly #location: string;
  #db: Level<string, string> | undefined;
  #open = false;
  #failed: StoreError | undefined;
  readonly #overlay = new Overlay();
  readonly #cache = new RecordCache();
  readonly #classIndexes = new ClassIndexes((prefix) => this.#scan(prefix));
  readonly #commits: GroupCommit;
  #revision = 0n;
  #firstRetained = 1n;
  readonly #retention: bigint;
  readonly #listeners = new Set<(events: readonly ClassEventRecord[]) => void>();

  constructor(
    location: string,
    options: { onBatch?: BatchObserver; eventRetention?: number } = {},
  ) {
    this.#location = location;
    this.#commits = new GroupCommit({
      database: () => this.#db,
      firstRetainedRevision: () => this.#firstRetained,
      overlay: this.#overlay,
      publish: (events) => {
        if (events.length > 0) publishEvents(this.#listeners, events);
      },
      fail: (error) => this.#fail(error),
      onBatch: options.onBatch,
    });
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
    return this.#commits.stats;
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
    await this.#commits.drain();
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
      return this.#commits.enqueue({
        steps,
        events,
        logged,
        revisions: { revision: this.#revision, firstRetained: this.#firstRetained },
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

  /** A synced batch failed (group commit rejects the commits). */
  #fail(error: StoreError): void {
    this.#failed = error;
    // Until reopened the disk is the only truth; what was only visible is gone with the failure.
    this.#overlay.clear();
    this.#cache.clear();
    this.#classIndexes.clear();
  }
}
