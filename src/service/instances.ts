/**
 * Static instances: PutInstance, GetInstance, DeleteInstance, EnumInstances (CreateInstanceEnum).
 * An instance is filed under its class and its key; paths are unique across a keyed hierarchy, so
 * a path may name a subclass instance by its base class.
 */
import { WBEM_RIGHT } from '../domain/access';
import type { ClassDefinition, ResolvedClass } from '../domain/class-model';
import { requireObject, requireText } from '../domain/arguments';
import { checkClientContext } from '../domain/client-context';
import { decideInstanceWrite, prepareInstance } from '../domain/decide-put-instance';
import type { InstancePath, StoredInstance } from '../domain/instance-model';
import { formatRelPath, locateByPath, parseInstancePath } from '../domain/instance-path';
import { instanceKeysOf, instanceView } from '../domain/instance-view';
import { classKey, preview, type ClassKey, type NamespaceKey } from '../domain/names';
import { formatNamespace, isLocaleNamespace } from '../domain/namespace-path';
import { parseDeleteInstanceFlags, parsePutInstanceFlags } from '../domain/put-class-flags';
import { propertyCount, resolveClass } from '../domain/resolve-class';
import { WbemError } from '../domain/wbem-status';
import type { ClassStore, InstanceEntry, NamespaceRecord } from '../store/class-store';
import type { BoundNamespace } from './namespace-table';
import type { OperationContext } from './operation-context';
import { retryOnConflict } from './optimistic';
import type { ServiceEnv } from './service-env';
import { TimeSlicer } from './time-slice';
import type { InstanceObjectView } from './views';
import type { DeleteInstanceInput, EnumInstancesInput, PutInstanceInput } from './wbem-service-api';

/** §8: static instances need WBEM_PARTIAL_WRITE_REP, which WBEM_FULL_WRITE_REP includes. */
function authorizeInstanceWrite(
  env: ServiceEnv,
  ctx: OperationContext,
  bound: BoundNamespace,
  operation: string,
): void {
  const full =
    (env.access.rightsOf(ctx.principal, bound.record.elements) & WBEM_RIGHT.WBEM_FULL_WRITE_REP) !==
    0;
  env.authorize(
    ctx,
    bound,
    WBEM_RIGHT.WBEM_ENABLE |
      (full ? WBEM_RIGHT.WBEM_FULL_WRITE_REP : WBEM_RIGHT.WBEM_PARTIAL_WRITE_REP),
    operation,
  );
}

export async function putInstance(
  env: ServiceEnv,
  input: PutInstanceInput,
  ctx: OperationContext,
): Promise<{ readonly path: string }> {
  env.checkLifecycle();
  const bound = env.namespaces.bind(input.namespace);
  const instance = requireObject(input.instance, 'the instance object (pInst)', {
    namespace: input.namespace,
  });
  requireText(instance.className, 'the class name of the instance (instance.class_name)', {
    namespace: input.namespace,
  });
  authorizeInstanceWrite(env, ctx, bound, 'PutInstance');
  const mode = parsePutInstanceFlags(input.flags);
  if (input.context !== undefined) checkClientContext(input.context);
  const subject = { namespace: input.namespace, className: instance.className };
  return env.guard(ctx, subject, async () => {
    const release = await env.locks.acquire(bound.key, ctx.signal);
    let durable: Promise<void>;
    let relpath: string;
    try {
      ({ durable, relpath } = await retryOnConflict(async () => {
        const fence = await env.store.beginRead([bound.key]);
        const namespace = env.namespaces.require(bound.key, input.namespace);
        const resolved = await env.classes.resolvedClass(bound.key, instance.className);
        const prepared = prepareInstance(instance, resolved, isLocaleNamespace(namespace.elements));
        const existing = await findInstance(
          env.store,
          bound.key,
          prepared.location.keyRoot,
          prepared.location.key,
        );
        decideInstanceWrite(mode, resolved.name, existing?.instance);
        ctx.signal.throwIfAborted(); // the last point where a cancel means "nothing written"
        const commit = env.store.commitIf(fence, [
          {
            op: 'putInstance',
            namespace: bound.key,
            className: classKey(resolved.name),
            key: prepared.location.key,
            instance: prepared.stored,
          },
        ]);
        await commit.committed;
        return { durable: commit.durable, relpath: prepared.relpath };
      }));
    } finally {
      release();
    }
    await durable;
    env.logCorrelation(ctx, input.context, 'PutInstance committed', subject);
    return { path: relpath };
  });
}

export async function getInstance(
  env: ServiceEnv,
  namespace: string,
  path: string,
  ctx: OperationContext,
): Promise<InstanceObjectView> {
  env.checkLifecycle();
  const bound = env.namespaces.bind(namespace);
  env.authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE, 'GetInstance');
  requireText(path, 'the instance path (path)', { namespace });
  const parsed = parseInstancePathIn(env, bound, path);
  return env.guard(ctx, { namespace, className: parsed.className }, async () => {
    const found = await locateInstance(env, bound.key, parsed);
    return instanceObjectView(
      env,
      bound.record,
      resolveClass([...found.chain].reverse()),
      found.instance,
    );
  });
}

export async function deleteInstance(
  env: ServiceEnv,
  input: DeleteInstanceInput,
  ctx: OperationContext,
): Promise<void> {
  env.checkLifecycle();
  const bound = env.namespaces.bind(input.namespace);
  authorizeInstanceWrite(env, ctx, bound, 'DeleteInstance');
  requireText(input.path, 'the instance path (path)', { namespace: input.namespace });
  parseDeleteInstanceFlags(input.flags);
  if (input.context !== undefined) checkClientContext(input.context);
  const parsed = parseInstancePathIn(env, bound, input.path);
  const subject = { namespace: input.namespace, className: parsed.className };
  await env.guard(ctx, subject, async () => {
    const release = await env.locks.acquire(bound.key, ctx.signal);
    let durable: Promise<void>;
    try {
      ({ durable } = await retryOnConflict(async () => {
        const fence = await env.store.beginRead([bound.key]);
        env.namespaces.require(bound.key, input.namespace);
        const found = await locateInstance(env, bound.key, parsed);
        ctx.signal.throwIfAborted();
        const commit = env.store.commitIf(fence, [
          {
            op: 'deleteInstance',
            namespace: bound.key,
            className: classKey(found.instance.className),
            key: found.key,
          },
        ]);
        await commit.committed;
        return { durable: commit.durable };
      }));
    } finally {
      release();
    }
    await durable;
    env.logCorrelation(ctx, input.context, 'DeleteInstance committed', subject);
  });
}

export async function enumInstances(
  env: ServiceEnv,
  input: EnumInstancesInput,
  ctx: OperationContext,
): Promise<readonly InstanceObjectView[]> {
  env.checkLifecycle();
  const bound = env.namespaces.bind(input.namespace);
  env.authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE, 'EnumInstances');
  requireText(input.className, 'the class name (class_name)', { namespace: input.namespace });
  return env.guard(ctx, { namespace: input.namespace, className: input.className }, async () => {
    const start = classKey(input.className);
    const root = await env.classes.reader.getClass(bound.key, start);
    if (root === undefined) {
      // CreateInstanceEnum of an unknown class: WBEM_E_INVALID_CLASS, as CreateClassEnum.
      throw new WbemError(
        'WBEM_E_INVALID_CLASS',
        `class ${preview(input.className)} does not exist`,
      );
    }
    const classes = input.deep
      ? [root, ...(await env.classes.loadDescendants(bound.key, start))]
      : [root];
    const views: InstanceObjectView[] = [];
    // A class with thousands of subclasses or instances must not hold the event loop (issue #13).
    const slicer = new TimeSlicer();
    for (const definition of classes) {
      await slicer.tick();
      ctx.signal.throwIfAborted();
      const entries = await env.store.listInstances(bound.key, classKey(definition.name));
      if (entries.length === 0) continue;
      // The loader's cache: one derivation step per class, not a walk of its chain (issue #13).
      const resolved = await env.classes.resolve(bound.key, classKey(definition.name));
      if (resolved === undefined) continue; // deleted meanwhile: its instances went with it
      for (const entry of entries) {
        await slicer.tick();
        views.push(instanceObjectView(env, bound.record, resolved, entry.instance));
      }
    }
    return views;
  });
}

/**
 * The instance filed under `key` in `from` or one of its subclasses, `from` first. Instance paths
 * are unique across a keyed hierarchy (A.Id="x" and B.Id="x" of B:A are one path), so from its
 * key root this finds any instance with that path; from a path's class, the ones it can name.
 */
export async function findInstance(
  store: ClassStore,
  ns: NamespaceKey,
  from: ClassKey,
  key: string,
): Promise<InstanceEntry | undefined> {
  const classes: ClassKey[] = [from];
  for (let index = 0; index < classes.length; index++) {
    const current = classes[index] as ClassKey;
    const instance = await store.getInstance(ns, current, key);
    if (instance !== undefined) return { key, instance };
    classes.push(...(await store.listSubclasses(ns, current)));
  }
  return undefined;
}

/** An instance path of the bound namespace: a namespace prefix must name it (§6.9). */
function parseInstancePathIn(env: ServiceEnv, bound: BoundNamespace, text: string): InstancePath {
  const parsed = parseInstancePath(text);
  if (parsed.namespace !== undefined && env.namespaces.keyOf(parsed.namespace) !== bound.key) {
    throw new WbemError(
      'WBEM_E_INVALID_PARAMETER',
      `object path "${preview(text)}" names another namespace than ${formatNamespace(bound.record.elements)}`,
    );
  }
  return parsed;
}

/** The instance a path names: of the path's class or a subclass (a path may name a subclass instance by its base class). */
async function locateInstance(
  env: ServiceEnv,
  ns: NamespaceKey,
  path: InstancePath,
): Promise<{
  readonly instance: StoredInstance;
  readonly key: string;
  readonly chain: readonly ClassDefinition[];
}> {
  const pathClass = await env.classes.resolvedClass(ns, path.className);
  const { location, keys } = locateByPath(pathClass, path);
  const found = await findInstance(env.store, ns, classKey(pathClass.name), location.key);
  const chain =
    found === undefined
      ? undefined
      : await env.classes.loadChain(ns, classKey(found.instance.className));
  if (found === undefined || chain === undefined) {
    throw new WbemError(
      'WBEM_E_NOT_FOUND',
      `no instance has the path ${preview(formatRelPath(pathClass.name, keys))}`,
    );
  }
  return { instance: found.instance, key: found.key, chain };
}

/** An instance as read, with its class resolved by the caller (once for all the instances of an enumeration). */
function instanceObjectView(
  env: ServiceEnv,
  namespace: NamespaceRecord,
  resolved: ResolvedClass,
  stored: StoredInstance,
): InstanceObjectView {
  const relpath = formatRelPath(resolved.name, instanceKeysOf(resolved, stored));
  return {
    instance: instanceView(resolved, stored),
    system: env.systemProperties(namespace, resolved, 2, relpath, propertyCount(resolved)),
  };
}
