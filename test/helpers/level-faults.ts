/**
 * Observation and fault injection at classic-level's synced write. The LevelDB store writes each
 * group commit as one chained batch, so tests replace ChainedBatch.prototype.write (for every
 * database in the process) and restore it afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';

export type BatchWrite = (this: unknown, options?: { readonly sync?: boolean }) => Promise<void>;

interface WritablePrototype {
  write: BatchWrite;
}

/** classic-level does not export its chained batch class: take the prototype of a real one. */
async function chainedBatchPrototype(): Promise<WritablePrototype> {
  const dir = await mkdtemp(join(tmpdir(), 'wbemd-level-proto-'));
  const db = new Level<string, string>(dir);
  try {
    await db.open();
    const batch = db.batch();
    const prototype = Object.getPrototypeOf(batch) as WritablePrototype;
    await batch.close();
    return prototype;
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Replaces the synced write until `restore()`; `replacement` gets the original to delegate to. */
export async function patchBatchWrite(
  replacement: (original: BatchWrite) => BatchWrite,
): Promise<{ restore(): void }> {
  const prototype = await chainedBatchPrototype();
  const own = Object.prototype.hasOwnProperty.call(prototype, 'write');
  const original = prototype.write;
  prototype.write = replacement(original);
  return {
    restore() {
      if (own) prototype.write = original;
      else delete (prototype as Partial<WritablePrototype>).write;
    },
  };
}

/** Every synced write fails, as a full or broken disk would make it. */
export const failingWrites = (): Promise<{ restore(): void }> =>
  patchBatchWrite(() => () => Promise.reject(new Error('IO error: simulated')));
