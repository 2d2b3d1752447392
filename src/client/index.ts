/**
 * `wbemd/client`: a typed Node client of wbemd (docs/clients.md). @grpc/grpc-js is a peer: the
 * client runs on the copy your program resolves, or on the module you pass as `grpc`.
 *
 *   const client = new WbemClient({ address: '127.0.0.1:50051' });
 *   const { object } = await client.getClass({ namespace: 'root/cimv2', className: 'CIM_Job' });
 */
export { WbemClient } from './wbem-client';
export type { GrpcModule, TlsOptions, WbemClientOptions } from './connection';
export {
  WbemError,
  WbemTransportError,
  hresultOf,
  type WbemErrorInfo,
  type WbemStatusName,
} from './errors';
export { ResultStream } from './result-stream';
export { SinkCall, type SinkProgress, type SinkResult } from './sink';
export { CimType } from '../../generated/wbem/v1/cim';
export type {
  ClassObject,
  Context,
  Instance,
  Method,
  Parameter,
  Property,
  Qualifier,
  SystemProperties,
  Value,
} from '../../generated/wbem/v1/cim';
export type {
  ChangeReport,
  ClassEvent,
  CompileMofRequest,
  CreateNamespaceRequest,
  DeepPartial,
  DeleteClassRequest,
  DeleteClassResponse,
  DeleteInstanceRequest,
  EnumClassesRequest,
  EnumInstancesRequest,
  EnumNamespacesRequest,
  ExtendedStatus,
  GetClassRequest,
  GetClassResponse,
  GetInstanceRequest,
  GetInstanceResponse,
  NamespaceInfo,
  ObjectSinkEvent,
  PutClassRequest,
  PutClassResponse,
  PutInstanceRequest,
  PutInstanceResponse,
  SetStatus,
  WatchClassEventsRequest,
} from '../../generated/wbem/v1/services';
export { PutClassFlag, WbemStatus } from '../../generated/wbem/v1/status';
