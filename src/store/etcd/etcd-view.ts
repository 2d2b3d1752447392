/**
 * A replica's view of the shared store: one etcd Watch on the prefix, from the revision the store
 * opened at, so every commit — this replica's or another's — reaches it in revision order (etcd
 * never splits one revision's events over two watch responses). From it the view
 * - moves the store revision with each class change (`m/class`),
 * - publishes the log records of each revision to the onDurableEvents listeners,
 * - reports namespace and qualifier declaration changes (the service's namespace table),
 * - knows how far it has seen (`m/last`, put by every commit), so a commit or a beginRead can wait
 *   until the view holds everything up to a revision (read-your-writes across replicas).
 */
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import type { NamespaceKey } from '../../domain/names';
import { StoreError, type ClassEventRecord, type NamespaceChange } from '../class-store';
import { decodeNamespace, decodeQualifierDeclaration } from '../level/record-codec';
import { decodeEventRecord, type EtcdKeys } from './etcd-records';

export interface ViewSink {
  observeRevision(revision: bigint): void;
  publishEvents(events: readonly ClassEventRecord[]): void;
  publishNamespaceChanges(changes: readonly NamespaceChange[]): void;
  /** The watch failed for good (e.g. its start revision was compacted): the view is stale. */
  failed(error: Error): void;
  /** The watch is connected again after losing its member (etcd-availability.ts). */
  reconnected(): void;
}

/** How long the read after a lost watch connection may take before etcd counts as unavailable. */
const DISCONNECT_PROBE_MS = 5_000;

interface Waiter {
  readonly revision: bigint;
  readonly resolve: () => void;
}

export class EtcdView {
  #seen: bigint;
  #connected = true;
  #watcher: Watcher | undefined;
  #waiters: Waiter[] = [];

  constructor(
    readonly layout: EtcdKeys,
    private readonly sink: ViewSink,
    seen: bigint,
    /** Tests only: each watch response is applied this much later (a lagging replica). */
    private readonly delayMs = 0,
  ) {
    this.#seen = seen;
  }

  get seen(): bigint {
    return this.#seen;
  }

  /** False from the watch losing its member until it is connected again. */
  get connected(): boolean {
    return this.#connected;
  }

  async start(client: Etcd3): Promise<void> {
    const watcher = await client
      .watch()
      .prefix(this.layout.prefix)
      .startRevision(String(this.#seen + 1n))
      .create();
    watcher.on('data', (response: IWatchResponse) => {
      if (this.delayMs === 0) this.#take(response);
      else setTimeout(() => this.#take(response), this.delayMs);
    });
    watcher.on('error', (error: Error) => this.sink.failed(error));
    // A replica that serves no call would not notice etcd going away (health would stay
    // SERVING): when the watch loses its member, ask etcd once; no answer = unavailable.
    watcher.on('disconnected', () => {
      this.#connected = false;
      this.#probe(client);
    });
    watcher.on('connected', () => {
      this.#connected = true;
      this.sink.reconnected();
    });
    this.#watcher = watcher;
  }

  async stop(): Promise<void> {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.cancel();
  }

  /** Resolves once the view has seen `revision`; rejects with STORE_UNAVAILABLE after `timeoutMs`. */
  waitSeen(revision: bigint, timeoutMs: number): Promise<void> {
    if (revision <= this.#seen) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(
          new StoreError(
            'STORE_UNAVAILABLE',
            `this replica's view of etcd did not reach revision ${revision} within ${timeoutMs} ms (the watch lags or is broken)`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waiters.push(waiter);
    });
  }

  #probe(client: Etcd3): void {
    const deadline = new Date(Date.now() + DISCONNECT_PROBE_MS);
    client.kv
      .range({ key: Buffer.from(this.layout.last(), 'utf8') }, { deadline })
      .catch((error: unknown) =>
        this.sink.failed(error instanceof Error ? error : new Error(String(error))),
      );
  }

  #take(response: IWatchResponse): void {
    try {
      this.#apply(response);
    } catch (error) {
      // A record this version cannot decode: the view can no longer be trusted.
      this.sink.failed(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #apply(response: IWatchResponse): void {
    const events: ClassEventRecord[] = [];
    const changes: NamespaceChange[] = [];
    let classRevision = 0n;
    let seen = this.#seen;
    for (const { type, kv } of response.events) {
      const revision = BigInt(kv.mod_revision);
      if (revision <= this.#seen) continue; // already seen (a resumed watch)
      const key = kv.key.toString('utf8');
      if (key === this.layout.classRevision()) classRevision = revision;
      else if (key === this.layout.last()) seen = seen > revision ? seen : revision;
      else this.#record(key, type === 'Put' ? kv : undefined, revision, events, changes);
    }
    if (classRevision > 0n) this.sink.observeRevision(classRevision);
    if (changes.length > 0) this.sink.publishNamespaceChanges(changes);
    if (events.length > 0) {
      events.sort((a, b) => (a.revision < b.revision ? -1 : a.revision > b.revision ? 1 : 0));
      this.sink.publishEvents(events);
    }
    if (seen > this.#seen) this.#advance(seen);
  }

  #record(
    key: string,
    put: IKeyValue | undefined,
    revision: bigint,
    events: ClassEventRecord[],
    changes: NamespaceChange[],
  ): void {
    const kind = this.layout.kindOf(key);
    if (kind === undefined) return;
    const text = put?.value.toString('utf8');
    if (kind.kind === 'e/' && text !== undefined) {
      events.push(decodeEventRecord(text, key, revision));
    } else if (kind.kind === 'n/') {
      const namespace = kind.rest as NamespaceKey;
      changes.push(
        text === undefined
          ? { op: 'deleteNamespace', namespace }
          : { op: 'putNamespace', namespace, record: decodeNamespace(text, key) },
      );
    } else if (kind.kind === 'q/' && text !== undefined) {
      const namespace = kind.rest.slice(0, kind.rest.indexOf('\u0000')) as NamespaceKey;
      changes.push({
        op: 'putQualifier',
        namespace,
        declaration: decodeQualifierDeclaration(text, key),
      });
    }
  }

  #advance(seen: bigint): void {
    this.#seen = seen;
    const due = this.#waiters.filter((w) => w.revision <= seen);
    if (due.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.revision > seen);
    for (const waiter of due) waiter.resolve();
  }
}
