/**
 * The Connect / gRPC-Web / JSON transport's counterpart of serve.ts: every call is admitted (the
 * same server-wide cap), authenticated (the same Authenticator), logged and counted (the same
 * access log and metrics), and ends once; a failure is the same WbemStatus mapped by the same
 * table (status-map.ts), sent as a ConnectError carrying the ErrorInfo detail and the
 * `wbem-hresult` / `wbem-status` metadata (Connect: headers or end-of-stream metadata; gRPC-Web:
 * trailers, beside `grpc-status-details-bin`).
 */
import { status as GrpcCode } from '@grpc/grpc-js';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError, createContextKey, type HandlerContext } from '@connectrpc/connect';
import { randomUUID } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { ErrorInfoSchema } from '../../../generated/google/rpc/error_details_pb';
import type { WbemError } from '../../domain/wbem-status';
import type { OperationContext } from '../../service/operation-context';
import { endCall, startCall, type CallRecord } from '../grpc/access-log';
import { overloadedError, unauthenticatedError } from '../grpc/admission';
import {
  CallCancellation,
  CLIENT_CANCELLED,
  DEADLINE_PASSED,
  traceOfHeader,
} from '../grpc/call-context';
import { withRequest } from '../grpc/request-decoding';
import { asWbemError, type CallEnv } from '../grpc/serve';
import { errorInfoOf, GRPC_CODE, statusHeaders } from '../grpc/status-map';
import type { StreamOperation, UnaryOperation } from '../grpc/wbem-operations';
import type { MessageBridge } from './message-bridge';
import { MessageQueue } from './message-queue';

/** What the HTTP listener knows of the connection a call came on (set per request). */
export interface HttpPeer {
  /** `127.0.0.1:5000` or `[::1]:5000`, as grpc-js spells its peers. */
  readonly address: string;
  readonly certificate: PeerCertificate | undefined;
}

export const HTTP_PEER = createContextKey<HttpPeer>(
  { address: 'unknown', certificate: undefined },
  { description: 'the connection a call came on' },
);

/** The gRPC transport's env, less what only HTTP/2 connections have (their age). */
export type HttpCallEnv = Omit<CallEnv, 'connectionAges'>;

const WBEM_S_NO_ERROR = 'WBEM_S_NO_ERROR';

/** A failure as Connect sends it: the same code, message, detail and status metadata as gRPC's. */
export function connectErrorOf(
  error: WbemError,
  code: GrpcCode = GRPC_CODE[error.status],
): ConnectError {
  const info = errorInfoOf(error);
  return new ConnectError(
    error.param,
    Number(code),
    statusHeaders(error.status),
    [
      {
        desc: ErrorInfoSchema,
        value: { reason: info.reason, domain: info.domain, metadata: info.metadata },
      },
    ],
    error,
  );
}

function operationContextOf(
  hctx: HandlerContext,
  peer: HttpPeer,
  principal?: OperationContext['principal'],
): OperationContext {
  const cancellation = new CallCancellation();
  const cancel = (): void => {
    const reason: unknown = hctx.signal.reason;
    cancellation.abort(
      reason instanceof ConnectError && reason.code === Code.DeadlineExceeded
        ? DEADLINE_PASSED
        : CLIENT_CANCELLED,
    );
  };
  if (hctx.signal.aborted) cancel();
  else hctx.signal.addEventListener('abort', cancel, { once: true });
  const trace = traceOfHeader(hctx.requestHeader.get('traceparent'));
  return {
    operationId: randomUUID(),
    signal: cancellation,
    peer: peer.address,
    ...(trace === undefined ? {} : { traceId: trace.traceId }),
    ...(principal === undefined ? {} : { principal }),
  };
}

function finish(env: HttpCallEnv, record: CallRecord, code: GrpcCode, wbemStatus: string): void {
  env.admission?.leave();
  endCall(env.log, env.observer, record, code, wbemStatus);
}

/** Admission, then authentication (serve.ts's `begin`); a refusal is the error to throw. */
function begin(
  env: HttpCallEnv,
  method: string,
  hctx: HandlerContext,
): { ctx: OperationContext; record: CallRecord } | { refused: ConnectError } {
  if (env.admission !== undefined && !env.admission.tryEnter())
    return { refused: connectErrorOf(overloadedError(env.admission.limit)) };
  const peer = hctx.values.get(HTTP_PEER);
  const authentication = env.authenticator?.authenticateCredentials({
    peer: peer.address,
    authorization: hctx.requestHeader.get('authorization') ?? undefined,
    certificate: peer.certificate,
  }) ?? { ok: true, principal: undefined };
  const ctx = operationContextOf(
    hctx,
    peer,
    authentication.ok ? authentication.principal : undefined,
  );
  const record = startCall(env.observer, method, ctx);
  if (authentication.ok) {
    hctx.responseHeader.set('wbem-operation-id', ctx.operationId);
    return { ctx, record };
  }
  finish(env, record, GrpcCode.UNAUTHENTICATED, 'WBEM_E_ACCESS_DENIED');
  return {
    refused: connectErrorOf(unauthenticatedError(authentication.reason), GrpcCode.UNAUTHENTICATED),
  };
}

function setAll(headers: Headers, values: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(values)) headers.set(name, value);
}

type Message = MessageShape<DescMessage>;

/** A unary RPC for Connect's router: the operation, between begin and one end. */
export function serveUnaryHttp<Req, Res>(
  method: string,
  env: HttpCallEnv,
  operation: UnaryOperation<Req, Res>,
  bridge: MessageBridge<Req, Res>,
): (request: Message, hctx: HandlerContext) => Promise<Message> {
  return async (request, hctx) => {
    const begun = begin(env, method, hctx);
    if ('refused' in begun) throw begun.refused;
    const { ctx, record } = begun;
    let response: Message;
    try {
      await env.beforeCall?.();
      response = bridge.response(
        await withRequest(bridge.request(request), (decoded) => operation.run(ctx, decoded)),
      );
    } catch (failure) {
      const error = asWbemError(failure, ctx, env.log, method);
      finish(env, record, GRPC_CODE[error.status], error.status);
      throw connectErrorOf(error);
    }
    finish(env, record, GrpcCode.OK, WBEM_S_NO_ERROR);
    setAll(hctx.responseTrailer, statusHeaders(WBEM_S_NO_ERROR));
    return response;
  };
}

/**
 * A server stream for Connect's router: the operation's messages are yielded as it sends them;
 * its outcome ends the stream (an error after the messages already sent, as on gRPC). The call
 * ends (slot freed, access log) when the operation does, even when the client left first.
 */
export function serveStreamHttp<Req, Res>(
  method: string,
  env: HttpCallEnv,
  operation: StreamOperation<Req, Res>,
  bridge: MessageBridge<Req, Res>,
): (request: Message, hctx: HandlerContext) => AsyncGenerator<Message> {
  return async function* (request, hctx) {
    const begun = begin(env, method, hctx);
    if ('refused' in begun) throw begun.refused;
    const { ctx, record } = begun;
    const queue = new MessageQueue<Message>();
    // The client is gone (or its deadline passed): what the operation still sends is dropped.
    ctx.signal.addEventListener('abort', () => queue.drop());
    const out = { send: (message: Res) => queue.send(bridge.response(message)) };
    const accept = (headers?: Readonly<Record<string, string>>): void => {
      if (headers !== undefined) setAll(hctx.responseHeader, headers);
    };
    const ended = (env.beforeCall?.() ?? Promise.resolve())
      .then(() =>
        withRequest(bridge.request(request), (decoded) => operation.run(ctx, decoded, accept, out)),
      )
      .catch((failure: unknown) => asWbemError(failure, ctx, env.log, method))
      .then((error) => {
        finish(
          env,
          record,
          error === undefined ? GrpcCode.OK : GRPC_CODE[error.status],
          error?.status ?? WBEM_S_NO_ERROR,
        );
        queue.close();
        return error;
      });
    try {
      yield* queue.messages();
    } finally {
      queue.drop();
    }
    const error = await ended;
    if (error !== undefined) throw connectErrorOf(error);
    setAll(hctx.responseTrailer, statusHeaders(WBEM_S_NO_ERROR));
  };
}
