/**
 * What the HTTP listener serves through Connect's router: every WbemServices method (its operation
 * from wbem-operations.ts, wrapped by serve-http.ts, its messages bridged by message-bridge.ts)
 * and grpc.health.v1.Health/Check. Connect speaks the Connect protocol (JSON and binary, unary and
 * server streams), gRPC-Web and gRPC on the same paths.
 */
import type { DescMethodServerStreaming, DescMethodUnary } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import {
  Health,
  HealthCheckResponse_ServingStatus,
} from '../../../generated/grpc/health/v1/health_pb';
import { WbemServices } from '../../../generated/wbem/v1/services_pb';
import type { ObservedHealth } from '../observed-health';
import type { MethodKey } from '../grpc/wbem-services-definition';
import type { StreamOperation, UnaryOperation, WbemOperations } from '../grpc/wbem-operations';
import { bridgeOf } from './message-bridge';
import { serveStreamHttp, serveUnaryHttp, type HttpCallEnv } from './serve-http';

type AnyOperation = UnaryOperation<unknown, unknown> | StreamOperation<unknown, unknown>;

const SERVING_STATUS = {
  UNKNOWN: HealthCheckResponse_ServingStatus.UNKNOWN,
  SERVING: HealthCheckResponse_ServingStatus.SERVING,
  NOT_SERVING: HealthCheckResponse_ServingStatus.NOT_SERVING,
} as const;

function addWbemServices(
  router: ConnectRouter,
  operations: WbemOperations,
  env: HttpCallEnv,
): void {
  for (const method of WbemServices.methods) {
    const key = method.localName as MethodKey;
    const operation = operations[key] as AnyOperation | undefined;
    // The two code generators read the same proto: a method one lacks is a build mistake.
    if (operation === undefined) throw new Error(`no operation for ${method.name}`);
    const bridge = bridgeOf(key, method.input, method.output);
    if (operation.kind === 'unary') {
      if (method.methodKind !== 'unary') throw new Error(`${method.name} is not unary`);
      router.rpc(method as DescMethodUnary, serveUnaryHttp(method.name, env, operation, bridge));
    } else {
      if (method.methodKind !== 'server_streaming')
        throw new Error(`${method.name} is not a server stream`);
      router.rpc(
        method as DescMethodServerStreaming,
        serveStreamHttp(method.name, env, operation, bridge),
      );
    }
  }
}

/** The routes of the HTTP listener's Connect handler. */
export function connectRoutes(
  operations: WbemOperations,
  env: HttpCallEnv,
  health: ObservedHealth,
): (router: ConnectRouter) => void {
  return (router) => {
    addWbemServices(router, operations, env);
    router.service(Health, {
      check: (request) => {
        const status = health.statusOf(request.service);
        if (status === undefined)
          throw new ConnectError(`unknown service "${request.service}"`, Code.NotFound);
        return { status: SERVING_STATUS[status] };
      },
    });
  };
}
