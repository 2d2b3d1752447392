/**
 * The answers of the last few EnumClasses calls, kept while nothing changed, so that a repeated
 * enumeration (an exporter's or a browser's: a whole schema again and again) replays the pages of
 * views it returned instead of listing and resolving every class again (R2, issue #13): a warm
 * call of CIM 2.41 spent ≈ 3 ms of its ≈ 30 ms of CPU listing 1,446 parents and deriving their
 * children's pages (docs/performance.md). The views are the objects the service hands out anyway
 * (classes.ts: one per resolved class), and the transport's encoded bytes are kept with them, so
 * an entry costs an array of references.
 *
 * An answer is kept only when the store revision (every class write, here or, on a shared store,
 * by another replica, moves it) did not move while it was made, no class of it was a scan's
 * (transient: an enumeration bigger than the class loader's cache), and the call read it to its
 * end; it is used only at that same revision and for the same namespace record (a namespace
 * deleted and made again is another record). So it is exactly what a new enumeration would return
 * at the revision the call starts at; what it returns across a write is D75's, as before.
 */
import type { ClassKey } from '../domain/names';
import type { NamespaceRecord } from '../store/class-store';
import type { ClassLoader } from './class-loader';
import type { BoundNamespace } from './namespace-table';
import type { ServiceEnv } from './service-env';
import type { ClassPages, ClassView } from './views';
import type { EnumClassesInput } from './wbem-service-api';

/** An answer of more classes is not kept: an entry keeps its classes alive. */
export const ENUM_CACHE_CLASSES = 4_096;
/** Answers kept per class loader (the oldest goes first). */
const ENTRIES = 4;

interface Entry {
  readonly revision: bigint;
  readonly record: NamespaceRecord;
  readonly pages: readonly (readonly ClassView[])[];
}

const answersOf = new WeakMap<ClassLoader, Map<string, Entry>>();

/** What an enumeration's answer depends on besides the store's contents. */
export function enumerationKey(
  bound: BoundNamespace,
  start: ClassKey | null,
  input: EnumClassesInput,
): string {
  return `${bound.key}\n${start ?? ''}\n${input.deep ? 'deep' : ''}\n${input.localOnly ? 'local' : ''}`;
}

/** The kept answer for `key`, when it is still what the store holds; else undefined. */
export function keptAnswer(
  env: ServiceEnv,
  bound: BoundNamespace,
  key: string,
): ClassPages | undefined {
  const answers = answersOf.get(env.classes);
  if (answers === undefined) return undefined;
  // Stale answers go at once: they would keep classes a write replaced alive.
  for (const [kept, { revision }] of answers)
    if (revision !== env.store.revision) answers.delete(kept);
  const entry = answers.get(key);
  return entry?.record === bound.record ? replay(entry.pages) : undefined;
}

async function* replay(pages: readonly (readonly ClassView[])[]): ClassPages {
  for (const page of pages) yield page;
}

/** `pages` as they come, kept under `key` when the call reads them all and nothing changed. */
export async function* keepingAnswer(
  env: ServiceEnv,
  bound: BoundNamespace,
  key: string,
  pages: ClassPages,
): ClassPages {
  const revision = env.store.revision;
  let kept: (readonly ClassView[])[] | undefined = [];
  let classes = 0;
  for await (const page of pages) {
    if (kept !== undefined) {
      classes += page.length;
      if (classes > ENUM_CACHE_CLASSES || page.some((view) => view.transient === true))
        kept = undefined;
      else kept.push(page);
    }
    yield page;
  }
  if (kept === undefined || env.store.revision !== revision) return;
  let answers = answersOf.get(env.classes);
  if (answers === undefined) answersOf.set(env.classes, (answers = new Map<string, Entry>()));
  answers.delete(key);
  answers.set(key, { revision, record: bound.record, pages: kept });
  for (const oldest of answers.keys()) {
    if (answers.size <= ENTRIES) break;
    answers.delete(oldest);
  }
}
