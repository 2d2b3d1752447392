/**
 * PutClass and PutClassAsync (docs/wmi-semantics.md §3.3): immediate checks (steps 1–4) run
 * synchronously in `beginPutClass` and throw; everything else is reported through the sink by
 * `run`, which never rejects: lock → load → decide → write → emit (docs/style.md §2.4).
 */
import { WBEM_RIGHT } from '../domain/access';
import type { ClassDefinition } from '../domain/class-model';
import { checkClientContext, classRulesOf, type ClientContext } from '../domain/client-context';
import {
  checkExpectedRevision,
  decidePutClass,
  type ClassWorld,
  type PutClassPlan,
} from '../domain/decide-put-class';
import { classKey } from '../domain/names';
import { formatClassPath, formatNamespace } from '../domain/namespace-path';
import { parsePutClassFlags, type PutClassFlags } from '../domain/put-class-flags';
import { WbemError } from '../domain/wbem-status';
import { changeInfo, changeReport, putClassWrites, subclassStages } from './class-writes';
import type { BoundNamespace } from './namespace-table';
import type { ObjectSink, Outcome } from './object-sink';
import type { OperationContext } from './operation-context';
import type { ServiceEnv } from './service-env';
import type { AcceptedPutClass, PutClassInput } from './wbem-service-api';

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
  call: 'async' | 'sync',
): AcceptedPutClass {
  // §3.3 immediate phase, in order: lifecycle, namespace (parse, exists), parameters.
  env.checkLifecycle();
  const namespace = env.namespaces.bind(input.namespace);
  if (input.definition === undefined) {
    throw new WbemError('WBEM_E_INVALID_PARAMETER', 'the class object (pObject) is missing', {
      namespace: input.namespace,
    });
  }
  // §8 rule 2: a dynamic class (one with a Provider) needs WRITE_PROVIDER, a static one FULL_WRITE.
  const dynamic = input.definition.qualifiers.some(
    (q) => q.name.toLowerCase() === 'provider' && q.value !== null,
  );
  env.authorize(
    ctx,
    namespace,
    WBEM_RIGHT.WBEM_ENABLE |
      (dynamic ? WBEM_RIGHT.WBEM_WRITE_PROVIDER : WBEM_RIGHT.WBEM_FULL_WRITE_REP),
    call === 'async' ? 'PutClassAsync' : 'PutClass',
  );
  const flags = parsePutClassFlags(input.flags, call);
  if (input.context !== undefined) checkClientContext(input.context);
  const definition = input.definition;
  return {
    sendStatus: flags.sendStatus,
    run: (sink) =>
      runPutClass(
        env,
        namespace,
        definition,
        flags,
        {
          context: input.context,
          validateOnly: input.validateOnly === true,
          expectedRevision: input.expectedRevision,
        },
        ctx,
        sink,
      ),
  };
}

async function runPutClass(
  env: ServiceEnv,
  bound: BoundNamespace,
  definition: ClassDefinition,
  flags: PutClassFlags,
  request: PutClassOptions,
  ctx: OperationContext,
  sink: ObjectSink,
): Promise<Outcome> {
  const { context, validateOnly } = request;
  const subject = {
    namespace: formatNamespace(bound.record.elements),
    className: definition.name,
  };
  // The stages reported with WBEM_FLAG_SEND_STATUS, one per real step; the subclass stages are
  // known once the decision is made, which is before the first event goes out (see below).
  const stages: string[] = [PUT_STAGE.loaded, PUT_STAGE.checked];
  const commitStages = validateOnly ? [] : [PUT_STAGE.committed, PUT_STAGE.synced];
  let stagesDone = 0;
  // Progress is sent outside the namespace lock, so a slow reader never holds up other writers.
  const reportStages = async (upTo: number): Promise<void> => {
    if (!sink.sendStatus) {
      stagesDone = upTo; // nothing to send: skip the sink's per-event promise work
      return;
    }
    const total = stages.length + commitStages.length;
    for (; stagesDone < upTo; stagesDone++) {
      await sink.progress(
        stagesDone + 1,
        total,
        stages[stagesDone] ?? commitStages[stagesDone - stages.length] ?? 'working',
      );
    }
  };
  try {
    const release = await env.locks.acquire(bound.key, ctx.signal);
    let stagesReached = 0;
    let decided: { plan: PutClassPlan; world: ClassWorld; path: string };
    let durable: Promise<void> | undefined;
    let revision = 0n;
    try {
      const namespace = env.namespaces.require(bound.key, subject.namespace);
      const world = await env.classes.loadWorld(bound.key, definition);
      if (request.expectedRevision !== undefined) {
        // Read under the namespace lock: no write can come between this check and the commit.
        const current =
          world.existing === undefined
            ? undefined
            : await env.store.getClassRevision(bound.key, classKey(definition.name));
        checkExpectedRevision(definition.name, request.expectedRevision, current);
      }
      stagesReached = 1;
      const plan = decidePutClass({ definition, flags, rules: classRulesOf(context) }, world);
      stages.push(...subclassStages(plan, world));
      stagesReached = stages.length;
      decided = {
        plan,
        world,
        path: formatClassPath(env.serverName, namespace.elements, plan.definition.name),
      };
      if (!validateOnly) {
        // The last point where a cancel means "nothing written" (§4.4, Recommendation).
        ctx.signal.throwIfAborted();
        const writes = putClassWrites(bound.key, plan, world, changeInfo(context, ctx));
        // The commit point: visible from here on, and it stands whatever the client does next.
        durable = env.store.commit(writes);
        revision = env.store.revision;
        env.classes.forgetChains(bound.key, [
          plan.definition.name,
          ...plan.childRewrites.map((c) => c.name),
        ]);
      }
    } finally {
      release();
      // Stages finished before a failure are still reported, then the failure.
      await reportStages(stagesReached);
    }
    if (durable === undefined) {
      // validate_only: every rule ran, nothing was written and no event is raised.
      return await sink.complete({
        ok: true,
        path: decided.path,
        revision: 0n,
        report: changeReport(decided.plan, decided.world),
      });
    }
    await reportStages(stages.length + 1);
    await durable;
    await reportStages(stages.length + 2);
    env.logCorrelation(ctx, context, 'PutClass committed', subject);
    return await sink.complete({ ok: true, path: decided.path, revision });
  } catch (failure) {
    // Before the commit point nothing was written; after it only durability can fail (STORE_FAILED).
    return sink.complete({ ok: false, error: env.asWbemError(failure, ctx, subject) });
  }
}

/** What a PutClass request asks besides the class: its context, whether to write at all, its etag. */
interface PutClassOptions {
  readonly context: ClientContext | undefined;
  readonly validateOnly: boolean;
  readonly expectedRevision: bigint | undefined;
}
