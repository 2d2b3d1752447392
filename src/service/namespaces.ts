/**
 * CreateNamespace, DeleteNamespace, EnumNamespaces (§6.9). Namespace writes take the tree lock
 * (NAMESPACE_TREE_LOCK); a delete also takes the lock of every namespace it removes, so writers
 * inside them finish first and later ones find the namespace gone.
 */
import { WBEM_RIGHT } from '../domain/access';
import type { QualifierDeclaration } from '../domain/class-model';
import { requireText } from '../domain/arguments';
import { isIdentifier, namespaceKeyOf, preview } from '../domain/names';
import { BUILT_IN_NAMESPACES, formatNamespace } from '../domain/namespace-path';
import { WbemError } from '../domain/wbem-status';
import { NAMESPACE_TREE, type NamespaceChange, type WriteFence } from '../store/class-store';
import { NAMESPACE_TREE_LOCK, namespaceGone, type BoundNamespace } from './namespace-table';
import type { OperationContext } from './operation-context';
import { retryOnConflict } from './optimistic';
import type { ServiceEnv } from './service-env';
import type { NamespaceView } from './views';

const WRITE = WBEM_RIGHT.WBEM_ENABLE | WBEM_RIGHT.WBEM_FULL_WRITE_REP;

export async function createNamespace(
  env: ServiceEnv,
  parent: string,
  name: string,
  ctx: OperationContext,
): Promise<{ readonly path: string }> {
  env.checkLifecycle();
  const bound = env.namespaces.bind(parent);
  env.authorize(ctx, bound, WRITE, 'CreateNamespace');
  requireText(name, 'the namespace name (name)', { namespace: parent });
  if (!isIdentifier(name)) {
    // §6.9: NAMESPACE = STRING-IDENTIFIER *("\" STRING-IDENTIFIER)
    throw new WbemError(
      'WBEM_E_INVALID_PARAMETER',
      `namespace name "${preview(name)}" is not an identifier`,
      { namespace: parent },
    );
  }
  return env.guard(ctx, { namespace: parent }, async () => {
    const elements = [...bound.record.elements, name];
    const key = namespaceKeyOf(elements);
    const release = await env.locks.acquire(NAMESPACE_TREE_LOCK, ctx.signal);
    try {
      const durable = await retryOnConflict(async () => {
        const fence = await env.store.beginRead([NAMESPACE_TREE]);
        env.namespaces.require(bound.key, parent);
        if (env.namespaces.has(key)) {
          throw new WbemError(
            'WBEM_E_ALREADY_EXISTS',
            `namespace ${formatNamespace(elements)} already exists`,
            { namespace: formatNamespace(elements) },
          );
        }
        ctx.signal.throwIfAborted();
        const commit = env.store.commitIf(fence, [
          { op: 'putNamespace', namespace: key, record: { elements } },
        ]);
        await commit.committed;
        env.namespaces.add(key, { elements });
        return { durable: commit.durable };
      });
      await durable.durable;
    } finally {
      release();
    }
    return { path: formatNamespace(elements) };
  });
}

export async function deleteNamespace(
  env: ServiceEnv,
  namespace: string,
  ctx: OperationContext,
): Promise<void> {
  env.checkLifecycle();
  const bound = env.namespaces.bind(namespace);
  env.authorize(ctx, bound, WRITE, 'DeleteNamespace');
  if (BUILT_IN_NAMESPACES.some((elements) => namespaceKeyOf(elements) === bound.key)) {
    throw new WbemError(
      'WBEM_E_INVALID_OPERATION',
      `namespace ${formatNamespace(bound.record.elements)} always exists`,
      {
        namespace,
      },
    );
  }
  await env.guard(ctx, { namespace }, async () => {
    const releaseTree = await env.locks.acquire(NAMESPACE_TREE_LOCK, ctx.signal);
    try {
      await retryOnConflict(async () => {
        const fence = await env.store.beginRead([NAMESPACE_TREE]);
        env.namespaces.require(bound.key, namespace);
        await removeNamespaceTree(env, { bound, fence }, ctx);
      });
    } finally {
      releaseTree();
    }
  });
}

/** The namespace and every namespace below it, in one commit; their watches end. */
async function removeNamespaceTree(
  env: ServiceEnv,
  { bound, fence }: { readonly bound: BoundNamespace; readonly fence: WriteFence },
  ctx: OperationContext,
): Promise<void> {
  const doomed = [...env.namespaces.entries()]
    .map(([key]) => key)
    .filter((key) => key === bound.key || key.startsWith(`${bound.key}\\`));
  // Writers inside the doomed namespaces finish first; later ones find the namespace gone.
  const release = await env.locks.acquireAll(doomed, ctx.signal);
  let durable: Promise<void>;
  try {
    ctx.signal.throwIfAborted();
    const commit = env.store.commitIf(
      fence,
      doomed.map((key) => ({ op: 'deleteNamespace', namespace: key })),
    );
    durable = commit.durable;
    await commit.committed;
    env.namespaces.remove(doomed);
    env.classes.forgetNamespaces(doomed);
    const gone = new Set(doomed);
    env.endWatchers(
      (watcher) => gone.has(watcher.namespace),
      () => namespaceGone(bound.record),
    );
  } finally {
    release();
  }
  await durable;
}

export async function enumNamespaces(
  env: ServiceEnv,
  parent: string,
  deep: boolean,
  ctx: OperationContext,
): Promise<readonly NamespaceView[]> {
  env.checkLifecycle();
  const bound = env.namespaces.bind(parent);
  env.authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE, 'EnumNamespaces');
  return env.guard(ctx, { namespace: parent }, async () => {
    const depth = bound.record.elements.length;
    return [...env.namespaces.entries()]
      .filter(
        ([key, record]) =>
          key.startsWith(`${bound.key}\\`) && (deep || record.elements.length === depth + 1),
      )
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, record]) => ({
        name: record.elements[record.elements.length - 1] ?? '',
        path: formatNamespace(record.elements),
      }));
  });
}

/** The namespace's qualifier declarations, by lower-case name (a stable order for exports). */
export function enumQualifiers(
  env: ServiceEnv,
  namespace: string,
  ctx: OperationContext,
): readonly QualifierDeclaration[] {
  env.checkLifecycle();
  const bound = env.namespaces.bind(namespace);
  env.authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE, 'EnumQualifiers');
  return [...env.namespaces.qualifiersOf(bound.key).entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, declaration]) => declaration);
}

/**
 * Namespace and qualifier declaration changes another replica committed (a shared store's watch,
 * in revision order; this replica's own arrive too and change nothing): the table follows, and a
 * deleted namespace's caches and watches go as after a local DeleteNamespace.
 */
export function applyNamespaceChanges(env: ServiceEnv, changes: readonly NamespaceChange[]): void {
  for (const change of changes) {
    if (change.op === 'putNamespace') env.namespaces.add(change.namespace, change.record);
    else if (change.op === 'putQualifier')
      env.namespaces.declareQualifier(change.namespace, change.declaration);
    else {
      const record = env.namespaces.has(change.namespace)
        ? env.namespaces.require(change.namespace, change.namespace)
        : undefined;
      env.namespaces.remove([change.namespace]);
      env.classes.forgetNamespaces([change.namespace]);
      if (record !== undefined)
        env.endWatchers(
          (watcher) => watcher.namespace === change.namespace,
          () => namespaceGone(record),
        );
    }
  }
}
