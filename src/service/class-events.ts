/**
 * Class events (§9): the live feed of durable class changes handed to the onClassChange hook and
 * to the watchers of their namespace, and WatchClassEvents, which serves one watcher
 * (class-watch.ts) until the client cancels, the server shuts down, the namespace is deleted or
 * the client falls too far behind.
 */
import { WBEM_RIGHT } from '../domain/access';
import type { ClassDefinition, Derivation } from '../domain/class-model';
import { derivationNames } from '../domain/resolve-class';
import { classKey, isIdentifier, preview, type ClassKey } from '../domain/names';
import { formatNamespace } from '../domain/namespace-path';
import { WbemError } from '../domain/wbem-status';
import type { ClassEventRecord, NamespaceRecord } from '../store/class-store';
import { ClassWatcher, type WatchPort } from './class-watch';
import { namespaceGone, type BoundNamespace } from './namespace-table';
import type { OperationContext } from './operation-context';
import type { ServiceEnv } from './service-env';
import type { ClassEventView, EventClassView } from './views';
import type { AcceptedWatch, WatchClassEventsInput } from './wbem-service-api';

const EVENT_CLASSES = {
  created: '__ClassCreationEvent',
  modified: '__ClassModificationEvent',
  deleted: '__ClassDeletionEvent',
} as const;

/** Hands durable class changes to the onClassChange hook and to the watchers of their namespace. */
export function publishClassChanges(env: ServiceEnv, events: readonly ClassEventRecord[]): void {
  for (const event of events) {
    try {
      env.onClassChange?.(event);
    } catch (error) {
      env.logger.error(
        { operationId: event.operationId, err: error },
        'class change listener failed',
      );
    }
  }
  for (const watcher of env.watchers) {
    const mine = events.filter((event) => event.namespace === watcher.namespace);
    if (mine.length > 0) watcher.offer(mine);
  }
}

/**
 * WatchClassEvents' immediate phase: lifecycle, namespace, rights (§9: WBEM_RIGHT_SUBSCRIBE),
 * the filter's shape, and whether the log still holds what `since_revision` asks for.
 */
export function watchClassEvents(
  env: ServiceEnv,
  input: WatchClassEventsInput,
  ctx: OperationContext,
): AcceptedWatch {
  env.checkLifecycle();
  const bound = env.namespaces.bind(input.namespace);
  env.authorize(
    ctx,
    bound,
    WBEM_RIGHT.WBEM_ENABLE | WBEM_RIGHT.WBEM_RIGHT_SUBSCRIBE,
    'WatchClassEvents',
  );
  if (input.className !== '' && !isIdentifier(input.className)) {
    throw new WbemError(
      'WBEM_E_INVALID_PARAMETER',
      `"${preview(input.className)}" is not a class name`,
      { namespace: input.namespace },
    );
  }
  const revision = env.store.revision;
  const since = input.sinceRevision;
  if (since !== undefined && since < env.store.firstRetainedRevision - 1n) {
    throw new WbemError(
      'WBEM_E_QUEUE_OVERFLOW',
      `the event log retains revisions from ${env.store.firstRetainedRevision} on, not all after ${since}`,
      { namespace: input.namespace },
    );
  }
  if (since !== undefined && since > revision) {
    // Revisions this store never made: the client's view is of another history (a restored store).
    throw new WbemError(
      'WBEM_E_QUEUE_OVERFLOW',
      `revision ${since} is ahead of the store's revision ${revision}`,
      { namespace: input.namespace },
    );
  }
  const isa = input.className === '' ? undefined : classKey(input.className);
  return { revision, run: (port) => runWatch(env, bound, isa, since ?? revision, ctx, port) };
}

async function runWatch(
  env: ServiceEnv,
  bound: BoundNamespace,
  isa: ClassKey | undefined,
  after: bigint,
  ctx: OperationContext,
  port: WatchPort<ClassEventView>,
): Promise<WbemError> {
  const watcher = new ClassWatcher<ClassEventView>({
    namespace: bound.key,
    isa,
    after,
    limit: env.watchQueueLimit,
    store: env.store,
    toView: (record) => eventView(env, bound.record, record),
  });
  // Registered before the watcher reads the log (see class-watch.ts).
  env.watchers.add(watcher);
  const cancelled = (): void =>
    watcher.end(new WbemError('WBEM_E_CALL_CANCELLED', 'the client cancelled the watch'));
  ctx.signal.addEventListener('abort', cancelled, { once: true });
  if (ctx.signal.aborted) cancelled();
  // A namespace deleted between the immediate checks and here.
  if (!env.namespaces.has(bound.key)) watcher.end(namespaceGone(bound.record));
  if (env.isShuttingDown)
    watcher.end(new WbemError('WBEM_E_SHUTTING_DOWN', 'the server is shutting down'));
  try {
    return await watcher.run(port);
  } finally {
    env.watchers.delete(watcher);
    ctx.signal.removeEventListener('abort', cancelled);
  }
}

/**
 * An event as sent: TargetClass / PreviousClass as written (local members, not resolved: the
 * class may be gone, and the event describes the write), with system properties from the
 * recorded derivation. __PROPERTY_COUNT is not known from a local definition: 0.
 */
function eventView(
  env: ServiceEnv,
  namespace: NamespaceRecord,
  record: ClassEventRecord,
): ClassEventView {
  const classView = (definition: ClassDefinition, derivation: Derivation): EventClassView => ({
    definition,
    system: env.systemProperties(
      namespace,
      {
        name: definition.name,
        superclass: definition.superclass,
        dynasty: derivationNames(derivation)[derivation.length - 1] ?? definition.name,
        derivation,
      },
      1,
      definition.name,
      0,
    ),
  });
  const previous = record.previous;
  // The recorded chain is the target's; a modification that moved the class keeps only the old parent.
  const previousDerivation: Derivation =
    previous === undefined || classKey(previous.superclass) === classKey(record.target.superclass)
      ? record.derivation
      : previous.superclass === ''
        ? []
        : [previous.superclass];
  return {
    eventClass: EVENT_CLASSES[record.kind],
    revision: record.revision,
    namespace: formatNamespace(namespace.elements),
    target: classView(record.target, record.derivation),
    ...(previous === undefined ? {} : { previous: classView(previous, previousDerivation) }),
    timeCreated: record.timeCreated,
    context: record.context,
    operationId: record.operationId,
  };
}
