/**
 * What the rules need to read: classes and subclasses of a namespace. The store is one reader;
 * StagedClasses is another that sees, on top of the store, the classes a CompileMof has decided
 * but not yet written, so each class of a MOF file is judged against the ones before it and all
 * of them are written in one atomic commit at the end.
 */
import type { ClassDefinition } from '../domain/class-model';
import { classKey, superclassKeyOf, type ClassKey, type NamespaceKey } from '../domain/names';
import { findSystemClass, systemSubclasses } from '../domain/system-classes';
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
