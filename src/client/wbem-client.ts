/**
 * WbemClient: every WbemServices RPC as a method with plain TypeScript types (the ts-proto
 * messages of generated/wbem/v1), errors as WbemError / WbemTransportError, server streams as
 * async iterables, the object sink as a SinkCall.
 */
import type {
  CallOptions,
  ChannelCredentials,
  ClientOptions,
  ClientReadableStream,
  ClientUnaryCall,
  Metadata,
  ServiceError,
} from '@grpc/grpc-js';
import type { ClassObject, Instance } from '../../generated/wbem/v1/cim';
import {
  CompileMofRequest,
  CreateNamespaceRequest,
  DeleteClassRequest,
  DeleteInstanceRequest,
  DeleteNamespaceRequest,
  EnumClassesRequest,
  EnumInstancesRequest,
  EnumNamespacesRequest,
  GetClassRequest,
  GetInstanceRequest,
  PutClassRequest,
  PutInstanceRequest,
  WatchClassEventsRequest,
  WbemServicesService,
  type ClassEvent,
  type CreateNamespaceResponse,
  type DeepPartial,
  type DeleteClassResponse,
  type DeleteInstanceResponse,
  type DeleteNamespaceResponse,
  type GetClassResponse,
  type GetInstanceResponse,
  type NamespaceInfo,
  type PutClassResponse,
  type PutInstanceResponse,
  type WbemServicesClient,
} from '../../generated/wbem/v1/services';
import { resolveConnection, type GrpcModule, type WbemClientOptions } from './connection';
import { errorFromStatus } from './errors';
import { ResultStream } from './result-stream';
import { SinkCall } from './sink';

type Callback<T> = (error: ServiceError | null, response: T) => void;

type StubConstructor = new (
  address: string,
  credentials: ChannelCredentials,
  options?: Partial<ClientOptions>,
) => WbemServicesClient;

export class WbemClient {
  /** The address this client dials. */
  readonly address: string;
  private readonly stub: WbemServicesClient;
  private readonly grpc: GrpcModule;
  private readonly token: string | undefined;
  private readonly deadlineMs: number | undefined;

  constructor(options: WbemClientOptions) {
    const { grpc, credentials } = resolveConnection(options);
    // The stub is built from the same grpc-js module as the credentials, so `instanceof` holds.
    const Stub = grpc.makeGenericClientConstructor(
      WbemServicesService,
      'wbem.v1.WbemServices',
    ) as unknown as StubConstructor;
    this.stub = new Stub(options.address, credentials, options.channelOptions ?? {});
    this.grpc = grpc;
    this.address = options.address;
    this.token = options.token;
    this.deadlineMs = options.deadlineMs;
  }

  /** Closes the channel; calls in flight end with CANCELLED. */
  close(): void {
    this.stub.close();
  }

  // ---- classes

  /** IWbemServices::PutClassAsync: the object sink (progress events, then the final SetStatus). */
  putClassAsync(request: DeepPartial<PutClassRequest>): SinkCall {
    return new SinkCall(
      this.stub.putClassAsync(PutClassRequest.fromPartial(request), this.metadata()),
      this.address,
    );
  }

  /** IWbemServices::PutClass: the class's path, revision and change report. */
  putClass(request: DeepPartial<PutClassRequest>): Promise<PutClassResponse> {
    const message = PutClassRequest.fromPartial(request);
    return this.unary((m, o, cb) => this.stub.putClass(message, m, o, cb));
  }

  /** GetObject on a class path. */
  getClass(request: DeepPartial<GetClassRequest>): Promise<GetClassResponse> {
    const message = GetClassRequest.fromPartial(request);
    return this.unary((m, o, cb) => this.stub.getClass(message, m, o, cb));
  }

  /** IWbemServices::DeleteClass: the class, its subclasses and their instances. */
  deleteClass(request: DeepPartial<DeleteClassRequest>): Promise<DeleteClassResponse> {
    const message = DeleteClassRequest.fromPartial(request);
    return this.unary((m, o, cb) => this.stub.deleteClass(message, m, o, cb));
  }

  /** IWbemServices::CreateClassEnum: `for await (const cls of client.enumClasses({…}))`. */
  enumClasses(request: DeepPartial<EnumClassesRequest>): ResultStream<ClassObject> {
    return this.stream(
      this.stub.enumClasses(EnumClassesRequest.fromPartial(request), this.metadata()),
    );
  }

  /** mofcomp on the server: one atomic write of every class (and instance) in the sources. */
  compileMof(request: DeepPartial<CompileMofRequest>): SinkCall {
    return new SinkCall(
      this.stub.compileMof(CompileMofRequest.fromPartial(request), this.metadata()),
      this.address,
    );
  }

  /**
   * Class events of a namespace until cancel(): with `sinceRevision`, the retained ones after it
   * first. `onHeaders` sees the response headers (`wbem-revision`: where a live watch starts).
   */
  watchClassEvents(
    request: DeepPartial<WatchClassEventsRequest>,
    onHeaders?: (headers: Metadata) => void,
  ): ResultStream<ClassEvent> {
    return this.stream(
      this.stub.watchClassEvents(WatchClassEventsRequest.fromPartial(request), this.metadata()),
      onHeaders,
    );
  }

  // ---- namespaces

  createNamespace(request: DeepPartial<CreateNamespaceRequest>): Promise<CreateNamespaceResponse> {
    const message = CreateNamespaceRequest.fromPartial(request);
    return this.unary((m, o, cb) => this.stub.createNamespace(message, m, o, cb));
  }

  deleteNamespace(request: DeepPartial<DeleteNamespaceRequest>): Promise<DeleteNamespaceResponse> {
    const message = DeleteNamespaceRequest.fromPartial(request);
    return this.unary((m, o, cb) => this.stub.deleteNamespace(message, m, o, cb));
  }

  enumNamespaces(request: DeepPartial<EnumNamespacesRequest>): ResultStream<NamespaceInfo> {
    return this.stream(
      this.stub.enumNamespaces(EnumNamespacesRequest.fromPartial(request), this.metadata()),
    );
  }

  // ---- instances

  putInstance(request: DeepPartial<PutInstanceRequest>): Promise<PutInstanceResponse> {
    const message = PutInstanceRequest.fromPartial(request);
    return this.unary((m, o, cb) => this.stub.putInstance(message, m, o, cb));
  }

  getInstance(request: DeepPartial<GetInstanceRequest>): Promise<GetInstanceResponse> {
    const message = GetInstanceRequest.fromPartial(request);
    return this.unary((m, o, cb) => this.stub.getInstance(message, m, o, cb));
  }

  deleteInstance(request: DeepPartial<DeleteInstanceRequest>): Promise<DeleteInstanceResponse> {
    const message = DeleteInstanceRequest.fromPartial(request);
    return this.unary((m, o, cb) => this.stub.deleteInstance(message, m, o, cb));
  }

  enumInstances(request: DeepPartial<EnumInstancesRequest>): ResultStream<Instance> {
    return this.stream(
      this.stub.enumInstances(EnumInstancesRequest.fromPartial(request), this.metadata()),
    );
  }

  // ---- plumbing

  private metadata(): Metadata {
    const metadata = new this.grpc.Metadata();
    if (this.token !== undefined) metadata.set('authorization', `Bearer ${this.token}`);
    return metadata;
  }

  private stream<T>(
    call: ClientReadableStream<T>,
    onHeaders?: (headers: Metadata) => void,
  ): ResultStream<T> {
    return new ResultStream(call, this.address, onHeaders);
  }

  private unary<T>(
    start: (
      metadata: Metadata,
      options: Partial<CallOptions>,
      callback: Callback<T>,
    ) => ClientUnaryCall,
  ): Promise<T> {
    const options: Partial<CallOptions> =
      this.deadlineMs === undefined ? {} : { deadline: Date.now() + this.deadlineMs };
    return new Promise<T>((resolve, reject) => {
      start(this.metadata(), options, (error, response) => {
        if (error === null) resolve(response);
        else reject(errorFromStatus(error, this.address));
      });
    });
  }
}
