/**
 * The namespaces and their qualifier declarations, in memory. Namespaces are few and read by
 * every call, so the table is loaded once and updated at each namespace commit point: the
 * "namespace absent" check is immediate, as WMI binds the namespace before the call (Appendix B),
 * and it is re-checked under the namespace lock, where a concurrent DeleteNamespace could have
 * removed it.
 */
import type { QualifierDeclaration } from '../domain/class-model';
import { namespaceKeyOf, preview, type NamespaceKey } from '../domain/names';
import {
  BUILT_IN_NAMESPACES,
  formatNamespace,
  parseNamespacePath,
  type IsLocalMachine,
  type NamespacePath,
} from '../domain/namespace-path';
import { WbemError } from '../domain/wbem-status';
import type { ClassStore, NamespaceRecord, StoreWrite } from '../store/class-store';

/** A namespace as a call named it, found in the table: its key and its record. */
export interface BoundNamespace {
  readonly key: NamespaceKey;
  readonly record: NamespaceRecord;
}

/** Lock key for the namespace tree itself (create/delete namespace); not a namespace key. */
export const NAMESPACE_TREE_LOCK = '\u0000namespaces';

/** How many parsed namespace texts `bind` keeps. */
const PARSED_NAMESPACES_KEPT = 256;

export class NamespaceTable {
  readonly #records = new Map<NamespaceKey, NamespaceRecord>();
  /** Qualifier declarations per namespace (folded name → declaration). */
  readonly #qualifiers = new Map<NamespaceKey, Map<string, QualifierDeclaration>>();
  readonly #isLocalMachine: IsLocalMachine;
  /**
   * Namespace texts parsed before (parsing is pure: the text and this server's name): every call
   * names one, nearly always one of a few. Bounded: cleared when full.
   */
  readonly #parsed = new Map<string, NamespacePath>();

  constructor(isLocalMachine: IsLocalMachine) {
    this.#isLocalMachine = isLocalMachine;
  }

  /** Loads the table and creates root, root\cimv2 and root\default when absent. */
  async load(store: ClassStore): Promise<void> {
    for (const record of await store.listNamespaces()) {
      const key = namespaceKeyOf(record.elements);
      this.#records.set(key, record);
      const declarations = await store.listQualifiers(key);
      if (declarations.length > 0)
        this.#qualifiers.set(key, new Map(declarations.map((d) => [d.name.toLowerCase(), d])));
    }
    const missing: StoreWrite[] = [];
    for (const elements of BUILT_IN_NAMESPACES) {
      const key = namespaceKeyOf(elements);
      if (!this.#records.has(key))
        missing.push({ op: 'putNamespace', namespace: key, record: { elements } });
    }
    if (missing.length > 0) {
      const durable = store.commit(missing);
      for (const write of missing)
        if (write.op === 'putNamespace') this.#records.set(write.namespace, write.record);
      await durable;
    }
  }

  /** §3.3 step 2: unparseable → INVALID_PARAMETER; absent → INVALID_NAMESPACE. */
  bind(text: string): BoundNamespace {
    const path = this.#parse(text);
    return { key: path.key, record: this.require(path.key, text) };
  }

  /** The key a namespace path names, read as `bind` reads it, present in the table or not. */
  keyOf(text: string): NamespaceKey {
    return this.#parse(text).key;
  }

  #parse(text: string): NamespacePath {
    let path = this.#parsed.get(text);
    if (path === undefined) {
      path = parseNamespacePath(text, this.#isLocalMachine); // throws for unparseable text
      if (this.#parsed.size >= PARSED_NAMESPACES_KEPT) this.#parsed.clear();
      this.#parsed.set(text, path);
    }
    return path;
  }

  /** The namespace's record; WBEM_E_INVALID_NAMESPACE when it is absent (or was deleted meanwhile). */
  require(key: NamespaceKey, asWritten: string): NamespaceRecord {
    const record = this.#records.get(key);
    if (record === undefined) {
      throw new WbemError(
        'WBEM_E_INVALID_NAMESPACE',
        `namespace ${preview(asWritten)} does not exist`,
        {
          namespace: asWritten,
        },
      );
    }
    return record;
  }

  has(key: NamespaceKey): boolean {
    return this.#records.has(key);
  }

  /** Every namespace, in no particular order. */
  entries(): IterableIterator<[NamespaceKey, NamespaceRecord]> {
    return this.#records.entries();
  }

  /** Called at the commit point of a CreateNamespace. */
  add(key: NamespaceKey, record: NamespaceRecord): void {
    this.#records.set(key, record);
  }

  /** Called at the commit point of a DeleteNamespace: the namespaces and their declarations go. */
  remove(keys: readonly NamespaceKey[]): void {
    for (const key of keys) {
      this.#records.delete(key);
      this.#qualifiers.delete(key);
    }
  }

  /** The namespace's qualifier declarations, by folded name. */
  qualifiersOf(key: NamespaceKey): ReadonlyMap<string, QualifierDeclaration> {
    return this.#qualifiers.get(key) ?? NO_QUALIFIERS;
  }

  /** Called at the commit point of a CompileMof that declares qualifiers. */
  declareQualifier(key: NamespaceKey, declaration: QualifierDeclaration): void {
    let known = this.#qualifiers.get(key);
    if (known === undefined)
      this.#qualifiers.set(key, (known = new Map<string, QualifierDeclaration>()));
    known.set(declaration.name.toLowerCase(), declaration);
  }
}

const NO_QUALIFIERS: ReadonlyMap<string, QualifierDeclaration> = new Map();

/** Why a call or a watch in a namespace ends when a DeleteNamespace removed it. */
export function namespaceGone(record: NamespaceRecord): WbemError {
  const namespace = formatNamespace(record.elements);
  return new WbemError('WBEM_E_INVALID_NAMESPACE', `namespace ${namespace} was deleted`, {
    namespace,
  });
}
