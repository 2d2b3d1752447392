/**
 * One writer at a time per key (a namespace), FIFO. Waiting can be abandoned through an
 * AbortSignal (or any CancellationSignal), so a cancelled call never queues behind a slow writer
 * (CancelAsyncCall, §4.4).
 */
import type { CancellationSignal } from './operation-context';

export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Resolves with a release function once the key is ours; rejects with the signal's reason if aborted first. */
  async acquire(key: string, signal?: CancellationSignal): Promise<() => void> {
    signal?.throwIfAborted();
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    let released = false;
    const releaseOnce = (): void => {
      if (released) return;
      released = true;
      release();
      // Drop the entry when nobody queued behind us, so keys do not accumulate.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
    if (signal === undefined) {
      await previous;
      return releaseOnce;
    }
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
        signal.addEventListener('abort', onAbort, { once: true });
        previous.then(
          () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
          reject,
        );
      });
    } catch (reason) {
      // Our slot still has to pass, or everyone queued behind us would wait forever.
      releaseOnce();
      throw reason;
    }
    return releaseOnce;
  }

  /** Several keys at once, in sorted order so two multi-key holders cannot deadlock. */
  async acquireAll(keys: readonly string[], signal?: CancellationSignal): Promise<() => void> {
    const releases: (() => void)[] = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.acquire(key, signal));
    } catch (reason) {
      for (const release of releases.reverse()) release();
      throw reason;
    }
    return () => {
      for (const release of releases.reverse()) release();
    };
  }
}
