/**
 * What every ClassStore adapter shares, written once, in the manner of abstract-level's
 * AbstractLevel: the public methods live here and adapters implement protected primitives (`_…`).
 *
 * The base owns
 * - the status: open or not, and the STORE_FAILED latch. Every read and commit rejects while the
 *   store is not open or once it failed, before the adapter is asked;
 * - revisions: each putClass and deleteClass of a commit takes the next store revision at the
 *   commit point, in commit order, with the log record its write asks for; retention arithmetic;
 * - listeners: onDurableEvents, and publishing what the adapter reports durable;
 * - the commit contract, in two steps: `_prepareCommit` may fail and then leaves nothing visible
 *   and takes no revision; `_applyCommit` cannot fail, makes the writes visible before it returns
 *   (the commit point) and returns the promise of their durability.
 *
 * Nothing here holds records or assumes they live in this process: `_open` reports the revisions
 * the backing store holds, and the adapter decides when a commit is durable and publishes it
 * then. What does assume one writer is the commit path: revisions are assigned here,
 * synchronously, and the write fences are counters in this process (sound because the embedded
 * stores have one writing process). A shared adapter (etcd) replaces commit, commitIf and
 * beginRead, and moves `revision` with what its backing store reports (observeRevision).
 */
import type { ClassDefinition, QualifierDeclaration } from '../domain/class-model';
import type { StoredInstance } from '../domain/instance-model';
import type { ClassKey, NamespaceKey } from '../domain/names';
import {
  DEFAULT_EVENT_RETENTION,
  NAMESPACE_TREE,
  StoreError,
  type ClassEventRecord,
  type ClassPage,
  type ClassStore,
  type CommitHandle,
  type FenceScope,
  type InstanceEntry,
  type NamespaceChange,
  type NamespaceRecord,
  type ReadHint,
  type StoreWrite,
  type WriteFence,
} from './class-store';
import {
  assignRevisions,
  assignRevisionsInSlices,
  checkRetention,
  firstRetainedAt,
  type RevisedWrite,
} from './revisions';
import { TimeSlicer } from './time-slices';
import { failedCommit, publishEvents, type DurableEventsListener } from './commit-outcomes';

export { failedCommit, type DurableEventsListener } from './commit-outcomes';
export type { RevisedWrite } from './revisions';

export interface ClassStoreOptions {
  /** The event log keeps the events of the newest this many revisions (default DEFAULT_EVENT_RETENTION). */
  readonly eventRetention?: number;
}

/** The store revision and the first revision whose events the log keeps. */
export interface StoreRevisions {
  readonly revision: bigint;
  readonly firstRetained: bigint;
}

/** A commitIf of at least this many writes is prepared in slices (#commitIfInSlices). */
const SLICED_COMMIT_WRITES = 64;

/**
 * `Prepared` is what an adapter makes of a commit before anything is visible (encoded records,
 * say), handed back to `_applyCommit`.
 */
export abstract class AbstractClassStore<Prepared> implements ClassStore {
  #open = false;
  #failed: StoreError | undefined;
  #revision = 0n;
  #firstRetained = 1n;
  readonly #retention: bigint;
  readonly #listeners = new Set<DurableEventsListener>();
  /** Per fence scope, how many commits moved it in this process (the embedded stores' fences). */
  readonly #fences = new Map<FenceScope, bigint>();

  constructor(options: ClassStoreOptions = {}) {
    this.#retention = BigInt(checkRetention(options.eventRetention ?? DEFAULT_EVENT_RETENTION));
  }

  /** The embedded adapters' one process sees every write: not shared (etcd overrides). */
  get shared(): boolean {
    return false;
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

  async open(): Promise<void> {
    if (this.#open) return;
    ({ revision: this.#revision, firstRetained: this.#firstRetained } = await this._open());
    this.#failed = undefined;
    this.#open = true;
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this._close();
  }

  // The reads: refused while not open or once failed, else the adapter's.
  getNamespace(namespace: NamespaceKey): Promise<NamespaceRecord | undefined> {
    return this.#refusal() ?? this._getNamespace(namespace);
  }
  listNamespaces(): Promise<readonly NamespaceRecord[]> {
    return this.#refusal() ?? this._listNamespaces();
  }
  getClass(ns: NamespaceKey, key: ClassKey, hint?: ReadHint): Promise<ClassDefinition | undefined> {
    return this.#refusal() ?? this._getClass(ns, key, hint);
  }
  getClasses(ns: NamespaceKey, keys: readonly ClassKey[], hint?: ReadHint): Promise<ClassPage> {
    return this.#refusal() ?? this._getClasses(ns, keys, hint);
  }
  getClassRevision(namespace: NamespaceKey, className: ClassKey): Promise<bigint | undefined> {
    return this.#refusal() ?? this._getClassRevision(namespace, className);
  }
  listSubclasses(namespace: NamespaceKey, parent: ClassKey | null): Promise<readonly ClassKey[]> {
    return this.#refusal() ?? this._listSubclasses(namespace, parent);
  }
  listClasses(namespace: NamespaceKey): Promise<readonly ClassDefinition[]> {
    return this.#refusal() ?? this._listClasses(namespace);
  }
  listQualifiers(namespace: NamespaceKey): Promise<readonly QualifierDeclaration[]> {
    return this.#refusal() ?? this._listQualifiers(namespace);
  }
  getInstance(
    namespace: NamespaceKey,
    className: ClassKey,
    key: string,
  ): Promise<StoredInstance | undefined> {
    return this.#refusal() ?? this._getInstance(namespace, className, key);
  }
  listInstances(namespace: NamespaceKey, className: ClassKey): Promise<readonly InstanceEntry[]> {
    return this.#refusal() ?? this._listInstances(namespace, className);
  }
  countInstances(namespace: NamespaceKey, className: ClassKey): Promise<number> {
    return this.#refusal() ?? this._countInstances(namespace, className);
  }
  readEvents(
    namespace: NamespaceKey,
    afterRevision: bigint,
    limit: number,
  ): Promise<readonly ClassEventRecord[]> {
    const refusal = this.#refusal();
    if (refusal !== undefined) return refusal;
    if (limit <= 0) return Promise.resolve([]);
    // Entries out of retention may still be held until the adapter drops them: never returned.
    const from = afterRevision >= this.#firstRetained ? afterRevision : this.#firstRetained - 1n;
    return this._readEvents(namespace, from, limit);
  }

  onDurableEvents(listener: DurableEventsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  commit(writes: readonly StoreWrite[]): Promise<void> {
    const refusal = this.#refusal();
    if (refusal !== undefined) return refusal;
    try {
      return this.#commitNow(writes);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  beginRead(scopes: readonly FenceScope[]): Promise<WriteFence> {
    return (
      this.#refusal() ??
      Promise.resolve({ scopes: [...scopes], tokens: scopes.map((s) => this.#fences.get(s) ?? 0n) })
    );
  }

  commitIf(fence: WriteFence, writes: readonly StoreWrite[]): CommitHandle {
    if (writes.length >= SLICED_COMMIT_WRITES) return this.#commitIfInSlices(fence, writes);
    try {
      this.#checkFence(fence);
      const durable = this.#commitNow(writes);
      durable.catch(() => undefined);
      return { committed: Promise.resolve(this.#revision), durable };
    } catch (error) {
      return failedCommit(error);
    }
  }

  #checkFence(fence: WriteFence): void {
    this.assertReady();
    fence.scopes.forEach((scope, i) => {
      if ((this.#fences.get(scope) ?? 0n) !== fence.tokens[i])
        throw new StoreError('STORE_CONFLICT', `a concurrent commit changed ${String(scope)}`);
    });
  }

  /**
   * A big commitIf (a CompileMof, a FORCE update over many subclasses): the writes are prepared
   * (encoded) in slices with the revisions they will take, then the commit point is reached as
   * for any commit, synchronously, if nothing took a revision meanwhile; otherwise prepared again
   * (a second time at once). The same bytes, the same all-or-nothing: only `committed` resolves
   * later, after the other calls' work between the slices. The preparing starts, and the commit
   * point comes, each in a turn of the event loop of its own: the commit point of 10,000 writes
   * is one stretch of ≈ 15-30 ms, which no slice of other work should add to.
   */
  #commitIfInSlices(fence: WriteFence, writes: readonly StoreWrite[]): CommitHandle {
    const done = (async (): Promise<{ revision: bigint; durable: Promise<void> }> => {
      this.#checkFence(fence);
      const slicer = new TimeSlicer();
      await slicer.endSlice();
      const base = this.#revision;
      const { revised, last } = await assignRevisionsInSlices(writes, base, slicer);
      const prepared = await this._prepareCommitInSlices(revised, slicer);
      await slicer.endSlice();
      this.#checkFence(fence);
      const durable =
        this.#revision === base
          ? this.#applyPrepared(writes, prepared, last)
          : this.#commitNow(writes);
      return { revision: this.#revision, durable };
    })();
    const committed = done.then((d) => d.revision);
    const durable = done.then((d) => d.durable);
    committed.catch(() => undefined);
    durable.catch(() => undefined);
    return { committed, durable };
  }

  /** The embedded stores are always reachable: nothing to report. */
  onAvailability(listener: (available: boolean) => void): () => void {
    void listener;
    return () => undefined;
  }

  /** The embedded stores have one writing process, which updates its namespace table itself. */
  onNamespaceChanges(listener: (changes: readonly NamespaceChange[]) => void): () => void {
    void listener;
    return () => undefined;
  }

  /** The commit point, synchronously; throws with nothing visible when a write cannot be applied. */
  #commitNow(writes: readonly StoreWrite[]): Promise<void> {
    // Prepare everything first: a write that cannot be applied leaves nothing visible (and
    // takes no revision).
    const { revised, last } = assignRevisions(writes, this.#revision);
    return this.#applyPrepared(writes, this._prepareCommit(revised), last);
  }

  /** The commit point of prepared writes: the revision moves, the fences move, the writes become visible. */
  #applyPrepared(writes: readonly StoreWrite[], prepared: Prepared, last: bigint): Promise<void> {
    if (last !== this.#revision) this.#advanceRevision(last);
    for (const write of writes) {
      this.#fences.set(write.namespace, (this.#fences.get(write.namespace) ?? 0n) + 1n);
      if (write.op === 'putNamespace' || write.op === 'deleteNamespace')
        this.#fences.set(NAMESPACE_TREE, (this.#fences.get(NAMESPACE_TREE) ?? 0n) + 1n);
    }
    return this._applyCommit(prepared);
  }

  /** A shared adapter's view moved on to `revision` (only forward), and retention with it. */
  protected observeRevision(revision: bigint): void {
    if (revision > this.#revision) this.#advanceRevision(revision);
  }

  /** The rejection a call gets now (not open, or the latched failure); undefined: go ahead. */
  protected refusal(): Promise<never> | undefined {
    return this.#refusal();
  }

  /** The store revision moves on to `revision`, and retention with it. */
  #advanceRevision(revision: bigint): void {
    this.#firstRetained = firstRetainedAt(revision, this.#retention, this.#firstRetained);
    this.#revision = revision;
  }

  #refusalReason(): StoreError | undefined {
    if (this.#failed !== undefined) return this.#failed;
    if (!this.#open) return new StoreError('STORE_NOT_OPEN', 'the class store is not open');
    return undefined;
  }

  /** The rejection a call gets now (the latched failure, or not open); undefined: go ahead. */
  #refusal(): Promise<never> | undefined {
    const reason = this.#refusalReason();
    return reason === undefined ? undefined : Promise.reject(reason);
  }

  /** For an adapter's work that resumes after an await: throws what a new call would be refused with. */
  protected assertReady(): void {
    const reason = this.#refusalReason();
    if (reason !== undefined) throw reason;
  }

  /**
   * A durable write failed: what was made visible can no longer be promised, so every later call
   * is refused with `error` until the store is closed and opened again.
   */
  protected latchFailure(error: StoreError): void {
    this.#failed = error;
  }

  /**
   * Hands the log records of a batch that is durable now, in revision order, to the listeners
   * subscribed now. 'next microtask': they hear of it a microtask later, for an adapter whose
   * commits are durable before commit() returns (listeners still hear after the commit, and before
   * the committer's await continues, as after a synced batch).
   */
  protected publishDurable(
    events: readonly ClassEventRecord[],
    when: 'now' | 'next microtask' = 'now',
  ): void {
    if (events.length === 0) return;
    if (when === 'now') return publishEvents(this.#listeners, events);
    if (this.#listeners.size === 0) return;
    const listeners = [...this.#listeners];
    queueMicrotask(() => publishEvents(listeners, events));
  }

  /** Opens the backing store; resolves with the revisions it holds. */
  protected abstract _open(): Promise<StoreRevisions>;
  /** Lets pending commits become durable, then releases the backing store. */
  protected abstract _close(): Promise<void>;
  protected abstract _getNamespace(namespace: NamespaceKey): Promise<NamespaceRecord | undefined>;
  protected abstract _listNamespaces(): Promise<readonly NamespaceRecord[]>;
  protected abstract _getClass(
    namespace: NamespaceKey,
    className: ClassKey,
    hint?: ReadHint,
  ): Promise<ClassDefinition | undefined>;
  /** Each class as _getClass reads it, at once (etcd, memory); LevelDB: one getMany. */
  protected _getClasses(
    ns: NamespaceKey,
    keys: readonly ClassKey[],
    hint?: ReadHint,
  ): Promise<ClassPage> {
    return Promise.all(keys.map((key) => this._getClass(ns, key, hint)));
  }
  protected abstract _getClassRevision(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<bigint | undefined>;
  protected abstract _listSubclasses(
    namespace: NamespaceKey,
    parent: ClassKey | null,
  ): Promise<readonly ClassKey[]>;
  protected abstract _listClasses(namespace: NamespaceKey): Promise<readonly ClassDefinition[]>;
  protected abstract _listQualifiers(
    namespace: NamespaceKey,
  ): Promise<readonly QualifierDeclaration[]>;
  protected abstract _getInstance(
    namespace: NamespaceKey,
    className: ClassKey,
    key: string,
  ): Promise<StoredInstance | undefined>;
  protected abstract _listInstances(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<readonly InstanceEntry[]>;
  protected abstract _countInstances(namespace: NamespaceKey, className: ClassKey): Promise<number>;
  /**
   * Durable log records of one namespace with a revision above `afterRevision` (never below the
   * retained ones), in revision order, at most `limit` (> 0) of them.
   */
  protected abstract _readEvents(
    namespace: NamespaceKey,
    afterRevision: bigint,
    limit: number,
  ): Promise<readonly ClassEventRecord[]>;
  /** Checks and encodes a commit's writes; throws, with nothing visible, when one cannot be applied. */
  protected abstract _prepareCommit(writes: readonly RevisedWrite[]): Prepared;
  /**
   * The same, cut into `slicer`'s slices that yield to the event loop (for a big commit); by
   * default at once.
   */
  protected _prepareCommitInSlices(
    writes: readonly RevisedWrite[],
    slicer: TimeSlicer,
  ): Promise<Prepared> {
    void slicer;
    return Promise.resolve(this._prepareCommit(writes));
  }
  /**
   * Makes a prepared commit visible before returning (the store revision already counts it) and
   * returns the promise of its durability, which publishes its log records (publishDurable) before
   * it resolves. Must not throw.
   */
  protected abstract _applyCommit(prepared: Prepared): Promise<void>;
}
