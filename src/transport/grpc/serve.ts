/**
 * The one place a call can end (docs/style.md §2.6). Every handler body runs inside serveUnary /
 * serveStream, which build the OperationContext, attach both promise outcomes (grpc-js catches
 * only synchronous throws), and turn anything that is not a WbemError into WBEM_E_FAILED without
 * leaking its message.
 */
import {
  Metadata,
  status as Code,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type StatusObject,
} from '@grpc/grpc-js';
import { WbemError } from '../../domain/wbem-status';
import type { OperationContext } from '../../service/operation-context';
import {
  endCall,
  startCall,
  type CallObserver,
  type CallRecord,
  type TransportLogger,
} from './access-log';
import { admit, unauthenticated, type Admission } from './admission';
import type { Authenticator } from './authenticate';
import { CallCancellation, createOperationContext, type AnyCall } from './call-context';
import { connectionRecycled, type ConnectionAges } from './connection-ages';
import { withRequest, type Decoded } from './request-decoding';
import { SUCCESS_TRAILERS, toStatusObject } from './status-map';

/**
 * What every call is served with: the access log and, when metrics are on, the observer it
 * reports to; the authenticator and the cap it is admitted by.
 */
export interface CallEnv {
  readonly log: TransportLogger;
  readonly observer?: CallObserver;
  /** Absent: every caller is anonymous (no credentials configured). */
  readonly authenticator?: Authenticator;
  /** Caps the calls being served at once, server-wide; absent = no cap. */
  readonly admission?: Admission;
  /** When each connection is cut for its age; absent = long-lived streams are never ended early. */
  readonly connectionAges?: ConnectionAges;
  /** Awaited before each call's body (a replica catching up with a shared store); absent = none. */
  readonly beforeCall?: () => Promise<void>;
}

/** How a server stream is served beyond its body. */
export interface StreamOptions {
  /**
   * A long-lived read (a watch, an enumeration): ended by the server, with WBEM_E_TRANSPORT_FAILURE,
   * before grpc-js cuts its connection for age (connection-ages.ts). Writes are never cut short.
   */
  readonly endsBeforeConnectionAge?: boolean;
}

/** Anything thrown that is not a WbemError is a bug: logged with the operation id, sent as WBEM_E_FAILED. */
export function asWbemError(
  failure: unknown,
  ctx: OperationContext,
  log: TransportLogger,
  method: string,
): WbemError {
  if (failure instanceof WbemError) return failure;
  log.error(
    { operationId: ctx.operationId, method, err: failure },
    'uncaught failure in a handler',
  );
  return new WbemError(
    'WBEM_E_FAILED',
    `internal error (operation ${ctx.operationId})`,
    {},
    { cause: failure },
  );
}

/** Response headers of an accepted call, plus any the handler adds (e.g. `wbem-revision`). */
function acceptedHeaders(
  ctx: OperationContext,
  extra?: Readonly<Record<string, string>>,
): Metadata {
  const headers = new Metadata();
  headers.set('wbem-operation-id', ctx.operationId);
  // Only WatchClassEvents adds any: every other call skips the loop (this runs for every call).
  if (extra !== undefined)
    for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return headers;
}

/** The call's slot is freed, then its access log line written and its metrics counted. */
function finish(env: CallEnv, record: CallRecord, code: Code, wbemStatus: string): void {
  env.admission?.leave();
  endCall(env.log, env.observer, record, code, wbemStatus);
}

/**
 * A call admitted (admission.ts) gets its operation context and starts its access log record; an
 * unauthenticated one is logged and ended at once. A refusal is a complete status to end it with.
 */
function begin(
  env: CallEnv,
  method: string,
  call: AnyCall,
): { ctx: OperationContext; record: CallRecord } | { refused: StatusObject } {
  const admitted = admit(call, env.admission, env.authenticator);
  if ('overloaded' in admitted) return { refused: admitted.overloaded };
  const ctx = createOperationContext(call, admitted.ok ? admitted.principal : undefined);
  const record = startCall(env.observer, method, ctx);
  if (admitted.ok) return { ctx, record };
  const refused = unauthenticated(admitted.reason);
  finish(env, record, refused.code, 'WBEM_E_ACCESS_DENIED');
  return { refused };
}

/**
 * A unary call. `body` gets the decoded request; a request that did not decode is refused here
 * (WBEM_E_INVALID_PARAMETER) before `body` runs, and ends like any other failure.
 */
export function serveUnary<Req, Res>(
  method: string,
  env: CallEnv,
  call: ServerUnaryCall<Decoded<Req>, Res>,
  callback: sendUnaryData<Res>,
  body: (ctx: OperationContext, request: Req) => Promise<Res>,
): void {
  const admitted = begin(env, method, call);
  if ('refused' in admitted) {
    callback(admitted.refused);
    return;
  }
  const { ctx, record } = admitted;
  call.sendMetadata(acceptedHeaders(ctx));
  // Deliberately not awaited (grpc-js ignores a handler's return value); both outcomes end here.
  void (env.beforeCall?.() ?? Promise.resolve())
    .then(() => withRequest(call.request, (request) => body(ctx, request)))
    .then(
      (response) => {
        finish(env, record, Code.OK, 'WBEM_S_NO_ERROR');
        callback(null, response, SUCCESS_TRAILERS);
      },
      (failure: unknown) => {
        const error = asWbemError(failure, ctx, env.log, method);
        const statusObject: StatusObject = toStatusObject(error);
        finish(env, record, statusObject.code, error.status);
        callback(statusObject);
      },
    );
}

/**
 * Ends `call` with `end(WBEM_E_TRANSPORT_FAILURE)` at its connection's horizon, then stops the
 * operation (its cancellation); returns what clears the timer. Nothing when the connection's age
 * is not known.
 */
function endAtConnectionHorizon(
  env: CallEnv,
  call: AnyCall,
  ctx: OperationContext,
  end: (error: WbemError) => void,
): () => void {
  const horizon = env.connectionAges?.horizonOf(call.getPeer());
  if (horizon === undefined) return () => undefined;
  const timer = setTimeout(
    () => {
      const error = connectionRecycled();
      end(error);
      if (ctx.signal instanceof CallCancellation) ctx.signal.abort(error);
    },
    Math.max(0, horizon - Date.now()),
  );
  timer.unref();
  return () => clearTimeout(timer);
}

/**
 * A server stream. `body` gets the decoded request and `accept()`, which sends the response
 * headers: a call that fails before accepting was rejected at once (no header, no message, only
 * the error status), as is a request that did not decode (before `body` runs). It ends once:
 * with the body's outcome, or at its connection's horizon (StreamOptions).
 */
export function serveStream<Req, Res>(
  method: string,
  env: CallEnv,
  call: ServerWritableStream<Decoded<Req>, Res>,
  body: (
    ctx: OperationContext,
    request: Req,
    accept: (headers?: Readonly<Record<string, string>>) => void,
  ) => Promise<WbemError | undefined>,
  options: StreamOptions = {},
): void {
  const admitted = begin(env, method, call);
  if ('refused' in admitted) {
    // Rejected at once: no headers, no events, only the status (nothing was looked at or written).
    call.emit('error', admitted.refused);
    return;
  }
  const { ctx, record } = admitted;
  const accept = (headers?: Readonly<Record<string, string>>): void =>
    call.sendMetadata(acceptedHeaders(ctx, headers));
  let ended = false;
  const close = (error: WbemError | undefined): void => {
    if (ended) return;
    ended = true;
    clearHorizon();
    finish(
      env,
      record,
      error === undefined ? Code.OK : toStatusObject(error).code,
      error?.status ?? 'WBEM_S_NO_ERROR',
    );
    if (call.cancelled) return; // nobody left to tell
    if (error === undefined) call.end(SUCCESS_TRAILERS);
    // grpc-js delivers an emitted error's status after the messages already written (stack.md trap 3).
    else call.emit('error', toStatusObject(error));
  };
  const clearHorizon =
    options.endsBeforeConnectionAge === true
      ? endAtConnectionHorizon(env, call, ctx, close)
      : () => undefined;
  void (env.beforeCall?.() ?? Promise.resolve())
    .then(() => withRequest(call.request, (request) => body(ctx, request, accept)))
    .then(close, (failure: unknown) => close(asWbemError(failure, ctx, env.log, method)));
}
