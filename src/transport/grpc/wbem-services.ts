/**
 * The WbemServices handlers for grpc-js: each method's operation (wbem-operations.ts) wrapped in
 * serveUnary / serveStream, its messages written to the call with back-pressure. No WMI rule is
 * decided here.
 */
import type { Server, ServerWritableStream } from '@grpc/grpc-js';
import type { WbemServiceApi } from '../../service/wbem-service-api';
import { streamOut } from './grpc-sink-port';
import { methodNameOf } from './registration';
import { wireSchema } from './request-decoding';
import { serveStream, serveUnary, type CallEnv } from './serve';
import {
  WBEM_SERVICES,
  type MethodKey,
  type WbemServicesHandlers,
} from './wbem-services-definition';
import {
  wbemOperations,
  type StreamOperation,
  type UnaryOperation,
  type WbemOperations,
} from './wbem-operations';

type AnyOperation = UnaryOperation<unknown, unknown> | StreamOperation<unknown, unknown>;

/** The grpc-js handler of one operation, logged and counted under `method`. */
function handlerOf(method: string, operation: AnyOperation, env: CallEnv): unknown {
  if (operation.kind === 'unary')
    return (
      call: Parameters<typeof serveUnary>[2],
      callback: Parameters<typeof serveUnary>[3],
    ): void => serveUnary(method, env, call, callback, operation.run);
  return (call: ServerWritableStream<unknown, unknown>): void =>
    serveStream(
      method,
      env,
      call,
      (ctx, request, accept) => operation.run(ctx, request, accept, streamOut(call, ctx.signal)),
      { endsBeforeConnectionAge: operation.longLived },
    );
}

/**
 * Each method's handler, named from its path in the generated definition (registration.ts): a
 * renamed RPC cannot leave a stale name, and WbemOperations' type makes every method present.
 */
function wbemServicesHandlers(operations: WbemOperations, env: CallEnv): WbemServicesHandlers {
  const handlers: Partial<Record<MethodKey, unknown>> = {};
  for (const key of Object.keys(WBEM_SERVICES) as MethodKey[])
    handlers[key] = handlerOf(
      methodNameOf(WBEM_SERVICES[key].path),
      operations[key] as AnyOperation,
      env,
    );
  return handlers as WbemServicesHandlers;
}

export function addWbemServices(
  server: Pick<Server, 'addService'>,
  service: WbemServiceApi,
  env: CallEnv,
): void {
  // Read now, so a missing descriptor set stops the start instead of the first malformed request.
  wireSchema();
  server.addService(WBEM_SERVICES, wbemServicesHandlers(wbemOperations(service), env));
}
