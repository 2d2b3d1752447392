/**
 * Reads of the LevelDB store that are whole functions of what they are given: the revisions a
 * store opens at, and a page of class records read at once (level-class-store.ts).
 */
import type { Level } from 'level';
import type { ClassDefinition } from '../../domain/class-model';
import type { ClassKey, NamespaceKey } from '../../domain/names';
import { LEGACY_CLASS_REVISION, type ClassPage } from '../class-store';
import type { StoreRevisions } from '../abstract-class-store';
import type { ClassIndex } from './class-index';
import { CLASS_RECORDS, classRecordKey, END, REVISIONS_KEY } from './keys';
import type { Overlay } from './overlay';
import { decodeClass, decodeRevisions, decodeScannedClass, type StoredClass } from './record-codec';
import type { RecordCache } from './record-cache';

/** The revisions a store holds: its revisions record, or those of a store written before it. */
export async function readRevisions(db: Level<string, string>): Promise<StoreRevisions> {
  const revisions = await db.get(REVISIONS_KEY);
  if (revisions !== undefined) return decodeRevisions(revisions, REVISIONS_KEY);
  // A new store, or one written before revisions: its classes (if any) are LEGACY_CLASS_REVISION,
  // and no event of them was ever logged.
  let hasClasses = false;
  for await (const _key of db.keys({ gte: CLASS_RECORDS, lt: CLASS_RECORDS + END, limit: 1 }))
    hasClasses = true;
  const revision = hasClasses ? LEGACY_CLASS_REVISION : 0n;
  return { revision, firstRetained: revision + 1n };
}

/** What a page read looks through before the disk: the store's visible writes and decoded records. */
export interface RecordLayers {
  readonly overlay: Overlay;
  readonly cache: RecordCache;
}

/**
 * Class records read as `getClass` reads each (the overlay, the record cache, the class index,
 * then the disk), with one `getMany` for those on disk only: an enumeration's page of 128 is one
 * native read and one promise, not 128 reads through the store's chain of promises and the read
 * batch (docs/performance.md, R3). `keep`: what is decoded goes into the record cache (not a scan).
 */
export async function readClassPage(
  db: Level<string, string>,
  layers: RecordLayers,
  index: ClassIndex,
  namespace: NamespaceKey,
  classNames: readonly ClassKey[],
  keep: boolean,
): Promise<ClassPage> {
  const { overlay, cache } = layers;
  const found: (ClassDefinition | undefined)[] = new Array<undefined>(classNames.length);
  const onDisk: string[] = [];
  const at: number[] = [];
  for (const [position, className] of classNames.entries()) {
    const key = classRecordKey(namespace, className);
    const pending = overlay.pending(key);
    if (pending === 'wiped') continue;
    // As the store's single read: what a commit made visible, else a decoded record, else the disk.
    const known =
      pending === undefined ? (cache.get(key) as StoredClass | undefined) : pending.decoded;
    if (known !== undefined) found[position] = (known as StoredClass | null)?.definition;
    else if (index.parentOf.has(className)) {
      onDisk.push(key);
      at.push(position);
    }
  }
  if (onDisk.length === 0) return found;
  const generation = overlay.generation;
  const texts = await db.getMany(onDisk);
  for (const [read, text] of texts.entries()) {
    if (text === undefined) continue;
    const key = onDisk[read] as string;
    const decoded = keep ? decodeClass(text, key) : decodeScannedClass(text, key);
    // A commit that happened while we read may have replaced the value: don't cache what may be stale.
    if (keep && generation === overlay.generation) cache.remember(key, decoded);
    found[at[read] as number] = decoded.definition;
  }
  return found;
}
