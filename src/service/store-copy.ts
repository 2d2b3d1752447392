/**
 * Copies a whole repository from one store to another through the port alone, so any pair of
 * adapters works (LevelDB → etcd is the migration of docs/deployment.md; LevelDB → LevelDB and
 * LevelDB → memory are how it is tested). Per namespace, in the source's key order (a parent
 * namespace before its children): the namespace, its qualifier declarations, its classes with
 * every superclass before its subclasses, then the instances of each class. Writes go out in
 * bounded commits (an etcd transaction has an operation and a size limit; one the target still
 * refuses as too large is split); each commit is awaited until durable before the next, so a
 * failure leaves a prefix of the copy, never a hole.
 *
 * The event log is not carried (docs/decisions.md D65): the port has no write that appends a past
 * event, the target gives every class a new revision of its own history, and an event of the old
 * history would carry a revision that means nothing there. Watchers re-list after a migration.
 *
 * A target that holds anything beyond the built-in namespaces is refused unless `force`: then the
 * copy merges (what the source has replaces what the target has under the same name; nothing of
 * the target is deleted).
 */
import type { ClassDefinition } from '../domain/class-model';
import { BUILT_IN_NAMESPACES } from '../domain/namespace-path';
import {
  classKey,
  namespaceKeyOf,
  superclassKeyOf,
  type ClassKey,
  type NamespaceKey,
} from '../domain/names';
import {
  StoreError,
  type ClassStore,
  type NamespaceRecord,
  type StoreWrite,
} from '../store/class-store';

export interface StoreCopyOptions {
  /** Write into a target that is not empty (merging; the source wins). Default false. */
  readonly force?: boolean;
  /** The most writes in one commit (default 32: etcd's default transaction limit is 128 operations, and a class write may take several). */
  readonly maxWritesPerCommit?: number;
  /** The most bytes (JSON length, an estimate) of one commit's writes (default 512 KiB; etcd's default request limit is 1.5 MiB). */
  readonly maxBytesPerCommit?: number;
  /** Called after each namespace is copied, with the counts so far. */
  readonly onNamespace?: (namespace: NamespaceRecord, counts: StoreCopyCounts) => void;
}

export interface StoreCopyCounts {
  readonly namespaces: number;
  readonly qualifiers: number;
  readonly classes: number;
  readonly instances: number;
  /** Commits made on the target. */
  readonly commits: number;
}

/** The target holds data and `force` was not given: nothing was written. */
export class TargetNotEmptyError extends Error {
  override readonly name = 'TargetNotEmptyError';
  constructor(readonly found: string) {
    super(`the target store is not empty (${found}); nothing was copied`);
  }
}

const BUILT_IN_KEYS = new Set<NamespaceKey>(BUILT_IN_NAMESPACES.map((e) => namespaceKeyOf(e)));

/** What makes `store` non-empty, or undefined when it holds only empty built-in namespaces. */
export async function describeContents(store: ClassStore): Promise<string | undefined> {
  for (const record of await store.listNamespaces()) {
    const key = namespaceKeyOf(record.elements);
    const name = record.elements.join('\\');
    if (!BUILT_IN_KEYS.has(key)) return `namespace ${name}`;
    const classes = await store.listClasses(key);
    if (classes.length > 0) return `${classes.length} classes in ${name}`;
    const qualifiers = await store.listQualifiers(key);
    if (qualifiers.length > 0) return `${qualifiers.length} qualifier declarations in ${name}`;
  }
  return undefined;
}

/** The namespace's classes with every superclass before its subclasses (a parent outside the list, e.g. a system class, is not waited for). */
export function parentsFirst(classes: readonly ClassDefinition[]): ClassDefinition[] {
  const byKey = new Map<ClassKey, ClassDefinition>(classes.map((c) => [classKey(c.name), c]));
  const placed = new Set<ClassKey>();
  const ordered: ClassDefinition[] = [];
  const place = (definition: ClassDefinition): void => {
    // Iterative up the chain: a deep hierarchy must not exhaust the stack.
    const chain: ClassDefinition[] = [];
    let current: ClassDefinition | undefined = definition;
    while (current !== undefined && !placed.has(classKey(current.name))) {
      chain.push(current);
      placed.add(classKey(current.name));
      const parent = superclassKeyOf(current);
      current = parent === null ? undefined : byKey.get(parent);
    }
    for (let i = chain.length - 1; i >= 0; i--) ordered.push(chain[i]!);
  };
  for (const definition of classes) place(definition);
  return ordered;
}

/** JSON length of a write, bigints as strings: close enough to any adapter's encoding to bound a commit. */
function estimatedBytes(write: StoreWrite): number {
  return JSON.stringify(write, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  ).length;
}

/** Collects writes and commits them in bounded, durable, ordered batches. */
class BatchWriter {
  #writes: StoreWrite[] = [];
  #bytes = 0;
  commits = 0;

  constructor(
    private readonly target: ClassStore,
    private readonly maxWrites: number,
    private readonly maxBytes: number,
  ) {}

  async add(write: StoreWrite): Promise<void> {
    const bytes = estimatedBytes(write);
    if (this.#writes.length > 0 && this.#bytes + bytes > this.maxBytes) await this.flush();
    this.#writes.push(write);
    this.#bytes += bytes;
    if (this.#writes.length >= this.maxWrites) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#writes.length === 0) return;
    const writes = this.#writes;
    this.#writes = [];
    this.#bytes = 0;
    await this.#commit(writes);
  }

  /** A commit the target refuses as too large (etcd's --max-txn-ops, --max-request-bytes) is split in two, in order. */
  async #commit(writes: readonly StoreWrite[]): Promise<void> {
    try {
      await this.target.commit(writes);
      this.commits++;
    } catch (error) {
      if (!(error instanceof StoreError && error.code === 'STORE_TOO_LARGE') || writes.length < 2)
        throw error;
      const half = Math.ceil(writes.length / 2);
      await this.#commit(writes.slice(0, half));
      await this.#commit(writes.slice(half));
    }
  }
}

/** The superclass the target stores for `name` (undefined: no such class there), for putClass's child index. */
async function storedSuperclass(
  target: ClassStore,
  namespace: NamespaceKey,
  name: ClassKey,
): Promise<ClassKey | null | undefined> {
  const stored = await target.getClass(namespace, name);
  return stored === undefined ? undefined : superclassKeyOf(stored);
}

/** Copies every namespace of `source` into `target` (both open). Returns what was copied. */
export async function copyStore(
  source: ClassStore,
  target: ClassStore,
  options: StoreCopyOptions = {},
): Promise<StoreCopyCounts> {
  if (options.force !== true) {
    const found = await describeContents(target);
    if (found !== undefined) throw new TargetNotEmptyError(found);
  }
  // Only a forced copy can meet a class already in the target; an empty target has none.
  const merging = options.force === true;
  const batch = new BatchWriter(
    target,
    options.maxWritesPerCommit ?? 32,
    options.maxBytesPerCommit ?? 512 * 1024,
  );
  let namespaces = 0;
  let qualifiers = 0;
  let classes = 0;
  let instances = 0;
  const counts = (): StoreCopyCounts => ({
    namespaces,
    qualifiers,
    classes,
    instances,
    commits: batch.commits,
  });
  for (const record of await source.listNamespaces()) {
    const namespace = namespaceKeyOf(record.elements);
    await batch.add({ op: 'putNamespace', namespace, record });
    namespaces++;
    for (const declaration of await source.listQualifiers(namespace)) {
      await batch.add({ op: 'putQualifier', namespace, declaration });
      qualifiers++;
    }
    const ordered = parentsFirst(await source.listClasses(namespace));
    for (const definition of ordered) {
      const name = classKey(definition.name);
      const previousSuperclass = merging
        ? await storedSuperclass(target, namespace, name)
        : undefined;
      await batch.add({ op: 'putClass', namespace, definition, previousSuperclass });
      classes++;
    }
    for (const definition of ordered) {
      const className = classKey(definition.name);
      for (const { key, instance } of await source.listInstances(namespace, className)) {
        await batch.add({ op: 'putInstance', namespace, className, key, instance });
        instances++;
      }
    }
    // A namespace ends with a durable commit, so the progress callback reports what is safe.
    await batch.flush();
    options.onNamespace?.(record, counts());
  }
  await batch.flush();
  return counts();
}
