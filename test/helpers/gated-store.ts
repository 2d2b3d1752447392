import type { ClassStore, CommitHandle, StoreWrite, WriteFence } from '../../src/store/class-store';

/** A promise a test resolves by hand, with a flag to assert "not yet" (nice-grpc's defer()). */
export function defer<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  readonly settled: boolean;
} {
  let resolve!: (value: T) => void;
  let settled = false;
  const promise = new Promise<T>((r) => {
    resolve = (value) => {
      settled = true;
      r(value);
    };
  });
  return {
    promise,
    resolve,
    get settled() {
      return settled;
    },
  };
}

type GatedMethod = 'getClass' | 'commitDurable';

/**
 * Wraps a store and pauses at a chosen point until the test releases it, so "cancel before the
 * commit point" and "cancel after it" are deterministic (docs/style.md §2.8), with no sleeps.
 * 'getClass' pauses the first read (before the commit point); 'commitDurable' makes the write
 * visible at once but holds back durability (after the commit point).
 */
export class GatedStore implements ClassStore {
  readonly #reached = defer();
  readonly #gate = defer();
  #armed = false;

  constructor(
    readonly inner: ClassStore,
    private readonly at: GatedMethod,
  ) {}

  /** From now on, the next call at the gated point pauses (set up fixtures before arming). */
  arm(): this {
    this.#armed = true;
    return this;
  }

  /** Resolves when an operation is paused at the gate. */
  get reached(): Promise<void> {
    return this.#reached.promise;
  }

  release(): void {
    this.#gate.resolve();
  }

  async #pass(method: GatedMethod): Promise<void> {
    if (!this.#armed || method !== this.at) return;
    this.#armed = false;
    this.#reached.resolve();
    await this.#gate.promise;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  get shared(): boolean {
    return this.inner.shared;
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  getNamespace: ClassStore['getNamespace'] = (ns) => this.inner.getNamespace(ns);
  listNamespaces: ClassStore['listNamespaces'] = () => this.inner.listNamespaces();
  getClass: ClassStore['getClass'] = async (ns, name) => {
    await this.#pass('getClass');
    return this.inner.getClass(ns, name);
  };
  getClasses: ClassStore['getClasses'] = async (ns, names, hint) => {
    await this.#pass('getClass');
    return this.inner.getClasses(ns, names, hint);
  };
  listSubclasses: ClassStore['listSubclasses'] = (ns, parent) =>
    this.inner.listSubclasses(ns, parent);
  listClasses: ClassStore['listClasses'] = (ns) => this.inner.listClasses(ns);
  listQualifiers: ClassStore['listQualifiers'] = (ns) => this.inner.listQualifiers(ns);
  getInstance: ClassStore['getInstance'] = (ns, name, key) => this.inner.getInstance(ns, name, key);
  listInstances: ClassStore['listInstances'] = (ns, name) => this.inner.listInstances(ns, name);
  countInstances: ClassStore['countInstances'] = (ns, name) => this.inner.countInstances(ns, name);
  getClassRevision: ClassStore['getClassRevision'] = (ns, name) =>
    this.inner.getClassRevision(ns, name);
  readEvents: ClassStore['readEvents'] = (ns, after, limit) =>
    this.inner.readEvents(ns, after, limit);
  onDurableEvents: ClassStore['onDurableEvents'] = (listener) =>
    this.inner.onDurableEvents(listener);
  get revision(): bigint {
    return this.inner.revision;
  }
  get firstRetainedRevision(): bigint {
    return this.inner.firstRetainedRevision;
  }
  commit(writes: readonly StoreWrite[]): Promise<void> {
    const durable = this.inner.commit(writes);
    if (this.at !== 'commitDurable' || !this.#armed) return durable;
    return durable.then(() => this.#pass('commitDurable'));
  }
  beginRead: ClassStore['beginRead'] = (scopes) => this.inner.beginRead(scopes);
  onAvailability: ClassStore['onAvailability'] = (listener) => this.inner.onAvailability(listener);
  onNamespaceChanges: ClassStore['onNamespaceChanges'] = (listener) =>
    this.inner.onNamespaceChanges(listener);
  commitIf(fence: WriteFence, writes: readonly StoreWrite[]): CommitHandle {
    const handle = this.inner.commitIf(fence, writes);
    if (this.at !== 'commitDurable' || !this.#armed) return handle;
    const durable = handle.durable.then(() => this.#pass('commitDurable'));
    durable.catch(() => undefined);
    return { committed: handle.committed, durable };
  }
}
