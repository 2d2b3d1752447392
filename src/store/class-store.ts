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
import type { ClassKey, NamespaceKey } from '../domain/names';

/** A namespace as stored: its elements as first spelled, e.g. ['root', 'cimv2']. */
export interface NamespaceRecord {
  readonly elements: readonly string[];
}

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
  /** Direct subclasses of `parent` (null = the root classes), in key order. */
  listSubclasses(namespace: NamespaceKey, parent: ClassKey | null): Promise<readonly ClassKey[]>;
  /** Every class of the namespace, in key order. */
  listClasses(namespace: NamespaceKey): Promise<readonly ClassDefinition[]>;
  /** The namespace's qualifier declarations, by folded name. */
  listQualifiers(namespace: NamespaceKey): Promise<readonly QualifierDeclaration[]>;

  /** The instance of exactly this class (not a subclass) filed under `key`. */
  getInstance(namespace: NamespaceKey, className: ClassKey, key: string): Promise<StoredInstance | undefined>;
  /** The instances of exactly this class, in key order. */
  listInstances(namespace: NamespaceKey, className: ClassKey): Promise<readonly InstanceEntry[]>;
  /** How many instances of exactly this class are stored (without decoding them). */
  countInstances(namespace: NamespaceKey, className: ClassKey): Promise<number>;

  /**
   * Applies every write or none. Writes are visible to reads when this returns; the promise
   * resolves when they are durable. Rejects with StoreError; never checks a WMI rule.
   */
  commit(writes: readonly StoreWrite[]): Promise<void>;
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
