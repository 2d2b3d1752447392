/**
 * What the class rules read through (class-loader.ts): the store plus the built-in system classes,
 * or a CompileMof's StagedClasses, which sees on top of the store the classes the compile has
 * decided but not yet written, so each class of a MOF file is judged against the ones before it
 * and all of them are written in one atomic commit at the end.
 */
import type { ClassDefinition, ResolvedClass } from '../domain/class-model';
import { classKey, superclassKeyOf, type ClassKey, type NamespaceKey } from '../domain/names';
import { findSystemClass, systemSubclasses } from '../domain/system-classes';
import type { ClassPage, ClassStore, ReadHint } from '../store/class-store';

export interface ClassReader {
  getClass(
    namespace: NamespaceKey,
    key: ClassKey,
    hint?: ReadHint,
  ): Promise<ClassDefinition | undefined>;
  /** getClass of each of `keys`, read at once (ClassStore.getClasses). */
  getClasses(
    namespace: NamespaceKey,
    keys: readonly ClassKey[],
    hint?: ReadHint,
  ): Promise<ClassPage>;
  /** Direct subclasses of `parent` (null = the top level). */
  listSubclasses(namespace: NamespaceKey, parent: ClassKey | null): Promise<readonly ClassKey[]>;
  /** Whether what it reads may be cached across operations (staged classes may never be written). */
  readonly cacheable: boolean;
}

/**
 * The stored classes of every namespace plus its built-in system classes (src/domain/system-classes.ts),
 * which are never stored: a `_` name cannot be put.
 */
export function storeReader(store: ClassStore): ClassReader {
  return {
    getClass: async (namespace, key, hint) =>
      findSystemClass(key) ?? (await store.getClass(namespace, key, hint)),
    getClasses: async (namespace, keys, hint) => {
      const system = keys.map((key) => findSystemClass(key));
      const asked = keys.filter((_, index) => system[index] === undefined);
      const stored = await store.getClasses(namespace, asked, hint);
      let next = 0;
      return system.map((found) => found ?? stored[next++]);
    },
    listSubclasses: async (namespace, parent) => {
      const system = systemSubclasses(parent);
      const stored = await store.listSubclasses(namespace, parent);
      return system.length === 0 ? stored : [...system, ...stored];
    },
    cacheable: true,
  };
}

/** A namespace's cached chains and resolved classes, as one reader sees them. */
export interface ReaderCaches {
  readonly chains: Map<ClassKey, readonly ClassDefinition[]>;
  readonly resolved: Map<ClassKey, ResolvedClass>;
}

export class StagedClasses implements ClassReader {
  readonly cacheable = false;
  readonly #staged = new Map<NamespaceKey, Map<ClassKey, ClassDefinition>>();
  /**
   * Chains and resolved classes as this compile sees them (the store's caches may not hold what is
   * only staged). It runs under its namespaces' locks, so only its own stages change what they
   * hold: a class staged for the first time is in no cached chain, a class staged over one that
   * existed may be, and drops its namespace's caches.
   */
  readonly #caches = new Map<NamespaceKey, ReaderCaches>();

  constructor(private readonly store: ClassReader) {}

  /** `replaces`: the class existed (stored or staged before): an update, not a create. */
  stage(namespace: NamespaceKey, definition: ClassDefinition, replaces: boolean): void {
    let classes = this.#staged.get(namespace);
    if (classes === undefined)
      this.#staged.set(namespace, (classes = new Map<ClassKey, ClassDefinition>()));
    classes.set(classKey(definition.name), definition);
    if (replaces) this.#caches.delete(namespace);
  }

  /** This compile's caches of a namespace. */
  cachesOf(namespace: NamespaceKey): ReaderCaches {
    let caches = this.#caches.get(namespace);
    if (caches === undefined)
      this.#caches.set(namespace, (caches = { chains: new Map(), resolved: new Map() }));
    return caches;
  }

  async getClass(
    namespace: NamespaceKey,
    key: ClassKey,
    hint?: ReadHint,
  ): Promise<ClassDefinition | undefined> {
    return (
      this.#staged.get(namespace)?.get(key) ?? (await this.store.getClass(namespace, key, hint))
    );
  }

  async getClasses(
    namespace: NamespaceKey,
    keys: readonly ClassKey[],
    hint?: ReadHint,
  ): Promise<ClassPage> {
    const stored = await this.store.getClasses(namespace, keys, hint);
    const staged = this.#staged.get(namespace);
    return keys.map((key, index) => staged?.get(key) ?? stored[index]);
  }

  async listSubclasses(
    namespace: NamespaceKey,
    parent: ClassKey | null,
  ): Promise<readonly ClassKey[]> {
    const stored = await this.store.listSubclasses(namespace, parent);
    const staged = this.#staged.get(namespace);
    if (staged === undefined) return stored;
    // A staged class may have moved to another superclass, or be new under this one.
    const children = stored.filter((key) => {
      const restaged = staged.get(key);
      return restaged === undefined || superclassKeyOf(restaged) === parent;
    });
    for (const [key, definition] of staged)
      if (superclassKeyOf(definition) === parent && !children.includes(key)) children.push(key);
    return children;
  }
}
