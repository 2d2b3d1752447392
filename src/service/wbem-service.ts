/**
 * The operations of IWbemServices over a ClassStore: lock → load → decide → write → emit
 * (docs/style.md §2.4; OpenPegasus's check → resolve → store with the I/O pulled out).
 *
 * Immediate checks (docs/wmi-semantics.md §3.3 steps 1–4) run synchronously in `beginPutClass` and
 * throw; everything else is reported through the sink by `run`, which never rejects.
 *
 * Namespaces are few and read by every call, so the service keeps their table in memory
 * (loaded by `initialize`, updated at each namespace commit point): the "namespace absent" check
 * is immediate, as WMI binds the namespace before the call (Appendix B), and it is re-checked
 * under the namespace lock, where a concurrent DeleteNamespace could have removed it.
 */
import { posix } from 'node:path';
import type { ClassDefinition, QualifierDeclaration, ResolvedClass } from '../domain/class-model';
import {
  checkClientContext,
  classRulesOf,
  correlationIdOf,
  type ClientContext,
} from '../domain/client-context';
import { findSystemClass, isSystemClassName } from '../domain/system-classes';
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
  namespaceKeyOf,
  preview,
  superclassKeyOf,
  type ClassKey,
  type NamespaceKey,
} from '../domain/names';
import {
  BUILT_IN_NAMESPACES,
  formatClassPath,
  formatNamespace,
  isLocaleNamespace,
  parseNamespacePath,
  type IsLocalMachine,
} from '../domain/namespace-path';
import {
  parseDeleteClassFlags,
  parseDeleteInstanceFlags,
  parsePutClassFlags,
  parsePutInstanceFlags,
  type PutClassFlags,
} from '../domain/put-class-flags';
import { decideInstanceWrite, prepareInstance } from '../domain/decide-put-instance';
import type { InstancePath, InstancePropertyInput, StoredInstance } from '../domain/instance-model';
import { formatRelPath, locateByPath, parseInstancePath } from '../domain/instance-path';
import { instanceKeysOf, instanceView } from '../domain/instance-view';
import { localView, propertyCount, resolveClass } from '../domain/resolve-class';
import { AccessPolicy, WBEM_RIGHT } from '../domain/access';
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
  StoreError,
  type ClassEventRecord,
  type ClassStore,
  type InstanceEntry,
  type NamespaceRecord,
  type StoreWrite,
} from '../store/class-store';
import { ClassLoader, type ClassReader } from './class-loader';
import {
  changeInfo,
  changeReport,
  descendantDerivations,
  putClassWrites,
  subclassStages,
} from './class-writes';
import { StagedInstances } from './staged-instances';
import { ClassWatcher } from './class-watch';
import { KeyedMutex } from './keyed-mutex';
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
  SystemPropertiesView,
} from './views';

/** pino-compatible: `logger.info({ operationId }, 'message')`. */
export interface ServiceLogger {
  info(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** A durable class change with its revision: what __ClassCreationEvent / Modification / Deletion carry (§9). */
export type ClassChange = ClassEventRecord;

export interface WbemServiceOptions {
  readonly store: ClassStore;
  /** __SERVER, and the machine name accepted in `\\SERVER\root\...` namespace paths. */
  readonly serverName: string;
  readonly logger?: ServiceLogger;
  /**
   * Called once per class change, after the write is durable and in revision order (the feed the
   * watchers are served from). A throw is logged and ignored.
   */
  readonly onClassChange?: (change: ClassChange) => void;
  /**
   * Called once when the store reports a failed durable write (STORE_FAILED): from then on it
   * refuses all work until restarted, so the server should stop advertising itself as serving.
   */
  readonly onStoreFailure?: (error: StoreError) => void;
  /** Who may do what per namespace (§8); default: everyone everything (no ACL configured). */
  readonly accessPolicy?: AccessPolicy;
  /** The most live events a WatchClassEvents client may fall behind before its watch ends (WBEM_E_QUEUE_OVERFLOW). Default 1024. */
  readonly watchQueueLimit?: number;
}

const DEFAULT_WATCH_QUEUE_LIMIT = 1024;

const EVENT_CLASSES = {
  created: '__ClassCreationEvent',
  modified: '__ClassModificationEvent',
  deleted: '__ClassDeletionEvent',
} as const;

/** The stages PutClassAsync reports with WBEM_FLAG_SEND_STATUS, one per real step. */
const PUT_STAGE = {
  loaded: 'loaded the class and its superclass chain',
  checked: 'checked the class rules',
  committed: 'committed',
  synced: 'synced to disk',
} as const;

const SILENT_LOGGER: ServiceLogger = { info() {}, debug() {}, warn() {}, error() {} };

interface BoundNamespace {
  readonly key: NamespaceKey;
  readonly record: NamespaceRecord;
}

export class WbemService implements WbemServiceApi {
  readonly #store: ClassStore;
  readonly #classes: ClassLoader;
  readonly #serverName: string;
  readonly #logger: ServiceLogger;
  readonly #onClassChange: ((change: ClassChange) => void) | undefined;
  readonly #onStoreFailure: ((error: StoreError) => void) | undefined;
  #storeFailed = false;
  #access: AccessPolicy;
  readonly #locks = new KeyedMutex();
  readonly #namespaces = new Map<NamespaceKey, NamespaceRecord>();
  /** Qualifier declarations per namespace (folded name → declaration), kept in memory like the namespace table. */
  readonly #qualifierDeclarations = new Map<NamespaceKey, Map<string, QualifierDeclaration>>();
  readonly #isLocalMachine: IsLocalMachine;
  #initialized = false;
  #shuttingDown = false;
  readonly #watchers = new Set<ClassWatcher<ClassEventView>>();
  readonly #watchQueueLimit: number;

  constructor(options: WbemServiceOptions) {
    this.#store = options.store;
    this.#classes = new ClassLoader(options.store);
    this.#serverName = options.serverName;
    this.#logger = options.logger ?? SILENT_LOGGER;
    this.#onClassChange = options.onClassChange;
    this.#onStoreFailure = options.onStoreFailure;
    this.#access = options.accessPolicy ?? AccessPolicy.allowAll();
    this.#watchQueueLimit = options.watchQueueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT;
    const serverName = options.serverName.toLowerCase();
    this.#isLocalMachine = (machine) => machine.toLowerCase() === serverName;
  }

  /** Loads the namespace table and creates root, root\cimv2 and root\default when absent. */
  async initialize(): Promise<void> {
    // The live feed: durable class changes, in revision order, from the store.
    this.#store.onDurableEvents((events) => this.#publish(events));
    for (const record of await this.#store.listNamespaces()) {
      const key = namespaceKeyOf(record.elements);
      this.#namespaces.set(key, record);
      const declarations = await this.#store.listQualifiers(key);
      if (declarations.length > 0)
        this.#qualifierDeclarations.set(
          key,
          new Map(declarations.map((d) => [d.name.toLowerCase(), d])),
        );
    }
    const missing: StoreWrite[] = [];
    for (const elements of BUILT_IN_NAMESPACES) {
      const key = namespaceKeyOf(elements);
      if (!this.#namespaces.has(key))
        missing.push({ op: 'putNamespace', namespace: key, record: { elements } });
    }
    if (missing.length > 0) {
      const durable = this.#store.commit(missing);
      for (const write of missing)
        if (write.op === 'putNamespace') this.#namespaces.set(write.namespace, write.record);
      await durable;
    }
    this.#initialized = true;
  }

  /** A new ACL (SIGHUP): calls from now on are judged by it; calls in flight keep their answer. */
  setAccessPolicy(policy: AccessPolicy): void {
    this.#access = policy;
  }

  /** §8: the rights an operation needs on a namespace, checked before anything else happens (rejected at once). */
  #authorize(
    ctx: OperationContext,
    bound: BoundNamespace,
    needed: number,
    operation: string,
  ): void {
    this.#access.require(ctx.principal, bound.record.elements, needed, operation);
  }

  /**
   * From now on every new call fails at once with WBEM_E_SHUTTING_DOWN; calls in flight finish.
   * Watches never finish by themselves, so they end here (WBEM_E_SHUTTING_DOWN): the server's
   * drain must not wait for them.
   */
  beginShutdown(): void {
    this.#shuttingDown = true;
    this.#endWatchers(
      () => true,
      () => new WbemError('WBEM_E_SHUTTING_DOWN', 'the server is shutting down'),
    );
  }

  get isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  // ---- PutClass / PutClassAsync --------------------------------------------------------------

  beginPutClass(
    input: PutClassInput,
    ctx: OperationContext,
    call: 'async' | 'sync',
  ): AcceptedPutClass {
    // §3.3 immediate phase, in order: lifecycle, namespace (parse, exists), parameters.
    this.#checkLifecycle();
    const namespace = this.#bindNamespace(input.namespace);
    if (input.definition === undefined) {
      throw new WbemError('WBEM_E_INVALID_PARAMETER', 'the class object (pObject) is missing', {
        namespace: input.namespace,
      });
    }
    // §8 rule 2: a dynamic class (one with a Provider) needs WRITE_PROVIDER, a static one FULL_WRITE.
    const dynamic = input.definition.qualifiers.some(
      (q) => q.name.toLowerCase() === 'provider' && q.value !== null,
    );
    this.#authorize(
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
      const release = await this.#locks.acquire(bound.key, ctx.signal);
      let stagesReached = 0;
      let decided: { plan: PutClassPlan; world: ClassWorld; path: string };
      let durable: Promise<void> | undefined;
      let revision = 0n;
      try {
        const namespace = this.#requireNamespace(bound.key, subject.namespace);
        const world = await this.#classes.loadWorld(bound.key, definition);
        if (request.expectedRevision !== undefined) {
          // Read under the namespace lock: no write can come between this check and the commit.
          const current =
            world.existing === undefined
              ? undefined
              : await this.#store.getClassRevision(bound.key, classKey(definition.name));
          checkExpectedRevision(definition.name, request.expectedRevision, current);
        }
        stagesReached = 1;
        const plan = decidePutClass({ definition, flags, rules: classRulesOf(context) }, world);
        stages.push(...subclassStages(plan, world));
        stagesReached = stages.length;
        decided = {
          plan,
          world,
          path: formatClassPath(this.#serverName, namespace.elements, plan.definition.name),
        };
        if (!validateOnly) {
          // The last point where a cancel means "nothing written" (§4.4, Recommendation).
          ctx.signal.throwIfAborted();
          const writes = putClassWrites(bound.key, plan, world, changeInfo(context, ctx));
          // The commit point: visible from here on, and it stands whatever the client does next.
          durable = this.#store.commit(writes);
          revision = this.#store.revision;
          this.#classes.forgetChains(bound.key, [
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
      this.#logCorrelation(ctx, context, 'PutClass committed', subject);
      return await sink.complete({ ok: true, path: decided.path, revision });
    } catch (failure) {
      // Before the commit point nothing was written; after it only durability can fail (STORE_FAILED).
      return sink.complete({ ok: false, error: this.#asWbemError(failure, ctx, subject) });
    }
  }

  // ---- CompileMof ------------------------------------------------------------------------------

  /**
   * Immediate phase of CompileMof: lifecycle, namespace, flags, context, then the MOF itself
   * (a syntax error, an unreadable include or a `#pragma namespace` that does not exist is
   * rejected at once, with file:line:column).
   */
  beginCompileMof(input: CompileMofInput, ctx: OperationContext): AcceptedPutClass {
    this.#checkLifecycle();
    const target = this.#bindNamespace(input.namespace);
    const WRITE = WBEM_RIGHT.WBEM_ENABLE | WBEM_RIGHT.WBEM_FULL_WRITE_REP;
    this.#authorize(ctx, target, WRITE, 'CompileMof');
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
      for (const [name, declaration] of this.#qualifierDeclarations.get(target.key) ?? []) {
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
        bound = this.#bindNamespace(
          isAbsoluteNamespace(pragma)
            ? pragma
            : `${formatNamespace(target.record.elements)}\\${pragma}`,
        );
        this.#authorize(ctx, bound, WRITE, 'CompileMof');
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
      const release = await this.#locks.acquireAll([...bound, target.key], ctx.signal);
      const staged = this.#classes.staged();
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
          this.#requireNamespace(bound.key, formatNamespace(bound.record.elements));
          try {
            const world = await this.#classes.loadWorld(bound.key, definition, staged);
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
          this.#requireNamespace(bound.key, formatNamespace(bound.record.elements));
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
          this.#requireNamespace(bound.key, formatNamespace(bound.record.elements));
          writes.push({ op: 'putQualifier', namespace: bound.key, declaration });
        }
        ctx.signal.throwIfAborted(); // the last point where a cancel means "nothing written"
        durable = writes.length === 0 ? Promise.resolve() : this.#store.commit(writes);
        revision = this.#store.revision;
        for (const { bound, declaration } of declarations) {
          let known = this.#qualifierDeclarations.get(bound.key);
          if (known === undefined)
            this.#qualifierDeclarations.set(
              bound.key,
              (known = new Map<string, QualifierDeclaration>()),
            );
          known.set(declaration.name.toLowerCase(), declaration);
        }
        for (const [namespace, names] of written) this.#classes.forgetChains(namespace, names);
      } finally {
        release();
      }
      await durable;
      this.#logCorrelation(ctx, context, `CompileMof committed ${classCount} classes`, subject);
      if (firstFailure !== undefined)
        return await sink.complete({ ok: false, error: firstFailure });
      // Success names the target namespace's path, `\\SERVER\root\cimv2`.
      return await sink.complete({
        ok: true,
        path: `\\\\${this.#serverName}\\${formatNamespace(target.record.elements)}`,
        revision,
      });
    } catch (failure) {
      return sink.complete({ ok: false, error: this.#asWbemError(failure, ctx, subject) });
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
    const resolved = await this.#classes.resolvedClass(bound.key, mof.className, staged);
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
        this.#onClassChange?.(event);
      } catch (error) {
        this.#logger.error(
          { operationId: event.operationId, err: error },
          'class change listener failed',
        );
      }
    }
    for (const watcher of this.#watchers) {
      const mine = events.filter((event) => event.namespace === watcher.namespace);
      if (mine.length > 0) watcher.offer(mine);
    }
  }

  /** Watches being served (metrics, and tests that a cancelled watch is freed). */
  get watchCount(): number {
    return this.#watchers.size;
  }

  #endWatchers(
    which: (watcher: ClassWatcher<ClassEventView>) => boolean,
    error: () => WbemError,
  ): void {
    for (const watcher of this.#watchers) if (which(watcher)) watcher.end(error());
  }

  /**
   * WatchClassEvents' immediate phase: lifecycle, namespace, rights (§9: WBEM_RIGHT_SUBSCRIBE),
   * the filter's shape, and whether the log still holds what `since_revision` asks for.
   */
  watchClassEvents(input: WatchClassEventsInput, ctx: OperationContext): AcceptedWatch {
    this.#checkLifecycle();
    const bound = this.#bindNamespace(input.namespace);
    this.#authorize(
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
    const revision = this.#store.revision;
    const since = input.sinceRevision;
    if (since !== undefined && since < this.#store.firstRetainedRevision - 1n) {
      throw new WbemError(
        'WBEM_E_QUEUE_OVERFLOW',
        `the event log retains revisions from ${this.#store.firstRetainedRevision} on, not all after ${since}`,
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
      limit: this.#watchQueueLimit,
      store: this.#store,
      toView: (record) => this.#eventView(bound.record, record),
    });
    // Registered before the watcher reads the log (see class-watch.ts).
    this.#watchers.add(watcher);
    const cancelled = (): void =>
      watcher.end(new WbemError('WBEM_E_CALL_CANCELLED', 'the client cancelled the watch'));
    ctx.signal.addEventListener('abort', cancelled, { once: true });
    if (ctx.signal.aborted) cancelled();
    // A namespace deleted between the immediate checks and here.
    if (!this.#namespaces.has(bound.key)) watcher.end(namespaceGone(bound.record));
    if (this.#shuttingDown)
      watcher.end(new WbemError('WBEM_E_SHUTTING_DOWN', 'the server is shutting down'));
    try {
      return await watcher.run(port);
    } finally {
      this.#watchers.delete(watcher);
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
      system: this.#systemProperties(
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

  // ---- reads ---------------------------------------------------------------------------------

  async getClass(
    namespace: string,
    className: string,
    localOnly: boolean,
    ctx: OperationContext,
  ): Promise<ClassView & { readonly revision: bigint }> {
    this.#checkLifecycle();
    const bound = this.#bindNamespace(namespace);
    this.#authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE, 'GetClass');
    return this.#guard(ctx, { namespace, className }, async () => {
      // The revision is read before the class: a write in between makes it older than what is
      // returned, so an expected_revision built from it fails safe (a conflict), never the reverse.
      // A built-in system class has no store revision: 0, the revision before any write.
      const revision =
        findSystemClass(classKey(className)) === undefined
          ? await this.#store.getClassRevision(bound.key, classKey(className))
          : 0n;
      const chain =
        revision === undefined
          ? undefined
          : await this.#classes.loadChain(bound.key, classKey(className));
      if (chain === undefined || revision === undefined) {
        throw new WbemError(
          'WBEM_E_NOT_FOUND',
          `class ${preview(className)} does not exist in ${formatNamespace(bound.record.elements)}`,
        );
      }
      return { ...this.#view(bound.record, chain, localOnly), revision };
    });
  }

  async enumClasses(input: EnumClassesInput, ctx: OperationContext): Promise<readonly ClassView[]> {
    this.#checkLifecycle();
    const bound = this.#bindNamespace(input.namespace);
    this.#authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE, 'EnumClasses');
    return this.#guard(
      ctx,
      { namespace: input.namespace, className: input.superclass },
      async () => {
        let start: ClassKey | null = null;
        if (input.superclass !== '') {
          start = classKey(input.superclass);
          if ((await this.#classes.reader.getClass(bound.key, start)) === undefined) {
            // CreateClassEnum names an unknown superclass: WBEM_E_INVALID_CLASS (MS-WMI 3.1.4.3.10).
            throw new WbemError(
              'WBEM_E_INVALID_CLASS',
              `class ${preview(input.superclass)} does not exist`,
            );
          }
        }
        const keys: ClassKey[] = [];
        const queue: (ClassKey | null)[] = [start];
        for (let index = 0; index < queue.length; index++) {
          for (const child of await this.#classes.reader.listSubclasses(
            bound.key,
            queue[index] ?? null,
          )) {
            keys.push(child);
            if (input.deep) queue.push(child);
          }
        }
        const views: ClassView[] = [];
        for (const key of keys) {
          ctx.signal.throwIfAborted();
          const chain = await this.#classes.loadChain(bound.key, key);
          if (chain !== undefined) views.push(this.#view(bound.record, chain, input.localOnly));
        }
        return views;
      },
    );
  }

  #view(
    namespace: NamespaceRecord,
    chain: readonly ClassDefinition[],
    localOnly: boolean,
  ): ClassView {
    const resolved: ResolvedClass = resolveClass([...chain].reverse());
    // __PROPERTY_COUNT describes the class (inherited members included), whatever view is returned.
    return {
      class: localOnly ? localView(resolved) : resolved,
      system: this.#systemProperties(
        namespace,
        resolved,
        1,
        resolved.name,
        propertyCount(resolved),
      ),
    };
  }

  // ---- DeleteClass ---------------------------------------------------------------------------

  async deleteClass(
    input: DeleteClassInput,
    ctx: OperationContext,
  ): Promise<{ readonly deletedClasses: readonly string[] }> {
    this.#checkLifecycle();
    const bound = this.#bindNamespace(input.namespace);
    this.#authorize(
      ctx,
      bound,
      WBEM_RIGHT.WBEM_ENABLE | WBEM_RIGHT.WBEM_FULL_WRITE_REP,
      'DeleteClass',
    );
    parseDeleteClassFlags(input.flags);
    if (input.context !== undefined) checkClientContext(input.context);
    const subject = { namespace: input.namespace, className: input.className };
    return this.#guard(ctx, subject, async () => {
      if (isSystemClassName(input.className)) {
        throw new WbemError(
          'WBEM_E_INVALID_OPERATION',
          `system class ${preview(input.className)} cannot be deleted`,
        );
      }
      const release = await this.#locks.acquire(bound.key, ctx.signal);
      let deleted: ClassDefinition[];
      let durable: Promise<void>;
      try {
        this.#requireNamespace(bound.key, input.namespace);
        const key = classKey(input.className);
        const target = await this.#store.getClass(bound.key, key);
        if (target === undefined) {
          throw new WbemError(
            'WBEM_E_NOT_FOUND',
            `class ${preview(input.className)} does not exist`,
          );
        }
        deleted = [target, ...(await this.#classes.loadDescendants(bound.key, key))];
        // §6.6: the static instances of every deleted class go in the same atomic write.
        const instanceWrites: StoreWrite[] = [];
        for (const definition of deleted) {
          for (const entry of await this.#store.listInstances(
            bound.key,
            classKey(definition.name),
          )) {
            instanceWrites.push({
              op: 'deleteInstance',
              namespace: bound.key,
              className: classKey(definition.name),
              key: entry.key,
            });
          }
        }
        const chain = await this.#classes.loadChain(bound.key, key);
        const derivations = descendantDerivations(
          target,
          (chain ?? []).slice(1).map((c) => c.name),
          deleted.slice(1),
        );
        ctx.signal.throwIfAborted();
        const change = changeInfo(input.context, ctx);
        // One deletion event per class (§9 [I]), the class first, then its subclasses parents first.
        durable = this.#store.commit([
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
        this.#classes.forgetChains(
          bound.key,
          deleted.map((d) => d.name),
        );
      } finally {
        release();
      }
      await durable;
      this.#logCorrelation(ctx, input.context, 'DeleteClass committed', subject);
      return { deletedClasses: deleted.map((d) => d.name) };
    });
  }

  // ---- namespaces ----------------------------------------------------------------------------

  async createNamespace(
    parent: string,
    name: string,
    ctx: OperationContext,
  ): Promise<{ readonly path: string }> {
    this.#checkLifecycle();
    const bound = this.#bindNamespace(parent);
    this.#authorize(
      ctx,
      bound,
      WBEM_RIGHT.WBEM_ENABLE | WBEM_RIGHT.WBEM_FULL_WRITE_REP,
      'CreateNamespace',
    );
    if (!isIdentifier(name)) {
      // §6.9: NAMESPACE = STRING-IDENTIFIER *("\" STRING-IDENTIFIER)
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER',
        `namespace name "${preview(name)}" is not an identifier`,
        { namespace: parent },
      );
    }
    return this.#guard(ctx, { namespace: parent }, async () => {
      const elements = [...bound.record.elements, name];
      const key = namespaceKeyOf(elements);
      const release = await this.#locks.acquire(NAMESPACE_TREE_LOCK, ctx.signal);
      try {
        this.#requireNamespace(bound.key, parent);
        if (this.#namespaces.has(key)) {
          throw new WbemError(
            'WBEM_E_ALREADY_EXISTS',
            `namespace ${formatNamespace(elements)} already exists`,
            {
              namespace: formatNamespace(elements),
            },
          );
        }
        ctx.signal.throwIfAborted();
        const durable = this.#store.commit([
          { op: 'putNamespace', namespace: key, record: { elements } },
        ]);
        this.#namespaces.set(key, { elements });
        await durable;
      } finally {
        release();
      }
      return { path: formatNamespace(elements) };
    });
  }

  async deleteNamespace(namespace: string, ctx: OperationContext): Promise<void> {
    this.#checkLifecycle();
    const bound = this.#bindNamespace(namespace);
    this.#authorize(
      ctx,
      bound,
      WBEM_RIGHT.WBEM_ENABLE | WBEM_RIGHT.WBEM_FULL_WRITE_REP,
      'DeleteNamespace',
    );
    if (BUILT_IN_NAMESPACES.some((elements) => namespaceKeyOf(elements) === bound.key)) {
      throw new WbemError(
        'WBEM_E_INVALID_OPERATION',
        `namespace ${formatNamespace(bound.record.elements)} always exists`,
        {
          namespace,
        },
      );
    }
    await this.#guard(ctx, { namespace }, async () => {
      const releaseTree = await this.#locks.acquire(NAMESPACE_TREE_LOCK, ctx.signal);
      try {
        this.#requireNamespace(bound.key, namespace);
        const doomed = [...this.#namespaces.keys()].filter(
          (key) => key === bound.key || key.startsWith(`${bound.key}\\`),
        );
        // Writers inside the doomed namespaces finish first; later ones find the namespace gone.
        const release = await this.#locks.acquireAll(doomed, ctx.signal);
        let durable: Promise<void>;
        try {
          ctx.signal.throwIfAborted();
          durable = this.#store.commit(
            doomed.map((key) => ({ op: 'deleteNamespace', namespace: key })),
          );
          for (const key of doomed) {
            this.#namespaces.delete(key);
            this.#qualifierDeclarations.delete(key);
          }
          this.#classes.forgetNamespaces(doomed);
          const gone = new Set(doomed);
          this.#endWatchers(
            (watcher) => gone.has(watcher.namespace),
            () => namespaceGone(bound.record),
          );
        } finally {
          release();
        }
        await durable;
      } finally {
        releaseTree();
      }
    });
  }

  async enumNamespaces(
    parent: string,
    deep: boolean,
    ctx: OperationContext,
  ): Promise<readonly NamespaceView[]> {
    this.#checkLifecycle();
    const bound = this.#bindNamespace(parent);
    this.#authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE, 'EnumNamespaces');
    return this.#guard(ctx, { namespace: parent }, async () => {
      const depth = bound.record.elements.length;
      return [...this.#namespaces.entries()]
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

  // ---- static instances ----------------------------------------------------------------------

  /** §8: static instances need WBEM_PARTIAL_WRITE_REP, which WBEM_FULL_WRITE_REP includes. */
  #authorizeInstanceWrite(ctx: OperationContext, bound: BoundNamespace, operation: string): void {
    const full =
      (this.#access.rightsOf(ctx.principal, bound.record.elements) &
        WBEM_RIGHT.WBEM_FULL_WRITE_REP) !==
      0;
    this.#authorize(
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
    this.#checkLifecycle();
    const bound = this.#bindNamespace(input.namespace);
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
    return this.#guard(ctx, subject, async () => {
      const release = await this.#locks.acquire(bound.key, ctx.signal);
      let durable: Promise<void>;
      let relpath: string;
      try {
        const namespace = this.#requireNamespace(bound.key, input.namespace);
        const resolved = await this.#classes.resolvedClass(bound.key, instance.className);
        const prepared = prepareInstance(instance, resolved, isLocaleNamespace(namespace.elements));
        const existing = await this.#findInstance(
          bound.key,
          prepared.location.keyRoot,
          prepared.location.key,
        );
        decideInstanceWrite(mode, resolved.name, existing?.instance);
        relpath = prepared.relpath;
        ctx.signal.throwIfAborted(); // the last point where a cancel means "nothing written"
        durable = this.#store.commit([
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
      this.#logCorrelation(ctx, input.context, 'PutInstance committed', subject);
      return { path: relpath };
    });
  }

  async getInstance(
    namespace: string,
    path: string,
    ctx: OperationContext,
  ): Promise<InstanceObjectView> {
    this.#checkLifecycle();
    const bound = this.#bindNamespace(namespace);
    this.#authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE, 'GetInstance');
    const parsed = this.#parseInstancePathIn(bound, path);
    return this.#guard(ctx, { namespace, className: parsed.className }, async () => {
      const found = await this.#locateInstance(bound.key, parsed);
      return this.#instanceObjectView(
        bound.record,
        resolveClass([...found.chain].reverse()),
        found.instance,
      );
    });
  }

  async deleteInstance(input: DeleteInstanceInput, ctx: OperationContext): Promise<void> {
    this.#checkLifecycle();
    const bound = this.#bindNamespace(input.namespace);
    this.#authorizeInstanceWrite(ctx, bound, 'DeleteInstance');
    parseDeleteInstanceFlags(input.flags);
    if (input.context !== undefined) checkClientContext(input.context);
    const parsed = this.#parseInstancePathIn(bound, input.path);
    const subject = { namespace: input.namespace, className: parsed.className };
    await this.#guard(ctx, subject, async () => {
      const release = await this.#locks.acquire(bound.key, ctx.signal);
      let durable: Promise<void>;
      try {
        this.#requireNamespace(bound.key, input.namespace);
        const found = await this.#locateInstance(bound.key, parsed);
        ctx.signal.throwIfAborted();
        durable = this.#store.commit([
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
      this.#logCorrelation(ctx, input.context, 'DeleteInstance committed', subject);
    });
  }

  async enumInstances(
    input: EnumInstancesInput,
    ctx: OperationContext,
  ): Promise<readonly InstanceObjectView[]> {
    this.#checkLifecycle();
    const bound = this.#bindNamespace(input.namespace);
    this.#authorize(ctx, bound, WBEM_RIGHT.WBEM_ENABLE, 'EnumInstances');
    return this.#guard(
      ctx,
      { namespace: input.namespace, className: input.className },
      async () => {
        const start = classKey(input.className);
        const root = await this.#classes.reader.getClass(bound.key, start);
        if (root === undefined) {
          // CreateInstanceEnum of an unknown class: WBEM_E_INVALID_CLASS, as CreateClassEnum.
          throw new WbemError(
            'WBEM_E_INVALID_CLASS',
            `class ${preview(input.className)} does not exist`,
          );
        }
        const classes = input.deep
          ? [root, ...(await this.#classes.loadDescendants(bound.key, start))]
          : [root];
        const views: InstanceObjectView[] = [];
        for (const definition of classes) {
          ctx.signal.throwIfAborted();
          const entries = await this.#store.listInstances(bound.key, classKey(definition.name));
          if (entries.length === 0) continue;
          const chain = await this.#classes.loadChain(bound.key, classKey(definition.name));
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
      const instance = await this.#store.getInstance(ns, current, key);
      if (instance !== undefined) return { key, instance };
      classes.push(...(await this.#store.listSubclasses(ns, current)));
    }
    return undefined;
  }

  /** An instance path of the bound namespace: a namespace prefix must name it (§6.9). */
  #parseInstancePathIn(bound: BoundNamespace, text: string): InstancePath {
    const parsed = parseInstancePath(text);
    if (
      parsed.namespace !== undefined &&
      parseNamespacePath(parsed.namespace, this.#isLocalMachine).key !== bound.key
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
    const pathClass = await this.#classes.resolvedClass(ns, path.className);
    const { location, keys } = locateByPath(pathClass, path);
    const found = await this.#findInstance(ns, classKey(pathClass.name), location.key);
    const chain =
      found === undefined
        ? undefined
        : await this.#classes.loadChain(ns, classKey(found.instance.className));
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
      system: this.#systemProperties(namespace, resolved, 2, relpath, propertyCount(resolved)),
    };
  }

  /**
   * __GENUS … __PROPERTY_COUNT of a class (genus 1, relpath = its name) or of one of its instances:
   * of a resolved class for reads, of a class as written (with its recorded derivation) for events.
   */
  #systemProperties(
    namespace: NamespaceRecord,
    of: {
      readonly name: string;
      readonly superclass: string;
      readonly dynasty: string;
      readonly derivation: readonly string[];
    },
    genus: 1 | 2,
    relpath: string,
    count: number,
  ): SystemPropertiesView {
    return {
      genus,
      className: of.name,
      superclass: of.superclass,
      dynasty: of.dynasty,
      derivation: of.derivation,
      server: this.#serverName,
      namespace: formatNamespace(namespace.elements),
      path: `${formatClassPath(this.#serverName, namespace.elements, '')}${relpath}`,
      relpath,
      propertyCount: count,
    };
  }

  // ---- shared steps --------------------------------------------------------------------------

  #checkLifecycle(): void {
    if (this.#shuttingDown)
      throw new WbemError('WBEM_E_SHUTTING_DOWN', 'the server is shutting down');
    if (!this.#initialized)
      throw new Error('WbemService: initialize() was not awaited before serving');
  }

  /** §3.3 step 2: unparseable → INVALID_PARAMETER; absent → INVALID_NAMESPACE. */
  #bindNamespace(text: string): BoundNamespace {
    const path = parseNamespacePath(text, this.#isLocalMachine);
    return { key: path.key, record: this.#requireNamespace(path.key, text) };
  }

  #requireNamespace(key: NamespaceKey, asWritten: string): NamespaceRecord {
    const record = this.#namespaces.get(key);
    if (record === undefined) {
      throw new WbemError(
        'WBEM_E_INVALID_NAMESPACE',
        `namespace ${preview(asWritten)} does not exist`,
        {
          namespace: asWritten,
        },
      );
    }
    return record;
  }

  /** Runs a unary operation and converts every failure into a WbemError (one catch-all). */
  async #guard<T>(
    ctx: OperationContext,
    subject: { namespace?: string; className?: string },
    body: () => Promise<T>,
  ): Promise<T> {
    try {
      return await body();
    } catch (failure) {
      throw this.#asWbemError(failure, ctx, subject);
    }
  }

  /**
   * The service's catch-all: WbemError passes (with its subject filled in), an abort becomes
   * WBEM_E_CALL_CANCELLED, a closed store during shutdown WBEM_E_SHUTTING_DOWN, anything else
   * WBEM_E_FAILED with the cause logged, never sent.
   */
  #asWbemError(
    failure: unknown,
    ctx: OperationContext,
    subject: { namespace?: string; className?: string },
  ): WbemError {
    if (failure instanceof WbemError) return failure.about(subject);
    if (ctx.signal.aborted && (failure === ctx.signal.reason || isAbortError(failure))) {
      return new WbemError(
        'WBEM_E_CALL_CANCELLED',
        'the call was cancelled before anything was written',
        subject,
      );
    }
    if (failure instanceof StoreError && failure.code === 'STORE_NOT_OPEN' && this.#shuttingDown) {
      return new WbemError('WBEM_E_SHUTTING_DOWN', 'the server is shutting down', subject);
    }
    if (failure instanceof StoreError && failure.code === 'STORE_FAILED')
      this.#storeFailure(failure);
    this.#logger.error(
      {
        operationId: ctx.operationId,
        ...(ctx.traceId === undefined ? {} : { traceId: ctx.traceId }),
        err: failure,
        ...subject,
      },
      'operation failed',
    );
    return new WbemError(
      'WBEM_E_FAILED',
      `internal error (operation ${ctx.operationId})`,
      subject,
      { cause: failure },
    );
  }

  #storeFailure(error: StoreError): void {
    if (this.#storeFailed) return;
    this.#storeFailed = true;
    this.#logger.error(
      { err: error },
      'the class store failed a durable write and refuses further work; restart the server',
    );
    // No more events will come: end the watches rather than leave them waiting.
    this.#endWatchers(
      () => true,
      () =>
        new WbemError(
          'WBEM_E_FAILED',
          'the class store failed; watch again after the server restarts',
        ),
    );
    try {
      this.#onStoreFailure?.(error);
    } catch (listenerError) {
      this.#logger.error({ err: listenerError }, 'store failure listener failed');
    }
  }

  #logCorrelation(
    ctx: OperationContext,
    context: ClientContext | undefined,
    message: string,
    subject: { namespace?: string; className?: string },
  ): void {
    const correlationId = correlationIdOf(context);
    // The transport logs every call; this line adds what only the service knows. It is worth an
    // info line when the client asked to be traced (__CorrelationId SHOULD be logged, §7).
    const fields = {
      operationId: ctx.operationId,
      ...(ctx.traceId === undefined ? {} : { traceId: ctx.traceId }),
      peer: ctx.peer,
      ...subject,
      ...(correlationId === undefined ? {} : { correlationId }),
    };
    if (correlationId === undefined) this.#logger.debug(fields, message);
    else this.#logger.info(fields, message);
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

function namespaceGone(record: NamespaceRecord): WbemError {
  const namespace = formatNamespace(record.elements);
  return new WbemError('WBEM_E_INVALID_NAMESPACE', `namespace ${namespace} was deleted`, {
    namespace,
  });
}

/** Lock key for the namespace tree itself (create/delete namespace); not a namespace key. */
const NAMESPACE_TREE_LOCK = '\u0000namespaces';

/** `Core/./CIM_X.mof`, `Core\\CIM_X.mof` → `Core/CIM_X.mof`: how includes find their sources. */
function normalizeSourceName(name: string): string {
  return posix.normalize(name.replace(/\\/g, '/')).replace(/^\.\//, '');
}

function isAbsoluteNamespace(text: string): boolean {
  return /^(\\\\|\/\/|[\\/]?root([\\/]|$))/i.test(text);
}

function isAbortError(value: unknown): boolean {
  return value instanceof Error && (value.name === 'AbortError' || value.name === 'TimeoutError');
}
