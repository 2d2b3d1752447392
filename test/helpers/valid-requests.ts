/**
 * One valid request of every WbemServices method, encoded, with the name of its message type:
 * what malformed and fuzzed bodies are cut and mutated from.
 */
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
  type WbemServicesService,
} from '../../generated/wbem/v1/services';
import { keyed } from '../e2e/fixtures';

const bytes = (encoded: Uint8Array): Buffer => Buffer.from(encoded);
const context = {
  values: { __CorrelationId: { kind: { $case: 'string' as const, string: 'c' } } },
};

/** A valid request of each method and its message type (each one's last field is length-delimited or a varint). */
export const VALID_REQUESTS: {
  readonly [K in keyof typeof WbemServicesService]: [string, Buffer];
} = {
  putClassAsync: [
    'PutClassRequest',
    bytes(
      PutClassRequest.encode({ namespace: 'root/cimv2', object: keyed('Ex_A'), flags: 0 }).finish(),
    ),
  ],
  putClass: [
    'PutClassRequest',
    bytes(
      PutClassRequest.encode({ namespace: 'root/cimv2', object: keyed('Ex_A'), flags: 0 }).finish(),
    ),
  ],
  getClass: [
    'GetClassRequest',
    bytes(
      GetClassRequest.encode({
        namespace: 'root/cimv2',
        className: 'Ex_A',
        localOnly: false,
        asMof: false,
      }).finish(),
    ),
  ],
  deleteClass: [
    'DeleteClassRequest',
    bytes(
      DeleteClassRequest.encode({
        namespace: 'root/cimv2',
        className: 'Ex_A',
        flags: 0,
        context,
      }).finish(),
    ),
  ],
  enumClasses: [
    'EnumClassesRequest',
    bytes(
      EnumClassesRequest.encode({
        namespace: 'root/cimv2',
        superclass: 'Ex_A',
        deep: false,
        localOnly: false,
      }).finish(),
    ),
  ],
  createNamespace: [
    'CreateNamespaceRequest',
    bytes(CreateNamespaceRequest.encode({ parent: 'root', name: 'ex' }).finish()),
  ],
  deleteNamespace: [
    'DeleteNamespaceRequest',
    bytes(DeleteNamespaceRequest.encode({ namespace: 'root/ex' }).finish()),
  ],
  enumNamespaces: [
    'EnumNamespacesRequest',
    bytes(EnumNamespacesRequest.encode({ parent: 'root', deep: true }).finish()),
  ],
  enumQualifiers: [
    'EnumQualifiersRequest',
    bytes(EnumQualifiersRequest.encode({ namespace: 'root/cimv2' }).finish()),
  ],
  compileMof: [
    'CompileMofRequest',
    bytes(
      CompileMofRequest.encode({
        namespace: 'root/cimv2',
        sources: [{ name: 'a.mof', text: 'class Ex_M { };' }],
        flags: 0,
        context,
        continueOnError: false,
      }).finish(),
    ),
  ],
  putInstance: [
    'PutInstanceRequest',
    bytes(
      PutInstanceRequest.encode({
        namespace: 'root/cimv2',
        instance: { className: 'Ex_A', properties: [], qualifiers: [] },
        flags: 0,
        context,
      }).finish(),
    ),
  ],
  getInstance: [
    'GetInstanceRequest',
    bytes(GetInstanceRequest.encode({ namespace: 'root/cimv2', path: 'Ex_A.Id="1"' }).finish()),
  ],
  deleteInstance: [
    'DeleteInstanceRequest',
    bytes(
      DeleteInstanceRequest.encode({
        namespace: 'root/cimv2',
        path: 'Ex_A.Id="1"',
        flags: 0,
        context,
      }).finish(),
    ),
  ],
  enumInstances: [
    'EnumInstancesRequest',
    bytes(
      EnumInstancesRequest.encode({
        namespace: 'root/cimv2',
        className: 'Ex_A',
        deep: true,
      }).finish(),
    ),
  ],
  watchClassEvents: [
    'WatchClassEventsRequest',
    bytes(
      WatchClassEventsRequest.encode({
        namespace: 'root/cimv2',
        className: 'Ex_A',
        sinceRevision: 300n,
      }).finish(),
    ),
  ],
};
