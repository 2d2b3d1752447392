/**
 * The operations of IWbemServices over a ClassStore: lock → load → decide → write → emit
 * (docs/style.md §2.4; OpenPegasus's check → resolve → store with the I/O pulled out).
 *
 * Immediate checks (docs/wmi-semantics.md §3.3 steps 1–4) run synchronously in `beginPutClass` and
 * throw; everything else is reported through the sink by `run`, which never rejects.
 *
 * What the operations share (store, namespace table, class loader, locks, watchers, lifecycle)
 * is one ServiceEnv (service-env.ts).
 */
import { posix } from 'node:path';
import type { ClassDefinition, QualifierDeclaration } from '../domain/class-model';
import { checkClientContext, classRulesOf, type ClientContext } from '../domain/client-context';
import {
  checkExpectedRevision,
  decidePutClass,
  type ClassWorld,
  type PutClassPlan,
} from '../domain/decide-put-class';
import { classKey, findNamed, preview, type NamespaceKey } from '../domain/names';
import { formatClassPath, formatNamespace, isLocaleNamespace } from '../domain/namespace-path';
import { parsePutClassFlags, type PutClassFlags } from '../domain/put-class-flags';
import { decideInstanceWrite, prepareInstance } from '../domain/decide-put-instance';
import type { InstancePropertyInput } from '../domain/instance-model';
import { type AccessPolicy, WBEM_RIGHT } from '../domain/access';
import { WbemError } from '../domain/wbem-status';
import { MofError } from '../mof/lexer';
import {
  compileMof,
  typedLiteral,
  type MofInstance,
  type MofQualifierDecl,
  type MofUnit,
} from '../mof/parser';
import { type StoreWrite } from '../store/class-store';
import type { ClassReader } from './class-loader';
import { changeInfo, changeReport, putClassWrites, subclassStages } from './class-writes';
import { StagedInstances } from './staged-instances';
import { type BoundNamespace } from './namespace-table';
import { deleteClass, enumClasses, getClass } from './classes';
import { createNamespace, deleteNamespace, enumNamespaces } from './namespaces';
import { publishClassChanges, watchClassEvents } from './class-events';
import { deleteInstance, enumInstances, findInstance, getInstance, putInstance } from './instances';
import { ServiceEnv, type WbemServiceOptions } from './service-env';
import type { ObjectSink, Outcome } from './object-sink';
import type { OperationContext } from './operation-context';
import type {
  AcceptedPutClass,
  AcceptedWatch,
  CompileMofInput,
  DeleteClassInput,
  DeleteInstanceInput,
  EnumClassesInput,
  EnumInstancesInput,
  PutInstanceInput,
  PutClassInput,
  WatchClassEventsInput,
  WbemServiceApi,
} from './wbem-service-api';
import type { ClassView, InstanceObjectView, NamespaceView } from './views';

/** The stages PutClassAsync reports with WBEM_FLAG_SEND_STATUS, one per real step. */
const PUT_STAGE = {
  loaded: 'loaded the class and its superclass chain',
  checked: 'checked the class rules',
  committed: 'committed',
  synced: 'synced to disk',
} as const;

export type { ClassChange, ServiceLogger, WbemServiceOptions } from './service-env';

export class WbemService implements WbemServiceApi {
  readonly #env: ServiceEnv;

  constructor(options: WbemServiceOptions) {
    this.#env = new ServiceEnv(options);
  }

  /** Loads the namespace table and creates root, root\cimv2 and root\default when absent. */
  async initialize(): Promise<void> {
    // The live feed: durable class changes, in revision order, from the store.
    this.#env.store.onDurableEvents((events) => publishClassChanges(this.#env, events));
    await this.#env.namespaces.load(this.#env.store);
    this.#env.markInitialized();
  }

  /** A new ACL (SIGHUP): calls from now on are judged by it; calls in flight keep their answer. */
  setAccessPolicy(policy: AccessPolicy): void {
    this.#env.setAccessPolicy(policy);
  }

  /**
   * From now on every new call fails at once with WBEM_E_SHUTTING_DOWN; calls in flight finish.
   * Watches never finish by themselves, so they end here (WBEM_E_SHUTTING_DOWN): the server's
   * drain must not wait for them.
   */
  beginShutdown(): void {
    this.#env.beginShutdown();
  }

  get isShuttingDown(): boolean {
    return this.#env.isShuttingDown;
  }

  // ---- PutClass / PutClassAsync --------------------------------------------------------------

  beginPutClass(
    input: PutClassInput,
    ctx: OperationContext,
    call: 'async' | 'sync',
  ): AcceptedPutClass {
    // §3.3 immediate phase, in order: lifecycle, namespace (parse, exists), parameters.
    this.#env.checkLifecycle();
    const namespace = this.#env.namespaces.bind(input.namespace);
    if (input.definition === undefined) {
      throw new WbemError('WBEM_E_INVALID_PARAMETER', 'the class object (pObject) is missing', {
        namespace: input.namespace,
      });
    }
    // §8 rule 2: a dynamic class (one with a Provider) needs WRITE_PROVIDER, a static one FULL_WRITE.
    const dynamic = input.definition.qualifiers.some(
      (q) => q.name.toLowerCase() === 'provider' && q.value !== null,
    );
    this.#env.authorize(
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
        this.#runPutClass(
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

  async #runPutClass(
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
      const release = await this.#env.locks.acquire(bound.key, ctx.signal);
      let stagesReached = 0;
      let decided: { plan: PutClassPlan; world: ClassWorld; path: string };
      let durable: Promise<void> | undefined;
      let revision = 0n;
      try {
        const namespace = this.#env.namespaces.require(bound.key, subject.namespace);
        const world = await this.#env.classes.loadWorld(bound.key, definition);
        if (request.expectedRevision !== undefined) {
          // Read under the namespace lock: no write can come between this check and the commit.
          const current =
            world.existing === undefined
              ? undefined
              : await this.#env.store.getClassRevision(bound.key, classKey(definition.name));
          checkExpectedRevision(definition.name, request.expectedRevision, current);
        }
        stagesReached = 1;
        const plan = decidePutClass({ definition, flags, rules: classRulesOf(context) }, world);
        stages.push(...subclassStages(plan, world));
        stagesReached = stages.length;
        decided = {
          plan,
          world,
          path: formatClassPath(this.#env.serverName, namespace.elements, plan.definition.name),
        };
        if (!validateOnly) {
          // The last point where a cancel means "nothing written" (§4.4, Recommendation).
          ctx.signal.throwIfAborted();
          const writes = putClassWrites(bound.key, plan, world, changeInfo(context, ctx));
          // The commit point: visible from here on, and it stands whatever the client does next.
          durable = this.#env.store.commit(writes);
          revision = this.#env.store.revision;
          this.#env.classes.forgetChains(bound.key, [
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
      this.#env.logCorrelation(ctx, context, 'PutClass committed', subject);
      return await sink.complete({ ok: true, path: decided.path, revision });
    } catch (failure) {
      // Before the commit point nothing was written; after it only durability can fail (STORE_FAILED).
      return sink.complete({ ok: false, error: this.#env.asWbemError(failure, ctx, subject) });
    }
  }

  // ---- CompileMof ------------------------------------------------------------------------------

  /**
   * Immediate phase of CompileMof: lifecycle, namespace, flags, context, then the MOF itself
   * (a syntax error, an unreadable include or a `#pragma namespace` that does not exist is
   * rejected at once, with file:line:column).
   */
  beginCompileMof(input: CompileMofInput, ctx: OperationContext): AcceptedPutClass {
    this.#env.checkLifecycle();
    const target = this.#env.namespaces.bind(input.namespace);
    const WRITE = WBEM_RIGHT.WBEM_ENABLE | WBEM_RIGHT.WBEM_FULL_WRITE_REP;
    this.#env.authorize(ctx, target, WRITE, 'CompileMof');
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
      for (const [name, declaration] of this.#env.namespaces.qualifiersOf(target.key)) {
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
        bound = this.#env.namespaces.bind(
          isAbsoluteNamespace(pragma)
            ? pragma
            : `${formatNamespace(target.record.elements)}\\${pragma}`,
        );
        this.#env.authorize(ctx, bound, WRITE, 'CompileMof');
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
        this.#runCompile(
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
  async #runCompile(
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
      const release = await this.#env.locks.acquireAll([...bound, target.key], ctx.signal);
      const staged = this.#env.classes.staged();
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
          this.#env.namespaces.require(bound.key, formatNamespace(bound.record.elements));
          try {
            const world = await this.#env.classes.loadWorld(bound.key, definition, staged);
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
          this.#env.namespaces.require(bound.key, formatNamespace(bound.record.elements));
          try {
            writes.push(await this.#compileInstance(bound, instance, flags, staged, putInstances));
          } catch (failure) {
            failed(failure, where, `instance of ${instance.className}`, bound, instance.className);
          }
          await sink.progress(
            classes.length + index + 1,
            steps,
            `instance of ${instance.className}`,
          );
        }
        // The MOF's qualifier declarations are stored with its classes, in the same batch.
        for (const { bound, declaration } of declarations) {
          this.#env.namespaces.require(bound.key, formatNamespace(bound.record.elements));
          writes.push({ op: 'putQualifier', namespace: bound.key, declaration });
        }
        ctx.signal.throwIfAborted(); // the last point where a cancel means "nothing written"
        durable = writes.length === 0 ? Promise.resolve() : this.#env.store.commit(writes);
        revision = this.#env.store.revision;
        for (const { bound, declaration } of declarations)
          this.#env.namespaces.declareQualifier(bound.key, declaration);
        for (const [namespace, names] of written) this.#env.classes.forgetChains(namespace, names);
      } finally {
        release();
      }
      await durable;
      this.#env.logCorrelation(ctx, context, `CompileMof committed ${classCount} classes`, subject);
      if (firstFailure !== undefined)
        return await sink.complete({ ok: false, error: firstFailure });
      // Success names the target namespace's path, `\\SERVER\root\cimv2`.
      return await sink.complete({
        ok: true,
        path: `\\\\${this.#env.serverName}\\${formatNamespace(target.record.elements)}`,
        revision,
      });
    } catch (failure) {
      return sink.complete({ ok: false, error: this.#env.asWbemError(failure, ctx, subject) });
    }
  }

  /**
   * One `instance of` of a CompileMof: its literals typed by the class (as stored, or as compiled
   * earlier in the same MOF), then the rules of PutInstance against the store and the instances
   * before it. An alias (`$Disk`) in a reference becomes the path of the instance that declared it.
   */
  async #compileInstance(
    bound: BoundNamespace,
    mof: MofInstance,
    flags: PutClassFlags,
    staged: ClassReader,
    done: StagedInstances,
  ): Promise<StoreWrite> {
    const resolved = await this.#env.classes.resolvedClass(bound.key, mof.className, staged);
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
      (
        await findInstance(
          this.#env.store,
          bound.key,
          prepared.location.keyRoot,
          prepared.location.key,
        )
      )?.instance;
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

  // ---- class events (class-events.ts) ----------------------------------------------------------

  /** Watches being served (metrics, and tests that a cancelled watch is freed). */
  get watchCount(): number {
    return this.#env.watchers.size;
  }

  watchClassEvents(input: WatchClassEventsInput, ctx: OperationContext): AcceptedWatch {
    return watchClassEvents(this.#env, input, ctx);
  }

  // ---- classes (classes.ts) and namespaces (namespaces.ts) ------------------------------------

  getClass(
    namespace: string,
    className: string,
    localOnly: boolean,
    ctx: OperationContext,
  ): Promise<ClassView & { readonly revision: bigint }> {
    return getClass(this.#env, namespace, className, localOnly, ctx);
  }

  enumClasses(input: EnumClassesInput, ctx: OperationContext): Promise<readonly ClassView[]> {
    return enumClasses(this.#env, input, ctx);
  }

  deleteClass(
    input: DeleteClassInput,
    ctx: OperationContext,
  ): Promise<{ readonly deletedClasses: readonly string[] }> {
    return deleteClass(this.#env, input, ctx);
  }

  createNamespace(
    parent: string,
    name: string,
    ctx: OperationContext,
  ): Promise<{ readonly path: string }> {
    return createNamespace(this.#env, parent, name, ctx);
  }

  deleteNamespace(namespace: string, ctx: OperationContext): Promise<void> {
    return deleteNamespace(this.#env, namespace, ctx);
  }

  enumNamespaces(
    parent: string,
    deep: boolean,
    ctx: OperationContext,
  ): Promise<readonly NamespaceView[]> {
    return enumNamespaces(this.#env, parent, deep, ctx);
  }

  // ---- static instances (instances.ts) -------------------------------------------------------

  putInstance(input: PutInstanceInput, ctx: OperationContext): Promise<{ readonly path: string }> {
    return putInstance(this.#env, input, ctx);
  }

  getInstance(namespace: string, path: string, ctx: OperationContext): Promise<InstanceObjectView> {
    return getInstance(this.#env, namespace, path, ctx);
  }

  deleteInstance(input: DeleteInstanceInput, ctx: OperationContext): Promise<void> {
    return deleteInstance(this.#env, input, ctx);
  }

  enumInstances(
    input: EnumInstancesInput,
    ctx: OperationContext,
  ): Promise<readonly InstanceObjectView[]> {
    return enumInstances(this.#env, input, ctx);
  }
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

/** What a PutClass request asks besides the class: its context, whether to write at all, its etag. */
interface PutClassOptions {
  readonly context: ClientContext | undefined;
  readonly validateOnly: boolean;
  readonly expectedRevision: bigint | undefined;
}

/** `Core/./CIM_X.mof`, `Core\\CIM_X.mof` → `Core/CIM_X.mof`: how includes find their sources. */
function normalizeSourceName(name: string): string {
  return posix.normalize(name.replace(/\\/g, '/')).replace(/^\.\//, '');
}

function isAbsoluteNamespace(text: string): boolean {
  return /^(\\\\|\/\/|[\\/]?root([\\/]|$))/i.test(text);
}
