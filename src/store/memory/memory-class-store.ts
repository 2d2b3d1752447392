/**
 * The in-memory ClassStore: Maps of records plus a child index, real code of its own (not level
 * over memory-level), so the one contract suite exercises two implementations. Commits apply
 * synchronously; "durable" is immediate, and the event listeners hear of a commit in a microtask
 * (before the committer's await continues), as they would after a synced batch.
 */
import type { ClassDefinition, QualifierDeclaration } from '../../domain/class-model';
import type { StoredInstance } from '../../domain/instance-model';
import { classKey, type ClassKey, type NamespaceKey } from '../../domain/names';
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
  type StoreWrite,
} from '../class-store';

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

export type MemoryClassStoreOptions = ClassStoreOptions;

export class MemoryClassStore extends AbstractClassStore<readonly RevisedWrite[]> {
  #namespaces = new Map<NamespaceKey, NamespaceData>();
  /** The event log, in revision order. */
  #events: ClassEventRecord[] = [];

  constructor(options: MemoryClassStoreOptions = {}) {
    super(options);
  }

  /** The data outlives close(): opening again finds it as it was. */
  protected async _open(): Promise<StoreRevisions> {
    return { revision: this.revision, firstRetained: this.firstRetainedRevision };
  }

  protected async _close(): Promise<void> {}

  protected async _getNamespace(namespace: NamespaceKey): Promise<NamespaceRecord | undefined> {
    return this.#namespaces.get(namespace)?.record;
  }

  protected async _listNamespaces(): Promise<readonly NamespaceRecord[]> {
    return [...this.#namespaces.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([, data]) => data.record);
  }

  protected async _getClass(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<ClassDefinition | undefined> {
    return this.#namespaces.get(namespace)?.classes.get(className)?.definition;
  }

  protected override async _getClasses(
    namespace: NamespaceKey,
    classNames: readonly ClassKey[],
  ): Promise<ClassPage> {
    const classes = this.#namespaces.get(namespace)?.classes;
    return classNames.map((className) => classes?.get(className)?.definition);
  }

  protected async _getClassRevision(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<bigint | undefined> {
    return this.#namespaces.get(namespace)?.classes.get(className)?.revision;
  }

  protected async _readEvents(
    namespace: NamespaceKey,
    afterRevision: bigint,
    limit: number,
  ): Promise<readonly ClassEventRecord[]> {
    const found: ClassEventRecord[] = [];
    for (const event of this.#events) {
      if (found.length >= limit) break;
      if (event.revision > afterRevision && event.namespace === namespace) found.push(event);
    }
    return found;
  }

  protected async _listSubclasses(
    namespace: NamespaceKey,
    parent: ClassKey | null,
  ): Promise<readonly ClassKey[]> {
    return [...(this.#namespaces.get(namespace)?.children.get(parent ?? ROOT) ?? [])].sort(compare);
  }

  protected async _listClasses(namespace: NamespaceKey): Promise<readonly ClassDefinition[]> {
    const classes = [...(this.#namespaces.get(namespace)?.classes ?? [])];
    return classes.sort(([a], [b]) => compare(a, b)).map(([, stored]) => stored.definition);
  }

  protected async _listQualifiers(
    namespace: NamespaceKey,
  ): Promise<readonly QualifierDeclaration[]> {
    const declarations =
      this.#namespaces.get(namespace)?.qualifiers ?? new Map<string, QualifierDeclaration>();
    return [...declarations.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([, declaration]) => declaration);
  }

  protected async _getInstance(
    namespace: NamespaceKey,
    className: ClassKey,
    key: string,
  ): Promise<StoredInstance | undefined> {
    return this.#namespaces.get(namespace)?.instances.get(className)?.get(key);
  }

  protected async _listInstances(
    namespace: NamespaceKey,
    className: ClassKey,
  ): Promise<readonly InstanceEntry[]> {
    const instances =
      this.#namespaces.get(namespace)?.instances.get(className) ??
      new Map<string, StoredInstance>();
    return [...instances.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([key, instance]) => ({ key, instance }));
  }

  protected async _countInstances(namespace: NamespaceKey, className: ClassKey): Promise<number> {
    return this.#namespaces.get(namespace)?.instances.get(className)?.size ?? 0;
  }

  /**
   * All or nothing without copying: every write is checked against the state it will meet first,
   * and only then are they applied, in order (applying cannot fail).
   */
  protected _prepareCommit(writes: readonly RevisedWrite[]): readonly RevisedWrite[] {
    const present = new Set(this.#namespaces.keys());
    for (const { write } of writes) {
      if (write.op === 'putNamespace') present.add(write.namespace);
      else if (write.op === 'deleteNamespace') present.delete(write.namespace);
      else if (
        (write.op === 'putClass' || write.op === 'putQualifier' || write.op === 'putInstance') &&
        !present.has(write.namespace)
      ) {
        throw new StoreError('STORE_CORRUPT_RECORD', `namespace ${write.namespace} is not stored`);
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
    return writes;
  }

  protected _applyCommit(writes: readonly RevisedWrite[]): Promise<void> {
    const events: ClassEventRecord[] = [];
    for (const { write, revision, event } of writes) {
      this.#apply(write, revision);
      if (event !== undefined) events.push(event);
    }
    this.#events.push(...events);
    this.#trim();
    this.publishDurable(events, 'next microtask');
    return Promise.resolve();
  }

  /** Keeps the events of the newest `retention` revisions. */
  #trim(): void {
    const first = this.firstRetainedRevision;
    if ((this.#events[0]?.revision ?? first) >= first) return;
    const keep = this.#events.findIndex((event) => event.revision >= first);
    this.#events = keep < 0 ? [] : this.#events.slice(keep);
  }

  /** Applies one write; a class change is stored with its revision. */
  #apply(write: StoreWrite, revision: bigint): void {
    switch (write.op) {
      case 'putNamespace': {
        const existing = this.#namespaces.get(write.namespace);
        if (existing !== undefined) existing.record = write.record;
        else this.#namespaces.set(write.namespace, emptyNamespace(write.record));
        return;
      }
      case 'deleteNamespace':
        this.#namespaces.delete(write.namespace);
        return;
      case 'putClass':
        return this.#putClass(write, revision);
      case 'putQualifier':
        (this.#namespaces.get(write.namespace) as NamespaceData).qualifiers.set(
          write.declaration.name.toLowerCase(),
          write.declaration,
        );
        return;
      case 'deleteClass': {
        const data = this.#namespaces.get(write.namespace);
        data?.classes.delete(write.className);
        data?.children.get(write.superclass ?? ROOT)?.delete(write.className);
        data?.children.delete(write.className);
        return;
      }
      case 'putInstance':
        return this.#putInstance(write);
      case 'deleteInstance': {
        const ofClass = this.#namespaces.get(write.namespace)?.instances.get(write.className);
        ofClass?.delete(write.key);
        if (ofClass?.size === 0)
          this.#namespaces.get(write.namespace)?.instances.delete(write.className);
        return;
      }
    }
  }

  #putClass(write: Extract<StoreWrite, { op: 'putClass' }>, revision: bigint): void {
    const data = this.#namespaces.get(write.namespace) as NamespaceData;
    const key = classKey(write.definition.name);
    if (write.previousSuperclass !== undefined)
      data.children.get(write.previousSuperclass ?? ROOT)?.delete(key);
    const parent =
      write.definition.superclass === '' ? ROOT : classKey(write.definition.superclass);
    let siblings = data.children.get(parent);
    if (siblings === undefined) data.children.set(parent, (siblings = new Set()));
    siblings.add(key);
    data.classes.set(key, { definition: write.definition, revision });
  }

  #putInstance(write: Extract<StoreWrite, { op: 'putInstance' }>): void {
    const instances = (this.#namespaces.get(write.namespace) as NamespaceData).instances;
    let ofClass = instances.get(write.className);
    if (ofClass === undefined)
      instances.set(write.className, (ofClass = new Map<string, StoredInstance>()));
    ofClass.set(write.key, write.instance);
  }
}

function emptyNamespace(record: NamespaceRecord): NamespaceData {
  return {
    record,
    classes: new Map(),
    children: new Map(),
    qualifiers: new Map(),
    instances: new Map(),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
