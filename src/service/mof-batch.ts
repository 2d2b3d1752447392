/**
 * The writes of one CompileMof, gathered item by item under the namespace locks: each class judged
 * against the store plus the classes before it (staged), each instance typed by its class as
 * stored or compiled above (D30) and judged against the instances before it, then the qualifier
 * declarations. All of them go in one atomic commit (compile-mof.ts).
 */
import type { ClassDefinition, QualifierDeclaration, ResolvedClass } from '../domain/class-model';
import { classRulesOf, type ClassRules, type ClientContext } from '../domain/client-context';
import { decidePutClass } from '../domain/decide-put-class';
import { decideInstanceWrite, prepareInstance } from '../domain/decide-put-instance';
import type { InstancePropertyInput } from '../domain/instance-model';
import { classKey, findNamed, type ClassKey, type NamespaceKey } from '../domain/names';
import { formatNamespace, isLocaleNamespace } from '../domain/namespace-path';
import type { PutClassFlags } from '../domain/put-class-flags';
import { WbemError } from '../domain/wbem-status';
import { typedLiteral, type MofInstance } from '../mof/parser';
import type { StoreWrite } from '../store/class-store';
import type { StagedClasses } from './class-reader';
import { changeInfo, putClassWrites, type OperationChange } from './class-writes';
import { findInstance } from './instances';
import type { BoundNamespace } from './namespace-table';
import type { OperationContext } from './operation-context';
import type { ServiceEnv } from './service-env';
import { StagedInstances } from './staged-instances';

/** A compiled MOF that passed the immediate checks: each item with its namespace bound and its position. */
export interface CompiledMof {
  /** The namespace the call named; `#pragma namespace` may send items elsewhere. */
  readonly target: BoundNamespace;
  readonly flags: PutClassFlags;
  readonly context: ClientContext | undefined;
  /** Write the items that pass instead of nothing at the first failure. */
  readonly continueOnError: boolean;
  readonly classes: readonly MofClassItem[];
  readonly instances: readonly MofInstanceItem[];
  readonly declarations: readonly MofDeclarationItem[];
}

export interface MofClassItem {
  readonly definition: ClassDefinition;
  readonly bound: BoundNamespace;
  /** `file:line:column`, prefixed to its failure. */
  readonly where: string;
}

export interface MofInstanceItem {
  readonly instance: MofInstance;
  readonly bound: BoundNamespace;
  readonly where: string;
}

export interface MofDeclarationItem {
  readonly bound: BoundNamespace;
  readonly declaration: QualifierDeclaration;
}

export class MofBatch {
  readonly writes: StoreWrite[] = [];
  /** Every class the commit rewrites, FORCE-mode children included, by namespace. */
  readonly written = new Map<NamespaceKey, string[]>();
  readonly #env: ServiceEnv;
  readonly #compiled: CompiledMof;
  readonly #classes: StagedClasses;
  readonly #instances = new StagedInstances();
  readonly #rules: ClassRules;
  readonly #change: OperationChange;
  #classCount = 0;
  #createdOnly = true;
  #firstFailure: WbemError | undefined;

  /** Built under the namespace locks: the change's TIME_CREATED is taken here. */
  constructor(env: ServiceEnv, compiled: CompiledMof, ctx: OperationContext) {
    this.#env = env;
    this.#compiled = compiled;
    this.#classes = env.classes.staged();
    this.#rules = classRulesOf(compiled.context);
    this.#change = changeInfo(compiled.context, ctx);
  }

  /** Classes written (for the log line). */
  get classCount(): number {
    return this.#classCount;
  }

  /** Whether every class written is a new one (no update, no subclass rewritten). */
  get createdOnly(): boolean {
    return this.#createdOnly;
  }

  /** The classes this compile resolved in each namespace it writes (its own caches). */
  resolvedClasses(): [NamespaceKey, ReadonlyMap<ClassKey, ResolvedClass>][] {
    return [...this.written.keys()].map((ns) => [ns, this.#classes.cachesOf(ns).resolved]);
  }

  /** With continue_on_error: the first item that failed, which the final status reports. */
  get firstFailure(): WbemError | undefined {
    return this.#firstFailure;
  }

  async putClass({ definition, bound, where }: MofClassItem): Promise<void> {
    this.#requireNamespace(bound);
    try {
      const world = await this.#env.classes.loadWorld(bound.key, definition, this.#classes);
      const plan = decidePutClass(
        { definition, flags: this.#compiled.flags, rules: this.#rules },
        world,
      );
      this.#classes.stage(bound.key, plan.definition, plan.kind === 'update');
      if (plan.kind === 'update' || plan.childRewrites.length > 0) this.#createdOnly = false;
      for (const child of plan.childRewrites) this.#classes.stage(bound.key, child, true);
      this.writes.push(...putClassWrites(bound.key, plan, world, this.#change));
      this.#classCount++;
      const names = this.written.get(bound.key) ?? [];
      names.push(plan.definition.name, ...plan.childRewrites.map((c) => c.name));
      this.written.set(bound.key, names);
    } catch (failure) {
      this.#failed(failure, where, `class ${definition.name}`, bound, definition.name);
    }
  }

  async putInstance({ instance, bound, where }: MofInstanceItem): Promise<void> {
    this.#requireNamespace(bound);
    try {
      this.writes.push(await this.#compileInstance(bound, instance));
    } catch (failure) {
      this.#failed(failure, where, `instance of ${instance.className}`, bound, instance.className);
    }
  }

  /** The MOF's qualifier declarations are stored with its classes, in the same batch. */
  putQualifier({ bound, declaration }: MofDeclarationItem): void {
    this.#requireNamespace(bound);
    this.writes.push({ op: 'putQualifier', namespace: bound.key, declaration });
  }

  /** A namespace deleted since the immediate checks fails the whole compile, continue_on_error or not. */
  #requireNamespace(bound: BoundNamespace): void {
    this.#env.namespaces.require(bound.key, formatNamespace(bound.record.elements));
  }

  /** A class or instance that failed: named with its position, then fatal, or recorded with continue_on_error. */
  #failed(
    failure: unknown,
    where: string,
    what: string,
    bound: BoundNamespace,
    className: string,
  ): void {
    if (!(failure instanceof WbemError)) throw failure;
    const located = new WbemError(failure.status, `${where}: ${what}: ${failure.param}`, {
      namespace: formatNamespace(bound.record.elements),
      className,
    });
    if (!this.#compiled.continueOnError) throw located;
    this.#firstFailure ??= located;
  }

  /**
   * One `instance of`: its literals typed by the class (as stored, or as compiled earlier in the
   * same MOF), then the rules of PutInstance against the store and the instances before it. An
   * alias (`$Disk`) in a reference becomes the path of the instance that declared it.
   */
  async #compileInstance(bound: BoundNamespace, mof: MofInstance): Promise<StoreWrite> {
    const resolved = await this.#env.classes.resolvedClass(bound.key, mof.className, this.#classes);
    const properties = mof.properties.map(({ name, value: literal }): InstancePropertyInput => {
      const property = findNamed(resolved.properties, name);
      // A property the class lacks is left to the rules, which name it.
      if (property === undefined)
        return { name, type: 0, array: false, value: null, qualifierCount: 0 };
      const typed = typedLiteral(literal, property.type, property.array, (reason) => {
        throw new WbemError('WBEM_E_TYPE_MISMATCH', `property ${name}: ${reason}`);
      });
      const value = this.#instances.resolveAliases(typed);
      return { name, type: 0, array: property.array, value, qualifierCount: 0 };
    });
    const prepared = prepareInstance(
      { className: mof.className, properties, qualifierCount: 0 },
      resolved,
      isLocaleNamespace(bound.record.elements),
    );
    const { location } = prepared;
    const existing =
      this.#instances.get(bound.key, location) ??
      (await findInstance(this.#env.store, bound.key, location.keyRoot, location.key))?.instance;
    decideInstanceWrite(this.#compiled.flags.mode, resolved.name, existing);
    this.#instances.stage(bound.key, location, prepared.stored, mof.alias, prepared.relpath);
    return {
      op: 'putInstance',
      namespace: bound.key,
      className: classKey(resolved.name),
      key: location.key,
      instance: prepared.stored,
    };
  }
}
