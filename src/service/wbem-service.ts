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
import type { ClassDefinition, QualifierDeclaration, ResolvedClass } from '../domain/class-model';
import { checkClientContext, classRulesOf, type ClientContext } from '../domain/client-context';
import {
  checkExpectedRevision,
  decidePutClass,
  type ClassWorld,
  type PutClassPlan,
} from '../domain/decide-put-class';
import {
  classKey,
  findNamed,
  isIdentifier,
  preview,
  type ClassKey,
  type NamespaceKey,
} from '../domain/names';
import { formatClassPath, formatNamespace, isLocaleNamespace } from '../domain/namespace-path';
import {
  parseDeleteInstanceFlags,
  parsePutClassFlags,
  parsePutInstanceFlags,
  type PutClassFlags,
} from '../domain/put-class-flags';
import { decideInstanceWrite, prepareInstance } from '../domain/decide-put-instance';
import type { InstancePath, InstancePropertyInput, StoredInstance } from '../domain/instance-model';
import { formatRelPath, locateByPath, parseInstancePath } from '../domain/instance-path';
import { instanceKeysOf, instanceView } from '../domain/instance-view';
import { propertyCount, resolveClass } from '../domain/resolve-class';
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
import {
  type ClassEventRecord,
  type InstanceEntry,
  type NamespaceRecord,
  type StoreWrite,
} from '../store/class-store';
import type { ClassReader } from './class-loader';
import { changeInfo, changeReport, putClassWrites, subclassStages } from './class-writes';
import { StagedInstances } from './staged-instances';
import { ClassWatcher } from './class-watch';
import { namespaceGone, type BoundNamespace } from './namespace-table';
import { deleteClass, enumClasses, getClass } from './classes';
import { createNamespace, deleteNamespace, enumNamespaces } from './namespaces';
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
import type {
  ClassEventView,
  ClassView,
  EventClassView,
  InstanceObjectView,
  NamespaceView,
} from './views';

/** The stages PutClassAsync reports with WBEM_FLAG_SEND_STATUS, one per real step. */
const PUT_STAGE = {
  loaded: 'loaded the class and its superclass chain',
  checked: 'checked the class rules',
  committed: 'committed',
  synced: 'synced to disk',
} as const;

const EVENT_CLASSES = {
  created: '__ClassCreationEvent',
  modified: '__ClassModificationEvent',
  deleted: '__ClassDeletionEvent',
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
    this.#env.store.onDurableEvents((events) => this.#publish(events));
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
      (await this.#findInstance(bound.key, prepared.location.keyRoot, prepared.location.key))
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

  // ---- class events ----------------------------------------------------------------------------

  /** Hands durable class changes to the onClassChange hook and to the watchers of their namespace. */
  #publish(events: readonly ClassEventRecord[]): void {
    for (const event of events) {
      try {
        this.#env.onClassChange?.(event);
      } catch (error) {
        this.#env.logger.error(
          { operationId: event.operationId, err: error },
          'class change listener failed',
        );
      }
    }
    for (const watcher of this.#env.watchers) {
      const mine = events.filter((event) => event.namespace === watcher.namespace);
      if (mine.length > 0) watcher.offer(mine);
    }
  }

  /** Watches being served (metrics, and tests that a cancelled watch is freed). */
  get watchCount(): number {
    return this.#env.watchers.size;
  }

  /**
   * WatchClassEvents' immediate phase: lifecycle, namespace, rights (§9: WBEM_RIGHT_SUBSCRIBE),
   * the filter's shape, and whether the log still holds what `since_revision` asks for.
   */
  watchClassEvents(input: WatchClassEventsInput, ctx: OperationContext): AcceptedWatch {
    this.#env.checkLifecycle();
    const bound = this.#env.namespaces.bind(input.namespace);
    this.#env.authorize(
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
    const revision = this.#env.store.revision;
    const since = input.sinceRevision;
    if (since !== undefined && since < this.#env.store.firstRetainedRevision - 1n) {
      throw new WbemError(
        'WBEM_E_QUEUE_OVERFLOW',
        `the event log retains revisions from ${this.#env.store.firstRetainedRevision} on, not all after ${since}`,
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
    return { revision, run: (port) => this.#runWatch(bound, isa, since ?? revision, ctx, port) };
  }

  async #runWatch(
    bound: BoundNamespace,
    isa: ClassKey | undefined,
    after: bigint,
    ctx: OperationContext,
    port: Parameters<AcceptedWatch['run']>[0],
  ): Promise<WbemError> {
    const watcher = new ClassWatcher<ClassEventView>({
      namespace: bound.key,
      isa,
      after,
      limit: this.#env.watchQueueLimit,
      store: this.#env.store,
      toView: (record) => this.#eventView(bound.record, record),
    });
    // Registered before the watcher reads the log (see class-watch.ts).
    this.#env.watchers.add(watcher);
    const cancelled = (): void =>
      watcher.end(new WbemError('WBEM_E_CALL_CANCELLED', 'the client cancelled the watch'));
    ctx.signal.addEventListener('abort', cancelled, { once: true });
    if (ctx.signal.aborted) cancelled();
    // A namespace deleted between the immediate checks and here.
    if (!this.#env.namespaces.has(bound.key)) watcher.end(namespaceGone(bound.record));
    if (this.#env.isShuttingDown)
      watcher.end(new WbemError('WBEM_E_SHUTTING_DOWN', 'the server is shutting down'));
    try {
      return await watcher.run(port);
    } finally {
      this.#env.watchers.delete(watcher);
      ctx.signal.removeEventListener('abort', cancelled);
    }
  }

  /**
   * An event as sent: TargetClass / PreviousClass as written (local members, not resolved: the
   * class may be gone, and the event describes the write), with system properties from the
   * recorded derivation. __PROPERTY_COUNT is not known from a local definition: 0.
   */
  #eventView(namespace: NamespaceRecord, record: ClassEventRecord): ClassEventView {
    const classView = (
      definition: ClassDefinition,
      derivation: readonly string[],
    ): EventClassView => ({
      definition,
      system: this.#env.systemProperties(
        namespace,
        {
          name: definition.name,
          superclass: definition.superclass,
          dynasty: derivation[derivation.length - 1] ?? definition.name,
          derivation,
        },
        1,
        definition.name,
        0,
      ),
    });
    const previous = record.previous;
    // The recorded chain is the target's; a modification that moved the class keeps only the old parent.
    const previousDerivation =
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

  // ---- static instances ----------------------------------------------------------------------

  /** §8: static instances need WBEM_PARTIAL_WRITE_REP, which WBEM_FULL_WRITE_REP includes. */
  #authorizeInstanceWrite(ctx: OperationContext, bound: BoundNamespace, operation: string): void {
    const full =
      (this.#env.access.rightsOf(ctx.principal, bound.record.elements) &
        WBEM_RIGHT.WBEM_FULL_WRITE_REP) !==
      0;
    this.#env.authorize(
      ctx,
      bound,
      WBEM_RIGHT.WBEM_ENABLE |
        (full ? WBEM_RIGHT.WBEM_FULL_WRITE_REP : WBEM_RIGHT.WBEM_PARTIAL_WRITE_REP),
      operation,
    );
  }

  async putInstance(
    input: PutInstanceInput,
    ctx: OperationContext,
  ): Promise<{ readonly path: string }> {
    this.#env.checkLifecycle();
    const bound = this.#env.namespaces.bind(input.namespace);
    if (input.instance === undefined) {
      throw new WbemError('WBEM_E_INVALID_PARAMETER', 'the instance object (pInst) is missing', {
        namespace: input.namespace,
      });
    }
    this.#authorizeInstanceWrite(ctx, bound, 'PutInstance');
    const mode = parsePutInstanceFlags(input.flags);
    if (input.context !== undefined) checkClientContext(input.context);
    const instance = input.instance;
    const subject = { namespace: input.namespace, className: instance.className };
    return this.#env.guard(ctx, subject, async () => {
      const release = await this.#env.locks.acquire(bound.key, ctx.signal);
      let durable: Promise<void>;
      let relpath: string;
      try {
        const namespace = this.#env.namespaces.require(bound.key, input.namespace);
        const resolved = await this.#env.classes.resolvedClass(bound.key, instance.className);
        const prepared = prepareInstance(instance, resolved, isLocaleNamespace(namespace.elements));
        const existing = await this.#findInstance(
          bound.key,
          prepared.location.keyRoot,
          prepared.location.key,
        );
        decideInstanceWrite(mode, resolved.name, existing?.instance);
        relpath = prepared.relpath;
        ctx.signal.throwIfAborted(); // the last point where a cancel means "nothing written"
        durable = this.#env.store.commit([
          {
            op: 'putInstance',
            namespace: bound.key,
            className: classKey(resolved.name),
            key: prepared.location.key,
            instance: prepared.stored,
          },
        ]);
      } finally {
        release();
      }
      await durable;
      this.#env.logCorrelation(ctx, input.context, 'PutInstance committed', subject);
      return { path: relpath };
    });
  }

  async getInstance(
    namespace: string,
    path: string,
    ctx: OperationContext,
  ): Promise<InstanceObjectView> {
    this.#env.checkLifecycle();
    const bound = this.#env.namespaces.bind(namespace);
    this.#env.authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE, 'GetInstance');
    const parsed = this.#parseInstancePathIn(bound, path);
    return this.#env.guard(ctx, { namespace, className: parsed.className }, async () => {
      const found = await this.#locateInstance(bound.key, parsed);
      return this.#instanceObjectView(
        bound.record,
        resolveClass([...found.chain].reverse()),
        found.instance,
      );
    });
  }

  async deleteInstance(input: DeleteInstanceInput, ctx: OperationContext): Promise<void> {
    this.#env.checkLifecycle();
    const bound = this.#env.namespaces.bind(input.namespace);
    this.#authorizeInstanceWrite(ctx, bound, 'DeleteInstance');
    parseDeleteInstanceFlags(input.flags);
    if (input.context !== undefined) checkClientContext(input.context);
    const parsed = this.#parseInstancePathIn(bound, input.path);
    const subject = { namespace: input.namespace, className: parsed.className };
    await this.#env.guard(ctx, subject, async () => {
      const release = await this.#env.locks.acquire(bound.key, ctx.signal);
      let durable: Promise<void>;
      try {
        this.#env.namespaces.require(bound.key, input.namespace);
        const found = await this.#locateInstance(bound.key, parsed);
        ctx.signal.throwIfAborted();
        durable = this.#env.store.commit([
          {
            op: 'deleteInstance',
            namespace: bound.key,
            className: classKey(found.instance.className),
            key: found.key,
          },
        ]);
      } finally {
        release();
      }
      await durable;
      this.#env.logCorrelation(ctx, input.context, 'DeleteInstance committed', subject);
    });
  }

  async enumInstances(
    input: EnumInstancesInput,
    ctx: OperationContext,
  ): Promise<readonly InstanceObjectView[]> {
    this.#env.checkLifecycle();
    const bound = this.#env.namespaces.bind(input.namespace);
    this.#env.authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE, 'EnumInstances');
    return this.#env.guard(
      ctx,
      { namespace: input.namespace, className: input.className },
      async () => {
        const start = classKey(input.className);
        const root = await this.#env.classes.reader.getClass(bound.key, start);
        if (root === undefined) {
          // CreateInstanceEnum of an unknown class: WBEM_E_INVALID_CLASS, as CreateClassEnum.
          throw new WbemError(
            'WBEM_E_INVALID_CLASS',
            `class ${preview(input.className)} does not exist`,
          );
        }
        const classes = input.deep
          ? [root, ...(await this.#env.classes.loadDescendants(bound.key, start))]
          : [root];
        const views: InstanceObjectView[] = [];
        for (const definition of classes) {
          ctx.signal.throwIfAborted();
          const entries = await this.#env.store.listInstances(bound.key, classKey(definition.name));
          if (entries.length === 0) continue;
          const chain = await this.#env.classes.loadChain(bound.key, classKey(definition.name));
          if (chain === undefined) continue; // deleted meanwhile: its instances went with it
          const resolved = resolveClass([...chain].reverse());
          for (const entry of entries)
            views.push(this.#instanceObjectView(bound.record, resolved, entry.instance));
        }
        return views;
      },
    );
  }

  /**
   * The instance filed under `key` in `from` or one of its subclasses, `from` first. Instance paths
   * are unique across a keyed hierarchy (A.Id="x" and B.Id="x" of B:A are one path), so from its
   * key root this finds any instance with that path; from a path's class, the ones it can name.
   */
  async #findInstance(
    ns: NamespaceKey,
    from: ClassKey,
    key: string,
  ): Promise<InstanceEntry | undefined> {
    const classes: ClassKey[] = [from];
    for (let index = 0; index < classes.length; index++) {
      const current = classes[index] as ClassKey;
      const instance = await this.#env.store.getInstance(ns, current, key);
      if (instance !== undefined) return { key, instance };
      classes.push(...(await this.#env.store.listSubclasses(ns, current)));
    }
    return undefined;
  }

  /** An instance path of the bound namespace: a namespace prefix must name it (§6.9). */
  #parseInstancePathIn(bound: BoundNamespace, text: string): InstancePath {
    const parsed = parseInstancePath(text);
    if (
      parsed.namespace !== undefined &&
      this.#env.namespaces.keyOf(parsed.namespace) !== bound.key
    ) {
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER',
        `object path "${preview(text)}" names another namespace than ${formatNamespace(bound.record.elements)}`,
      );
    }
    return parsed;
  }

  /** The instance a path names: of the path's class or a subclass (a path may name a subclass instance by its base class). */
  async #locateInstance(
    ns: NamespaceKey,
    path: InstancePath,
  ): Promise<{
    readonly instance: StoredInstance;
    readonly key: string;
    readonly chain: readonly ClassDefinition[];
  }> {
    const pathClass = await this.#env.classes.resolvedClass(ns, path.className);
    const { location, keys } = locateByPath(pathClass, path);
    const found = await this.#findInstance(ns, classKey(pathClass.name), location.key);
    const chain =
      found === undefined
        ? undefined
        : await this.#env.classes.loadChain(ns, classKey(found.instance.className));
    if (found === undefined || chain === undefined) {
      throw new WbemError(
        'WBEM_E_NOT_FOUND',
        `no instance has the path ${preview(formatRelPath(pathClass.name, keys))}`,
      );
    }
    return { instance: found.instance, key: found.key, chain };
  }

  /** An instance as read, with its class resolved by the caller (once for all the instances of an enumeration). */
  #instanceObjectView(
    namespace: NamespaceRecord,
    resolved: ResolvedClass,
    stored: StoredInstance,
  ): InstanceObjectView {
    const relpath = formatRelPath(resolved.name, instanceKeysOf(resolved, stored));
    return {
      instance: instanceView(resolved, stored),
      system: this.#env.systemProperties(namespace, resolved, 2, relpath, propertyCount(resolved)),
    };
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
