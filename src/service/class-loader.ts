/**
 * Loads what the class rules read (docs/style.md §2.2): a class's world for decidePutClass, its
 * superclass chain, its descendants, the class resolved. Chains are read by nearly every call and
 * change only at a class write, so they are cached, and dropped at each commit that touches them.
 *
 * What the rules read comes through a ClassReader. The store (plus the built-in system classes)
 * is one; StagedClasses is another that sees, on top of the store, the classes a CompileMof has
 * decided but not yet written, so each class of a MOF file is judged against the ones before it
 * and all of them are written in one atomic commit at the end.
 */
import type { ClassDefinition, ResolvedClass } from '../domain/class-model';
import type { ClassWorld } from '../domain/decide-put-class';
import {
  classKey,
  preview,
  superclassKeyOf,
  type ClassKey,
  type NamespaceKey,
} from '../domain/names';
import { resolveClass } from '../domain/resolve-class';
import { findSystemClass, systemSubclasses } from '../domain/system-classes';
import { WbemError } from '../domain/wbem-status';
import type { ClassStore } from '../store/class-store';

export interface ClassReader {
  getClass(namespace: NamespaceKey, key: ClassKey): Promise<ClassDefinition | undefined>;
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
    getClass: async (namespace, key) =>
      findSystemClass(key) ?? (await store.getClass(namespace, key)),
    listSubclasses: async (namespace, parent) => {
      const system = systemSubclasses(parent);
      const stored = await store.listSubclasses(namespace, parent);
      return system.length === 0 ? stored : [...system, ...stored];
    },
    cacheable: true,
  };
}

export class StagedClasses implements ClassReader {
  readonly cacheable = false;
  readonly #staged = new Map<NamespaceKey, Map<ClassKey, ClassDefinition>>();

  constructor(private readonly store: ClassReader) {}

  stage(namespace: NamespaceKey, definition: ClassDefinition): void {
    let classes = this.#staged.get(namespace);
    if (classes === undefined)
      this.#staged.set(namespace, (classes = new Map<ClassKey, ClassDefinition>()));
    classes.set(classKey(definition.name), definition);
  }

  async getClass(namespace: NamespaceKey, key: ClassKey): Promise<ClassDefinition | undefined> {
    return this.#staged.get(namespace)?.get(key) ?? (await this.store.getClass(namespace, key));
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

export class ClassLoader {
  /** The store plus the built-in system classes: what every operation but a CompileMof reads. */
  readonly reader: ClassReader;
  readonly #store: ClassStore;
  /** Superclass chains (the class first, then its ancestors), by namespace and class key. */
  readonly #chains = new Map<string, readonly ClassDefinition[]>();
  /** Bumped at every invalidation: a chain read across a write is not cached (it may be stale). */
  #generation = 0;

  constructor(store: ClassStore) {
    this.#store = store;
    this.reader = storeReader(store);
  }

  /** A reader for one CompileMof: the store, plus the classes staged so far. */
  staged(): StagedClasses {
    return new StagedClasses(this.reader);
  }

  /** Loads what decidePutClass needs (docs/style.md §2.2): existing class, superclass chain, children. */
  async loadWorld(
    ns: NamespaceKey,
    definition: ClassDefinition,
    reader: ClassReader = this.reader,
  ): Promise<ClassWorld> {
    const key = classKey(definition.name);
    const existing = await reader.getClass(ns, key);
    let ancestors: ClassWorld['ancestors'] = [];
    if (definition.superclass !== '') {
      const chain = await this.loadChain(ns, classKey(definition.superclass), key, reader);
      ancestors = chain ?? 'missing';
    }
    let hasSubclasses = false;
    let descendants: ClassDefinition[] = [];
    const instanceCounts = new Map<ClassKey, number>();
    if (existing !== undefined) {
      hasSubclasses = (await reader.listSubclasses(ns, key)).length > 0;
      if (hasSubclasses) descendants = await this.loadDescendants(ns, key, reader);
      // Only an update's gate reads them (§6.4, M10); a create never pays for the counts.
      for (const definition of [existing, ...descendants]) {
        const count = await this.#store.countInstances(ns, classKey(definition.name));
        if (count > 0) instanceCounts.set(classKey(definition.name), count);
      }
    }
    return { existing, ancestors, hasSubclasses, descendants, instanceCounts };
  }

  /**
   * The stored chain from `start` up to its root: start first. Undefined when a class on the way is
   * missing. Stops at `stopAt` (included), which is how a circular derivation shows up to the rules.
   */
  async loadChain(
    ns: NamespaceKey,
    start: ClassKey,
    stopAt?: ClassKey,
    reader: ClassReader = this.reader,
  ): Promise<readonly ClassDefinition[] | undefined> {
    const cacheKey = chainCacheKey(ns, start);
    const cached = reader.cacheable ? this.#chains.get(cacheKey) : undefined;
    if (
      cached !== undefined &&
      (stopAt === undefined || !cached.some((c) => classKey(c.name) === stopAt))
    )
      return cached;
    const generation = this.#generation;
    const chain: ClassDefinition[] = [];
    const seen = new Set<ClassKey>();
    let next: ClassKey | null = start;
    while (next !== null) {
      if (seen.has(next)) break; // defensive: stored data is acyclic, never loop on damage
      seen.add(next);
      const definition = await reader.getClass(ns, next);
      if (definition === undefined) return undefined;
      chain.push(definition);
      if (next === stopAt) return chain;
      next = superclassKeyOf(definition);
    }
    if (reader.cacheable && generation === this.#generation) this.#chains.set(cacheKey, chain);
    return chain;
  }

  /** Every stored subclass of `parent`, breadth-first (parents before children). */
  async loadDescendants(
    ns: NamespaceKey,
    parent: ClassKey,
    reader: ClassReader = this.reader,
  ): Promise<ClassDefinition[]> {
    const found: ClassDefinition[] = [];
    const queue: ClassKey[] = [parent];
    for (let index = 0; index < queue.length; index++) {
      const current = queue[index] as ClassKey;
      for (const child of await reader.listSubclasses(ns, current)) {
        const definition = await reader.getClass(ns, child);
        if (definition === undefined) continue; // index ahead of a concurrent delete; nothing to check
        found.push(definition);
        queue.push(child);
      }
    }
    return found;
  }

  /** The class resolved (chain loaded, from the store or a CompileMof's staged classes); WBEM_E_INVALID_CLASS when it does not exist. */
  async resolvedClass(
    ns: NamespaceKey,
    className: string,
    reader: ClassReader = this.reader,
  ): Promise<ResolvedClass> {
    const chain = await this.loadChain(ns, classKey(className), undefined, reader);
    if (chain === undefined)
      throw new WbemError('WBEM_E_INVALID_CLASS', `class ${preview(className)} does not exist`);
    return resolveClass([...chain].reverse());
  }

  /** Drops cached chains that contain any of the written classes. */
  forgetChains(ns: NamespaceKey, classNames: readonly string[]): void {
    this.#generation++;
    const written = new Set(classNames.map(classKey));
    const prefix = `${ns}\u0000`;
    for (const [key, chain] of this.#chains) {
      if (key.startsWith(prefix) && chain.some((c) => written.has(classKey(c.name))))
        this.#chains.delete(key);
    }
  }

  /** Drops every cached chain of the deleted namespaces. */
  forgetNamespaces(namespaces: readonly NamespaceKey[]): void {
    this.#generation++;
    const prefixes = namespaces.map((key) => `${key}\u0000`);
    for (const key of this.#chains.keys())
      if (prefixes.some((p) => key.startsWith(p))) this.#chains.delete(key);
  }
}

function chainCacheKey(ns: NamespaceKey, key: ClassKey): string {
  return `${ns}\u0000${key}`;
}
