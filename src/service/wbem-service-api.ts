/**
 * The service's surface as the transport sees it. Every method throws (or rejects with) WbemError
 * only; a call that throws from `beginPutClass` was rejected at once (zero sink events).
 */
import type { ClassDefinition, QualifierDeclaration } from '../domain/class-model';
import type { InstanceInput } from '../domain/instance-model';
import type { WbemError } from '../domain/wbem-status';
import type { WatchPort } from './class-watch';
import type { Outcome, SinkPort } from './object-sink';
import type { ClientContext, OperationContext } from './operation-context';
import type {
  ClassEventView,
  ClassPages,
  ClassView,
  InstanceObjectView,
  NamespaceView,
} from './views';

export interface PutClassInput {
  /** As the client wrote it: `root/cimv2`, `\\.\root\cimv2`… */
  readonly namespace: string;
  /** pObject; undefined = NULL (WBEM_E_INVALID_PARAMETER at once). */
  readonly definition: ClassDefinition | undefined;
  /** lFlags as sent (int32). */
  readonly flags: number;
  /** pCtx; undefined = NULL. */
  readonly context: ClientContext | undefined;
  /** Check every rule and report, write nothing. */
  readonly validateOnly?: boolean;
  /** The class's revision as the client read it (0 = must not exist); undefined = no check. */
  readonly expectedRevision?: bigint;
}

/** One file of a CompileMof. */
export interface MofSourceInput {
  /** How `#pragma include` names it, relative to the first source. */
  readonly name: string;
  /**
   * The MOF. It may be made as it is read (the gRPC transport decodes it from the request's bytes
   * then): the compile reads each source's once, when it reaches the file.
   */
  readonly text: string;
}

export interface CompileMofInput {
  /** Where classes go unless a `#pragma namespace` says otherwise. */
  readonly namespace: string;
  /** The first is compiled; the others serve its includes. */
  readonly sources: readonly MofSourceInput[];
  /** lFlags for every class (PutClassAsync's table). */
  readonly flags: number;
  readonly context: ClientContext | undefined;
  /** Write the classes that pass instead of nothing at the first failure. */
  readonly continueOnError: boolean;
}

/**
 * How a class is put. PutClassAsync reports through an object sink, which the service builds over
 * the port the transport hands it (the stream); PutClass has no sink, and its outcome becomes the
 * reply.
 */
export type PutClassCall =
  { readonly method: 'PutClassAsync'; readonly port: SinkPort } | { readonly method: 'PutClass' };

/** A PutClass(Async) or CompileMof that passed the immediate checks. */
export interface AcceptedPutClass {
  /**
   * Lock → load → decide → write → emit. Events go to the port given when the call began; always
   * ends with the one final status; never rejects.
   */
  run(): Promise<Outcome>;
}

export interface DeleteClassInput {
  readonly namespace: string;
  readonly className: string;
  readonly flags: number;
  readonly context: ClientContext | undefined;
}

export interface EnumClassesInput {
  readonly namespace: string;
  /** '' = the top-level classes. */
  readonly superclass: string;
  readonly deep: boolean;
  readonly localOnly: boolean;
}

export interface PutInstanceInput {
  readonly namespace: string;
  /** pInst; undefined = NULL (WBEM_E_INVALID_PARAMETER at once). */
  readonly instance: InstanceInput | undefined;
  readonly flags: number;
  readonly context: ClientContext | undefined;
}

export interface DeleteInstanceInput {
  readonly namespace: string;
  /** An instance path: `Ex_Disk.Id="a"`. */
  readonly path: string;
  readonly flags: number;
  readonly context: ClientContext | undefined;
}

export interface EnumInstancesInput {
  readonly namespace: string;
  readonly className: string;
  /** Instances of subclasses too. */
  readonly deep: boolean;
}

export interface WatchClassEventsInput {
  readonly namespace: string;
  /** `TargetClass ISA 'X'`: X; '' = every class. X need not exist. */
  readonly className: string;
  /** Replay the retained events after this revision first; undefined = from the current revision. */
  readonly sinceRevision: bigint | undefined;
}

/** A WatchClassEvents that passed the immediate checks. */
export interface AcceptedWatch {
  /** The store revision when the watch was accepted (a client may list, then watch from it). */
  readonly revision: bigint;
  /** Sends events until the watch ends (cancel, shutdown, namespace deleted, overflow); resolves with why. Never rejects. */
  run(port: WatchPort<ClassEventView>): Promise<WbemError>;
}

export interface WbemServiceApi {
  /**
   * Awaited before each call when the store is shared by replicas (etcd): this replica's view
   * catches up with every write acknowledged anywhere. Undefined: the view is always current.
   */
  readonly catchUp?: (() => Promise<void>) | undefined;
  /** Immediate checks (lifecycle, namespace, object, flags); throws WbemError = rejected at once. */
  beginPutClass(input: PutClassInput, ctx: OperationContext, call: PutClassCall): AcceptedPutClass;
  /** CompileMof's immediate checks, MOF syntax included; throws WbemError = rejected at once. */
  beginCompileMof(input: CompileMofInput, ctx: OperationContext, port: SinkPort): AcceptedPutClass;
  /** The same, the MOF compiled in slices between which the event loop runs (what a server calls). */
  acceptCompileMof(
    input: CompileMofInput,
    ctx: OperationContext,
    port: SinkPort,
  ): Promise<AcceptedPutClass>;
  /** The class, and its mod revision (the etag for expected_revision). */
  getClass(
    namespace: string,
    className: string,
    localOnly: boolean,
    ctx: OperationContext,
  ): Promise<ClassView & { readonly revision: bigint }>;
  /** The class and all its subclasses, in one atomic commit; the class first in the result. */
  deleteClass(
    input: DeleteClassInput,
    ctx: OperationContext,
  ): Promise<{ readonly deletedClasses: readonly string[] }>;
  enumClasses(input: EnumClassesInput, ctx: OperationContext): Promise<ClassPages>;
  createNamespace(
    parent: string,
    name: string,
    ctx: OperationContext,
  ): Promise<{ readonly path: string }>;
  /** The qualifier declarations stored in the namespace, by name. */
  enumQualifiers(namespace: string, ctx: OperationContext): readonly QualifierDeclaration[];
  /** The namespace and every namespace below it; root, root\cimv2 and root\default refuse. */
  deleteNamespace(namespace: string, ctx: OperationContext): Promise<void>;
  enumNamespaces(
    parent: string,
    deep: boolean,
    ctx: OperationContext,
  ): Promise<readonly NamespaceView[]>;
  /** Creates or updates a static instance; resolves with its relative path. */
  putInstance(input: PutInstanceInput, ctx: OperationContext): Promise<{ readonly path: string }>;
  getInstance(namespace: string, path: string, ctx: OperationContext): Promise<InstanceObjectView>;
  deleteInstance(input: DeleteInstanceInput, ctx: OperationContext): Promise<void>;
  /** The class's instances (with `deep`, its subclasses' too, parents first), in key order per class. */
  enumInstances(
    input: EnumInstancesInput,
    ctx: OperationContext,
  ): Promise<readonly InstanceObjectView[]>;
  /** Immediate checks (lifecycle, namespace, rights, since_revision in the log); throws WbemError = rejected at once. */
  watchClassEvents(input: WatchClassEventsInput, ctx: OperationContext): AcceptedWatch;
}
