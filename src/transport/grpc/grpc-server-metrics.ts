/**
 * The standard gRPC server metrics (the names and labels of grpc-ecosystem's go-grpc-prometheus
 * and go-grpc-middleware's prometheus provider, which gRPC dashboards and alerts are written
 * against), counted by a grpc-js server interceptor so that every service is covered — WBEM,
 * health and reflection — as a Go server's interceptor would.
 *
 * What is counted, as the Go interceptors count it: a call is started when grpc-js hands it to the
 * interceptor; handled once, when its status is sent (or CANCELLED when the client goes away
 * first); a message received per request message; a message sent per response message actually
 * written (a unary call that fails sends none).
 */
import {
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status as Code,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from '@grpc/grpc-js';

/** `grpc_type` as the Go interceptors spell it. */
export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

/** The labels every gRPC server metric carries. */
export interface GrpcCallLabels {
  readonly grpc_type: GrpcType;
  readonly grpc_service: string;
  readonly grpc_method: string;
}

/** Where the interceptor reports (WbemdMetrics implements it). */
export interface GrpcServerObserver {
  grpcStarted(labels: GrpcCallLabels): void;
  grpcReceived(labels: GrpcCallLabels): void;
  grpcSent(labels: GrpcCallLabels): void;
  grpcHandled(labels: GrpcCallLabels, code: Code, seconds: number): void;
}

/**
 * The Go `codes.Code` String() names: `grpc_code` values are "OK", "NotFound", "Canceled" (one L),
 * not grpc-js's enum keys.
 */
const GO_CODE_NAMES: Readonly<Record<number, string>> = {
  [Code.OK]: 'OK',
  [Code.CANCELLED]: 'Canceled',
  [Code.UNKNOWN]: 'Unknown',
  [Code.INVALID_ARGUMENT]: 'InvalidArgument',
  [Code.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [Code.NOT_FOUND]: 'NotFound',
  [Code.ALREADY_EXISTS]: 'AlreadyExists',
  [Code.PERMISSION_DENIED]: 'PermissionDenied',
  [Code.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [Code.FAILED_PRECONDITION]: 'FailedPrecondition',
  [Code.ABORTED]: 'Aborted',
  [Code.OUT_OF_RANGE]: 'OutOfRange',
  [Code.UNIMPLEMENTED]: 'Unimplemented',
  [Code.INTERNAL]: 'Internal',
  [Code.UNAVAILABLE]: 'Unavailable',
  [Code.DATA_LOSS]: 'DataLoss',
  [Code.UNAUTHENTICATED]: 'Unauthenticated',
};

export function goCodeName(code: Code): string {
  return GO_CODE_NAMES[code] ?? `Code(${code})`;
}

/** `/wbem.v1.WbemServices/GetClass` → service `wbem.v1.WbemServices`, method `GetClass`. */
export function callLabels(
  path: string,
  requestStream: boolean,
  responseStream: boolean,
): GrpcCallLabels {
  const slash = path.lastIndexOf('/');
  const grpcType: GrpcType = requestStream
    ? responseStream
      ? 'bidi_stream'
      : 'client_stream'
    : responseStream
      ? 'server_stream'
      : 'unary';
  return {
    grpc_type: grpcType,
    grpc_service: path.slice(path.startsWith('/') ? 1 : 0, Math.max(slash, 0)),
    grpc_method: path.slice(slash + 1),
  };
}

/** The interceptor that feeds `observer`; one per server (`interceptors` of grpc-js's Server). */
export function grpcServerMetricsInterceptor(observer: GrpcServerObserver): ServerInterceptor {
  return (method, call: ServerInterceptingCallInterface) => {
    const labels = callLabels(method.path, method.requestStream, method.responseStream);
    const started = process.hrtime.bigint();
    let handled = false;
    const handle = (code: Code): void => {
      if (handled) return;
      handled = true;
      observer.grpcHandled(labels, code, Number(process.hrtime.bigint() - started) / 1e9);
    };
    observer.grpcStarted(labels);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMessage((message: unknown, next: (message: unknown) => void) => {
        observer.grpcReceived(labels);
        next(message);
      })
      .withOnCancel(() => handle(Code.CANCELLED))
      .build();
    const responder = new ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendMessage((message: unknown, next: (message: unknown) => void) => {
        observer.grpcSent(labels);
        next(message);
      })
      .withSendStatus((status, next) => {
        handle(status.code);
        next(status);
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}
