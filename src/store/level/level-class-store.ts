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
import { type ClassKey, type NamespaceKey } from '../../domain/names';
import {
  AbstractClassStore,
  type ClassStoreOptions,
  type RevisedWrite,
  type StoreRevisions,
} from '../abstract-class-store';
import {
  StoreError,
  type ClassEventRecord,
  type ClassPage,
  type InstanceEntry,
  type NamespaceRecord,
  type ReadHint,
} from '../class-store';
import { eventEntriesOf, unpackEvent, type PackedEvent } from './event-codec';
import {
  decodeClass,
  decodeScannedClass,
  decodeInstance,
  decodeNamespace,
  decodeQualifierDeclaration,
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
} from './keys';
import { ClassIndexes, sortedChildren } from './class-index';
import { InstanceIndexes } from './instance-index';
import { GroupCommit, type BatchObserver, type LevelStoreStats } from './group-commit';
import { Overlay, type LayeredCommit, type OverlayEntry } from './overlay';
import type { VisibleScan } from './namespace-indexes';
import { ReadBatch } from './read-batch';
import { LEVELDB_MEMORY } from './leveldb-memory';
import { readClassPage, readRevisions } from './class-reads';
import { RecordCache } from './record-cache';
import { preparedCommit, type Decoded } from './write-plan';
import { mapInSlices, type TimeSlicer } from '../time-slices';

export type { BatchObserver, LevelStoreStats } from './group-commit';

/** A commit of at least this many steps keeps its class records in the record cache once durable. */
const WRITE_THROUGH_MIN_STEPS = 64;

export class LevelClassStore extends AbstractClassStore<LayeredCommit> {
  readonly #location: string;
  #db: Level<string, string> | undefined;
  readonly #cache = new RecordCache();
  // Once durable, a written record replaces its key's cached one (write-through): the next read of
  // a class just updated is no LevelDB get and decode. A record not cached before is kept only from
  // a big commit's classes (a CompileMof), which the enumeration that usually follows reads; a
  // stream of single creates (PutClass) nobody reads would fill the cache and the old generation.
  readonly #overlay = new Overlay({
    minSteps: WRITE_THROUGH_MIN_STEPS,
    settled: (key, decoded, big) => {
      if (big && key.startsWith(CLASS_RECORDS)) this.#cache.remember(key, decoded);
      else this.#cache.replace(key, decoded);
    },
    left: (key) => this.#cache.forget(key), // deleted or wiped: once the overlay stops answering
  });
  readonly #forgetUnder = (prefixes: readonly string[]): void => this.#cache.forgetUnder(prefixes);
  readonly #reads = new ReadBatch();
  /** The records under a prefix as reads see them (Overlay.scan), each as `reduce` keeps it. */
  readonly #visible: VisibleScan = async (prefix, reduce) =>
    this.#overlay.scan(prefix, this.#readyDb().iterator({ gte: prefix, lt: prefix + END }), reduce);
  readonly #classIndexes = new ClassIndexes(this.#visible);
  readonly #instanceIndexes = new InstanceIndexes(this.#visible);
  readonly #commits: GroupCommit;

  constructor(location: string, options: ClassStoreOptions & { onBatch?: BatchObserver } = {}) {
    super(options);
    this.#location = location;
    this.#commits = new GroupCommit({
      database: () => this.#db,
      firstRetainedRevision: () => this.firstRetainedRevision,
      overlay: this.#overlay,
      publish: (events) => this.publishDurable(events),
      fail: (error) => this.#fail(error),
      onBatch: options.onBatch,
    });
  }

  get stats(): LevelStoreStats {
    return this.#commits.stats;
  }

  protected async _open(): Promise<StoreRevisions> {
    const db = await this.#openDatabase();
    try {
      const revisions = await readRevisions(db);
      this.#db = db;
      return revisions;
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  async #openDatabase(): Promise<Level<string, string>> {
    const db = new Level<string, string>(this.#location, {
      valueEncoding: 'utf8',
      ...LEVELDB_MEMORY,
    });
    try {
      await db.open();
      return db;
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
  }

  protected async _close(): Promise<void> {
    // Everything acknowledged as visible gets its chance to become durable first.
    await this.#commits.drain();
    await this.#db?.close();
    this.#db = undefined;
    this.#overlay.clear();
    this.#cache.clear();
    this.#classIndexes.clear();
    this.#instanceIndexes.clear();
  }

  /** The database, for reads that may resume after a close or a failure: refused then. */
  #readyDb(): Level<string, string> {
    this.assertReady();
    if (this.#db === undefined)
      throw new StoreError('STORE_NOT_OPEN', 'the class store is not open');
    return this.#db;
  }

  // ---- reads ---------------------------------------------------------------------------------

  /** `keep`: whether what is decoded from disk goes into the record cache (not for a scan). */
  async #get<T extends Decoded>(
    key: string,
    decode: (text: string, key: string) => T,
    keep = true,
  ): Promise<T | undefined> {
    const db = this.#readyDb();
    const pending = this.#overlay.pending(key);
    if (pending === 'wiped') return undefined;
    if (pending !== undefined) return (pending.decoded ?? undefined) as T | undefined;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached as T;
    const generation = this.#overlay.generation;
    const text = await this.#reads.get(db, key);
    if (text === undefined) return undefined;
    const decoded = decode(text, key);
    // A commit that happened while we read may have replaced the value: don't cache what may be stale.
    if (keep && generation === this.#overlay.generation) this.#cache.remember(key, decoded);
    return decoded;
  }

  /** Keys and values under a prefix as reads see them (#visible), the values from disk as text. */
  #scan(prefix: string): Promise<Map<string, string | OverlayEntry>> {
    return this.#visible(prefix, (_key, text) => text);
  }

  protected _getNamespace(namespace: NamespaceKey): Promise<NamespaceRecord | undefined> {
    return this.#get(namespaceRecordKey(namespace), decodeNamespace);
  }

  protected async _listNamespaces(): Promise<readonly NamespaceRecord[]> {
    return [...(await this.#scan(NAMESPACE_RECORDS)).entries()].map(([key, value]) =>
      typeof value === 'string' ? decodeNamespace(value, key) : (value.decoded as NamespaceRecord),
    );
  }

  protected async _getClass(
    namespace: NamespaceKey,
    className: ClassKey,
    hint?: ReadHint,
  ): Promise<ClassDefinition | undefined> {
    return (await this.#getStoredClass(namespace, className, hint?.scan !== true))?.definition;
  }

  /** Once the class index is loaded, the page's records at once (class-reads.ts). */
  protected override async _getClasses(
    ns: NamespaceKey,
    keys: readonly ClassKey[],
    hint?: ReadHint,
  ): Promise<ClassPage> {
    const index = await this.#classIndexes.of(ns);
    const layers = { overlay: this.#overlay, cache: this.#cache };
    return readClassPage(this.#readyDb(), layers, index, ns, keys, hint?.scan !== true);
  }

  protected async _getClassRevision(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<bigint | undefined> {
    return (await this.#getStoredClass(namespace, className))?.revision;
  }

  async #getStoredClass(
    namespace: NamespaceKey,
    className: ClassKey,
    keep = true,
  ): Promise<StoredClass | undefined> {
    const key = classRecordKey(namespace, className);
    if (this.#overlay.pending(key) === undefined && !this.#cache.has(key)) {
      const index = await this.#classIndexes.of(namespace);
      if (!index.parentOf.has(className)) return undefined;
    }
    return this.#get(key, keep ? decodeClass : decodeScannedClass, keep);
  }

  protected async _readEvents(
    namespace: NamespaceKey,
    from: bigint,
    limit: number,
  ): Promise<readonly ClassEventRecord[]> {
    const db = this.#readyDb();
    const found: ClassEventRecord[] = [];
    // From disk only: what is there is durable (see the header). A record is keyed by its last
    // revision, so the first one with a key above `from` may start below it; entries out of
    // retention (below `from`) may still be on disk until group commit trims them: both are skipped.
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

  protected async _listSubclasses(
    namespace: NamespaceKey,
    parent: ClassKey | null,
  ): Promise<readonly ClassKey[]> {
    return sortedChildren(await this.#classIndexes.of(namespace), parent ?? '') as ClassKey[];
  }

  protected async _listQualifiers(
    namespace: NamespaceKey,
  ): Promise<readonly QualifierDeclaration[]> {
    return [...(await this.#scan(qualifierPrefix(namespace))).entries()].map(([key, value]) =>
      typeof value === 'string'
        ? decodeQualifierDeclaration(value, key)
        : (value.decoded as QualifierDeclaration),
    );
  }

  protected async _listClasses(namespace: NamespaceKey): Promise<readonly ClassDefinition[]> {
    return [...(await this.#scan(classPrefix(namespace))).entries()].map(
      ([key, value]) =>
        (typeof value === 'string' ? decodeClass(value, key) : (value.decoded as StoredClass))
          .definition,
    );
  }

  protected async _getInstance(
    namespace: NamespaceKey,
    className: ClassKey,
    key: string,
  ): Promise<StoredInstance | undefined> {
    const recordKey = instanceRecordKey(namespace, className, key);
    if (this.#overlay.pending(recordKey) === undefined && !this.#cache.has(recordKey)) {
      const index = await this.#instanceIndexes.of(namespace);
      if (index.get(className)?.has(key) !== true) return undefined;
    }
    return this.#get(recordKey, decodeInstance);
  }

  protected async _listInstances(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<readonly InstanceEntry[]> {
    // Most classes hold no instance: the index answers that without a LevelDB iterator.
    if (!(await this.#instanceIndexes.of(namespace)).has(className)) return [];
    const prefix = instancePrefix(namespace, className);
    return [...(await this.#scan(prefix)).entries()].map(([key, value]) => ({
      key: key.slice(prefix.length),
      instance:
        typeof value === 'string' ? decodeInstance(value, key) : (value.decoded as StoredInstance),
    }));
  }

  protected async _countInstances(namespace: NamespaceKey, className: ClassKey): Promise<number> {
    // The update gate asks this per subclass: answered from the index, no LevelDB read.
    return (await this.#instanceIndexes.of(namespace)).get(className)?.size ?? 0;
  }

  // ---- commits -------------------------------------------------------------------------------

  protected _prepareCommit(writes: readonly RevisedWrite[]): LayeredCommit {
    // Encode everything first: a write that cannot be encoded leaves nothing visible.
    const prepared = preparedCommit(writes);
    for (const write of writes) prepared.add(write);
    return prepared.commit;
  }

  /** A big commit's records encoded, and made one overlay layer, in slices (commitIfInSlices). */
  protected override async _prepareCommitInSlices(
    writes: readonly RevisedWrite[],
    slicer: TimeSlicer,
  ): Promise<LayeredCommit> {
    const prepared = preparedCommit(writes);
    await mapInSlices(writes, prepared.add, slicer);
    const { commit } = prepared;
    const layer = await this.#overlay.prepareLayer(commit.planned, () => slicer.tick());
    return layer === undefined ? commit : { ...commit, layer };
  }

  protected _applyCommit({ writes, planned, events, logged, layer }: LayeredCommit): Promise<void> {
    for (const { write } of writes) {
      this.#classIndexes.noteWrite(write);
      this.#instanceIndexes.noteWrite(write);
    }
    const steps = this.#overlay.makeCommitVisible(planned, layer, this.#forgetUnder);
    return this.#commits.enqueue({
      steps,
      events,
      logged,
      revisions: { revision: this.revision, firstRetained: this.firstRetainedRevision },
    });
  }

  /** A synced batch failed (group commit rejects the commits). */
  #fail(error: StoreError): void {
    this.latchFailure(error);
    // Until reopened the disk is the only truth; what was only visible is gone with the failure.
    this.#overlay.clear();
    this.#cache.clear();
    this.#classIndexes.clear();
    this.#instanceIndexes.clear();
  }
}
