/**
 * Loads what the class rules read (docs/style.md §2.2): a class's world for decidePutClass, its
 * superclass chain, its descendants, the class resolved. Chains are read by nearly every call and
 * change only at a class write, so they are cached, and dropped at each commit that touches them.
 *
 * What the rules read comes through a ClassReader (class-reader.ts): the store plus the built-in
 * system classes, or a CompileMof's StagedClasses.
 */
import type { ClassDefinition, ResolvedClass } from '../domain/class-model';
import type { ClassWorld } from '../domain/decide-put-class';
import {
  classKey,
  preview,
  sameName,
  superclassKeyOf,
  type ClassKey,
  type NamespaceKey,
} from '../domain/names';
import { deriveClass } from '../domain/resolve-class';
import { WbemError } from '../domain/wbem-status';
import type { ClassStore, ReadHint } from '../store/class-store';
import { StagedClasses, storeReader, type ClassReader, type ReaderCaches } from './class-reader';
import { BoundedMap } from './bounded-map';
import { TimeSlicer } from './time-slice';

/** The caches a read goes through, and whether what it read may be kept in them now. */
interface CacheSlot {
  readonly caches: ReaderCaches;
  current(): boolean;
}

/**
 * Resolved classes (and chains) kept per namespace. Beyond it the oldest go first: a repository of
 * 100,000 classes would otherwise keep every class it ever returned resolved (≈ 1 GB of heap after
 * one deep enumeration, against ≈ 340 MB at this bound; docs/performance.md). An enumeration
 * resolves a class right after its parent's level, so its parent is among the newest entries.
 */
export const CLASS_CACHE_LIMIT = 20_000;
const SCAN: ReadHint = { scan: true };

export class ClassLoader {
  /** The store plus the built-in system classes: what every operation but a CompileMof reads. */
  readonly reader: ClassReader;
  readonly #store: ClassStore;
  /** Superclass chains (the class first, then its ancestors), by namespace, then class key. */
  readonly #chains = new Map<NamespaceKey, Map<ClassKey, readonly ClassDefinition[]>>();
  /** Resolved classes by namespace, then class key: a class is derived from its parent's entry. */
  readonly #resolved = new Map<NamespaceKey, Map<ClassKey, ResolvedClass>>();
  /** Bumped at every invalidation: what is read across a write is not cached (it may be stale). */
  #generation = 0;
  /**
   * The store revision the caches were filled at. A class write by anyone (another process on a
   * shared store too) moves it, and the caches are dropped at the next read.
   */
  #revision: bigint;

  constructor(
    store: ClassStore,
    /** Resolved classes (and chains) kept per namespace; a bigger enumeration scans (resolve). */
    readonly cacheLimit: number = CLASS_CACHE_LIMIT,
  ) {
    this.#store = store;
    this.reader = storeReader(store);
    this.#revision = store.revision;
  }

  /** The namespace's cache in `caches`, after dropping every cache when the store has moved on. */
  #cacheOf<T>(caches: Map<NamespaceKey, Map<ClassKey, T>>, ns: NamespaceKey): Map<ClassKey, T> {
    const revision = this.#store.revision;
    if (revision !== this.#revision) {
      this.#revision = revision;
      this.#generation++;
      this.#chains.clear();
      this.#resolved.clear();
    }
    let cache = caches.get(ns);
    if (cache === undefined) caches.set(ns, (cache = new BoundedMap<ClassKey, T>(this.cacheLimit)));
    return cache;
  }

  /** Whether what was read since `generation` may be cached: no write came in between. */
  #stillCurrent(generation: number): boolean {
    return generation === this.#generation && this.#store.revision === this.#revision;
  }

  /**
   * The caches `reader` reads through for a namespace, and whether what it reads from now on may
   * go into them: the store's (unless a write comes in between), a CompileMof's own, or none.
   */
  #cachesFor(reader: ClassReader, ns: NamespaceKey): CacheSlot | undefined {
    if (reader instanceof StagedClasses)
      return { caches: reader.cachesOf(ns), current: () => true };
    if (!reader.cacheable) return undefined;
    const caches = {
      chains: this.#cacheOf(this.#chains, ns),
      resolved: this.#cacheOf(this.#resolved, ns),
    };
    const generation = this.#generation;
    return { caches, current: () => this.#stillCurrent(generation) };
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
    let superclass: ResolvedClass | undefined;
    const created =
      existing === undefined && definition.superclass !== ''
        ? await this.#createdUnder(ns, classKey(definition.superclass), reader)
        : undefined;
    if (created !== undefined) ({ ancestors, superclass } = created);
    else if (definition.superclass !== '') {
      // Only an existing class can be on its superclass's chain (a circular update): not a create.
      const stopAt = existing === undefined ? undefined : key;
      const chain = await this.loadChain(ns, classKey(definition.superclass), stopAt, reader);
      ancestors = chain ?? 'missing';
      // A chain that reaches the class itself (it ends there) is circular: the rules refuse it.
      const end = chain?.[chain.length - 1];
      if (end !== undefined && classKey(end.name) !== key)
        superclass = await this.resolve(ns, classKey(definition.superclass), reader);
    }
    let hasSubclasses = false;
    let descendants: ClassDefinition[] = [];
    const instanceCounts = new Map<ClassKey, number>();
    if (existing !== undefined) {
      hasSubclasses = (await reader.listSubclasses(ns, key)).length > 0;
      if (hasSubclasses) descendants = await this.loadDescendants(ns, key, reader);
      // Only an update's gate reads them (§6.4, M10); a create never pays for the counts.
      const slicer = new TimeSlicer();
      for (const definition of [existing, ...descendants]) {
        await slicer.tick();
        const count = await this.#store.countInstances(ns, classKey(definition.name));
        if (count > 0) instanceCounts.set(classKey(definition.name), count);
      }
    }
    return {
      existing,
      ancestors,
      ...(superclass === undefined ? {} : { superclass }),
      hasSubclasses,
      descendants,
      instanceCounts,
    };
  }

  /**
   * A create's superclass resolved, and as `ancestors` its chain when cached, else its stored
   * definition alone: the rules read no more of a new class's chain when given the superclass
   * resolved (ClassWorld). A chain compiled at once copied each class's chain from its parent's,
   * O(depth) a class and O(n²) alive until the commit (docs/performance.md, D1). Undefined when the
   * superclass does not resolve: the caller loads the chain, which says what is missing.
   */
  async #createdUnder(
    ns: NamespaceKey,
    superKey: ClassKey,
    reader: ClassReader,
  ): Promise<{ ancestors: readonly ClassDefinition[]; superclass: ResolvedClass } | undefined> {
    const superclass = await this.resolve(ns, superKey, reader);
    if (superclass === undefined) return undefined;
    const cached = this.#cachesFor(reader, ns)?.caches.chains.get(superKey);
    if (cached !== undefined) return { ancestors: cached, superclass };
    const nearest = await reader.getClass(ns, superKey);
    return nearest === undefined ? undefined : { ancestors: [nearest], superclass };
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
    const slot = this.#cachesFor(reader, ns);
    // sameName against the key (folded): no key built per class of the chain.
    const reusable = (chain: readonly ClassDefinition[]): boolean =>
      stopAt === undefined || !chain.some((c) => sameName(c.name, stopAt));
    const cached = slot?.caches.chains.get(start);
    if (cached !== undefined && reusable(cached)) return cached;
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
      // The rest is a cached chain: one read, not a walk to the root, per class of a deep chain
      // (unless a write came in since the walk began: then every step reads what is there now).
      const above =
        next === null || slot?.current() !== true ? undefined : slot.caches.chains.get(next);
      if (above !== undefined && reusable(above)) {
        for (const ancestor of above) chain.push(ancestor);
        break;
      }
    }
    if (slot?.current() === true) slot.caches.chains.set(start, chain);
    return chain;
  }

  /**
   * Every stored subclass of `parent`, breadth-first (parents before children). In slices: the
   * reads may all be answered from memory, as microtasks that never let the event loop turn.
   */
  async loadDescendants(
    ns: NamespaceKey,
    parent: ClassKey,
    reader: ClassReader = this.reader,
  ): Promise<ClassDefinition[]> {
    const found: ClassDefinition[] = [];
    const queue: ClassKey[] = [parent];
    const slicer = new TimeSlicer();
    for (let index = 0; index < queue.length; index++) {
      const current = queue[index] as ClassKey;
      // Here too: 10,000 leaves under one class are 10,000 listings with no child between them.
      await slicer.tick();
      for (const child of await reader.listSubclasses(ns, current)) {
        await slicer.tick();
        const definition = await reader.getClass(ns, child);
        if (definition === undefined) continue; // index ahead of a concurrent delete; nothing to check
        found.push(definition);
        queue.push(child);
      }
    }
    return found;
  }

  /**
   * The class resolved, or undefined when it (or a class on its chain) does not exist. Its local
   * definition is applied on top of the nearest cached resolved ancestor, so resolving a class whose
   * parent is cached costs one read and one derivation step, whatever the depth.
   *
   * `scan`: the class is read once by a pass over more classes than the cache holds (a big
   * enumeration). Neither it nor its record is kept: a FIFO cache filled by such a pass only loses
   * its hot set and never hits, and what it keeps dies after surviving young-generation GCs, the
   * costliest garbage (docs/performance.md, R3). Ancestors derived on the way are still cached:
   * they have subclasses (this one), which the pass reaches next.
   */
  async resolve(
    ns: NamespaceKey,
    key: ClassKey,
    reader: ClassReader = this.reader,
    scan = false,
  ): Promise<ResolvedClass | undefined> {
    const slot = this.#cachesFor(reader, ns);
    const cache = slot?.caches.resolved;
    const hit = cache?.get(key);
    if (hit !== undefined) return hit;
    const pending: ClassDefinition[] = []; // the class first, up to the first cached ancestor
    const seen = new Set<ClassKey>();
    let base: ResolvedClass | undefined;
    let next: ClassKey | null = key;
    while (next !== null && base === undefined && !seen.has(next)) {
      seen.add(next); // defensive: stored data is acyclic, never loop on damage
      const once = scan && next === key;
      const definition = await reader.getClass(ns, next, once ? SCAN : undefined);
      if (definition === undefined) return undefined;
      pending.push(definition);
      next = superclassKeyOf(definition);
      if (next !== null) base = cache?.get(next);
    }
    let resolved = base;
    for (let index = pending.length - 1; index >= 0; index--) {
      const definition = pending[index] as ClassDefinition;
      resolved = deriveClass(resolved, definition);
      if (cache !== undefined && slot?.current() === true && !(scan && index === 0))
        cache.set(classKey(definition.name), resolved);
    }
    return resolved;
  }

  /**
   * Classes resolved as `resolve` resolves each, for an enumeration's page: one read of those not
   * cached (ClassReader.getClasses), each derived from its parent's cached resolved form (classPages
   * caches parents first; one that is not, a class moved meanwhile, is resolved as `resolve` would).
   */
  async resolvePage(
    ns: NamespaceKey,
    keys: readonly ClassKey[],
    reader: ClassReader = this.reader,
    scan = false,
  ): Promise<(ResolvedClass | undefined)[]> {
    const slot = this.#cachesFor(reader, ns);
    const cache = slot?.caches.resolved;
    const found = keys.map((key) => cache?.get(key));
    const missing = keys.filter((_, index) => found[index] === undefined);
    const definitions = await reader.getClasses(ns, missing, scan ? SCAN : undefined);
    let read = 0;
    for (const [index, key] of keys.entries()) {
      if (found[index] !== undefined) continue;
      const definition = definitions[read++];
      if (definition === undefined) continue;
      const parent = superclassKeyOf(definition);
      let base = parent === null ? undefined : cache?.get(parent);
      if (parent !== null) base ??= await this.resolve(ns, parent, reader);
      if (parent !== null && base === undefined) continue; // a class on its chain is gone
      const resolved = (found[index] = deriveClass(base, definition));
      if (!scan && slot?.current() === true) cache?.set(key, resolved);
    }
    return found;
  }

  /** The class resolved (from the store or a CompileMof's staged classes); WBEM_E_INVALID_CLASS when it does not exist. */
  async resolvedClass(
    ns: NamespaceKey,
    className: string,
    reader: ClassReader = this.reader,
  ): Promise<ResolvedClass> {
    const resolved = await this.resolve(ns, classKey(className), reader);
    if (resolved === undefined)
      throw new WbemError('WBEM_E_INVALID_CLASS', `class ${preview(className)} does not exist`);
    return resolved;
  }

  /**
   * Drops the namespace's cached chains and resolved classes after a write to `classNames`: one
   * map dropped, whatever was cached (a write costs nothing in proportion to the cache).
   */
  forgetChains(ns: NamespaceKey, _classNames: readonly string[]): void {
    this.#generation++;
    this.#chains.delete(ns);
    this.#resolved.delete(ns);
  }

  /**
   * After a commit that only created a class, which moved the store from `before` to `after` at
   * once (in this process, so no other write between): a new class is on no cached chain and no
   * cached class derives from it (as StagedClasses.stage), so the caches stay valid at `after`:
   * mofcomp's class after class keeps its superclasses resolved. Otherwise (a commit point reached
   * later, a write by another process) the moved revision drops them at the next read, as ever.
   */
  keepThroughCreate(before: bigint, after: bigint): void {
    if (after > before && this.#revision === before && this.#store.revision === after)
      this.#revision = after;
  }

  /**
   * After a CompileMof's commit point, reached at `revision` with no write after it: the classes it
   * resolved in each namespace it wrote go into that namespace's cache. Those are its own caches
   * (class-reader.ts: the store as it read it under the namespaces' locks and fence, plus its
   * stages), so they hold what the store now holds, and the enumeration that usually follows a
   * schema load does not derive every class again (D2). `createdSince`: the compile only created
   * classes and took its fence at that revision; the namespace's own cache, when it has been
   * current since then, stays too (nothing but those creates changed the namespace, and a new
   * class is on no cached chain). Every other cache is dropped, as the moved revision would drop
   * it at the next read; chains are not kept (a write rebuilds what it needs). False (nothing
   * done) when the store has moved past `revision`, or no namespace's classes were written.
   */
  adoptResolved(
    revision: bigint,
    namespaces: readonly (readonly [NamespaceKey, ReadonlyMap<ClassKey, ResolvedClass>])[],
    createdSince?: bigint,
  ): boolean {
    if (namespaces.length === 0 || this.#store.revision !== revision) return false;
    const keep = createdSince !== undefined && this.#revision >= createdSince;
    const caches = new Map<NamespaceKey, Map<ClassKey, ResolvedClass>>();
    for (const [ns] of namespaces) {
      const cache = keep ? this.#resolved.get(ns) : undefined;
      caches.set(ns, cache ?? new BoundedMap<ClassKey, ResolvedClass>(this.cacheLimit));
    }
    this.#generation++;
    this.#chains.clear();
    this.#resolved.clear();
    this.#revision = revision;
    for (const [ns, resolved] of namespaces) {
      const cache = caches.get(ns) as Map<ClassKey, ResolvedClass>;
      this.#resolved.set(ns, cache);
      // A class cached already keeps its object (and the encoded bytes kept with it). Of a compile
      // bigger than the bound only the newest fit: the older are not set only to be pushed out.
      let older = resolved.size - this.cacheLimit;
      for (const [key, value] of resolved)
        if (older-- <= 0 && !cache.has(key)) cache.set(key, value);
    }
    return true;
  }

  /** Drops every cached chain and resolved class of the deleted namespaces. */
  forgetNamespaces(namespaces: readonly NamespaceKey[]): void {
    this.#generation++;
    for (const ns of namespaces) {
      this.#chains.delete(ns);
      this.#resolved.delete(ns);
    }
  }
}
