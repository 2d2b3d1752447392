/**
 * GetClass, EnumClasses (CreateClassEnum) and DeleteClass. Reads go through the class loader's
 * cached chains; DeleteClass removes the class, its subclasses and their static instances in one
 * atomic write (§6.6), under the namespace lock.
 */
import { WBEM_RIGHT } from '../domain/access';
import { requireText } from '../domain/arguments';
import type { ClassDefinition, ResolvedClass } from '../domain/class-model';
import { checkClientContext } from '../domain/client-context';
import { classKey, preview, superclassKeyOf } from '../domain/names';
import { formatNamespace } from '../domain/namespace-path';
import { parseDeleteClassFlags } from '../domain/put-class-flags';
import { localView, propertyCount } from '../domain/resolve-class';
import { findSystemClass, isSystemClassName } from '../domain/system-classes';
import { WbemError } from '../domain/wbem-status';
import type { NamespaceRecord, StoreWrite, WriteFence } from '../store/class-store';
import { classPages, enumerationStart } from './class-enumeration';
import { changeInfo, descendantDerivations } from './class-writes';
import { enumerationKey, keepingAnswer, keptAnswer } from './enumeration-cache';
import type { BoundNamespace } from './namespace-table';
import type { OperationContext } from './operation-context';
import { retryOnConflict } from './optimistic';
import type { ServiceEnv } from './service-env';
import { TimeSlicer } from './time-slice';
import type { ClassPages, ClassView } from './views';
import type { DeleteClassInput, EnumClassesInput } from './wbem-service-api';

export async function getClass(
  env: ServiceEnv,
  namespace: string,
  className: string,
  localOnly: boolean,
  ctx: OperationContext,
): Promise<ClassView & { readonly revision: bigint }> {
  env.checkLifecycle();
  const bound = env.namespaces.bind(namespace);
  env.authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE, 'GetClass');
  requireText(className, 'the class name (class_name)', { namespace });
  return env.guard(ctx, { namespace, className }, async () => {
    // The revision is read before the class: a write in between makes it older than what is
    // returned, so an expected_revision built from it fails safe (a conflict), never the reverse.
    // A built-in system class has no store revision: 0, the revision before any write.
    const revision =
      findSystemClass(classKey(className)) === undefined
        ? await env.store.getClassRevision(bound.key, classKey(className))
        : 0n;
    // A replica's caches follow a shared store's watch, which may lag the revision just read from
    // the store: catch up first, so the class returned is never older than its revision (D71).
    if (revision !== undefined && revision > env.store.revision) await env.store.beginRead([]);
    const resolved =
      revision === undefined
        ? undefined
        : await env.classes.resolve(bound.key, classKey(className));
    if (resolved === undefined || revision === undefined) {
      throw new WbemError(
        'WBEM_E_NOT_FOUND',
        `class ${preview(className)} does not exist in ${formatNamespace(bound.record.elements)}`,
      );
    }
    return { ...classView(env, bound.record, resolved, localOnly), revision };
  });
}

/**
 * EnumClasses: the checks (namespace, access, an unknown superclass) before anything is sent, then
 * the classes page by page as the caller pulls them (class-enumeration.ts), failures mapped as
 * every call's are.
 */
export async function enumClasses(
  env: ServiceEnv,
  input: EnumClassesInput,
  ctx: OperationContext,
): Promise<ClassPages> {
  env.checkLifecycle();
  const bound = env.namespaces.bind(input.namespace);
  env.authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE, 'EnumClasses');
  const subject = { namespace: input.namespace, className: input.superclass };
  const start = await env.guard(ctx, subject, () => enumerationStart(env, bound, input.superclass));
  const key = enumerationKey(bound, start, input);
  const kept = keptAnswer(env, bound, key);
  if (kept !== undefined) return kept;
  const pages = classPages(env, bound, input, start, ctx, (resolved, transient) =>
    transient
      ? transientView(env, bound.record, resolved, input.localOnly)
      : classView(env, bound.record, resolved, input.localOnly),
  );
  return guardedPages(env, ctx, subject, keepingAnswer(env, bound, key, pages));
}

async function* guardedPages(
  env: ServiceEnv,
  ctx: OperationContext,
  subject: { readonly namespace: string; readonly className: string },
  pages: ClassPages,
): ClassPages {
  try {
    yield* pages;
  } catch (failure) {
    throw env.asWbemError(failure, ctx, subject);
  }
}

/**
 * The local-members view of each resolved class, made once: while the class loader keeps a class,
 * every read returns the same object, and the transport's encoded bytes, kept by that object,
 * are reused (docs/performance.md).
 */
const localViews = new WeakMap<ResolvedClass, ResolvedClass>();

function localViewOf(resolved: ResolvedClass): ResolvedClass {
  let local = localViews.get(resolved);
  if (local === undefined) localViews.set(resolved, (local = localView(resolved)));
  return local;
}

/**
 * The views of each resolved class, made once per namespace record: an enumeration returns the
 * same view objects every time while the class loader keeps the class, so neither its system
 * properties (the __PATH text among them) nor the transport's check that its cached bytes still
 * describe them is redone per class and call.
 */
interface ViewsOf {
  readonly namespace: NamespaceRecord;
  full?: ClassView;
  local?: ClassView;
}
const viewsOf = new WeakMap<ResolvedClass, ViewsOf>();

function classView(
  env: ServiceEnv,
  namespace: NamespaceRecord,
  resolved: ResolvedClass,
  localOnly: boolean,
): ClassView {
  let views = viewsOf.get(resolved);
  if (views?.namespace !== namespace) viewsOf.set(resolved, (views = { namespace }));
  const made = localOnly ? views.local : views.full;
  if (made !== undefined) return made;
  const view = newView(env, namespace, resolved, localOnly ? localViewOf(resolved) : resolved);
  if (localOnly) views.local = view;
  else views.full = view;
  return view;
}

/** A view of a class read by a scan (nothing keeps it): made for this read, nothing memoized. */
function transientView(
  env: ServiceEnv,
  namespace: NamespaceRecord,
  resolved: ResolvedClass,
  localOnly: boolean,
): ClassView {
  return newView(env, namespace, resolved, localOnly ? localView(resolved) : resolved, true);
}

/** `shown` (the class, or its local members) with the class's system properties. */
function newView(
  env: ServiceEnv,
  namespace: NamespaceRecord,
  resolved: ResolvedClass,
  shown: ResolvedClass,
  transient = false,
): ClassView {
  // __PROPERTY_COUNT describes the class (inherited members included), whatever view is returned.
  const system = env.systemProperties(
    namespace,
    resolved,
    1,
    resolved.name,
    propertyCount(resolved),
  );
  return transient ? { class: shown, system, transient } : { class: shown, system };
}

export async function deleteClass(
  env: ServiceEnv,
  input: DeleteClassInput,
  ctx: OperationContext,
): Promise<{ readonly deletedClasses: readonly string[] }> {
  env.checkLifecycle();
  const bound = env.namespaces.bind(input.namespace);
  env.authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE | WBEM_RIGHT.WBEM_FULL_WRITE_REP, 'DeleteClass');
  requireText(input.className, 'the class name (class_name)', { namespace: input.namespace });
  parseDeleteClassFlags(input.flags);
  if (input.context !== undefined) checkClientContext(input.context);
  const subject = { namespace: input.namespace, className: input.className };
  return env.guard(ctx, subject, async () => {
    if (isSystemClassName(input.className)) {
      throw new WbemError(
        'WBEM_E_INVALID_OPERATION',
        `system class ${preview(input.className)} cannot be deleted`,
      );
    }
    const release = await env.locks.acquire(bound.key, ctx.signal);
    let deleted: readonly ClassDefinition[];
    let durable: Promise<void>;
    try {
      ({ deleted, durable } = await retryOnConflict(async () => {
        const fence = await env.store.beginRead([bound.key]);
        env.namespaces.require(bound.key, input.namespace);
        return commitClassDeletion(env, { bound, fence }, input, ctx);
      }));
    } finally {
      release();
    }
    await durable;
    env.logCorrelation(ctx, input.context, 'DeleteClass committed', subject);
    return { deletedClasses: deleted.map((d) => d.name) };
  });
}

/** Under the namespace lock: the class, its subclasses and their instances, deleted in one commit. */
async function commitClassDeletion(
  env: ServiceEnv,
  { bound, fence }: { readonly bound: BoundNamespace; readonly fence: WriteFence },
  input: DeleteClassInput,
  ctx: OperationContext,
): Promise<{ readonly deleted: readonly ClassDefinition[]; readonly durable: Promise<void> }> {
  const key = classKey(input.className);
  const target = await env.store.getClass(bound.key, key);
  if (target === undefined) {
    throw new WbemError('WBEM_E_NOT_FOUND', `class ${preview(input.className)} does not exist`);
  }
  const deleted = [target, ...(await env.classes.loadDescendants(bound.key, key))];
  const instanceWrites = await instanceDeletions(env, bound, deleted);
  const chain = await env.classes.loadChain(bound.key, key);
  const derivations = descendantDerivations(
    target,
    (chain ?? []).slice(1).map((c) => c.name),
    deleted.slice(1),
  );
  ctx.signal.throwIfAborted();
  const change = changeInfo(input.context, ctx);
  // One deletion event per class (§9 [I]), the class first, then its subclasses parents first.
  const { committed, durable } = env.store.commitIf(fence, [
    ...deleted.map((definition): StoreWrite => ({
      op: 'deleteClass',
      namespace: bound.key,
      className: classKey(definition.name),
      superclass: superclassKeyOf(definition),
      event: {
        ...change,
        derivation: derivations.get(classKey(definition.name)) ?? [],
        target: definition,
      },
    })),
    ...instanceWrites,
  ]);
  await committed;
  env.classes.forgetChains(
    bound.key,
    deleted.map((d) => d.name),
  );
  return { deleted, durable };
}

/** §6.6: the static instances of every deleted class go in the same atomic write. */
async function instanceDeletions(
  env: ServiceEnv,
  bound: BoundNamespace,
  deleted: readonly ClassDefinition[],
): Promise<StoreWrite[]> {
  const writes: StoreWrite[] = [];
  // Thousands of subclasses: the reads may all settle as microtasks; let the event loop turn.
  const slicer = new TimeSlicer();
  for (const definition of deleted) {
    await slicer.tick();
    const className = classKey(definition.name);
    for (const entry of await env.store.listInstances(bound.key, className))
      writes.push({ op: 'deleteInstance', namespace: bound.key, className, key: entry.key });
  }
  return writes;
}
