/**
 * PutClass and PutClassAsync (docs/wmi-semantics.md §3.3): immediate checks (steps 1–4) run
 * synchronously in `beginPutClass` and throw; everything else is reported through the sink by
 * `run`, which never rejects: lock → load → decide → write → emit (docs/style.md §2.4).
 */
import { WBEM_RIGHT } from '../domain/access';
import type { ClassDefinition } from '../domain/class-model';
import { requireObject } from '../domain/arguments';
import { checkClientContext, classRulesOf, type ClientContext } from '../domain/client-context';
import {
  checkExpectedRevision,
  decidePutClassInSteps,
  type ClassWorld,
  type PutClassPlan,
} from '../domain/decide-put-class';
import { classKey } from '../domain/names';
import { formatClassPath, formatNamespace } from '../domain/namespace-path';
import { parsePutClassFlags, type PutClassFlags } from '../domain/put-class-flags';
import { changeInfo, changeReport, putClassWritesInSteps, subclassStages } from './class-writes';
import type { WriteFence } from '../store/class-store';
import type { BoundNamespace } from './namespace-table';
import { ObjectSink, StagedProgress, type Outcome, type SinkPort } from './object-sink';
import type { OperationContext } from './operation-context';
import { retryOnConflict } from './optimistic';
import type { ServiceEnv } from './service-env';
import { finishInSlices, finishSoon, TimeSlicer } from './time-slice';
import type { AcceptedPutClass, PutClassCall, PutClassInput } from './wbem-service-api';

/** The stages PutClassAsync reports with WBEM_FLAG_SEND_STATUS, one per real step. */
const PUT_STAGE = {
  loaded: 'loaded the class and its superclass chain',
  checked: 'checked the class rules',
  committed: 'committed',
  synced: 'synced to disk',
} as const;

export function beginPutClass(
  env: ServiceEnv,
  input: PutClassInput,
  ctx: OperationContext,
  call: PutClassCall,
): AcceptedPutClass {
  // §3.3 immediate phase, in order: lifecycle, namespace (parse, exists), parameters.
  env.checkLifecycle();
  const bound = env.namespaces.bind(input.namespace);
  const definition = requireObject(input.definition, 'the class object (pObject)', {
    namespace: input.namespace,
  });
  env.authorize(ctx, bound, rightsToPut(definition), call.method);
  const flags = parsePutClassFlags(input.flags, call.method);
  if (input.context !== undefined) checkClientContext(input.context);
  const request: CheckedPutClass = {
    bound,
    definition,
    flags,
    context: input.context,
    validateOnly: input.validateOnly === true,
    expectedRevision: input.expectedRevision,
    subject: {
      namespace: formatNamespace(bound.record.elements),
      className: definition.name,
    },
  };
  const sink = new ObjectSink(
    call.method === 'PutClassAsync' ? call.port : NO_PORT,
    flags.sendStatus,
  );
  return { run: () => runPutClass(env, request, ctx, sink) };
}

/** PutClass has no sink: its events go nowhere and the outcome becomes the unary reply. */
const NO_PORT: SinkPort = { send: () => Promise.resolve() };

/** §8 rule 2: a dynamic class (one with a Provider) needs WRITE_PROVIDER, a static one FULL_WRITE. */
function rightsToPut(definition: ClassDefinition): number {
  const dynamic = definition.qualifiers.some(
    (q) => q.name.toLowerCase() === 'provider' && q.value !== null,
  );
  return (
    WBEM_RIGHT.WBEM_ENABLE |
    (dynamic ? WBEM_RIGHT.WBEM_WRITE_PROVIDER : WBEM_RIGHT.WBEM_FULL_WRITE_REP)
  );
}

/** A PutClass that passed the immediate checks: the class, where it goes, and how to write it. */
interface CheckedPutClass {
  readonly bound: BoundNamespace;
  readonly definition: ClassDefinition;
  readonly flags: PutClassFlags;
  readonly context: ClientContext | undefined;
  /** Check every rule and report, write nothing (D48). */
  readonly validateOnly: boolean;
  /** The class's revision as the client read it; undefined = no check. */
  readonly expectedRevision: bigint | undefined;
  /** The namespace as stored and the class, for errors and logs. */
  readonly subject: { readonly namespace: string; readonly className: string };
}

/** What the locked part decided: the plan, what it was judged against, and the class's path. */
interface Decided {
  readonly plan: PutClassPlan;
  readonly world: ClassWorld;
  readonly path: string;
  /** Undefined for validate_only: nothing was written. */
  readonly commit: Committed | undefined;
}

interface Committed {
  /** Resolves once the write is on disk. */
  readonly durable: Promise<void>;
  /** The store revision of the write. */
  readonly revision: bigint;
}

/**
 * Lock → load → decide → write, then the remaining stages and the one final status. Before the
 * commit point nothing was written; after it only durability can fail (STORE_FAILED). Never
 * rejects: every failure becomes the final status.
 */
async function runPutClass(
  env: ServiceEnv,
  request: CheckedPutClass,
  ctx: OperationContext,
  sink: ObjectSink,
): Promise<Outcome> {
  const progress = new StagedProgress(sink, [
    PUT_STAGE.loaded,
    PUT_STAGE.checked,
    ...(request.validateOnly ? [] : [PUT_STAGE.committed, PUT_STAGE.synced]),
  ]);
  try {
    const { plan, world, path, commit } = await decideUnderLock(env, request, ctx, progress);
    if (commit === undefined) {
      // validate_only: every rule ran, nothing was written and no event is raised.
      return await sink.complete({
        ok: true,
        path,
        revision: 0n,
        report: changeReport(plan, world),
      });
    }
    progress.finish(PUT_STAGE.committed);
    await progress.report();
    await commit.durable;
    progress.finish(PUT_STAGE.synced);
    await progress.report();
    env.logCorrelation(ctx, request.context, 'PutClass committed', request.subject);
    return await sink.complete({ ok: true, path, revision: commit.revision });
  } catch (failure) {
    return sink.complete({ ok: false, error: env.asWbemError(failure, ctx, request.subject) });
  }
}

/**
 * Under the namespace lock: load the world, check the expected revision, decide, and (unless
 * validate_only) commit — fenced, again from the load when another replica's commit got in
 * between (optimistic.ts). Progress is sent outside the lock, so a slow reader never holds up
 * other writers (D8); stages finished before a failure are still reported, then the failure.
 */
async function decideUnderLock(
  env: ServiceEnv,
  request: CheckedPutClass,
  ctx: OperationContext,
  progress: StagedProgress,
): Promise<Decided> {
  const release = await env.locks.acquire(request.bound.key, ctx.signal);
  try {
    return await retryOnConflict(() => decideOnce(env, request, ctx, progress));
  } finally {
    release();
    await progress.report();
  }
}

/** One attempt: fence, load, check, decide, commit. */
async function decideOnce(
  env: ServiceEnv,
  request: CheckedPutClass,
  ctx: OperationContext,
  progress: StagedProgress,
): Promise<Decided> {
  const { bound, definition, flags, context } = request;
  const fence = await env.store.beginRead([bound.key]);
  const namespace = env.namespaces.require(bound.key, request.subject.namespace);
  const world = await env.classes.loadWorld(bound.key, definition);
  const expected = request.expectedRevision;
  if (expected !== undefined) await checkRevision(env, request, world, expected);
  progress.finish(PUT_STAGE.loaded);
  // An update is judged against every subclass (10,000 under a FORCE): in slices (issue #13, L1).
  // A create takes no step: decided at once, without a promise to wait for.
  const slicer = new TimeSlicer();
  const decision = finishSoon(
    decidePutClassInSteps({ definition, flags, rules: classRulesOf(context) }, world),
    slicer,
  );
  const plan = decision instanceof Promise ? await decision : decision;
  progress.finish(PUT_STAGE.checked);
  // The subclass stages are known once the decision is made, before the first event goes out.
  for (const stage of subclassStages(plan, world)) progress.finish(stage);
  const path = formatClassPath(env.serverName, namespace.elements, plan.definition.name);
  const commit = request.validateOnly
    ? undefined
    : await commitPlan(env, request, { plan, world, fence }, ctx, slicer);
  return { plan, world, path, commit };
}

/** expected_revision, read under the namespace lock: no write can come between this check and the commit. */
async function checkRevision(
  env: ServiceEnv,
  request: CheckedPutClass,
  world: ClassWorld,
  expected: bigint,
): Promise<void> {
  const { bound, definition } = request;
  const current =
    world.existing === undefined
      ? undefined
      : await env.store.getClassRevision(bound.key, classKey(definition.name));
  checkExpectedRevision(definition.name, expected, current);
}

/** Writes the plan, if nothing under the fence moved: the commit point. */
async function commitPlan(
  env: ServiceEnv,
  request: CheckedPutClass,
  decided: { readonly plan: PutClassPlan; readonly world: ClassWorld; readonly fence: WriteFence },
  ctx: OperationContext,
  slicer: TimeSlicer,
): Promise<Committed> {
  const { bound, context } = request;
  const { plan, world, fence } = decided;
  const steps = putClassWritesInSteps(bound.key, plan, world, changeInfo(context, ctx));
  const writes = Array.isArray(steps) ? steps : await finishInSlices(steps, slicer);
  // The last point where a cancel means "nothing written" (§4.4, Recommendation).
  ctx.signal.throwIfAborted();
  // The commit point: visible from here on, and it stands whatever the client does next.
  const before = env.store.revision;
  const { committed, durable } = env.store.commitIf(fence, writes);
  const after = env.store.revision; // moved already when the commit point was reached at once
  const revision = await committed;
  if (plan.kind === 'create' && plan.childRewrites.length === 0)
    env.classes.keepThroughCreate(before, after);
  else
    env.classes.forgetChains(bound.key, [
      plan.definition.name,
      ...plan.childRewrites.map((c) => c.name),
    ]);
  return { durable, revision };
}
