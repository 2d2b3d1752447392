/**
 * The repository port (docs/style.md §2.5). A store is dumb on purpose: it checks no WMI rule
 * (the service has decided before it writes) and applies each commit atomically and durably.
 *
 * Visibility and durability are two moments of one commit:
 * - `commit()` makes its writes visible to every later read *before it returns* (synchronously):
 *   that is the commit point. A caller holding a write lock may release it right after.
 * - the promise it returns resolves once the writes are on disk (for a persistent adapter,
 *   synced). Concurrent commits are grouped into one synced batch (group commit).
 * If a durable write fails, the store fails every pending and later commit and reads
 * (STORE_FAILED): what was made visible can no longer be promised, so nothing more is acknowledged.
 */
import type { ClassDefinition, QualifierDeclaration } from '../domain/class-model';
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
  readonly derivation: readonly string[];
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

/** A stored instance with the canonical key it is filed under. */
export interface InstanceEntry {
  readonly key: string;
  readonly instance: StoredInstance;
}

export interface ClassStore {
  /** Opens (creating when absent). STORE_LOCKED when another process holds the data directory. */
  open(): Promise<void>;
  /** Waits for pending commits to be durable, then closes. Idempotent. */
  close(): Promise<void>;
  readonly isOpen: boolean;

  getNamespace(namespace: NamespaceKey): Promise<NamespaceRecord | undefined>;
  /** Every namespace, in key order. */
  listNamespaces(): Promise<readonly NamespaceRecord[]>;

  /** The stored definition (local members), looked up by folded name. */
  getClass(namespace: NamespaceKey, className: ClassKey): Promise<ClassDefinition | undefined>;
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
   * Applies every write or none. Writes are visible to reads when this returns; the promise
   * resolves when they are durable. Rejects with StoreError; never checks a WMI rule.
   *
   * Each putClass and deleteClass write gets the next store revision, assigned here in commit
   * order, so `revision` read right after this returns is the revision of the commit's last class
   * change. Its log records (writes with `event`) go into the same atomic batch.
   */
  commit(writes: readonly StoreWrite[]): Promise<void>;

  /**
   * The store revision: that of the last visible class change (0 for a store that never had
   * one). Store-wide, increasing, never reused; survives a restart.
   */
  readonly revision: bigint;
  /**
   * The event log holds every event with a revision from this one on (retention dropped those
   * below). A watcher that has seen revision R misses nothing when R >= firstRetainedRevision - 1.
   */
  readonly firstRetainedRevision: bigint;
  /**
   * Durable log records of one namespace with a revision above `afterRevision`, in revision
   * order, at most `limit` of them (a page: ask again after the last one).
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
  | 'STORE_FAILED';

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
