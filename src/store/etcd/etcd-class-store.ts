/**
 * The ClassStore on an etcd v3 cluster (the `etcd3` client), for stateless replicas sharing one
 * repository (layout: etcd-records.ts). Every commit is one etcd Txn, durable when it returns
 * (etcd's fsync on the leader and a quorum); its revision is the Txn's etcd revision (one commit's
 * class changes share it), a class's revision its record's mod_revision. Reads are linearizable
 * ranges; the store revision, the event feed and the namespace changes follow one Watch
 * (etcd-view.ts), and a commit resolves once that watch has seen it.
 *
 * Failures are ordinary (no STORE_FAILED latch: nothing is visible here that etcd did not commit):
 * every call has a deadline, etcd unreachable → STORE_UNAVAILABLE and availability listeners hear
 * false, then true once a probe succeeds; a Txn beyond etcd's limits → STORE_TOO_LARGE (D69).
 */
import { randomUUID } from 'node:crypto';
import type { Etcd3, IKeyValue, IRangeRequest } from 'etcd3';
import type { ClassDefinition, QualifierDeclaration } from '../../domain/class-model';
import type { StoredInstance } from '../../domain/instance-model';
import type { ClassKey, NamespaceKey } from '../../domain/names';
import { changeEventRecord } from '../change-events';
import {
  AbstractClassStore,
  failedCommit,
  type ClassStoreOptions,
  type StoreRevisions,
} from '../abstract-class-store';
import {
  DEFAULT_EVENT_RETENTION,
  StoreError,
  type ClassEventRecord,
  type CommitHandle,
  type FenceScope,
  type InstanceEntry,
  type NamespaceChange,
  type NamespaceRecord,
  type StoreWrite,
  type WriteFence,
} from '../class-store';
import { decodeInstance, decodeNamespace, decodeQualifierDeclaration } from '../level/record-codec';
import {
  bytes,
  byRevisionThenKey,
  decodeClassRecord,
  decodeEvent,
  EtcdKeys,
  prefixEnd,
  connect,
  type EtcdTlsFiles,
} from './etcd-records';
export type { EtcdTlsFiles } from './etcd-records';
import { classifyEtcdError } from './etcd-errors';
import { planTxn, txnOps, type TxnPlan } from './etcd-txn';
import { EventTrimmer } from './etcd-retention';
import { EtcdAvailability } from './etcd-availability';
import { EtcdView } from './etcd-view';

export interface EtcdClassStoreOptions extends ClassStoreOptions {
  /** etcd client URLs, e.g. ['http://127.0.0.1:2379']. */
  readonly endpoints: readonly string[];
  /** Every key lives under this prefix (default '/wbemd/'); several repositories can share a cluster. */
  readonly prefix?: string;
  readonly tls?: EtcdTlsFiles;
  /** Deadline of each etcd call, in ms (default 5000). */
  readonly requestTimeoutMs?: number;
  /** Tests only: this replica applies what its watch hears this much later (a lagging replica). */
  readonly watchDelayMs?: number;
}

export const DEFAULT_ETCD_PREFIX = '/wbemd/';
const DEFAULT_TIMEOUT_MS = 5000;
/** While etcd is unreachable, how often a probe asks whether it is back. */
const PROBE_INTERVAL_MS = 500;
const text = (kv: IKeyValue): string => kv.value.toString('utf8');
const keyOf = (kv: IKeyValue): string => kv.key.toString('utf8');

export class EtcdClassStore extends AbstractClassStore<never> {
  readonly #options: EtcdClassStoreOptions;
  readonly #keys: EtcdKeys;
  readonly #timeoutMs: number;
  readonly #retention: bigint;
  readonly #trimmer: EventTrimmer;
  #client: Etcd3 | undefined;
  #view: EtcdView | undefined;
  readonly #availability = new EtcdAvailability(
    () => this.#view?.connected !== false,
    () => (this.isOpen ? this.#get(this.#keys.last()) : Promise.resolve()),
    PROBE_INTERVAL_MS,
  );
  readonly #namespaceListeners = new Set<(changes: readonly NamespaceChange[]) => void>();

  constructor(options: EtcdClassStoreOptions) {
    super(options);
    if (options.endpoints.length === 0) throw new RangeError('the etcd store needs an endpoint');
    this.#options = options;
    this.#keys = new EtcdKeys(options.prefix ?? DEFAULT_ETCD_PREFIX);
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const retention = BigInt(options.eventRetention ?? DEFAULT_EVENT_RETENTION);
    this.#retention = retention;
    const every = retention < 1000n ? retention : 1000n;
    this.#trimmer = new EventTrimmer(`${this.#keys.prefix}e/`, every, this.#timeoutMs);
  }

  override get shared(): boolean {
    return true;
  }

  protected async _open(): Promise<StoreRevisions> {
    const client = await connect(this.#options.endpoints, this.#options.tls, this.#timeoutMs);
    this.#client = client;
    try {
      // The view starts at the revision of this read: everything before it is in what reads see.
      const { found, revision: header } = await this.#getAll([this.#keys.classRevision()]);
      const revision = found[0] === undefined ? 0n : BigInt(found[0].mod_revision);
      const view = new EtcdView(this.#keys, this.#viewSink(), header, this.#options.watchDelayMs);
      await view.start(client);
      this.#view = view;
      const first = revision - this.#retention + 1n;
      return { revision, firstRetained: first > 1n ? first : 1n };
    } catch (error) {
      this.#client = undefined;
      client.close();
      throw error;
    }
  }

  protected async _close(): Promise<void> {
    this.#availability.stop();
    await this.#view?.stop().catch(() => undefined);
    this.#view = undefined;
    this.#client?.close();
    this.#client = undefined;
  }

  override onAvailability(listener: (available: boolean) => void): () => void {
    return this.#availability.listen(listener);
  }

  override onNamespaceChanges(listener: (changes: readonly NamespaceChange[]) => void): () => void {
    this.#namespaceListeners.add(listener);
    return () => this.#namespaceListeners.delete(listener);
  }

  // ---- commits ---------------------------------------------------------------------------

  override commit(writes: readonly StoreWrite[]): Promise<void> {
    return this.commitIf({ scopes: [], tokens: [] }, writes).durable;
  }

  override commitIf(fence: WriteFence, writes: readonly StoreWrite[]): CommitHandle {
    let plan: TxnPlan;
    try {
      this.assertReady();
      plan = planTxn(this.#keys, writes, randomUUID(), (write) => changeEventRecord(write, 0n));
    } catch (error) {
      return failedCommit(error);
    }
    const committed = this.#runTxn(fence, plan);
    const durable = committed.then(() => undefined);
    committed.catch(() => undefined);
    durable.catch(() => undefined);
    return { committed, durable };
  }

  async #runTxn(fence: WriteFence, plan: TxnPlan): Promise<bigint> {
    const compare = fence.scopes.map((scope, i) => ({
      key: bytes(this.#keys.fence(scope)),
      target: 'Mod' as const,
      result: 'Equal' as const,
      mod_revision: String(fence.tokens[i] ?? 0n),
    }));
    const response = await this.#call('commit', (client, deadline) =>
      client.kv.txn({ compare, success: txnOps(plan) }, { deadline }),
    );
    if (!response.succeeded)
      throw new StoreError('STORE_CONFLICT', 'a concurrent commit changed what this one read');
    const revision = BigInt(response.header.revision);
    this.assertReady();
    await (this.#view as EtcdView).waitSeen(revision, this.#timeoutMs);
    if (!plan.changesClass) return this.revision;
    this.#trimmer.after(this.#client, this.firstRetainedRevision);
    return revision;
  }

  override async beginRead(scopes: readonly FenceScope[]): Promise<WriteFence> {
    const refusal = this.refusal();
    if (refusal !== undefined) return refusal;
    const { found } = await this.#getAll([this.#keys.last(), ...scopes.map(this.#keys.fence)]);
    const [last, ...fences] = found;
    if (last !== undefined)
      await (this.#view as EtcdView).waitSeen(BigInt(last.mod_revision), this.#timeoutMs);
    return {
      scopes: [...scopes],
      tokens: fences.map((kv) => (kv === undefined ? 0n : BigInt(kv.mod_revision))),
    };
  }

  protected _prepareCommit(): never {
    throw new Error('the etcd store commits through commitIf');
  }

  protected _applyCommit(): Promise<void> {
    return Promise.reject(new Error('the etcd store commits through commitIf'));
  }

  // ---- reads -------------------------------------------------------------------------------

  protected async _getNamespace(ns: NamespaceKey): Promise<NamespaceRecord | undefined> {
    const key = this.#keys.namespace(ns);
    const kv = await this.#get(key);
    return kv === undefined ? undefined : decodeNamespace(text(kv), key);
  }

  protected async _listNamespaces(): Promise<readonly NamespaceRecord[]> {
    const kvs = await this.#range(this.#keys.namespaces());
    return kvs.map((kv) => decodeNamespace(text(kv), keyOf(kv)));
  }

  protected async _getClass(
    ns: NamespaceKey,
    name: ClassKey,
  ): Promise<ClassDefinition | undefined> {
    const key = this.#keys.classRecord(ns, name);
    const kv = await this.#get(key);
    return kv === undefined ? undefined : decodeClassRecord(text(kv), key);
  }

  protected async _getClassRevision(ns: NamespaceKey, name: ClassKey): Promise<bigint | undefined> {
    const kv = await this.#get(this.#keys.classRecord(ns, name));
    return kv === undefined ? undefined : BigInt(kv.mod_revision);
  }

  protected async _listSubclasses(
    ns: NamespaceKey,
    parent: ClassKey | null,
  ): Promise<readonly ClassKey[]> {
    const prefix = this.#keys.children(ns, parent);
    const kvs = await this.#range(prefix, { keys_only: true });
    return kvs.map((kv) => keyOf(kv).slice(prefix.length) as ClassKey);
  }

  protected async _listClasses(ns: NamespaceKey): Promise<readonly ClassDefinition[]> {
    const kvs = await this.#range(this.#keys.classes(ns));
    return kvs.map((kv) => decodeClassRecord(text(kv), keyOf(kv)));
  }

  protected async _listQualifiers(ns: NamespaceKey): Promise<readonly QualifierDeclaration[]> {
    const kvs = await this.#range(this.#keys.qualifiers(ns));
    return kvs.map((kv) => decodeQualifierDeclaration(text(kv), keyOf(kv)));
  }

  protected async _getInstance(
    ns: NamespaceKey,
    className: ClassKey,
    key: string,
  ): Promise<StoredInstance | undefined> {
    const at = this.#keys.instance(ns, className, key);
    const kv = await this.#get(at);
    return kv === undefined ? undefined : decodeInstance(text(kv), at);
  }

  protected async _listInstances(
    ns: NamespaceKey,
    className: ClassKey,
  ): Promise<readonly InstanceEntry[]> {
    const prefix = this.#keys.instances(ns, className);
    const kvs = await this.#range(prefix);
    return kvs.map((kv) => ({
      key: keyOf(kv).slice(prefix.length),
      instance: decodeInstance(text(kv), keyOf(kv)),
    }));
  }

  protected async _countInstances(ns: NamespaceKey, className: ClassKey): Promise<number> {
    const prefix = bytes(this.#keys.instances(ns, className));
    const response = await this.#call('read', (client, deadline) =>
      client.kv.range(
        { key: prefix, range_end: prefixEnd(prefix), count_only: true },
        { deadline },
      ),
    );
    return Number(response.count);
  }

  /**
   * A page of whole revisions: sorted by mod_revision (etcd filters and sorts server-side), one
   * record more than asked tells whether the page's last revision goes on past it; then that
   * revision is dropped, or, when it is the page's only one, read whole on its own.
   */
  protected async _readEvents(
    ns: NamespaceKey,
    afterRevision: bigint,
    limit: number,
  ): Promise<readonly ClassEventRecord[]> {
    const page = await this.#eventRange(ns, { min: afterRevision + 1n, limit: limit + 1 });
    if (page.length <= limit) return page.map(decodeEvent);
    const last = BigInt((page[limit - 1] as IKeyValue).mod_revision);
    if (BigInt((page[limit] as IKeyValue).mod_revision) !== last)
      return page.slice(0, limit).map(decodeEvent);
    const whole = page.filter((kv) => BigInt(kv.mod_revision) < last);
    if (whole.length > 0) return whole.map(decodeEvent);
    return (await this.#eventRange(ns, { min: last, max: last })).map(decodeEvent);
  }

  async #eventRange(
    ns: NamespaceKey,
    bounds: { readonly min: bigint; readonly max?: bigint; readonly limit?: number },
  ): Promise<IKeyValue[]> {
    const prefix = bytes(this.#keys.events(ns));
    const request: IRangeRequest = {
      key: prefix,
      range_end: prefixEnd(prefix),
      sort_target: 'Mod',
      sort_order: 'Ascend',
      min_mod_revision: String(bounds.min),
      ...(bounds.max === undefined ? {} : { max_mod_revision: String(bounds.max) }),
      ...(bounds.limit === undefined ? {} : { limit: bounds.limit }),
    };
    const response = await this.#call('read', (client, deadline) =>
      client.kv.range(request, { deadline }),
    );
    // Within one revision, key order is commit order (etcd's sort by revision is not stable).
    return [...response.kvs].sort(byRevisionThenKey);
  }

  async #get(key: string): Promise<IKeyValue | undefined> {
    const response = await this.#call('read', (client, deadline) =>
      client.kv.range({ key: bytes(key) }, { deadline }),
    );
    return response.kvs[0];
  }

  async #range(prefix: string, extra: Partial<IRangeRequest> = {}): Promise<IKeyValue[]> {
    const start = bytes(prefix);
    const response = await this.#call('read', (client, deadline) =>
      client.kv.range({ key: start, range_end: prefixEnd(start), ...extra }, { deadline }),
    );
    return response.kvs;
  }

  /** Several keys read at one revision (one Txn of ranges), and that revision. */
  async #getAll(
    keys: readonly string[],
  ): Promise<{ readonly found: (IKeyValue | undefined)[]; readonly revision: bigint }> {
    const response = await this.#call('read', (client, deadline) =>
      client.kv.txn(
        { success: keys.map((key) => ({ request_range: { key: bytes(key) } })) },
        { deadline },
      ),
    );
    const found = response.responses.map((r) => r.response_range.kvs[0]);
    return { found, revision: BigInt(response.header.revision) };
  }

  /** One etcd call with a deadline; a failure becomes a StoreError and may mark etcd unavailable. */
  async #call<T>(
    what: 'read' | 'commit',
    run: (client: Etcd3, deadline: Date) => Promise<T>,
  ): Promise<T> {
    const client = this.#client;
    if (client === undefined) throw new StoreError('STORE_NOT_OPEN', 'the class store is not open');
    try {
      const result = await run(client, new Date(Date.now() + this.#timeoutMs));
      this.#availability.answered(true);
      return result;
    } catch (error) {
      const failure = classifyEtcdError(error, what);
      if (failure.unreachable) this.#availability.answered(false);
      throw failure.error;
    }
  }

  #viewSink() {
    return {
      observeRevision: (revision: bigint) => this.observeRevision(revision),
      publishEvents: (events: readonly ClassEventRecord[]) => this.publishDurable(events),
      publishNamespaceChanges: (changes: readonly NamespaceChange[]) => {
        for (const listener of this.#namespaceListeners) listener(changes);
      },
      failed: () => this.#availability.answered(false),
      reconnected: () => this.#availability.update(),
    };
  }
}
