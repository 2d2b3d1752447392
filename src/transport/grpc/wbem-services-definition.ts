/**
 * The WbemServices definition grpc-js serves: the generated one, with a total request
 * deserializer for every method (request-decoding.ts), and the handler types that go with it.
 */
import type { handleServerStreamingCall, handleUnaryCall } from '@grpc/grpc-js';
import {
  CompileMofRequest,
  CreateNamespaceRequest,
  DeleteClassRequest,
  DeleteInstanceRequest,
  DeleteNamespaceRequest,
  EnumClassesRequest,
  EnumInstancesRequest,
  EnumNamespacesRequest,
  EnumQualifiersRequest,
  GetClassRequest,
  GetInstanceRequest,
  PutClassRequest,
  PutInstanceRequest,
  WatchClassEventsRequest,
  WbemServicesService,
} from '../../../generated/wbem/v1/services';
import type { CompileMofInput, PutClassInput } from '../../service/wbem-service-api';
import { decodeCompileMofInOnePass } from './compile-mof-decoding';
import { contextFromProto, classFromProto } from './from-proto';
import { decodePutClassInOnePass } from './put-class-decoding';
import {
  asIs,
  decodingLargeAlone,
  totalDeserializer,
  type Decoded,
  type MalformedRequest,
} from './request-decoding';

type GeneratedDefinition = typeof WbemServicesService;
export type MethodKey = keyof GeneratedDefinition;

/**
 * What each handler finds in `call.request` once decoded: PutClass(Async) and CompileMof get the
 * service's input.
 */
export type HandlerRequest = {
  readonly [K in MethodKey]: K extends 'putClass' | 'putClassAsync'
    ? PutClassInput
    : K extends 'compileMof'
      ? CompileMofInput
      : ReturnType<GeneratedDefinition[K]['requestDeserialize']>;
};

/**
 * The methods whose operations answer with messages already encoded (class-bytes.ts: class reads
 * are served from cached bytes); their serializer passes the bytes through, for grpc-js and for
 * the HTTP transport's bridge alike.
 */
export type PreEncodedMethod = 'getClass' | 'enumClasses';

export type ResponseOf<K extends MethodKey> = K extends PreEncodedMethod
  ? Buffer
  : Parameters<GeneratedDefinition[K]['responseSerialize']>[0];

/** The handler of each method, over the request as its deserializer leaves it. */
export type WbemServicesHandlers = {
  [K in MethodKey]: GeneratedDefinition[K]['responseStream'] extends true
    ? handleServerStreamingCall<Decoded<HandlerRequest[K]>, ResponseOf<K>>
    : handleUnaryCall<Decoded<HandlerRequest[K]>, ResponseOf<K>>;
};

export function putClassInput(request: PutClassRequest): PutClassInput {
  return {
    namespace: request.namespace,
    definition: request.object === undefined ? undefined : classFromProto(request.object),
    flags: request.flags,
    context: contextFromProto(request.context),
    validateOnly: request.validateOnly === true,
    ...(request.expectedRevision === undefined
      ? {}
      : { expectedRevision: request.expectedRevision }),
  };
}

/**
 * PutClass and PutClassAsync requests become the service's input while grpc-js deserializes them.
 * grpc-js keeps a call's request for the whole call, and a PutClass waits a synced batch: the
 * decoded protobuf tree (the bulk of a request's heap) would then outlive young-generation GCs
 * and be copied by each one. Converted here, only the input the operation needs stays alive
 * (docs/performance.md). A request that cannot be represented is still refused at once.
 */
const decodePutClassByReference = totalDeserializer(
  'wbem.v1.PutClassRequest',
  PutClassRequest,
  putClassInput,
);

/**
 * Well-formed requests read in one pass straight into the service's input; whatever that pass
 * gives up on decoded the reference way, which gives the same input or the refusal. Large ones
 * (documents) in a turn of their own.
 */
function inOnePassElseByReference<T>(
  inOnePass: (bytes: Buffer) => T | undefined,
  byReference: (bytes: Buffer) => T | MalformedRequest,
): (bytes: Buffer) => Decoded<T> {
  return decodingLargeAlone((bytes) => inOnePass(bytes) ?? byReference(bytes));
}

/** PutClass(Async): put-class-decoding.ts. */
export const decodePutClass = inOnePassElseByReference(
  decodePutClassInOnePass,
  decodePutClassByReference,
);

export function compileMofInput(request: CompileMofRequest): CompileMofInput {
  return {
    namespace: request.namespace,
    sources: request.sources,
    flags: request.flags,
    context: contextFromProto(request.context),
    continueOnError: request.continueOnError,
  };
}

const decodeCompileMofByReference = totalDeserializer(
  'wbem.v1.CompileMofRequest',
  CompileMofRequest,
  compileMofInput,
);

/** CompileMof: compile-mof-decoding.ts, each source's text left as bytes until it is read. */
export const decodeCompileMof = inOnePassElseByReference(
  decodeCompileMofInOnePass,
  decodeCompileMofByReference,
);

/**
 * The requests that carry documents (classes, instances, MOF sources) may be megabytes: those are
 * decoded in a turn of their own when they are (request-decoding.ts, LargeRequest). The others
 * hold names and flags.
 */
export const REQUEST_DESERIALIZERS: {
  readonly [K in MethodKey]: (bytes: Buffer) => Decoded<HandlerRequest[K]>;
} = {
  putClassAsync: decodePutClass,
  putClass: decodePutClass,
  getClass: totalDeserializer('wbem.v1.GetClassRequest', GetClassRequest, asIs),
  deleteClass: totalDeserializer('wbem.v1.DeleteClassRequest', DeleteClassRequest, asIs),
  enumClasses: totalDeserializer('wbem.v1.EnumClassesRequest', EnumClassesRequest, asIs),
  createNamespace: totalDeserializer(
    'wbem.v1.CreateNamespaceRequest',
    CreateNamespaceRequest,
    asIs,
  ),
  deleteNamespace: totalDeserializer(
    'wbem.v1.DeleteNamespaceRequest',
    DeleteNamespaceRequest,
    asIs,
  ),
  enumNamespaces: totalDeserializer('wbem.v1.EnumNamespacesRequest', EnumNamespacesRequest, asIs),
  compileMof: decodeCompileMof,
  putInstance: decodingLargeAlone(
    totalDeserializer('wbem.v1.PutInstanceRequest', PutInstanceRequest, asIs),
  ),
  getInstance: totalDeserializer('wbem.v1.GetInstanceRequest', GetInstanceRequest, asIs),
  deleteInstance: totalDeserializer('wbem.v1.DeleteInstanceRequest', DeleteInstanceRequest, asIs),
  enumInstances: totalDeserializer('wbem.v1.EnumInstancesRequest', EnumInstancesRequest, asIs),
  enumQualifiers: totalDeserializer('wbem.v1.EnumQualifiersRequest', EnumQualifiersRequest, asIs),
  watchClassEvents: totalDeserializer(
    'wbem.v1.WatchClassEventsRequest',
    WatchClassEventsRequest,
    asIs,
  ),
};

type ServedDefinition = {
  readonly [K in MethodKey]: Omit<
    GeneratedDefinition[K],
    'requestDeserialize' | 'responseSerialize'
  > & {
    readonly requestDeserialize: (bytes: Buffer) => Decoded<HandlerRequest[K]>;
    readonly responseSerialize: (response: ResponseOf<K>) => Buffer;
  };
};

const PRE_ENCODED: ReadonlySet<string> = new Set<PreEncodedMethod>(['getClass', 'enumClasses']);
const passThrough = (bytes: Buffer): Buffer => bytes;

/** The definition passed to grpc-js: the generated paths and serializers, our deserializers. */
export const WBEM_SERVICES = Object.fromEntries(
  Object.entries(WbemServicesService).map(([key, method]) => [
    key,
    {
      ...method,
      requestDeserialize: REQUEST_DESERIALIZERS[key as MethodKey],
      ...(PRE_ENCODED.has(key) ? { responseSerialize: passThrough } : {}),
    },
  ]),
) as ServedDefinition;
