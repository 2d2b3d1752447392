/**
 * The repository port (docs/style.md §2.5). A store is dumb on purpose: it checks no WMI rule
 * (the service has decided before it writes) and applies each commit atomically and durably.
 *
 * A commit has two moments, its commit point (its writes are visible to every later read of any
 * replica) and its durability:
 * - the embedded adapters (memory, LevelDB) reach the commit point *before commit() returns*
 *   (synchronously), and resolve the promise once the writes are on disk (grouped into one synced
 *   batch: group commit). If a durable write fails, the store fails every pending and later commit
 *   and read (STORE_FAILED): what was made visible can no longer be promised.
 * - a shared adapter (etcd) reaches both at once, when its transaction commits: only the promise
 *   (or `commitIf`'s `committed`) says so. A commit that certainly did not happen rejects with
 *   STORE_UNAVAILABLE and the store stays usable.
 * What holds for every adapter: once `committed` (or commit's promise) resolved, every read of
 * this store sees the writes; `commitIf` applies only if nothing under its fence changed since
 * `beginRead` (optimistic concurrency, for decisions shared by several replicas).
 */
import type { ClassDefinition, Derivation, QualifierDeclaration } from '../domain/class-model';
import type { StoredInstance } from '../domain/instance-model';
import type { ClientContext } from '../domain/client-context';
import type { ClassKey, NamespaceKey } from '../domain/names';

/** A namespace as stored: its elements as first spelled, e.g. ['root', 'cimv2']. */
export interface NamespaceRecord {
  readonly elements: readonly string[];
}

/**
 * What the event log keeps about a class change besides the class itself. The store records it
 * as given (it decides nothing about events); the service fills it in.
 */
export interface ChangeEventInfo {
  /** The target's superclass chain, immediate parent first (kept so an ISA filter still works once the classes are gone). */
  readonly derivation: Derivation;
  /** The writer's pCtx, forwarded unchanged. */
  readonly context: ClientContext | undefined;
  /** The writing call's wbem-operation-id. */
  readonly operationId: string;
  /** TIME_CREATED: 100-ns intervals since 1601-01-01 UTC. */
  readonly timeCreated: bigint;
}

/** One class change as the event log holds it (__ClassCreationEvent / Modification / Deletion). */
export interface ClassEventRecord extends ChangeEventInfo {
  /** The store revision of the change. */
  readonly revision: bigint;
  readonly kind: 'created' | 'modified' | 'deleted';
  readonly namespace: NamespaceKey;
  /** The class as written (local members), or as it was when deleted. */
  readonly target: ClassDefinition;
  /** The class before a modification. */
  readonly previous?: ClassDefinition;
}

/** Default of the stores' `eventRetention` option: how many of the newest revisions' events the log keeps. */
export const DEFAULT_EVENT_RETENTION = 100_000;

/**
 * The revision a class written before revisions existed reports (schema version 1 records). Not 0:
 * 0 means "no such class" to expected_revision; a store that holds such classes opens at revision 1.
 */
export const LEGACY_CLASS_REVISION = 1n;

export type StoreWrite =
  | {
      readonly op: 'putNamespace';
      readonly namespace: NamespaceKey;
      readonly record: NamespaceRecord;
    }
  | {
      /** Removes the namespace record, all its classes, their indexes, instances and qualifier declarations (not child namespaces). */
      readonly op: 'deleteNamespace';
      readonly namespace: NamespaceKey;
    }
  | {
      readonly op: 'putClass';
      readonly namespace: NamespaceKey;
      readonly definition: ClassDefinition;
      /**
       * The superclass the stored class had before this write: undefined for a new class, null for
       * a stored root class. The adapter moves the child-index entry when it differs.
       */
      readonly previousSuperclass: ClassKey | null | undefined;
      /**
       * Present: append a log record in the same atomic batch — 'created' when `previous` is
       * undefined, else 'modified' with `previous` as PreviousClass.
       */
      readonly event?: ChangeEventInfo & { readonly previous: ClassDefinition | undefined };
    }
  | {
      /** Creates or replaces the namespace's declaration of one qualifier (by folded name). */
      readonly op: 'putQualifier';
      readonly namespace: NamespaceKey;
      readonly declaration: QualifierDeclaration;
    }
  | {
      readonly op: 'deleteClass';
      readonly namespace: NamespaceKey;
      readonly className: ClassKey;
      /** The stored superclass (null for a root class), to remove the child-index entry. */
      readonly superclass: ClassKey | null;
      /** Present: append a 'deleted' log record for `target` (the class as stored) in the same atomic batch. */
      readonly event?: ChangeEventInfo & { readonly target: ClassDefinition };
    }
  | {
      /** Creates or replaces a static instance, filed under its own class and canonical key. */
      readonly op: 'putInstance';
      readonly namespace: NamespaceKey;
      readonly className: ClassKey;
      readonly key: string;
      readonly instance: StoredInstance;
    }
  | {
      readonly op: 'deleteInstance';
      readonly namespace: NamespaceKey;
      readonly className: ClassKey;
      readonly key: string;
    };

/**
 * What a decision reads, as a commit can check it: a namespace's content (classes, qualifier
 * declarations, instances, its own record) by its key, or NAMESPACE_TREE: which namespaces exist.
 * Every write moves the fence of its namespace; putNamespace and deleteNamespace also move the tree.
 */
export type FenceScope = NamespaceKey | typeof NAMESPACE_TREE;
export const NAMESPACE_TREE = '\u0000namespaces';

/** The state of some scopes when a decision began (beginRead); opaque to the caller. */
export interface WriteFence {
  readonly scopes: readonly FenceScope[];
  /** One token per scope, in the order of `scopes`. */
  readonly tokens: readonly bigint[];
}

/** A commit's two moments (see the header). */
export interface CommitHandle {
  /**
   * Resolves at the commit point with the commit's revision: that of its last class change, or
   * the store revision then when it changed no class. Rejects with STORE_CONFLICT (nothing written)
   * when the fence moved, or any other StoreError.
   */
  readonly committed: Promise<bigint>;
  /** Resolves once the writes are durable; rejects as `committed` does, or with STORE_FAILED. */
  readonly durable: Promise<void>;
}

/** A change of the namespace tree or of a namespace's qualifier declarations, as a replica hears of it. */
export type NamespaceChange =
  | {
      readonly op: 'putNamespace';
      readonly namespace: NamespaceKey;
      readonly record: NamespaceRecord;
    }
  | { readonly op: 'deleteNamespace'; readonly namespace: NamespaceKey }
  | {
      readonly op: 'putQualifier';
      readonly namespace: NamespaceKey;
      readonly declaration: QualifierDeclaration;
    };

/** A stored instance with the canonical key it is filed under. */
export interface InstanceEntry {
  readonly key: string;
  readonly instance: StoredInstance;
}

/**
 * How a read is used, for what an adapter keeps. `scan`: one pass over more classes than a cache
 * holds (a big enumeration), each read once: keeping what it decoded would only push out what is
 * read often and make garbage that outlives young-generation GCs (docs/performance.md, R3).
 */
export interface ReadHint {
  readonly scan?: boolean;
}

/** Classes read at once, in the order asked for: undefined where there is no such class. */
export type ClassPage = readonly (ClassDefinition | undefined)[];

export interface ClassStore {
  /** Opens (creating when absent). STORE_LOCKED when another process holds the data directory. */
  open(): Promise<void>;
  /** Waits for pending commits to be durable, then closes. Idempotent. */
  close(): Promise<void>;
  readonly isOpen: boolean;
  /**
   * Other processes write to the backing store (etcd): `revision` and the namespace changes follow
   * their writes with a delay, and beginRead is how a caller catches up. False for the embedded
   * adapters, whose one process sees every write at its commit point.
   */
  readonly shared: boolean;

  getNamespace(namespace: NamespaceKey): Promise<NamespaceRecord | undefined>;
  /** Every namespace, in key order. */
  listNamespaces(): Promise<readonly NamespaceRecord[]>;

  /** The stored definition (local members), looked up by folded name. */
  getClass(
    namespace: NamespaceKey,
    className: ClassKey,
    hint?: ReadHint,
  ): Promise<ClassDefinition | undefined>;
  /**
   * The stored definitions of `classNames`, in their order (undefined where there is none): what
   * getClass returns for each, read at once (an enumeration's page: one LevelDB `getMany`).
   */
  getClasses(
    namespace: NamespaceKey,
    classNames: readonly ClassKey[],
    hint?: ReadHint,
  ): Promise<ClassPage>;
  /**
   * The class's mod revision: the store revision of its last write (LEGACY_CLASS_REVISION for a
   * class written before revisions existed); undefined when there is no such class.
   */
  getClassRevision(namespace: NamespaceKey, className: ClassKey): Promise<bigint | undefined>;
  /** Direct subclasses of `parent` (null = the root classes), in key order. */
  listSubclasses(namespace: NamespaceKey, parent: ClassKey | null): Promise<readonly ClassKey[]>;
  /** Every class of the namespace, in key order. */
  listClasses(namespace: NamespaceKey): Promise<readonly ClassDefinition[]>;
  /** The namespace's qualifier declarations, by folded name. */
  listQualifiers(namespace: NamespaceKey): Promise<readonly QualifierDeclaration[]>;

  /** The instance of exactly this class (not a subclass) filed under `key`. */
  getInstance(
    namespace: NamespaceKey,
    className: ClassKey,
    key: string,
  ): Promise<StoredInstance | undefined>;
  /** The instances of exactly this class, in key order. */
  listInstances(namespace: NamespaceKey, className: ClassKey): Promise<readonly InstanceEntry[]>;
  /** How many instances of exactly this class are stored (without decoding them). */
  countInstances(namespace: NamespaceKey, className: ClassKey): Promise<number>;

  /**
   * Applies every write or none, unfenced. The promise resolves when the writes are visible to
   * every read and durable (see the header for when an embedded adapter makes them visible).
   * Rejects with StoreError; never checks a WMI rule.
   *
   * Each putClass and deleteClass write gets a store revision above every earlier one, in commit
   * order: the embedded adapters give each class change of a commit the next revision, etcd gives
   * all of one commit the revision of its transaction. Its log records (writes with `event`) go
   * into the same atomic batch.
   */
  commit(writes: readonly StoreWrite[]): Promise<void>;

  /**
   * The fence tokens of `scopes` now, taken before the decision reads anything. Resolves once this
   * store's view (`revision`, the events published) has caught up with every commit that had
   * reached its commit point when it was called, on any replica.
   */
  beginRead(scopes: readonly FenceScope[]): Promise<WriteFence>;
  /** commit(), applied only if no scope of `fence` moved since beginRead (else STORE_CONFLICT). */
  commitIf(fence: WriteFence, writes: readonly StoreWrite[]): CommitHandle;
  /**
   * Calls `listener` with false when the backing store stops answering and true when it answers
   * again (the embedded adapters never call it). Returns the unsubscribe function.
   */
  onAvailability(listener: (available: boolean) => void): () => void;
  /**
   * Calls `listener` with every namespace and qualifier declaration change committed through
   * this store or another replica, in revision order, before the commit resolves (a shared
   * adapter; the embedded ones never call it: their one process updates its table itself).
   */
  onNamespaceChanges(listener: (changes: readonly NamespaceChange[]) => void): () => void;

  /**
   * The store revision: that of the last class change this store has seen (0 for a store that
   * never had one). Store-wide, increasing, never reused; survives a restart. With etcd it follows
   * the watch, so another replica's write moves it too.
   */
  readonly revision: bigint;
  /**
   * The event log holds every event with a revision from this one on (retention dropped those
   * below). A watcher that has seen revision R misses nothing when R >= firstRetainedRevision - 1.
   */
  readonly firstRetainedRevision: bigint;
  /**
   * Durable log records of one namespace with a revision above `afterRevision`, in revision
   * order, at most `limit` of them (a page: ask again after the last one's revision). A page never
   * splits the records of one revision (etcd gives one commit's class changes one revision): it
   * stops before a revision that would not fit, unless that is its first, which it holds whole.
   */
  readEvents(
    namespace: NamespaceKey,
    afterRevision: bigint,
    limit: number,
  ): Promise<readonly ClassEventRecord[]>;
  /**
   * Calls `listener` once per durable batch with its log records, in revision order, before the
   * batch's commits resolve. The listener must not throw. Returns the unsubscribe function.
   */
  onDurableEvents(listener: (events: readonly ClassEventRecord[]) => void): () => void;
}

export type StoreErrorCode =
  /** The store is not open (never opened, closing or closed). */
  | 'STORE_NOT_OPEN'
  /** Another process holds the data directory. */
  | 'STORE_LOCKED'
  /** A stored value could not be decoded (unknown schema version, damaged bytes). */
  | 'STORE_CORRUPT_RECORD'
  /** A durable write failed; the store refuses all further work until reopened. */
  | 'STORE_FAILED'
  /** commitIf: a fenced scope moved since beginRead; nothing was written. */
  | 'STORE_CONFLICT'
  /**
   * The backing store (etcd) did not answer in time or is unreachable. The call failed and the
   * store stays usable; for a commit the message says whether it certainly did not apply.
   */
  | 'STORE_UNAVAILABLE'
  /** etcd refused a commit as larger than its limits (--max-txn-ops, --max-request-bytes); nothing was written. */
  | 'STORE_TOO_LARGE';

/** Store failures carry a stable code (Level's habit); messages may change. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
