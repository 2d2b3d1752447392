/**
 * Decoded records read from disk, so a hot class is decoded once, and the class records of a big
 * commit once durable (level-class-store.ts: write-through). Replaced (or dropped, for a delete)
 * when a write of its key leaves the overlay, which answers for the key until then; never filled
 * across a concurrent write (the reader compares the overlay's generation; a settled record is its
 * key's latest write).
 */
import type { Decoded } from './write-plan';

const MAX_CACHED = 20_000;

export class RecordCache {
  readonly #records = new Map<string, Decoded>();

  get(key: string): Decoded | undefined {
    return this.#records.get(key);
  }

  has(key: string): boolean {
    return this.#records.has(key);
  }

  /** Keeps a record read from disk, dropping the oldest beyond MAX_CACHED. */
  remember(key: string, decoded: Decoded): void {
    if (this.#records.size >= MAX_CACHED) {
      const oldest = this.#records.keys().next();
      if (oldest.done !== true) this.#records.delete(oldest.value);
    }
    this.#records.set(key, decoded);
  }

  /** Replaces a key's record if it is kept (a key not kept stays so: nobody read it). */
  replace(key: string, decoded: Decoded): void {
    if (this.#records.has(key)) this.#records.set(key, decoded);
  }

  forget(key: string): void {
    this.#records.delete(key);
  }

  forgetUnder(prefixes: readonly string[]): void {
    for (const prefix of prefixes)
      for (const key of this.#records.keys()) if (key.startsWith(prefix)) this.#records.delete(key);
  }

  clear(): void {
    this.#records.clear();
  }
}
