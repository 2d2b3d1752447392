/**
 * Server streams as async iterables that lose nothing: every message is delivered before the
 * stream's end is reported, and a failed end carries the call's status and trailers. grpc-js
 * reports the status as soon as it arrives, possibly before buffered messages were read, so the
 * end is taken only once the readable side has ended too.
 */
import type { ClientReadableStream, Metadata, StatusObject } from '@grpc/grpc-js';

/** How a stream ended: its gRPC status (trailers included) and the operation id it was given. */
export interface StreamEnd {
  readonly status: StatusObject;
  readonly operationId: string | undefined;
  /** True when this client cancelled the call (cancel(), or leaving a for-await early). */
  readonly cancelledByClient: boolean;
}

/**
 * Reads `call` into a queue. `next()` gives the messages in order, then `{done: true}`; `end`
 * resolves with the status once every message is out. Never rejects: the caller decides what
 * a status means.
 */
export class StreamReader<T> {
  private readonly queue: T[] = [];
  private waiting: (() => void) | undefined;
  private ended = false;
  private cancelled = false;
  private operationId: string | undefined;
  readonly end: Promise<StreamEnd>;

  /** `observe` sees each message as it arrives, before anyone reads it. */
  constructor(
    private readonly call: ClientReadableStream<T>,
    observe?: (message: T) => void,
  ) {
    call.on('metadata', (headers: Metadata) => {
      const [id] = headers.get('wbem-operation-id');
      if (typeof id === 'string') this.operationId = id;
    });
    call.on('data', (message: T) => {
      observe?.(message);
      this.queue.push(message);
      this.wake();
    });
    // The status arrives as the 'status' event; an 'error' event repeats it (and must be handled).
    call.on('error', () => undefined);
    const readableEnded = new Promise<void>((resolve) => {
      call.on('end', resolve);
      call.on('close', resolve);
    });
    const status = new Promise<StatusObject>((resolve) => call.on('status', resolve));
    this.end = Promise.all([status, readableEnded]).then(([end]) => {
      this.ended = true;
      this.wake();
      return {
        status: end,
        operationId: this.operationId,
        cancelledByClient: this.cancelled,
      };
    });
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  /** The next message, or undefined once the stream has ended and every message was read. */
  async next(): Promise<T | undefined> {
    for (;;) {
      if (this.queue.length > 0) return this.queue.shift();
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  cancel(): void {
    if (this.ended) return;
    this.cancelled = true;
    this.call.cancel();
  }
}
