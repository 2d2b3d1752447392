/**
 * Whole-call transcripts for e2e tests (docs/style.md §2.8): headers, every message, the closing
 * status with trailers, and grpc-status-details-bin decoded into google.rpc.Status + ErrorInfo the
 * way gax-nodejs does. Resolves only once both the messages and the status are in: grpc-js may
 * emit 'status' before the last buffered message is read.
 */
import {
  type Metadata,
  status as Code,
  type ClientReadableStream,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import { ErrorInfo } from '../../generated/google/rpc/error_details';
import { Status } from '../../generated/google/rpc/status';

export interface DecodedErrorInfo {
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Record<string, string>;
}

export interface CallEnd {
  readonly code: Code;
  readonly details: string;
  readonly trailers: Record<string, string>;
  readonly errorInfo?: DecodedErrorInfo;
}

export interface Transcript<T> {
  readonly headers: Record<string, string>;
  readonly messages: T[];
  readonly end: CallEnd;
}

export function flatten(metadata: Metadata | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata?.getMap() ?? {})) {
    if (!key.endsWith('-bin')) out[key] = String(value);
  }
  return out;
}

export function decodeErrorInfo(metadata: Metadata | undefined): DecodedErrorInfo | undefined {
  const raw = metadata?.get('grpc-status-details-bin')[0];
  if (raw === undefined || typeof raw === 'string') return undefined;
  const status = Status.decode(raw);
  const any = status.details.find((d) => d.typeUrl === 'type.googleapis.com/google.rpc.ErrorInfo');
  if (any === undefined) return undefined;
  const info = ErrorInfo.decode(any.value);
  return { reason: info.reason, domain: info.domain, metadata: { ...info.metadata } };
}

export function callEnd(status: StatusObject | ServiceError): CallEnd {
  const info = decodeErrorInfo(status.metadata);
  return {
    code: status.code,
    details: status.details,
    trailers: flatten(status.metadata),
    ...(info === undefined ? {} : { errorInfo: info }),
  };
}

export async function transcript<T>(call: ClientReadableStream<T>): Promise<Transcript<T>> {
  let headers: Record<string, string> = {};
  call.on('metadata', (metadata: Metadata) => (headers = flatten(metadata)));
  const status = new Promise<StatusObject>((resolve) => call.on('status', resolve));
  const messages: T[] = [];
  try {
    for await (const message of call) messages.push(message as T);
  } catch {
    // The error is the closing status, read below with its trailers.
  }
  return { headers, messages, end: callEnd(await status) };
}

/**
 * Runs a unary call; resolves with the response or the decoded failure (never rejects). `Res`
 * defaults to `any` because a generated client's callback type cannot flow back through the
 * arrow function that wraps it; name the type at the call site where it matters.
 */
export function unary<Res = any>(
  invoke: (callback: (error: ServiceError | null, response: any) => void) => unknown,
): Promise<{ response?: Res; end?: CallEnd }> {
  return new Promise((resolve) => {
    invoke((error, response) =>
      resolve(error ? { end: callEnd(error) } : { response: response as Res }),
    );
  });
}

/** The end of a failed call; throws (failing the test) when the call succeeded. */
export function failureOf(result: { response?: unknown; end?: CallEnd }): CallEnd {
  if (result.end === undefined)
    throw new Error(
      `expected the call to fail, but it returned ${JSON.stringify(result.response, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
    );
  return result.end;
}

/** The response of a succeeded call; throws with the failure otherwise. */
export function responseOf<Res>(result: { response?: Res; end?: CallEnd }): Res {
  if (result.end !== undefined)
    throw new Error(`expected success, got ${Code[result.end.code]} ${result.end.details}`);
  return result.response as Res;
}

/** Call options with a deadline (20 s unless told), so a hung call fails the test instead of hanging it. */
export const deadline = (ms = 20_000): { deadline: Date } => ({
  deadline: new Date(Date.now() + ms),
});

/**
 * What a call refused with WBEM_E_INVALID_PARAMETER ends with, in the contract's three encodings:
 * INVALID_ARGUMENT, the `wbem-hresult`/`wbem-status` trailers (the rest are HTTP/2's own:
 * content-type, and date on a trailers-only response), and ErrorInfo. `metadata` is the
 * ErrorInfo's whole metadata, or an asymmetric matcher for it.
 */
export function invalidParameterEnd(details: unknown, metadata: unknown): unknown {
  return {
    code: Code.INVALID_ARGUMENT,
    details,
    trailers: expect.objectContaining({
      'wbem-hresult': '0x80041008',
      'wbem-status': 'WBEM_E_INVALID_PARAMETER',
    }),
    errorInfo: { reason: 'WBEM_E_INVALID_PARAMETER', domain: 'wbem.v1', metadata },
  };
}
