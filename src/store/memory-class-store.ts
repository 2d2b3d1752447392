/**
 * The in-memory ClassStore: Maps of records plus a child index, real code of its own (not level
 * over memory-level), so the one contract suite exercises two implementations. Commits apply
 * synchronously; "durable" is immediate, and the event listeners hear of a commit in a microtask
 * (before the committer's await continues), as they would after a synced batch.
 */
import type { ClassDefinition, QualifierDeclaration } from '../domain/class-model';
import type { StoredInstance } from '../domain/instance-model';
import { classKey, type ClassKey, type NamespaceKey } from '../domain/names';
import {
  changeEventRecord,
  checkRetention,
  DEFAULT_EVENT_RETENTION,
  firstRetainedAt,
  publishEvents,
  StoreError,
  type ClassEventRecord,
  type ClassStore,
  type InstanceEntry,
  type NamespaceRecord,
  type StoreWrite,
} from './class-store';

const ROOT = '';

interface NamespaceData {
  record: NamespaceRecord;
  classes: Map<ClassKey, { readonly definition: ClassDefinition; readonly revision: bigint }>;
  /** parent key ('' for root classes) → child keys */
  children: Map<string, Set<ClassKey>>;
  /** folded name → declaration */
  qualifiers: Map<string, QualifierDeclaration>;
  /** class key → canonical instance key → instance */
  instances: Map<ClassKey, Map<string, StoredInstance>>;
}

export interface MemoryClassStoreOptions {
  /** The event log keeps the events of the newest this many revisions (default DEFAULT_EVENT_RETENTION). */
  readonly eventRetention?: number;
}

export class MemoryClassStore implements ClassStore {
  #open = false;
  #namespaces = new Map<NamespaceKey, NamespaceData>();
  #revision = 0n;
  #firstRetained = 1n;
  /** The event log, in revision order. */
  #events: ClassEventRecord[] = [];
  readonly #retention: bigint;
  readonly #listeners = new Set<(events: readonly ClassEventRecord[]) => void>();

  constructor(options: MemoryClassStoreOptions = {}) {
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

  async open(): Promise<void> {
    this.#open = true;
  }

  async close(): Promise<void> {
    this.#open = false;
  }

  #check(): void {
    if (!this.#open) throw new StoreError('STORE_NOT_OPEN', 'the class store is not open');
  }

  async getNamespace(namespace: NamespaceKey): Promise<NamespaceRecord | undefined> {
    this.#check();
    return this.#namespaces.get(namespace)?.record;
  }

  async listNamespaces(): Promise<readonly NamespaceRecord[]> {
    this.#check();
    return [...this.#namespaces.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([, data]) => data.record);
  }

  async getClass(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<ClassDefinition | undefined> {
    this.#check();
    return this.#namespaces.get(namespace)?.classes.get(className)?.definition;
  }

  async getClassRevision(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<bigint | undefined> {
    this.#check();
    return this.#namespaces.get(namespace)?.classes.get(className)?.revision;
  }

  async readEvents(
    namespace: NamespaceKey,
    afterRevision: bigint,
    limit: number,
  ): Promise<readonly ClassEventRecord[]> {
    this.#check();
    const found: ClassEventRecord[] = [];
    for (const event of this.#events) {
      if (found.length >= limit) break;
      if (event.revision > afterRevision && event.namespace === namespace) found.push(event);
    }
    return found;
  }

  onDurableEvents(listener: (events: readonly ClassEventRecord[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async listSubclasses(
    namespace: NamespaceKey,
    parent: ClassKey | null,
  ): Promise<readonly ClassKey[]> {
    this.#check();
    return [...(this.#namespaces.get(namespace)?.children.get(parent ?? ROOT) ?? [])].sort(compare);
  }

  async listClasses(namespace: NamespaceKey): Promise<readonly ClassDefinition[]> {
    this.#check();
    const classes = [...(this.#namespaces.get(namespace)?.classes ?? [])];
    return classes.sort(([a], [b]) => compare(a, b)).map(([, stored]) => stored.definition);
  }

  async listQualifiers(namespace: NamespaceKey): Promise<readonly QualifierDeclaration[]> {
    this.#check();
    const declarations =
      this.#namespaces.get(namespace)?.qualifiers ?? new Map<string, QualifierDeclaration>();
    return [...declarations.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([, declaration]) => declaration);
  }

  async getInstance(
    namespace: NamespaceKey,
    className: ClassKey,
    key: string,
  ): Promise<StoredInstance | undefined> {
    this.#check();
    return this.#namespaces.get(namespace)?.instances.get(className)?.get(key);
  }

  async listInstances(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<readonly InstanceEntry[]> {
    this.#check();
    const instances =
      this.#namespaces.get(namespace)?.instances.get(className) ??
      new Map<string, StoredInstance>();
    return [...instances.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([key, instance]) => ({ key, instance }));
  }

  async countInstances(namespace: NamespaceKey, className: ClassKey): Promise<number> {
    this.#check();
    return this.#namespaces.get(namespace)?.instances.get(className)?.size ?? 0;
  }

  commit(writes: readonly StoreWrite[]): Promise<void> {
    try {
      this.#check();
      // All or nothing without copying: every write is checked against the state it will meet
      // first, and only then are they applied, in order (applying cannot fail).
      const present = new Set(this.#namespaces.keys());
      for (const write of writes) {
        if (write.op === 'putNamespace') present.add(write.namespace);
        else if (write.op === 'deleteNamespace') present.delete(write.namespace);
        else if (
          (write.op === 'putClass' || write.op === 'putQualifier' || write.op === 'putInstance') &&
          !present.has(write.namespace)
        ) {
          throw new StoreError(
            'STORE_CORRUPT_RECORD',
            `namespace ${write.namespace} is not stored`,
          );
        } else if (
          write.op !== 'putClass' &&
          write.op !== 'deleteClass' &&
          write.op !== 'putQualifier' &&
          write.op !== 'putInstance' &&
          write.op !== 'deleteInstance'
        ) {
          const unknown: never = write;
          throw new StoreError(
            'STORE_CORRUPT_RECORD',
            `unknown store write ${JSON.stringify(unknown)}`,
          );
        }
      }
      const events: ClassEventRecord[] = [];
      for (const write of writes) {
        const event = this.#apply(write);
        if (event !== undefined) events.push(event);
      }
      this.#trim();
      if (events.length > 0 && this.#listeners.size > 0) {
        const listeners = [...this.#listeners];
        queueMicrotask(() => publishEvents(listeners, events));
      }
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Keeps the events of the newest `retention` revisions. */
  #trim(): void {
    const first = firstRetainedAt(this.#revision, this.#retention, this.#firstRetained);
    if (first === this.#firstRetained) return;
    this.#firstRetained = first;
    const keep = this.#events.findIndex((event) => event.revision >= first);
    this.#events = keep < 0 ? [] : this.#events.slice(keep);
  }

  /** Applies one write; a class change gets the next revision and, with `event`, a log record (returned). */
  #apply(write: StoreWrite): ClassEventRecord | undefined {
    switch (write.op) {
      case 'putNamespace': {
        const existing = this.#namespaces.get(write.namespace);
        if (existing !== undefined) existing.record = write.record;
        else
          this.#namespaces.set(write.namespace, {
            record: write.record,
            classes: new Map(),
            children: new Map(),
            qualifiers: new Map(),
            instances: new Map(),
          });
        return undefined;
      }
      case 'deleteNamespace':
        this.#namespaces.delete(write.namespace);
        return undefined;
      case 'putClass': {
        const data = this.#namespaces.get(write.namespace) as NamespaceData;
        const key = classKey(write.definition.name);
        if (write.previousSuperclass !== undefined)
          data.children.get(write.previousSuperclass ?? ROOT)?.delete(key);
        const parent =
          write.definition.superclass === '' ? ROOT : classKey(write.definition.superclass);
        let siblings = data.children.get(parent);
        if (siblings === undefined) data.children.set(parent, (siblings = new Set()));
        siblings.add(key);
        const revision = ++this.#revision;
        data.classes.set(key, { definition: write.definition, revision });
        return this.#log(changeEventRecord(write, revision));
      }
      case 'putQualifier':
        (this.#namespaces.get(write.namespace) as NamespaceData).qualifiers.set(
          write.declaration.name.toLowerCase(),
          write.declaration,
        );
        return undefined;
      case 'deleteClass': {
        const revision = ++this.#revision;
        const data = this.#namespaces.get(write.namespace);
        if (data !== undefined) {
          data.classes.delete(write.className);
          data.children.get(write.superclass ?? ROOT)?.delete(write.className);
          data.children.delete(write.className);
        }
        return this.#log(changeEventRecord(write, revision));
      }
      case 'putInstance': {
        const instances = (this.#namespaces.get(write.namespace) as NamespaceData).instances;
        let ofClass = instances.get(write.className);
        if (ofClass === undefined)
          instances.set(write.className, (ofClass = new Map<string, StoredInstance>()));
        ofClass.set(write.key, write.instance);
        return;
      }
      case 'deleteInstance': {
        const ofClass = this.#namespaces.get(write.namespace)?.instances.get(write.className);
        ofClass?.delete(write.key);
        if (ofClass?.size === 0)
          this.#namespaces.get(write.namespace)?.instances.delete(write.className);
        return;
      }
    }
  }

  #log(event: ClassEventRecord | undefined): ClassEventRecord | undefined {
    if (event !== undefined) this.#events.push(event);
    return event;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
