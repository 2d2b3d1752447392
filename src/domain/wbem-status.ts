/**
 * THE HRESULT table (docs/wmi-semantics.md §3.2): every WbemStatus name with its unsigned HRESULT
 * and one-line meaning. The gRPC code of each lives in src/transport/grpc/status-map.ts; a parity
 * test checks this table against the generated enum in both directions.
 */
interface WbemStatusRow {
  /** Unsigned 32-bit HRESULT as Microsoft documents it. */
  readonly hresult: number;
  /** One-line meaning; the default message and the first line of docs/errors.md. */
  readonly summary: string;
}

export const WBEM_STATUS = {
  WBEM_S_NO_ERROR: { hresult: 0x0000_0000, summary: 'The call succeeded.' },
  WBEM_S_ALREADY_EXISTS: {
    hresult: 0x0004_0001,
    summary: 'The object already exists (success code).',
  },
  WBEM_S_RESET_TO_DEFAULT: {
    hresult: 0x0004_0002,
    summary: 'The value was reset to its default (success code).',
  },
  WBEM_S_DIFFERENT: { hresult: 0x0004_0003, summary: 'The objects differ (success code).' },
  WBEM_S_NEW_STYLE: { hresult: 0x0004_00ff, summary: 'New-style object (success code).' },
  WBEM_E_FAILED: { hresult: 0x8004_1001, summary: 'The call failed for an unspecified reason.' },
  WBEM_E_NOT_FOUND: { hresult: 0x8004_1002, summary: 'The object was not found.' },
  WBEM_E_ACCESS_DENIED: {
    hresult: 0x8004_1003,
    summary: 'The caller lacks the right for this operation.',
  },
  WBEM_E_TYPE_MISMATCH: {
    hresult: 0x8004_1005,
    summary: 'A type does not match the inherited or expected type.',
  },
  WBEM_E_OUT_OF_MEMORY: {
    hresult: 0x8004_1006,
    summary: 'Not enough resources to complete the operation.',
  },
  WBEM_E_INVALID_CONTEXT: { hresult: 0x8004_1007, summary: 'The context object is not valid.' },
  WBEM_E_INVALID_PARAMETER: { hresult: 0x8004_1008, summary: 'A parameter is not valid.' },
  WBEM_E_CRITICAL_ERROR: { hresult: 0x8004_100a, summary: 'A catastrophic failure occurred.' },
  WBEM_E_NOT_SUPPORTED: {
    hresult: 0x8004_100c,
    summary: 'The feature or operation is not supported.',
  },
  WBEM_E_INVALID_SUPERCLASS: {
    hresult: 0x8004_100d,
    summary: 'The superclass is missing or cannot be derived from.',
  },
  WBEM_E_INVALID_NAMESPACE: { hresult: 0x8004_100e, summary: 'The namespace does not exist.' },
  WBEM_E_INVALID_OBJECT: {
    hresult: 0x8004_100f,
    summary: 'The object is not valid (class name ends with an underscore).',
  },
  WBEM_E_INVALID_CLASS: { hresult: 0x8004_1010, summary: 'The object is not a class.' },
  WBEM_E_PROVIDER_LOAD_FAILURE: {
    hresult: 0x8004_1013,
    summary: 'The provider could not be loaded.',
  },
  WBEM_E_TRANSPORT_FAILURE: {
    hresult: 0x8004_1015,
    summary: 'The link between client and server failed.',
  },
  WBEM_E_INVALID_OPERATION: {
    hresult: 0x8004_1016,
    summary: 'The operation is not valid here (system class name).',
  },
  WBEM_E_ALREADY_EXISTS: { hresult: 0x8004_1019, summary: 'The object already exists.' },
  WBEM_E_OVERRIDE_NOT_ALLOWED: {
    hresult: 0x8004_101a,
    summary: 'A DisableOverride qualifier was given a different value.',
  },
  WBEM_E_PROPAGATED_QUALIFIER: {
    hresult: 0x8004_101b,
    summary: 'A propagated qualifier cannot be deleted.',
  },
  WBEM_E_PROPAGATED_PROPERTY: {
    hresult: 0x8004_101c,
    summary: 'A propagated property cannot be deleted.',
  },
  WBEM_E_UNEXPECTED: { hresult: 0x8004_101d, summary: 'An unexpected failure occurred.' },
  WBEM_E_CANNOT_BE_KEY: {
    hresult: 0x8004_101f,
    summary: 'The property cannot be a key (array, real or object).',
  },
  WBEM_E_INCOMPLETE_CLASS: {
    hresult: 0x8004_1020,
    summary: 'Required properties of the class are not set.',
  },
  WBEM_E_PROVIDER_NOT_CAPABLE: {
    hresult: 0x8004_1024,
    summary: 'The provider does not support this operation.',
  },
  WBEM_E_CLASS_HAS_CHILDREN: {
    hresult: 0x8004_1025,
    summary: 'The change would invalidate a subclass.',
  },
  WBEM_E_CLASS_HAS_INSTANCES: {
    hresult: 0x8004_1026,
    summary: 'The change would invalidate instances of the class.',
  },
  WBEM_E_ILLEGAL_NULL: { hresult: 0x8004_1028, summary: 'A NULL value is not allowed here.' },
  WBEM_E_INVALID_QUALIFIER_TYPE: {
    hresult: 0x8004_1029,
    summary: 'The qualifier value type is not allowed.',
  },
  WBEM_E_INVALID_PROPERTY_TYPE: {
    hresult: 0x8004_102a,
    summary: 'The CIM type of a property is not valid.',
  },
  WBEM_E_CANNOT_BE_SINGLETON: { hresult: 0x8004_102c, summary: 'The class cannot be a singleton.' },
  WBEM_E_INVALID_CIM_TYPE: { hresult: 0x8004_102d, summary: 'The CIM type is not valid.' },
  WBEM_E_INVALID_METHOD_PARAMETERS: {
    hresult: 0x8004_102f,
    summary: 'The method parameters are not valid.',
  },
  WBEM_E_CALL_CANCELLED: { hresult: 0x8004_1032, summary: 'The call was cancelled.' },
  WBEM_E_SHUTTING_DOWN: { hresult: 0x8004_1033, summary: 'The server is shutting down.' },
  WBEM_E_PROPAGATED_METHOD: {
    hresult: 0x8004_1034,
    summary: 'An inherited method was redeclared with another signature.',
  },
  WBEM_E_MISSING_PARAMETER_ID: {
    hresult: 0x8004_1036,
    summary: 'A method parameter has no ID qualifier.',
  },
  WBEM_E_INVALID_PARAMETER_ID: {
    hresult: 0x8004_1037,
    summary: 'A method parameter ID is not valid.',
  },
  WBEM_E_NONCONSECUTIVE_PARAMETER_IDS: {
    hresult: 0x8004_1038,
    summary: 'Method parameter IDs are not 0..n-1.',
  },
  WBEM_E_PARAMETER_ID_ON_RETVAL: {
    hresult: 0x8004_1039,
    summary: 'The return value carries an ID qualifier.',
  },
  WBEM_E_INVALID_OBJECT_PATH: { hresult: 0x8004_103a, summary: 'The object path is not valid.' },
  WBEM_E_OUT_OF_DISK_SPACE: {
    hresult: 0x8004_103b,
    summary: 'The repository is out of disk space.',
  },
  WBEM_E_INVALID_QUALIFIER: {
    hresult: 0x8004_1042,
    summary: 'The qualifier is not valid on this element.',
  },
  WBEM_E_INVALID_DUPLICATE_PARAMETER: {
    hresult: 0x8004_1043,
    summary: 'Two method parameters share a name.',
  },
  WBEM_E_SERVER_TOO_BUSY: { hresult: 0x8004_1045, summary: 'The server is too busy.' },
  WBEM_E_INVALID_FLAVOR: { hresult: 0x8004_1046, summary: 'The qualifier flavor is not valid.' },
  WBEM_E_CIRCULAR_REFERENCE: { hresult: 0x8004_1047, summary: 'The derivation would be circular.' },
  WBEM_E_UNSUPPORTED_CLASS_UPDATE: {
    hresult: 0x8004_1048,
    summary: 'The class update is not supported.',
  },
  WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE: {
    hresult: 0x8004_1049,
    summary: 'Key inheritance cannot be changed.',
  },
  WBEM_E_CANNOT_CHANGE_INDEX_INHERITANCE: {
    hresult: 0x8004_1050,
    summary: 'Index inheritance cannot be changed.',
  },
  WBEM_E_TOO_MANY_PROPERTIES: {
    hresult: 0x8004_1051,
    summary: 'The class has more than 1024 properties.',
  },
  WBEM_E_UPDATE_TYPE_MISMATCH: {
    hresult: 0x8004_1052,
    summary: 'The update conflicts with a subclass property type.',
  },
  WBEM_E_UPDATE_OVERRIDE_NOT_ALLOWED: {
    hresult: 0x8004_1053,
    summary: 'The update conflicts with a subclass qualifier override.',
  },
  WBEM_E_UPDATE_PROPAGATED_METHOD: {
    hresult: 0x8004_1054,
    summary: 'The update conflicts with a subclass method.',
  },
  WBEM_E_CANNOT_BE_ABSTRACT: {
    hresult: 0x8004_1065,
    summary: 'The class cannot be abstract: its superclass is not.',
  },
  WBEM_E_AMENDED_OBJECT: {
    hresult: 0x8004_1066,
    summary: 'Amended qualifiers need WBEM_FLAG_USE_AMENDED_QUALIFIERS.',
  },
  WBEM_E_QUEUE_OVERFLOW: {
    hresult: 0x8004_1067,
    summary: 'Events were lost: the watcher asked for revisions the event log no longer holds.',
  },
  WBEM_E_QUOTA_VIOLATION: { hresult: 0x8004_106c, summary: 'A size or count limit was exceeded.' },
  WBEM_E_RESERVED_001: {
    hresult: 0x8004_106d,
    summary:
      'Transaction conflict (SDK name WBEM_E_TRANSACTION_CONFLICT): the object changed since the expected revision.',
  },
  WBEM_E_RESERVED_002: { hresult: 0x8004_106e, summary: 'Reserved (SDK: forced rollback).' },
  WBEM_E_NO_KEY: {
    hresult: 0x8004_1089,
    summary: 'An instance was put of a class that has no key (and is not a singleton).',
  },
  WBEM_E_VETO_PUT: { hresult: 0x8004_107a, summary: 'A provider vetoed the put.' },
  CO_E_SERVER_STOPPING: {
    hresult: 0x8008_0008,
    summary: 'The server is stopping (repository restore).',
  },
} as const satisfies Record<string, WbemStatusRow>;

export type WbemStatusName = keyof typeof WBEM_STATUS;
/** The failure names: everything but the WBEM_S_* success codes. */
export type WbemErrorName = Exclude<WbemStatusName, `WBEM_S_${string}`>;

export const WBEM_STATUS_NAMES = Object.keys(WBEM_STATUS) as readonly WbemStatusName[];

/** The proto enum carries HRESULTs as signed int32 (0x80041001 → -2147217407). */
export function toSignedHresult(status: WbemStatusName): number {
  return WBEM_STATUS[status].hresult | 0;
}

/** `0x80041019`: the form of the `wbem-hresult` trailer and of docs. */
export function formatHresult(status: WbemStatusName): string {
  return `0x${(WBEM_STATUS[status].hresult >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/** What a failure is about, for ErrorInfo metadata and logs. */
export interface WbemErrorSubject {
  readonly namespace?: string;
  readonly className?: string;
}

/**
 * The one error channel of the domain and the service (docs/style.md §2.2). Anything else that
 * reaches a boundary is a bug and becomes WBEM_E_FAILED there, without leaking its message.
 */
export class WbemError extends Error {
  override readonly name = 'WbemError';
  constructor(
    readonly status: WbemErrorName,
    /** Becomes SetStatus.param and the gRPC message: a readable reason, never a stack or a path on disk. */
    readonly param: string,
    readonly subject: WbemErrorSubject = {},
    options?: { cause?: unknown },
  ) {
    super(`${status}: ${param}`, options);
  }

  /** The same error about a (more) specific subject. */
  about(subject: WbemErrorSubject): WbemError {
    return new WbemError(
      this.status,
      this.param,
      { ...subject, ...this.subject },
      { cause: this.cause },
    );
  }
}

export function isWbemError(value: unknown): value is WbemError {
  return value instanceof WbemError;
}
