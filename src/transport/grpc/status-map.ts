/**
 * THE WbemStatus → gRPC code table (docs/api.md "Errors"), total over every status by type, and
 * the three encodings of a failure: the code and message, the `wbem-hresult`/`wbem-status`
 * trailers, and `grpc-status-details-bin` = google.rpc.Status with one google.rpc.ErrorInfo.
 */
import { Metadata, status as Code, type StatusObject } from '@grpc/grpc-js';
import { Any } from '../../../generated/google/protobuf/any';
import { ErrorInfo } from '../../../generated/google/rpc/error_details';
import { Status } from '../../../generated/google/rpc/status';
import { formatHresult, type WbemError, type WbemStatusName } from '../../domain/wbem-status';

/**
 * Rows fixed by docs/api.md first; the rest follow "FAILED_PRECONDITION or INVALID_ARGUMENT, as
 * fits": INVALID_ARGUMENT when the request itself is wrong whatever the repository holds,
 * FAILED_PRECONDITION when it conflicts with what is stored.
 */
export const GRPC_CODE: { readonly [S in WbemStatusName]: Code } = {
  WBEM_S_NO_ERROR: Code.OK,
  WBEM_S_ALREADY_EXISTS: Code.OK,
  WBEM_S_RESET_TO_DEFAULT: Code.OK,
  WBEM_S_DIFFERENT: Code.OK,
  WBEM_S_NEW_STYLE: Code.OK,
  WBEM_E_FAILED: Code.INTERNAL,
  WBEM_E_NOT_FOUND: Code.NOT_FOUND,
  WBEM_E_ACCESS_DENIED: Code.PERMISSION_DENIED,
  WBEM_E_OUT_OF_MEMORY: Code.RESOURCE_EXHAUSTED,
  WBEM_E_INVALID_PARAMETER: Code.INVALID_ARGUMENT,
  WBEM_E_INVALID_CLASS: Code.INVALID_ARGUMENT,
  WBEM_E_ALREADY_EXISTS: Code.ALREADY_EXISTS,
  WBEM_E_INVALID_NAMESPACE: Code.NOT_FOUND,
  WBEM_E_INVALID_SUPERCLASS: Code.FAILED_PRECONDITION,
  WBEM_E_CLASS_HAS_CHILDREN: Code.FAILED_PRECONDITION,
  WBEM_E_CLASS_HAS_INSTANCES: Code.FAILED_PRECONDITION,
  WBEM_E_CALL_CANCELLED: Code.CANCELLED,
  WBEM_E_SHUTTING_DOWN: Code.UNAVAILABLE,
  // The definition is wrong in itself.
  WBEM_E_TYPE_MISMATCH: Code.INVALID_ARGUMENT,
  WBEM_E_INVALID_CONTEXT: Code.INVALID_ARGUMENT,
  WBEM_E_INVALID_OBJECT: Code.INVALID_ARGUMENT,
  WBEM_E_INVALID_OPERATION: Code.INVALID_ARGUMENT,
  WBEM_E_CANNOT_BE_KEY: Code.INVALID_ARGUMENT,
  WBEM_E_INCOMPLETE_CLASS: Code.INVALID_ARGUMENT,
  WBEM_E_ILLEGAL_NULL: Code.INVALID_ARGUMENT,
  WBEM_E_INVALID_QUALIFIER_TYPE: Code.INVALID_ARGUMENT,
  WBEM_E_INVALID_PROPERTY_TYPE: Code.INVALID_ARGUMENT,
  WBEM_E_INVALID_CIM_TYPE: Code.INVALID_ARGUMENT,
  WBEM_E_INVALID_METHOD_PARAMETERS: Code.INVALID_ARGUMENT,
  WBEM_E_MISSING_PARAMETER_ID: Code.INVALID_ARGUMENT,
  WBEM_E_INVALID_PARAMETER_ID: Code.INVALID_ARGUMENT,
  WBEM_E_NONCONSECUTIVE_PARAMETER_IDS: Code.INVALID_ARGUMENT,
  WBEM_E_PARAMETER_ID_ON_RETVAL: Code.INVALID_ARGUMENT,
  WBEM_E_INVALID_QUALIFIER: Code.INVALID_ARGUMENT,
  WBEM_E_INVALID_DUPLICATE_PARAMETER: Code.INVALID_ARGUMENT,
  WBEM_E_INVALID_FLAVOR: Code.INVALID_ARGUMENT,
  WBEM_E_TOO_MANY_PROPERTIES: Code.INVALID_ARGUMENT,
  WBEM_E_AMENDED_OBJECT: Code.INVALID_ARGUMENT,
  WBEM_E_INVALID_OBJECT_PATH: Code.INVALID_ARGUMENT,
  // The definition conflicts with what is stored (superclass, subclasses, instances).
  WBEM_E_OVERRIDE_NOT_ALLOWED: Code.FAILED_PRECONDITION,
  WBEM_E_PROPAGATED_QUALIFIER: Code.FAILED_PRECONDITION,
  WBEM_E_PROPAGATED_PROPERTY: Code.FAILED_PRECONDITION,
  WBEM_E_PROPAGATED_METHOD: Code.FAILED_PRECONDITION,
  WBEM_E_CANNOT_BE_SINGLETON: Code.FAILED_PRECONDITION,
  WBEM_E_CANNOT_BE_ABSTRACT: Code.FAILED_PRECONDITION,
  WBEM_E_CIRCULAR_REFERENCE: Code.FAILED_PRECONDITION,
  WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE: Code.FAILED_PRECONDITION,
  WBEM_E_CANNOT_CHANGE_INDEX_INHERITANCE: Code.FAILED_PRECONDITION,
  WBEM_E_UPDATE_TYPE_MISMATCH: Code.FAILED_PRECONDITION,
  WBEM_E_UPDATE_OVERRIDE_NOT_ALLOWED: Code.FAILED_PRECONDITION,
  WBEM_E_UPDATE_PROPAGATED_METHOD: Code.FAILED_PRECONDITION,
  WBEM_E_UNSUPPORTED_CLASS_UPDATE: Code.FAILED_PRECONDITION,
  WBEM_E_PROVIDER_NOT_CAPABLE: Code.FAILED_PRECONDITION,
  WBEM_E_VETO_PUT: Code.FAILED_PRECONDITION,
  WBEM_E_NO_KEY: Code.FAILED_PRECONDITION,
  WBEM_E_RESERVED_001: Code.ABORTED, // SDK: transaction conflict (expected_revision did not match)
  WBEM_E_RESERVED_002: Code.ABORTED, // SDK: forced rollback
  // A watcher asked for events the log no longer holds (etcd's "compacted"): re-read, then watch again.
  WBEM_E_QUEUE_OVERFLOW: Code.OUT_OF_RANGE,
  // Resources and the server itself.
  WBEM_E_QUOTA_VIOLATION: Code.RESOURCE_EXHAUSTED,
  WBEM_E_OUT_OF_DISK_SPACE: Code.RESOURCE_EXHAUSTED,
  WBEM_E_SERVER_TOO_BUSY: Code.UNAVAILABLE,
  CO_E_SERVER_STOPPING: Code.UNAVAILABLE,
  WBEM_E_TRANSPORT_FAILURE: Code.UNAVAILABLE,
  WBEM_E_PROVIDER_LOAD_FAILURE: Code.INTERNAL,
  WBEM_E_CRITICAL_ERROR: Code.INTERNAL,
  WBEM_E_UNEXPECTED: Code.INTERNAL,
  WBEM_E_NOT_SUPPORTED: Code.UNIMPLEMENTED,
};

const ERROR_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.ErrorInfo';

/** The google.rpc.ErrorInfo every failure carries: its WbemStatus, HRESULT and subject. */
export function errorInfoOf(error: WbemError): ErrorInfo {
  const metadata: Record<string, string> = { hresult: formatHresult(error.status) };
  if (error.subject.namespace !== undefined) metadata.namespace = error.subject.namespace;
  if (error.subject.className !== undefined && error.subject.className !== '')
    metadata.class = error.subject.className;
  return { reason: error.status, domain: 'wbem.v1', metadata };
}

/** `wbem-hresult` and `wbem-status`: the trailers (gRPC) or headers (HTTP) every call ends with. */
export function statusHeaders(status: WbemStatusName): Record<string, string> {
  return { 'wbem-hresult': formatHresult(status), 'wbem-status': status };
}

/** Trailers every call ends with, success included: what a client reads without decoding details. */
export function statusTrailers(status: WbemStatusName): Metadata {
  const trailers = new Metadata();
  for (const [name, value] of Object.entries(statusHeaders(status))) trailers.set(name, value);
  return trailers;
}

/**
 * The trailers of every successful call, made once: grpc-js clones a status's metadata before
 * sending it, so one shared instance is safe, and building and validating two entries per call
 * showed in profiles. Never modify it.
 */
export const SUCCESS_TRAILERS: Metadata = statusTrailers('WBEM_S_NO_ERROR');

/**
 * The three encodings of one failure. `code` overrides the table in exactly one case: a call
 * without valid credentials is UNAUTHENTICATED (so clients and meshes retry with credentials)
 * while its WbemStatus stays WBEM_E_ACCESS_DENIED, as WMI reports it (docs/decisions.md D32).
 */
export function toStatusObject(
  error: WbemError,
  code: Code = GRPC_CODE[error.status],
): StatusObject {
  const trailers = statusTrailers(error.status);
  const info = ErrorInfo.encode(errorInfoOf(error)).finish();
  const details = Status.encode({
    code,
    message: error.param,
    details: [Any.fromPartial({ typeUrl: ERROR_INFO_TYPE_URL, value: Buffer.from(info) })],
  }).finish();
  trailers.set('grpc-status-details-bin', Buffer.from(details));
  return { code, details: error.param, metadata: trailers };
}
