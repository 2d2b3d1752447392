/**
 * A server stream's messages, from the operation (which sends) to Connect's async iterable (which
 * writes): `send` resolves once the message was taken for writing, so a slow client slows the
 * operation down as the gRPC transport's back-pressure does (a progress event at once, up to a
 * backlog, as there). It never rejects; once the client is gone (`drop`) messages are dropped, as
 * on a cancelled gRPC stream.
 */
import { PROGRESS_BACKLOG, type StreamOut } from '../grpc/wbem-operations';

interface Pending<T> {
  readonly message: T;
  readonly taken: () => void;
}

export class MessageQueue<T> implements StreamOut<T> {
  #pending: Pending<T>[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  #dropped = false;

  /** A progress event (StreamOut) is taken at once while fewer than PROGRESS_BACKLOG wait. */
  send(message: T, progress = false): Promise<void> {
    if (this.#dropped || this.#closed) return Promise.resolve();
    if (progress && this.#pending.length < PROGRESS_BACKLOG) {
      this.#pending.push({ message, taken: () => undefined });
      this.#wakeUp();
      return Promise.resolve();
    }
    return new Promise((taken) => {
      this.#pending.push({ message, taken });
      this.#wakeUp();
    });
  }

  /** No more messages: the iteration ends after the ones pending. */
  close(): void {
    this.#closed = true;
    this.#wakeUp();
  }

  /** Nobody reads any more: pending and later messages are dropped, their senders released. */
  drop(): void {
    this.#dropped = true;
    for (const { taken } of this.#pending.splice(0)) taken();
    this.#wakeUp();
  }

  async *messages(): AsyncGenerator<T> {
    for (;;) {
      const next = this.#pending.shift();
      if (next !== undefined) {
        try {
          yield next.message;
        } finally {
          // Also when the reader stops at this message: its sender must not wait forever.
          next.taken();
        }
        continue;
      }
      if (this.#closed || this.#dropped) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
