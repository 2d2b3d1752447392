import type { SinkEvent, SinkPort } from '../../src/service/object-sink';

/** A SinkPort that records every event, for transcripts in service tests. */
export class RecordingPort implements SinkPort {
  readonly events: SinkEvent[] = [];
  readonly #waiters: { count: number; resolve: () => void }[] = [];

  async send(event: SinkEvent): Promise<void> {
    this.events.push(event);
    for (const waiter of this.#waiters.filter((w) => this.events.length >= w.count))
      waiter.resolve();
  }

  get statusEvents(): SinkEvent[] {
    return this.events.filter((event) => event.kind === 'status');
  }

  /** Resolves once at least `count` events were sent (a gate, not a sleep). */
  waitForEvents(count: number): Promise<void> {
    if (this.events.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }
}
