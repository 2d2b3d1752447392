/**
 * One WatchClassEvents subscriber: replay from the store's event log, then the live feed, each
 * event exactly once and in revision order, with a bounded buffer.
 *
 * Why it cannot miss or repeat an event: the watcher is registered on the live feed before it
 * reads the log, the log returns only durable records, and the feed publishes a record only after
 * it is durable. So a record is either on disk when a page is read (and in that page) or published
 * after the watcher registered (and heard live); `after`, the last revision handled, drops the ones
 * that are both. While it replays, live records are kept in a bounded buffer; when that overflows
 * the buffer is dropped and the watcher reads the log again, which holds everything published.
 *
 * Slow consumers: once live, records wait in a queue of at most `limit`; beyond it the watch ends
 * with WBEM_E_QUEUE_OVERFLOW (the client reconnects with its last revision and, while the log still
 * retains it, loses nothing). Writers never wait for a watcher.
 */
import { classKey, type ClassKey, type NamespaceKey } from '../domain/names';
import { derivationNames } from '../domain/resolve-class';
import { WbemError } from '../domain/wbem-status';
import type { ClassEventRecord, ClassStore } from '../store/class-store';

/** Log records read per page while replaying. */
const PAGE = 256;

/** Where a watcher's events go: the gRPC stream in production, an array in tests. */
export interface WatchPort<View> {
  /** Resolves when another event may be sent (back-pressure). Never rejects. */
  send(event: View): Promise<void>;
}

export interface WatcherOptions<View> {
  readonly namespace: NamespaceKey;
  /** `TargetClass ISA 'X'`: X's key; undefined = every class. */
  readonly isa: ClassKey | undefined;
  /** Events with a revision above this one are sent. */
  readonly after: bigint;
  /** The most live events held for a slow consumer. */
  readonly limit: number;
  readonly store: ClassStore;
  readonly toView: (record: ClassEventRecord) => View;
}

export class ClassWatcher<View> {
  readonly namespace: NamespaceKey;
  readonly #options: WatcherOptions<View>;
  #after: bigint;
  #live = false;
  /** Live records heard while replaying; undefined after it overflowed (read the log again). */
  #heard: ClassEventRecord[] | undefined = [];
  /** Live records waiting to be sent. */
  #queue: ClassEventRecord[] = [];
  #ended: WbemError | undefined;
  readonly #endedPromise: Promise<WbemError>;
  #resolveEnded!: (error: WbemError) => void;
  #wake: (() => void) | undefined;

  constructor(options: WatcherOptions<View>) {
    this.#options = options;
    this.namespace = options.namespace;
    this.#after = options.after;
    this.#endedPromise = new Promise((resolve) => (this.#resolveEnded = resolve));
  }

  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** Records of this watcher's namespace, from the live feed (durable, in revision order). */
  offer(records: readonly ClassEventRecord[]): void {
    if (this.#ended !== undefined) return;
    if (!this.#live) {
      if (this.#heard === undefined) return; // overflowed: the next log read finds them
      this.#heard.push(...records);
      if (this.#heard.length > this.#options.limit) this.#heard = undefined;
      return;
    }
    this.#enqueue(records);
    this.#wake?.();
  }

  #enqueue(records: readonly ClassEventRecord[]): void {
    // Batches and log pages hold whole revisions, and one revision may hold several records (an
    // etcd commit's): what was handled is what lies at or below `after` before this batch.
    const handled = this.#after;
    for (const record of records) {
      if (record.revision <= handled) continue;
      this.#after = record.revision;
      if (!this.#matches(record)) continue;
      this.#queue.push(record);
      if (this.#queue.length > this.#options.limit) {
        this.end(
          new WbemError(
            'WBEM_E_QUEUE_OVERFLOW',
            `the watcher fell more than ${this.#options.limit} events behind; watch again from revision ${this.#lastSent()}`,
          ),
        );
        return;
      }
    }
  }

  /** The revision of the last event handed to the port (what the client has seen). */
  #lastSent(): bigint {
    return (this.#queue[0]?.revision ?? this.#after + 1n) - 1n;
  }

  /** Ends the watch with `error` (the first reason wins); `run` then resolves with it. */
  end(error: WbemError): void {
    if (this.#ended !== undefined) return;
    this.#ended = error;
    this.#queue = [];
    this.#heard = undefined;
    this.#wake?.();
    this.#resolveEnded(error);
  }

  /** Sends events until the watch ends; resolves with why it ended. Never rejects. */
  run(port: WatchPort<View>): Promise<WbemError> {
    this.#pump(port).catch((failure: unknown) =>
      this.end(
        failure instanceof WbemError
          ? failure
          : new WbemError(
              'WBEM_E_FAILED',
              'the event log could not be read',
              {},
              { cause: failure },
            ),
      ),
    );
    return this.#endedPromise;
  }

  #matches(record: ClassEventRecord): boolean {
    const isa = this.#options.isa;
    if (isa === undefined) return true;
    return (
      classKey(record.target.name) === isa ||
      derivationNames(record.derivation).some((name) => classKey(name) === isa)
    );
  }

  async #pump(port: WatchPort<View>): Promise<void> {
    const { store, namespace, toView } = this.#options;
    // Replay: pages of the log until it has nothing newer, then the live records heard meanwhile.
    while (this.#ended === undefined && !this.#live) {
      const page = await store.readEvents(namespace, this.#after, PAGE);
      if (this.#ended !== undefined) return;
      // Retention may have dropped records after `after` (before or while this watcher read).
      if (
        page[0]?.revision !== this.#after + 1n &&
        store.firstRetainedRevision > this.#after + 1n
      ) {
        this.end(
          new WbemError(
            'WBEM_E_QUEUE_OVERFLOW',
            `events after revision ${this.#after} are no longer retained`,
          ),
        );
        return;
      }
      for (const record of page) {
        if (this.#ended !== undefined) return;
        this.#after = record.revision;
        if (this.#matches(record)) await port.send(toView(record));
      }
      // A page may hold fewer than PAGE records and not be the last (it ends on a whole revision).
      if (page.length > 0) continue;
      if (this.#heard === undefined) {
        this.#heard = []; // what overflowed is in the log: read it again
        continue;
      }
      // Caught up: from here on (same tick) the feed queues directly.
      this.#live = true;
      this.#enqueue(this.#heard);
      this.#heard = undefined;
    }
    while (this.#ended === undefined) {
      const record = this.#queue.shift();
      if (record === undefined) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      await port.send(toView(record));
    }
  }
}
