/**
 * IWbemServices over a ClassStore: the one object the transport and server.ts hold. Each call
 * family lives in its own module, as a function of the ServiceEnv (service-env.ts: the store, the
 * namespace table, the class loader, the locks, the watchers, the lifecycle), the call's input and
 * its OperationContext; this class owns the env and delegates:
 *
 * - PutClass, PutClassAsync: put-class.ts; CompileMof: compile-mof.ts
 * - GetClass, EnumClasses, DeleteClass: classes.ts
 * - CreateNamespace, DeleteNamespace, EnumNamespaces: namespaces.ts
 * - PutInstance, GetInstance, DeleteInstance, EnumInstances: instances.ts
 * - WatchClassEvents and the live feed of class changes: class-events.ts
 *
 * Every operation runs lock → load → decide → write → emit (docs/style.md §2.4; OpenPegasus's
 * check → resolve → store with the I/O pulled out). Immediate checks (docs/wmi-semantics.md §3.3)
 * throw from the call itself; a streaming call's `run` reports everything else through its sink and
 * never rejects.
 */
import type { AccessPolicy } from '../domain/access';
import { publishClassChanges, watchClassEvents } from './class-events';
import { deleteClass, enumClasses, getClass } from './classes';
import type { QualifierDeclaration } from '../domain/class-model';
import { beginCompileMof } from './compile-mof';
import { deleteInstance, enumInstances, getInstance, putInstance } from './instances';
import {
  applyNamespaceChanges,
  createNamespace,
  deleteNamespace,
  enumNamespaces,
  enumQualifiers,
} from './namespaces';
import { storeFailureStatus } from './optimistic';
import type { SinkPort } from './object-sink';
import type { OperationContext } from './operation-context';
import { beginPutClass } from './put-class';
import { ServiceEnv, type WbemServiceOptions } from './service-env';
import type { ClassPages, ClassView, InstanceObjectView, NamespaceView } from './views';
import type {
  AcceptedPutClass,
  AcceptedWatch,
  CompileMofInput,
  DeleteClassInput,
  DeleteInstanceInput,
  EnumClassesInput,
  EnumInstancesInput,
  PutClassCall,
  PutClassInput,
  PutInstanceInput,
  WatchClassEventsInput,
  WbemServiceApi,
} from './wbem-service-api';

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
    // Another replica's namespaces and qualifier declarations (a shared store only).
    this.#env.store.onNamespaceChanges((changes) => applyNamespaceChanges(this.#env, changes));
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

  /**
   * With a shared store (etcd), what each call awaits first: this replica's view (namespace table,
   * class caches, store revision) catches up with every write acknowledged by any replica, so a
   * read never returns what such a write replaced. Undefined when the view is always current.
   */
  get catchUp(): (() => Promise<void>) | undefined {
    if (!this.#env.store.shared) return undefined;
    return async () => {
      try {
        await this.#env.store.beginRead([]);
      } catch (failure) {
        throw storeFailureStatus(failure) ?? failure;
      }
    };
  }

  // ---- PutClass, PutClassAsync (put-class.ts) and CompileMof (compile-mof.ts) --------------

  beginPutClass(input: PutClassInput, ctx: OperationContext, call: PutClassCall): AcceptedPutClass {
    return beginPutClass(this.#env, input, ctx, call);
  }

  beginCompileMof(input: CompileMofInput, ctx: OperationContext, port: SinkPort): AcceptedPutClass {
    return beginCompileMof(this.#env, input, ctx, port);
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

  enumClasses(input: EnumClassesInput, ctx: OperationContext): Promise<ClassPages> {
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

  enumQualifiers(namespace: string, ctx: OperationContext): readonly QualifierDeclaration[] {
    return enumQualifiers(this.#env, namespace, ctx);
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
