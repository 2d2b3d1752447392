/**
 * EnumClasses (CreateClassEnum) as a stream (issue #13): breadth-first over the class index, a
 * page of classes resolved at a time and handed to the consumer before the next is read, so the
 * first class goes out at once, memory holds a page (not the answer) whatever the client's
 * speed, a cancelled call stops at the next class, and no stretch of it holds the event loop for
 * more than a time slice.
 *
 * What an enumeration that runs across concurrent writes returns (D75): each class at most once,
 * each as one commit left it, every class's superclass before it (or the enumeration's start),
 * and every class that no write touched during the call (nor its ancestors) is in it. A class
 * created, deleted or moved meanwhile may or may not be; a class's parent changed after it was
 * sent may reach its children in its newer form. No store snapshot: WMI's enumerations are live
 * too, and holding one (LevelDB's, or an etcd revision) for a slow reader's minutes would pin
 * what compaction frees.
 */
import type { ResolvedClass } from '../domain/class-model';
import { classKey, preview, sameName, superclassKeyOf, type ClassKey } from '../domain/names';
import { WbemError } from '../domain/wbem-status';
import type { BoundNamespace } from './namespace-table';
import type { OperationContext } from './operation-context';
import type { ServiceEnv } from './service-env';
import { SLICE_MS, TimeSlicer } from './time-slice';
import type { ClassPages, ClassView } from './views';
import type { EnumClassesInput } from './wbem-service-api';

/** Classes resolved before the consumer gets them: a page bounds what one call holds. */
export const ENUM_PAGE = 128;

/**
 * The start class of an enumeration (null: the top level), checked: CreateClassEnum naming an
 * unknown superclass is WBEM_E_INVALID_CLASS (MS-WMI 3.1.4.3.10), before anything is sent.
 */
export async function enumerationStart(
  env: ServiceEnv,
  bound: BoundNamespace,
  superclass: string,
): Promise<ClassKey | null> {
  if (superclass === '') return null;
  const start = classKey(superclass);
  if ((await env.classes.reader.getClass(bound.key, start)) === undefined)
    throw new WbemError('WBEM_E_INVALID_CLASS', `class ${preview(superclass)} does not exist`);
  return start;
}

/**
 * The classes under `start` (with `deep`, all descendants), breadth-first, parents before
 * children, each parent's children in key order; see the header for concurrent writes.
 */
export async function* classPages(
  env: ServiceEnv,
  bound: BoundNamespace,
  input: EnumClassesInput,
  start: ClassKey | null,
  ctx: OperationContext,
  toView: (resolved: ResolvedClass, transient: boolean) => ClassView,
): ClassPages {
  // Streamed: what a slice makes is sent and dropped (no young collection between slices).
  const slicer = new TimeSlicer(SLICE_MS, false);
  // The classes returned so far: none twice (a class moved meanwhile may be listed again), and a
  // class is returned only after its superclass. Keys only: a few MB for 100,000 classes.
  const returned = new Set<ClassKey | null>([start]);
  // Parents whose children are still to list, in the order they were returned (breadth-first).
  const parents: (ClassKey | null)[] = [start];
  // Classes listed so far: once more than the loader's cache holds, the rest is a scan (resolve):
  // a FIFO cache that a one-pass enumeration overfills would only lose its hot set.
  let listed = 0;
  // Cached now, the start's chain is not walked again by each class of the first page.
  if (start !== null) await env.classes.resolve(bound.key, start);
  for (let next = 0; next < parents.length; next++) {
    // Not `await slicer.tick()`: a promise for each of thousands of parents, most of them leaves.
    if (slicer.due()) await slicer.endSlice();
    ctx.signal.throwIfAborted();
    const parent = parents[next] ?? null;
    const children = await env.classes.reader.listSubclasses(bound.key, parent);
    if (children.length === 0) continue;
    listed += children.length;
    const scan = listed > env.classes.cacheLimit;
    // A scan did not keep the parent: cached again now, not read by each child of a page at once.
    if (scan && parent !== null) await env.classes.resolve(bound.key, parent);
    for (let from = 0; from < children.length; from += ENUM_PAGE) {
      if (slicer.due()) await slicer.endSlice();
      ctx.signal.throwIfAborted();
      const keys = children.slice(from, from + ENUM_PAGE).filter((key) => !returned.has(key));
      // A page is one store read, its classes derived from their parents (resolved and cached).
      const resolved = await env.classes.resolvePage(bound.key, keys, undefined, scan);
      const page: ClassView[] = [];
      for (const [index, found] of resolved.entries()) {
        // Deleted since it was listed, or moved under a class not returned yet (it comes there).
        if (found === undefined || !superclassReturned(found, parent, returned)) continue;
        const key = keys[index] as ClassKey;
        returned.add(key);
        if (input.deep) parents.push(key);
        page.push(toView(found, scan));
      }
      if (page.length > 0) yield page;
    }
  }
}

/**
 * Whether `found`'s superclass was returned: at once when it is still `parent`, whose children
 * were listed (every class but a moved one; no key made), else by its key.
 */
function superclassReturned(
  found: ResolvedClass,
  parent: ClassKey | null,
  returned: ReadonlySet<ClassKey | null>,
): boolean {
  if (parent === null ? found.superclass === '' : sameName(found.superclass, parent)) return true;
  return returned.has(superclassKeyOf(found));
}
