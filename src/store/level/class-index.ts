/**
 * The LevelDB store's class index: per namespace, which classes exist and which are whose
 * children, so "no such class" (every create asks it, under the service's namespace lock) is
 * answered without a LevelDB read. It is derived from the class records themselves (their
 * superclass field), once per namespace on first use, and kept in memory with every commit: one
 * LevelDB write per class instead of a record plus an index entry (the per-operation cost of a
 * LevelDB batch dominated), and an index that cannot disagree with the records.
 */
import { classKey, superclassKeyOf, unsliced, type NamespaceKey } from '../../domain/names';
import type { StoreWrite } from '../class-store';
import { classPrefix } from './keys';
import { NamespaceIndexes, type IndexKind, type VisibleScan } from './namespace-indexes';
import { superclassOfEncodedClass, type StoredClass } from './record-codec';
import { SortedChildren } from './sorted-children';

/** Classes of one namespace: each class's superclass key ('' for a root class), and the reverse. */
export interface ClassIndex {
  readonly parentOf: Map<string, string>;
  readonly children: Map<string, Set<string>>;
  /** `children` in key order, for the parents read so far (sorted-children.ts). */
  readonly sorted: Map<string, SortedChildren>;
}

const NO_CHILDREN: readonly string[] = [];

/** The children of `parent` ('' = the root classes) in key order. */
export function sortedChildren(index: ClassIndex, parent: string): readonly string[] {
  const children = index.children.get(parent);
  let sorted = index.sorted.get(parent);
  if (sorted === undefined) {
    if (children === undefined || children.size === 0) return NO_CHILDREN; // a leaf: keep nothing
    index.sorted.set(parent, (sorted = new SortedChildren()));
  }
  return sorted.read(children ?? new Set());
}

/** A change to a namespace's ClassIndex, recorded at the commit point. */
export type IndexChange =
  | { readonly key: string; readonly parent: string }
  | { readonly key: string; readonly parent: null }
  | { readonly wipe: true };

/** A class's parent as the index files it: its superclass's key, '' for a root class. */
function parentKeyOf(superclass: string): string {
  return superclassKeyOf({ superclass }) ?? '';
}

export function applyIndexChange(index: ClassIndex, change: IndexChange): void {
  if ('wipe' in change) {
    index.parentOf.clear();
    index.children.clear();
    index.sorted.clear();
    return;
  }
  const previous = index.parentOf.get(change.key);
  if (previous === change.parent) return; // an update in place: nobody's children change
  if (previous !== undefined) {
    index.children.get(previous)?.delete(change.key);
    index.sorted.get(previous)?.remove(change.key);
  }
  if (change.parent === null) {
    index.parentOf.delete(change.key);
    return;
  }
  index.parentOf.set(change.key, change.parent);
  index.sorted.get(change.parent)?.add(change.key);
  let siblings = index.children.get(change.parent);
  if (siblings === undefined) index.children.set(change.parent, (siblings = new Set()));
  siblings.add(change.key);
}

const classIndexKind: IndexKind<ClassIndex, IndexChange, string> = {
  prefixOf: classPrefix,
  // The parent's key, what the index keeps ('' for a root class); folding leaves an already
  // folded name as it is, so the copy is made here.
  reduce: (key, text) => unsliced(parentKeyOf(superclassOfEncodedClass(text, key))),
  derive(found, prefix) {
    const index: ClassIndex = { parentOf: new Map(), children: new Map(), sorted: new Map() };
    for (const [key, value] of found) {
      const parent =
        typeof value === 'string'
          ? value
          : parentKeyOf((value.decoded as StoredClass).definition.superclass);
      applyIndexChange(index, { key: key.slice(prefix.length), parent });
    }
    return index;
  },
  apply: applyIndexChange,
};

/** The class indexes of every namespace used so far (namespace-indexes.ts: loading, journal). */
export class ClassIndexes {
  readonly #indexes: NamespaceIndexes<ClassIndex, IndexChange, string>;

  constructor(scan: VisibleScan) {
    this.#indexes = new NamespaceIndexes(classIndexKind, scan);
  }

  /** The namespace's ClassIndex, derived from its class records on first use. */
  of(namespace: NamespaceKey): ClassIndex | Promise<ClassIndex> {
    return this.#indexes.of(namespace);
  }

  /** Records the index change a write makes, at its commit point. */
  noteWrite(write: StoreWrite): void {
    if (write.op === 'putClass') {
      const parent = parentKeyOf(write.definition.superclass);
      this.#indexes.note(write.namespace, { key: classKey(write.definition.name), parent });
    } else if (write.op === 'deleteClass')
      this.#indexes.note(write.namespace, { key: write.className, parent: null });
    else if (write.op === 'deleteNamespace') this.#indexes.note(write.namespace, { wipe: true });
  }

  /** Forgets every index (closed, or failed: they are derived again from the disk). */
  clear(): void {
    this.#indexes.clear();
  }
}
