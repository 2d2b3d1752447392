/**
 * An in-memory index per namespace, derived from the records under one key prefix on first use
 * and kept current by every commit at its commit point (the class index, the instance index).
 * Commits that land while the deriving scan runs are journaled and replayed on its result, so the
 * index never misses a write: the scan copies the overlay in the tick it starts, and every later
 * commit is in the journal.
 */
import type { NamespaceKey } from '../../domain/names';
import type { OverlayEntry } from './overlay';

/**
 * Reads the records under a prefix as reads see them (what `reduce` keeps of the text from disk,
 * or a pending overlay entry), copying the overlay in the tick it is called.
 */
export type VisibleScan = <Found>(
  prefix: string,
  reduce: (key: string, text: string) => Found,
) => Promise<Map<string, Found | OverlayEntry>>;

/** How one kind of index is derived from records and changed by writes. */
export interface IndexKind<Index, Change, Found> {
  /** The key prefix of the namespace's records the index is derived from. */
  prefixOf(namespace: NamespaceKey): string;
  /**
   * What the index needs of a record read from disk, taken as the scan reads it: the scan holds
   * that, not the record's text. Its own copy (a slice of the text would keep the text alive).
   */
  readonly reduce: (key: string, text: string) => Found;
  /** The index of the records found under the prefix (keys with the prefix). */
  derive(found: Map<string, Found | OverlayEntry>, prefix: string): Index;
  apply(index: Index, change: Change): void;
}

export class NamespaceIndexes<Index, Change, Found> {
  readonly #indexes = new Map<NamespaceKey, Index | Promise<Index>>();
  readonly #journals = new Map<NamespaceKey, Change[]>();

  constructor(
    private readonly kind: IndexKind<Index, Change, Found>,
    private readonly scan: VisibleScan,
  ) {}

  /** The namespace's index, derived from its records on first use. */
  of(namespace: NamespaceKey): Index | Promise<Index> {
    const entry = this.#indexes.get(namespace);
    if (entry !== undefined) return entry;
    const journal: Change[] = [];
    this.#journals.set(namespace, journal);
    const prefix = this.kind.prefixOf(namespace);
    const loading = this.scan(prefix, this.kind.reduce).then(
      (found) => {
        const index = this.kind.derive(found, prefix);
        for (const change of journal) this.kind.apply(index, change);
        this.#journals.delete(namespace);
        if (this.#indexes.get(namespace) === loading) this.#indexes.set(namespace, index);
        return index;
      },
      (error: unknown) => {
        this.#journals.delete(namespace);
        this.#indexes.delete(namespace);
        throw error;
      },
    );
    this.#indexes.set(namespace, loading);
    return loading;
  }

  /** Records a change at its commit point: applied now, or journaled while the index loads. */
  note(namespace: NamespaceKey, change: Change): void {
    const index = this.#indexes.get(namespace);
    if (index instanceof Promise) this.#journals.get(namespace)?.push(change);
    else if (index !== undefined) this.kind.apply(index, change);
  }

  /** Forgets every index (closed, or failed: they are derived again from the disk). */
  clear(): void {
    this.#indexes.clear();
    this.#journals.clear();
  }
}
