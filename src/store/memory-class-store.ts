/**
 * The in-memory ClassStore: Maps of records plus a child index, real code of its own (not level
 * over memory-level), so the one contract suite exercises two implementations. Commits apply
 * synchronously; "durable" is immediate.
 */
import type { ClassDefinition, QualifierDeclaration } from '../domain/class-model';
import type { StoredInstance } from '../domain/instance-model';
import { classKey, type ClassKey, type NamespaceKey } from '../domain/names';
import { StoreError, type ClassStore, type InstanceEntry, type NamespaceRecord, type StoreWrite } from './class-store';

const ROOT = '';

interface NamespaceData {
  record: NamespaceRecord;
  classes: Map<ClassKey, ClassDefinition>;
  /** parent key ('' for root classes) → child keys */
  children: Map<string, Set<ClassKey>>;
  /** folded name → declaration */
  qualifiers: Map<string, QualifierDeclaration>;
  /** class key → canonical instance key → instance */
  instances: Map<ClassKey, Map<string, StoredInstance>>;
}

export class MemoryClassStore implements ClassStore {
  #open = false;
  #namespaces = new Map<NamespaceKey, NamespaceData>();

  get isOpen(): boolean {
    return this.#open;
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
    return [...this.#namespaces.entries()].sort(([a], [b]) => compare(a, b)).map(([, data]) => data.record);
  }

  async getClass(namespace: NamespaceKey, className: ClassKey): Promise<ClassDefinition | undefined> {
    this.#check();
    return this.#namespaces.get(namespace)?.classes.get(className);
  }

  async listSubclasses(namespace: NamespaceKey, parent: ClassKey | null): Promise<readonly ClassKey[]> {
    this.#check();
    return [...(this.#namespaces.get(namespace)?.children.get(parent ?? ROOT) ?? [])].sort(compare);
  }

  async listClasses(namespace: NamespaceKey): Promise<readonly ClassDefinition[]> {
    this.#check();
    const classes = this.#namespaces.get(namespace)?.classes ?? new Map<ClassKey, ClassDefinition>();
    return [...classes.entries()].sort(([a], [b]) => compare(a, b)).map(([, definition]) => definition);
  }

  async listQualifiers(namespace: NamespaceKey): Promise<readonly QualifierDeclaration[]> {
    this.#check();
    const declarations = this.#namespaces.get(namespace)?.qualifiers ?? new Map<string, QualifierDeclaration>();
    return [...declarations.entries()].sort(([a], [b]) => compare(a, b)).map(([, declaration]) => declaration);
  }

  async getInstance(namespace: NamespaceKey, className: ClassKey, key: string): Promise<StoredInstance | undefined> {
    this.#check();
    return this.#namespaces.get(namespace)?.instances.get(className)?.get(key);
  }

  async listInstances(namespace: NamespaceKey, className: ClassKey): Promise<readonly InstanceEntry[]> {
    this.#check();
    const instances = this.#namespaces.get(namespace)?.instances.get(className) ?? new Map<string, StoredInstance>();
    return [...instances.entries()].sort(([a], [b]) => compare(a, b)).map(([key, instance]) => ({ key, instance }));
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
        else if ((write.op === 'putClass' || write.op === 'putQualifier' || write.op === 'putInstance') && !present.has(write.namespace)) {
          throw new StoreError('STORE_CORRUPT_RECORD', `namespace ${write.namespace} is not stored`);
        } else if (write.op !== 'putClass' && write.op !== 'deleteClass' && write.op !== 'putQualifier' && write.op !== 'putInstance' && write.op !== 'deleteInstance') {
          const unknown: never = write;
          throw new StoreError('STORE_CORRUPT_RECORD', `unknown store write ${JSON.stringify(unknown)}`);
        }
      }
      for (const write of writes) this.#apply(write);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #apply(write: StoreWrite): void {
    switch (write.op) {
      case 'putNamespace': {
        const existing = this.#namespaces.get(write.namespace);
        if (existing !== undefined) existing.record = write.record;
        else this.#namespaces.set(write.namespace, { record: write.record, classes: new Map(), children: new Map(), qualifiers: new Map(), instances: new Map() });
        return;
      }
      case 'deleteNamespace':
        this.#namespaces.delete(write.namespace);
        return;
      case 'putClass': {
        const data = this.#namespaces.get(write.namespace) as NamespaceData;
        const key = classKey(write.definition.name);
        if (write.previousSuperclass !== undefined) data.children.get(write.previousSuperclass ?? ROOT)?.delete(key);
        const parent = write.definition.superclass === '' ? ROOT : classKey(write.definition.superclass);
        let siblings = data.children.get(parent);
        if (siblings === undefined) data.children.set(parent, (siblings = new Set()));
        siblings.add(key);
        data.classes.set(key, write.definition);
        return;
      }
      case 'putQualifier':
        (this.#namespaces.get(write.namespace) as NamespaceData).qualifiers.set(write.declaration.name.toLowerCase(), write.declaration);
        return;
      case 'deleteClass': {
        const data = this.#namespaces.get(write.namespace);
        if (data === undefined) return;
        data.classes.delete(write.className);
        data.children.get(write.superclass ?? ROOT)?.delete(write.className);
        data.children.delete(write.className);
        return;
      }
      case 'putInstance': {
        const instances = (this.#namespaces.get(write.namespace) as NamespaceData).instances;
        let ofClass = instances.get(write.className);
        if (ofClass === undefined) instances.set(write.className, (ofClass = new Map<string, StoredInstance>()));
        ofClass.set(write.key, write.instance);
        return;
      }
      case 'deleteInstance': {
        const ofClass = this.#namespaces.get(write.namespace)?.instances.get(write.className);
        ofClass?.delete(write.key);
        if (ofClass?.size === 0) this.#namespaces.get(write.namespace)?.instances.delete(write.className);
        return;
      }
    }
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
