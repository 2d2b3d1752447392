/**
 * The LevelDB store's instance index: per namespace, the instance keys filed under each class.
 * Most classes hold no static instance, yet an enumeration, a DeleteClass or a FORCE update asks
 * the store about every class of a subtree; without the index each question is a LevelDB
 * iterator (several round trips to libuv's pool: about a millisecond on a loaded machine, seconds
 * over 10,000 subclasses). Derived from the instance records once per namespace, kept current
 * with every commit; it holds keys only (the records stay on disk).
 */
import type { NamespaceKey } from '../../domain/names';
import type { StoreWrite } from '../class-store';
import { instanceNamespacePrefix } from './keys';
import { NamespaceIndexes, type IndexKind, type VisibleScan } from './namespace-indexes';

/** Class key → the keys of the instances filed under exactly that class (none: absent). */
export type InstanceIndex = Map<string, Set<string>>;

type InstanceChange =
  | { readonly className: string; readonly key: string; readonly present: boolean }
  | { readonly wipe: true };

const instanceIndexKind: IndexKind<InstanceIndex, InstanceChange, null> = {
  prefixOf: instanceNamespacePrefix,
  // The keys say it all: nothing of a record is kept.
  reduce: () => null,
  derive(found, prefix) {
    const index: InstanceIndex = new Map();
    for (const recordKey of found.keys()) {
      // o!<namespace>!<class>!<key>: a class key holds no '!', an instance key may.
      const rest = recordKey.slice(prefix.length);
      const bang = rest.indexOf('!');
      if (bang > 0) add(index, rest.slice(0, bang), rest.slice(bang + 1));
    }
    return index;
  },
  apply(index, change) {
    if ('wipe' in change) index.clear();
    else if (change.present) add(index, change.className, change.key);
    else {
      const keys = index.get(change.className);
      keys?.delete(change.key);
      if (keys?.size === 0) index.delete(change.className);
    }
  },
};

function add(index: InstanceIndex, className: string, key: string): void {
  let keys = index.get(className);
  if (keys === undefined) index.set(className, (keys = new Set()));
  keys.add(key);
}

export class InstanceIndexes {
  readonly #indexes: NamespaceIndexes<InstanceIndex, InstanceChange, null>;

  constructor(scan: VisibleScan) {
    this.#indexes = new NamespaceIndexes(instanceIndexKind, scan);
  }

  /** The namespace's instance index, derived from its instance records on first use. */
  of(namespace: NamespaceKey): InstanceIndex | Promise<InstanceIndex> {
    return this.#indexes.of(namespace);
  }

  /** Records the index change a write makes, at its commit point. */
  noteWrite(write: StoreWrite): void {
    if (write.op === 'putInstance' || write.op === 'deleteInstance') {
      this.#indexes.note(write.namespace, {
        className: write.className,
        key: write.key,
        present: write.op === 'putInstance',
      });
    } else if (write.op === 'deleteNamespace') this.#indexes.note(write.namespace, { wipe: true });
  }

  clear(): void {
    this.#indexes.clear();
  }
}
