/**
 * One writer at a time per key (a namespace), FIFO. Waiting can be abandoned through an
 * AbortSignal (or any CancellationSignal), so a cancelled call never queues behind a slow writer
 * (CancelAsyncCall, §4.4). A release hands the key straight to the next waiter: per key there is a
 * flag and a queue, not a chain of promises (every PutClass takes the lock, so this is hot).
 */
import type { CancellationSignal } from './operation-context';

interface Lane {
  held: boolean;
  /** Waiters in arrival order; each is called with the key once it is theirs. */
  readonly waiters: (() => void)[];
}

export class KeyedMutex {
  readonly #lanes = new Map<string, Lane>();

  /** Resolves with a release function once the key is ours; rejects with the signal's reason if aborted first. */
  acquire(key: string, signal?: CancellationSignal): Promise<() => void> {
    if (signal?.aborted === true) return Promise.reject(reasonOf(signal));
    let lane = this.#lanes.get(key);
    if (lane === undefined) this.#lanes.set(key, (lane = { held: false, waiters: [] }));
    if (!lane.held) {
      lane.held = true;
      return Promise.resolve(this.#releaser(key, lane));
    }
    const waiting = lane;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const at = waiting.waiters.indexOf(grant);
        if (at < 0) return; // already granted: the holder releases as usual
        waiting.waiters.splice(at, 1);
        reject(reasonOf(signal as CancellationSignal));
      };
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.#releaser(key, waiting));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiting.waiters.push(grant);
    });
  }

  /** The holder's release: hands the key to the next waiter, or frees it (and forgets the lane). */
  #releaser(key: string, lane: Lane): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = lane.waiters.shift();
      if (next !== undefined) {
        next();
        return;
      }
      lane.held = false;
      // Keys do not accumulate: a free lane is dropped.
      if (this.#lanes.get(key) === lane) this.#lanes.delete(key);
    };
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

function reasonOf(signal: CancellationSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
}
