/**
 * Record reads issued in one turn of microtasks, read with one `getMany`: classic-level queues a
 * native worker per `get`, and its setup and completion on the main thread cost more than the
 * LevelDB lookup. An enumeration resolves a page of classes at once, so their reads reach the
 * store together: 100,000 records read by pages of 128 took ~1.3–1.6 CPU-s one `get` each and
 * ~0.6 CPU-s by `getMany` (docs/performance.md, R3). A lone read waits one microtask.
 */
import type { Level } from 'level';

interface Waiter {
  readonly resolve: (text: string | undefined) => void;
  readonly reject: (error: unknown) => void;
}

export class ReadBatch {
  #db: Level<string, string> | undefined;
  #keys: string[] = [];
  #waiters: Waiter[] = [];

  get(db: Level<string, string>, key: string): Promise<string | undefined> {
    if (this.#db !== db) this.#flush(); // another database (reopened): its batch goes alone
    if (this.#keys.length === 0) {
      this.#db = db;
      queueMicrotask(() => this.#flush());
    }
    this.#keys.push(key);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #flush(): void {
    const db = this.#db;
    const keys = this.#keys;
    const waiters = this.#waiters;
    this.#db = undefined;
    if (db === undefined || keys.length === 0) return;
    this.#keys = [];
    this.#waiters = [];
    db.getMany(keys).then(
      (texts) => {
        for (const [index, waiter] of waiters.entries()) waiter.resolve(texts[index]);
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  }
}
