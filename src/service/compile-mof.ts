/**
 * CompileMof: a MOF unit (with its includes) compiled at once, every class, instance and
 * qualifier declaration judged against the store plus the ones before it, then written in one
 * atomic commit. A syntax error, an unreadable include or a `#pragma namespace` that does not
 * exist is rejected at once, with file:line:column.
 */
import { posix } from 'node:path';
import { WBEM_RIGHT } from '../domain/access';
import type { ClassDefinition, QualifierDeclaration } from '../domain/class-model';
import { checkClientContext, classRulesOf, type ClientContext } from '../domain/client-context';
import { decidePutClass } from '../domain/decide-put-class';
import { decideInstanceWrite, prepareInstance } from '../domain/decide-put-instance';
import type { InstancePropertyInput } from '../domain/instance-model';
import { classKey, findNamed, preview, type NamespaceKey } from '../domain/names';
import { formatNamespace, isLocaleNamespace } from '../domain/namespace-path';
import { parsePutClassFlags, type PutClassFlags } from '../domain/put-class-flags';
import { WbemError } from '../domain/wbem-status';
import { MofError } from '../mof/lexer';
import {
  compileMof,
  typedLiteral,
  type MofInstance,
  type MofQualifierDecl,
  type MofUnit,
} from '../mof/parser';
import type { StoreWrite } from '../store/class-store';
import type { ClassReader } from './class-loader';
import { changeInfo, putClassWrites } from './class-writes';
import { findInstance } from './instances';
import type { BoundNamespace } from './namespace-table';
import type { ObjectSink, Outcome } from './object-sink';
import type { OperationContext } from './operation-context';
import type { ServiceEnv } from './service-env';
import { StagedInstances } from './staged-instances';
import type { AcceptedPutClass, CompileMofInput } from './wbem-service-api';

/**
 * Immediate phase of CompileMof: lifecycle, namespace, flags, context, then the MOF itself
 * (a syntax error, an unreadable include or a `#pragma namespace` that does not exist is
 * rejected at once, with file:line:column).
 */
export function beginCompileMof(
  env: ServiceEnv,
  input: CompileMofInput,
  ctx: OperationContext,
): AcceptedPutClass {
  env.checkLifecycle();
  const target = env.namespaces.bind(input.namespace);
  const WRITE = WBEM_RIGHT.WBEM_ENABLE | WBEM_RIGHT.WBEM_FULL_WRITE_REP;
  env.authorize(ctx, target, WRITE, 'CompileMof');
  const flags = parsePutClassFlags(input.flags, 'async');
  if (input.context !== undefined) checkClientContext(input.context);
  const [entry] = input.sources;
  if (entry === undefined)
    throw new WbemError('WBEM_E_INVALID_PARAMETER', 'no MOF source was sent');
  const byName = new Map<string, string>();
  for (const source of input.sources) {
    const name = normalizeSourceName(source.name);
    if (byName.has(name))
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER',
        `MOF source "${preview(source.name)}" was sent twice`,
      );
    byName.set(name, source.text);
  }
  let unit: MofUnit;
  try {
    const declared = new Map<string, MofQualifierDecl>();
    for (const [name, declaration] of env.namespaces.qualifiersOf(target.key)) {
      declared.set(name, {
        ...declaration,
        namespace: '',
        at: { file: '(stored)', line: 0, column: 0 },
      });
    }
    unit = compileMof(
      normalizeSourceName(entry.name),
      (path) => {
        const text = byName.get(path);
        if (text === undefined) throw new Error('not among the sources sent');
        return text;
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
  // Each `#pragma namespace` (absolute, or relative to the target) bound and authorized once.
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
  return {
    sendStatus: flags.sendStatus,
    run: (sink) =>
      runCompile(
        env,
        target,
        { classes, instances, declarations },
        flags,
        input.continueOnError,
        input.context,
        ctx,
        sink,
      ),
  };
}

/**
 * Every class, in MOF order, judged against the store plus the classes before it (staged), then
 * one atomic commit. The namespace locks are held throughout, progress events included: the
 * whole compile is one write.
 */
async function runCompile(
  env: ServiceEnv,
  target: BoundNamespace,
  compiled: CompiledMof,
  flags: PutClassFlags,
  continueOnError: boolean,
  context: ClientContext | undefined,
  ctx: OperationContext,
  sink: ObjectSink,
): Promise<Outcome> {
  const subject = { namespace: formatNamespace(target.record.elements) };
  const { classes, instances, declarations } = compiled;
  const steps = classes.length + instances.length;
  try {
    const bound = [...classes, ...instances, ...declarations].map((item) => item.bound.key);
    const release = await env.locks.acquireAll([...bound, target.key], ctx.signal);
    const staged = env.classes.staged();
    const rules = classRulesOf(context);
    const change = changeInfo(context, ctx);
    let classCount = 0;
    /** Every class the commit rewrites, FORCE-mode children included, by namespace. */
    const written = new Map<NamespaceKey, string[]>();
    const writes: StoreWrite[] = [];
    let firstFailure: WbemError | undefined;
    /** A class or instance that failed: named with its position, then fatal, or recorded with continue_on_error. */
    const failed = (
      failure: unknown,
      where: string,
      what: string,
      bound: BoundNamespace,
      className: string,
    ): void => {
      if (!(failure instanceof WbemError)) throw failure;
      const located = new WbemError(failure.status, `${where}: ${what}: ${failure.param}`, {
        namespace: formatNamespace(bound.record.elements),
        className,
      });
      if (!continueOnError) throw located;
      firstFailure ??= located;
    };
    let durable: Promise<void>;
    let revision: bigint;
    try {
      for (const [index, { definition, bound, where }] of classes.entries()) {
        env.namespaces.require(bound.key, formatNamespace(bound.record.elements));
        try {
          const world = await env.classes.loadWorld(bound.key, definition, staged);
          const plan = decidePutClass({ definition, flags, rules }, world);
          for (const written of [plan.definition, ...plan.childRewrites])
            staged.stage(bound.key, written);
          writes.push(...putClassWrites(bound.key, plan, world, change));
          classCount++;
          const names = written.get(bound.key) ?? [];
          names.push(plan.definition.name, ...plan.childRewrites.map((c) => c.name));
          written.set(bound.key, names);
        } catch (failure) {
          failed(failure, where, `class ${definition.name}`, bound, definition.name);
        }
        await sink.progress(index + 1, steps, definition.name);
      }
      // Then the instances, typed by their classes as stored or compiled above (D30).
      const putInstances = new StagedInstances();
      for (const [index, { instance, bound, where }] of instances.entries()) {
        env.namespaces.require(bound.key, formatNamespace(bound.record.elements));
        try {
          writes.push(await compileInstance(env, bound, instance, flags, staged, putInstances));
        } catch (failure) {
          failed(failure, where, `instance of ${instance.className}`, bound, instance.className);
        }
        await sink.progress(classes.length + index + 1, steps, `instance of ${instance.className}`);
      }
      // The MOF's qualifier declarations are stored with its classes, in the same batch.
      for (const { bound, declaration } of declarations) {
        env.namespaces.require(bound.key, formatNamespace(bound.record.elements));
        writes.push({ op: 'putQualifier', namespace: bound.key, declaration });
      }
      ctx.signal.throwIfAborted(); // the last point where a cancel means "nothing written"
      durable = writes.length === 0 ? Promise.resolve() : env.store.commit(writes);
      revision = env.store.revision;
      for (const { bound, declaration } of declarations)
        env.namespaces.declareQualifier(bound.key, declaration);
      for (const [namespace, names] of written) env.classes.forgetChains(namespace, names);
    } finally {
      release();
    }
    await durable;
    env.logCorrelation(ctx, context, `CompileMof committed ${classCount} classes`, subject);
    if (firstFailure !== undefined) return await sink.complete({ ok: false, error: firstFailure });
    // Success names the target namespace's path, `\\SERVER\root\cimv2`.
    return await sink.complete({
      ok: true,
      path: `\\\\${env.serverName}\\${formatNamespace(target.record.elements)}`,
      revision,
    });
  } catch (failure) {
    return sink.complete({ ok: false, error: env.asWbemError(failure, ctx, subject) });
  }
}

/**
 * One `instance of` of a CompileMof: its literals typed by the class (as stored, or as compiled
 * earlier in the same MOF), then the rules of PutInstance against the store and the instances
 * before it. An alias (`$Disk`) in a reference becomes the path of the instance that declared it.
 */
async function compileInstance(
  env: ServiceEnv,
  bound: BoundNamespace,
  mof: MofInstance,
  flags: PutClassFlags,
  staged: ClassReader,
  done: StagedInstances,
): Promise<StoreWrite> {
  const resolved = await env.classes.resolvedClass(bound.key, mof.className, staged);
  const properties = mof.properties.map(({ name, value: literal }): InstancePropertyInput => {
    const property = findNamed(resolved.properties, name);
    // A property the class lacks is left to the rules, which name it.
    if (property === undefined)
      return { name, type: 0, array: false, value: null, qualifierCount: 0 };
    const typed = typedLiteral(literal, property.type, property.array, (reason) => {
      throw new WbemError('WBEM_E_TYPE_MISMATCH', `property ${name}: ${reason}`);
    });
    return {
      name,
      type: 0,
      array: property.array,
      value: done.resolveAliases(typed),
      qualifierCount: 0,
    };
  });
  const prepared = prepareInstance(
    { className: mof.className, properties, qualifierCount: 0 },
    resolved,
    isLocaleNamespace(bound.record.elements),
  );
  const existing =
    done.get(bound.key, prepared.location) ??
    (await findInstance(env.store, bound.key, prepared.location.keyRoot, prepared.location.key))
      ?.instance;
  decideInstanceWrite(flags.mode, resolved.name, existing);
  done.stage(bound.key, prepared.location, prepared.stored, mof.alias, prepared.relpath);
  return {
    op: 'putInstance',
    namespace: bound.key,
    className: classKey(resolved.name),
    key: prepared.location.key,
    instance: prepared.stored,
  };
}

/** A compiled MOF: its classes, instances and qualifier declarations, each with its namespace bound. */
interface CompiledMof {
  readonly classes: readonly {
    readonly definition: ClassDefinition;
    readonly bound: BoundNamespace;
    readonly where: string;
  }[];
  readonly instances: readonly {
    readonly instance: MofInstance;
    readonly bound: BoundNamespace;
    readonly where: string;
  }[];
  readonly declarations: readonly {
    readonly bound: BoundNamespace;
    readonly declaration: QualifierDeclaration;
  }[];
}

/** `Core/./CIM_X.mof`, `Core\\CIM_X.mof` → `Core/CIM_X.mof`: how includes find their sources. */
function normalizeSourceName(name: string): string {
  return posix.normalize(name.replace(/\\/g, '/')).replace(/^\.\//, '');
}

function isAbsoluteNamespace(text: string): boolean {
  return /^(\\\\|\/\/|[\\/]?root([\\/]|$))/i.test(text);
}
