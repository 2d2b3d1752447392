/**
 * The client's errors: a call the server answered with a WBEM status (`WbemError`), and a call
 * that never reached a WBEM answer (`WbemTransportError`: no connection, a TLS failure, a
 * deadline). The status is read the way docs/api.md ("Errors") carries it: the `wbem-status` and
 * `wbem-hresult` trailers, and google.rpc.ErrorInfo in `grpc-status-details-bin`; a failed
 * SetStatus of an object sink adds its `param` and __ExtendedStatus.
 */
import type { Metadata, StatusObject } from '@grpc/grpc-js';
import { ErrorInfo } from '../../generated/google/rpc/error_details';
import { Status } from '../../generated/google/rpc/status';
import type { ExtendedStatus, SetStatus } from '../../generated/wbem/v1/services';
import { WbemStatus, wbemStatusFromJSON, wbemStatusToJSON } from '../../generated/wbem/v1/status';

/** A WbemStatus name, e.g. `WBEM_E_NOT_FOUND`. */
export type WbemStatusName = Exclude<keyof typeof WbemStatus, 'WBEM_S_SAME'>;

const ERROR_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.ErrorInfo';

/** The google.rpc.ErrorInfo the server attaches to every failure. */
export interface WbemErrorInfo {
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** `0x80041002` for the status's HRESULT (unsigned, 8 hex digits). */
export function hresultOf(status: WbemStatusName): string {
  return `0x${(WbemStatus[status] >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/** A status name as the server wrote it, or undefined when it is not one this client knows. */
function statusName(text: string | undefined): WbemStatusName | undefined {
  if (text === undefined) return undefined;
  const value = wbemStatusFromJSON(text);
  return value === WbemStatus.UNRECOGNIZED
    ? undefined
    : (wbemStatusToJSON(value) as WbemStatusName);
}

/** The server answered: the call failed with this WBEM status. */
export class WbemError extends Error {
  override readonly name = 'WbemError';
  /** The WbemStatus name, e.g. `WBEM_E_NOT_FOUND`. */
  readonly status: WbemStatusName;
  /** Its HRESULT, `0x80041002`. */
  readonly hresult: string;
  /** The server's message: the SetStatus `param` or the gRPC status message. */
  readonly detail: string;
  /** The gRPC status code the call ended with (`@grpc/grpc-js`'s `status` numbers). */
  readonly code: number;
  /** The decoded ErrorInfo details (reason = the status name, metadata: hresult, namespace, class). */
  readonly details: readonly WbemErrorInfo[];
  /** The final SetStatus of an object sink (PutClassAsync, CompileMof), when there was one. */
  readonly setStatus: SetStatus | undefined;
  /** The sink's __ExtendedStatus object, when the server sent one. */
  readonly extendedStatus: ExtendedStatus | undefined;
  /** The call's `wbem-operation-id` (in the server's access log), when it was accepted. */
  readonly operationId: string | undefined;

  constructor(fields: {
    status: WbemStatusName;
    detail: string;
    code: number;
    details?: readonly WbemErrorInfo[];
    setStatus?: SetStatus;
    operationId?: string;
  }) {
    super(`${fields.status} (${hresultOf(fields.status)}): ${fields.detail}`);
    this.status = fields.status;
    this.hresult = hresultOf(fields.status);
    this.detail = fields.detail;
    this.code = fields.code;
    this.details = fields.details ?? [];
    this.setStatus = fields.setStatus;
    this.extendedStatus = fields.setStatus?.extendedStatus;
    this.operationId = fields.operationId;
  }
}

/** The call ended without a WBEM answer: the server was not reached, or the transport failed. */
export class WbemTransportError extends Error {
  override readonly name = 'WbemTransportError';
  /** The gRPC status code (UNAVAILABLE for a server that cannot be reached). */
  readonly code: number;
  /** grpc-js's description, e.g. `No connection established. Last error: connect ECONNREFUSED …`. */
  readonly detail: string;
  /** The address the client dials. */
  readonly address: string;

  constructor(code: number, detail: string, address: string) {
    super(detail === '' ? `gRPC status ${code} from ${address}` : detail);
    this.code = code;
    this.detail = detail;
    this.address = address;
  }

  /** The short reason a connection failed (`connection refused`), or undefined if it did connect. */
  get connectFailure(): string | undefined {
    const reasons: [RegExp, string][] = [
      [/ECONNREFUSED/, 'connection refused'],
      [/ENOTFOUND|EAI_AGAIN|Name resolution failed/i, 'name not resolved'],
      [/ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/, 'no route or timed out'],
      [/ENOENT/, 'no such socket'],
      [/ECONNRESET|Connection dropped/i, 'connection reset'],
      [/SSL|TLS|certificate|handshake/i, 'TLS handshake failed'],
      [/No connection established|Failed to connect/i, 'connection failed'],
    ];
    if (this.code === 4)
      // DEADLINE_EXCEEDED: only a deadline spent waiting for a connection means "not reached".
      return /Waiting for LB pick|connect|No connection/i.test(this.detail)
        ? 'timed out connecting'
        : undefined;
    if (this.code !== 14) return undefined; // UNAVAILABLE
    for (const [pattern, reason] of reasons) if (pattern.test(this.detail)) return reason;
    return undefined;
  }
}

function firstString(metadata: Metadata | undefined, key: string): string | undefined {
  const [value] = metadata?.get(key) ?? [];
  return typeof value === 'string' ? value : undefined;
}

/** The ErrorInfo entries of `grpc-status-details-bin`; none when it is absent or undecodable. */
export function errorInfosOf(metadata: Metadata | undefined): WbemErrorInfo[] {
  const [raw] = metadata?.get('grpc-status-details-bin') ?? [];
  if (raw === undefined || typeof raw === 'string') return [];
  try {
    return Status.decode(raw)
      .details.filter((detail) => detail.typeUrl === ERROR_INFO_TYPE_URL)
      .map((detail) => ErrorInfo.decode(detail.value));
  } catch {
    return [];
  }
}

/** A failed call's status → the typed error: WbemError when the server named a WBEM status. */
export function errorFromStatus(
  end: Pick<StatusObject, 'code' | 'details'> & { metadata?: Metadata },
  address: string,
  operationId?: string,
): WbemError | WbemTransportError {
  const details = errorInfosOf(end.metadata);
  const status =
    statusName(firstString(end.metadata, 'wbem-status')) ??
    statusName(details.find((info) => info.domain === 'wbem.v1')?.reason);
  if (status === undefined) return new WbemTransportError(end.code, end.details, address);
  return new WbemError({
    status,
    detail: end.details,
    code: end.code,
    details,
    ...(operationId === undefined ? {} : { operationId }),
  });
}

/** A failed SetStatus (the sink's final word) → WbemError, with the trailers' details when there. */
export function errorFromSetStatus(
  setStatus: SetStatus,
  end: Pick<StatusObject, 'code'> & { metadata?: Metadata },
  operationId?: string,
): WbemError {
  return new WbemError({
    status: statusName(wbemStatusToJSON(setStatus.hresult)) ?? 'WBEM_E_FAILED',
    detail: setStatus.param,
    code: end.code,
    details: errorInfosOf(end.metadata),
    setStatus,
    ...(operationId === undefined ? {} : { operationId }),
  });
}
