/**
 * CompileMof: a MOF unit (with its includes) compiled at once, every class, instance and
 * qualifier declaration judged against the store plus the ones before it (mof-batch.ts), then
 * written in one atomic commit. A syntax error, an unreadable include or a `#pragma namespace`
 * that does not exist is rejected at once, with file:line:column.
 */
import { posix } from 'node:path';
import { WBEM_RIGHT } from '../domain/access';
import { requireObject } from '../domain/arguments';
import type { QualifierDeclaration } from '../domain/class-model';
import { checkClientContext } from '../domain/client-context';
import { preview } from '../domain/names';
import { formatNamespace } from '../domain/namespace-path';
import { parsePutClassFlags, type PutClassFlags } from '../domain/put-class-flags';
import { WbemError } from '../domain/wbem-status';
import { MofError } from '../mof/lexer';
import { compileMofSteps, type MofQualifierDecl, type MofUnit } from '../mof/parser';
import type { WriteFence } from '../store/class-store';
import { MofBatch, type CompiledMof } from './mof-batch';
import type { BoundNamespace } from './namespace-table';
import { ObjectSink, type Outcome, type SinkPort } from './object-sink';
import type { OperationContext } from './operation-context';
import { retryOnConflict } from './optimistic';
import type { ServiceEnv } from './service-env';
import { TimeSlicer } from './time-slice';
import type { AcceptedPutClass, CompileMofInput, MofSourceInput } from './wbem-service-api';

const WRITE = WBEM_RIGHT.WBEM_ENABLE | WBEM_RIGHT.WBEM_FULL_WRITE_REP;

/**
 * Immediate phase of CompileMof: lifecycle, namespace, flags, context, then the MOF itself
 * (a syntax error, an unreadable include or a `#pragma namespace` that does not exist is
 * rejected at once, with file:line:column). The MOF is compiled at once: the CLI's --check and
 * in-process callers; a server's transport calls acceptCompileMof.
 */
export function beginCompileMof(
  env: ServiceEnv,
  input: CompileMofInput,
  ctx: OperationContext,
  port: SinkPort,
): AcceptedPutClass {
  const checked = checkRequest(env, input, ctx);
  const steps = compileSteps(input, env.namespaces.qualifiersOf(checked.target.key));
  let step = steps.next();
  while (step.done !== true) step = steps.next();
  return accepted(env, input, ctx, port, { ...checked, unit: step.value });
}

/**
 * The same immediate phase with the MOF compiled in slices that yield to the event loop (the
 * whole CIM Schema takes a few hundred milliseconds to compile: health checks and other calls run
 * in between). Rejects, as beginCompileMof throws, before anything is sent.
 */
export async function acceptCompileMof(
  env: ServiceEnv,
  input: CompileMofInput,
  ctx: OperationContext,
  port: SinkPort,
): Promise<AcceptedPutClass> {
  const checked = checkRequest(env, input, ctx);
  const steps = compileSteps(input, env.namespaces.qualifiersOf(checked.target.key));
  // The compile starts in a turn of its own: the transport decoded the request (the whole CIM
  // Schema: ≈ 6 MB of MOF text) in this one, a stretch by itself that no slice should add to.
  const slicer = new TimeSlicer();
  await slicer.endSlice();
  let step = steps.next();
  while (step.done !== true) {
    await slicer.tick();
    step = steps.next();
  }
  return accepted(env, input, ctx, port, { ...checked, unit: step.value });
}

/** The checks before the MOF: lifecycle, namespace, authorization, flags, context. */
function checkRequest(
  env: ServiceEnv,
  input: CompileMofInput,
  ctx: OperationContext,
): { readonly target: BoundNamespace; readonly flags: PutClassFlags } {
  env.checkLifecycle();
  const target = env.namespaces.bind(input.namespace);
  env.authorize(ctx, target, WRITE, 'CompileMof');
  // One lFlags for every class: PutClassAsync's table (SEND_STATUS included).
  const flags = parsePutClassFlags(input.flags, 'PutClassAsync');
  if (input.context !== undefined) checkClientContext(input.context);
  return { target, flags };
}

/** The compiled unit bound to its namespaces, and the call ready to run. */
function accepted(
  env: ServiceEnv,
  input: CompileMofInput,
  ctx: OperationContext,
  port: SinkPort,
  { target, flags, unit }: { target: BoundNamespace; flags: PutClassFlags; unit: MofUnit },
): AcceptedPutClass {
  const compiled = bindUnit(env, ctx, target, unit, {
    flags,
    context: input.context,
    continueOnError: input.continueOnError,
  });
  const sink = new ObjectSink(port, flags.sendStatus);
  return { run: () => runCompile(env, compiled, ctx, sink) };
}

/** The entry source compiled, its includes read from the other sources sent, over the namespace's stored declarations. */
function* compileSteps(
  input: CompileMofInput,
  stored: ReadonlyMap<string, QualifierDeclaration>,
): Generator<void, MofUnit, void> {
  const { entry, byName } = sourcesByName(input.sources);
  const declared = new Map<string, MofQualifierDecl>();
  for (const [name, declaration] of stored) {
    declared.set(name, {
      ...declaration,
      namespace: '',
      at: { file: '(stored)', line: 0, column: 0 },
    });
  }
  try {
    return yield* compileMofSteps(
      entry,
      (path) => {
        // Read now, as the compile reaches the file: a transport may hand a text over still as
        // the request's bytes (transport/grpc/compile-mof-decoding.ts).
        const source = byName.get(path);
        if (source === undefined) throw new Error('not among the sources sent');
        return source.text;
      },
      declared,
    );
  } catch (error) {
    if (error instanceof MofError)
      throw new WbemError('WBEM_E_INVALID_PARAMETER', error.message, {
        namespace: input.namespace,
      });
    throw error;
  }
}

/** The sources by normalized name, and the entry's: none, or one sent twice, is WBEM_E_INVALID_PARAMETER. */
function sourcesByName(sources: readonly MofSourceInput[]): {
  readonly entry: string;
  readonly byName: ReadonlyMap<string, MofSourceInput>;
} {
  const entry = requireObject(sources[0], 'the MOF source (sources)');
  const byName = new Map<string, MofSourceInput>();
  for (const source of sources) {
    const name = normalizeSourceName(source.name);
    if (byName.has(name))
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER',
        `MOF source "${preview(source.name)}" was sent twice`,
      );
    byName.set(name, source);
  }
  return { entry: normalizeSourceName(entry.name), byName };
}

/** Each `#pragma namespace` (absolute, or relative to the target) bound and authorized once. */
function bindUnit(
  env: ServiceEnv,
  ctx: OperationContext,
  target: BoundNamespace,
  unit: MofUnit,
  how: Pick<CompiledMof, 'flags' | 'context' | 'continueOnError'>,
): CompiledMof {
  const targets = new Map<string, BoundNamespace>([['', target]]);
  const bindPragma = (pragma: string): BoundNamespace => {
    let bound = targets.get(pragma);
    if (bound === undefined) {
      bound = env.namespaces.bind(
        isAbsoluteNamespace(pragma)
          ? pragma
          : `${formatNamespace(target.record.elements)}\\${pragma}`,
      );
      env.authorize(ctx, bound, WRITE, 'CompileMof');
      targets.set(pragma, bound);
    }
    return bound;
  };
  const classes = unit.classes.map((mofClass) => ({
    definition: mofClass.definition,
    bound: bindPragma(mofClass.namespace),
    where: `${mofClass.at.file}:${mofClass.at.line}:${mofClass.at.column}`,
  }));
  const instances = unit.instances.map((instance) => ({
    instance,
    bound: bindPragma(instance.namespace),
    where: `${instance.at.file}:${instance.at.line}:${instance.at.column}`,
  }));
  const declarations = unit.qualifiers.map((declaration) => {
    const { namespace, at: _at, ...stored } = declaration;
    return { bound: bindPragma(namespace), declaration: stored };
  });
  return { target, ...how, classes, instances, declarations };
}

/**
 * Every item judged under the locks of all the namespaces it writes, then one atomic commit. The
 * locks are held throughout, progress events included: the whole compile is one write.
 */
async function runCompile(
  env: ServiceEnv,
  compiled: CompiledMof,
  ctx: OperationContext,
  sink: ObjectSink,
): Promise<Outcome> {
  const { target, classes, instances, declarations } = compiled;
  const subject = { namespace: formatNamespace(target.record.elements) };
  try {
    const namespaces = [...classes, ...instances, ...declarations].map((item) => item.bound.key);
    const scopes = [...new Set([...namespaces, target.key])];
    const release = await env.locks.acquireAll(scopes, ctx.signal);
    let batch: MofBatch;
    let committed: { readonly durable: Promise<void>; readonly revision: bigint };
    let attempt = 0;
    try {
      ({ batch, committed } = await retryOnConflict(async () => {
        const fence = await env.store.beginRead(scopes);
        const readAt = env.store.revision;
        // A decision made again after a conflict reports no progress a second time.
        const judged = await judgeAll(env, compiled, ctx, attempt++ === 0 ? sink : undefined);
        return {
          batch: judged,
          committed: await commitBatch(env, compiled, { judged, fence, readAt }, ctx),
        };
      }));
    } finally {
      release();
    }
    await committed.durable;
    const message = `CompileMof committed ${batch.classCount} classes`;
    env.logCorrelation(ctx, compiled.context, message, subject);
    if (batch.firstFailure !== undefined)
      return await sink.complete({ ok: false, error: batch.firstFailure });
    // Success names the target namespace's path, `\\SERVER\root\cimv2`.
    return await sink.complete({
      ok: true,
      path: `\\\\${env.serverName}\\${formatNamespace(target.record.elements)}`,
      revision: committed.revision,
    });
  } catch (failure) {
    return sink.complete({ ok: false, error: env.asWbemError(failure, ctx, subject) });
  }
}

/** The classes in MOF order, then the instances (typed by those classes, D30), then the declarations; one progress event per class and instance. */
async function judgeAll(
  env: ServiceEnv,
  compiled: CompiledMof,
  ctx: OperationContext,
  sink: ObjectSink | undefined,
): Promise<MofBatch> {
  const { classes, instances } = compiled;
  const batch = new MofBatch(env, compiled, ctx);
  const steps = classes.length + instances.length;
  const slicer = new TimeSlicer();
  for (const [index, item] of classes.entries()) {
    await slicer.tick();
    await batch.putClass(item);
    await sink?.progress(index + 1, steps, item.definition.name);
  }
  for (const [index, item] of instances.entries()) {
    await slicer.tick();
    await batch.putInstance(item);
    const message = `instance of ${item.instance.className}`;
    await sink?.progress(classes.length + index + 1, steps, message);
  }
  for (const item of compiled.declarations) batch.putQualifier(item);
  return batch;
}

/** Writes the batch, if nothing under the fence moved: the commit point. The declarations and the chain cache follow it. */
async function commitBatch(
  env: ServiceEnv,
  compiled: CompiledMof,
  {
    judged: batch,
    fence,
    readAt,
  }: { readonly judged: MofBatch; readonly fence: WriteFence; readonly readAt: bigint },
  ctx: OperationContext,
): Promise<{ readonly durable: Promise<void>; readonly revision: bigint }> {
  ctx.signal.throwIfAborted(); // the last point where a cancel means "nothing written"
  if (batch.writes.length === 0)
    return { durable: Promise.resolve(), revision: env.store.revision };
  const commit = env.store.commitIf(fence, batch.writes);
  const revision = await commit.committed;
  const durable = commit.durable;
  for (const { bound, declaration } of compiled.declarations)
    env.namespaces.declareQualifier(bound.key, declaration);
  // What the compile resolved is what the store now holds: kept, not derived again by the next
  // read; unless a write came after it, which drops the caches as any write does.
  const createdSince = batch.createdOnly ? readAt : undefined;
  if (!env.classes.adoptResolved(revision, batch.resolvedClasses(), createdSince))
    for (const [namespace, names] of batch.written) env.classes.forgetChains(namespace, names);
  return { durable, revision };
}

/** `Core/./CIM_X.mof`, `Core\\CIM_X.mof` → `Core/CIM_X.mof`: how includes find their sources. */
function normalizeSourceName(name: string): string {
  return posix.normalize(name.replace(/\\/g, '/')).replace(/^\.\//, '');
}

function isAbsoluteNamespace(text: string): boolean {
  return /^(\\\\|\/\/|[\\/]?root([\\/]|$))/i.test(text);
}
