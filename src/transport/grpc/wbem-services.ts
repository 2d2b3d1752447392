/**
 * The WbemServices handlers: convert, call the service, adapt, end. No WMI rule is decided here.
 */
import type { Server, ServerWritableStream } from '@grpc/grpc-js';
import { storedDefinitionOf } from '../../domain/resolve-class';
import { writeMof } from '../../mof/writer';
import type { CancellationSignal } from '../../service/operation-context';
import type { WbemServiceApi } from '../../service/wbem-service-api';
import {
  changeReportToProto,
  classEventToProto,
  classViewToProto,
  instanceViewToProto,
} from './codec';
import { contextFromProto, instanceFromProto } from './from-proto';
import { grpcSinkPort, streamPort, writeWithBackPressure } from './grpc-sink-port';
import { namedHandlers, type HandlerFactories } from './registration';
import { wireSchema } from './request-decoding';
import { serveStream, serveUnary, type CallEnv } from './serve';
import { WBEM_SERVICES, type WbemServicesHandlers } from './wbem-services-definition';

/** Reads that may outlive their connection: ended before grpc-js cuts it for age (serve.ts). */
const LONG_LIVED = { endsBeforeConnectionAge: true } as const;

/** Writes each item with back-pressure; stops quietly once the client is gone. */
async function writeAll<T>(
  call: ServerWritableStream<unknown, T>,
  signal: CancellationSignal,
  items: readonly T[],
): Promise<void> {
  for (const item of items) {
    if (call.cancelled || signal.aborted) return;
    await writeWithBackPressure(call, signal, () => item);
  }
}

type WbemServicesFactories = HandlerFactories<WbemServicesHandlers>;

/** The calls that report through the service's object sink. */
function sinkHandlers(
  service: WbemServiceApi,
  env: CallEnv,
): Pick<WbemServicesFactories, 'putClassAsync' | 'putClass' | 'compileMof'> {
  return {
    putClassAsync: (method) => (call) =>
      serveStream(method, env, call, async (ctx, input, accept) => {
        const accepted = service.beginPutClass(input, ctx, {
          method: 'PutClassAsync',
          port: grpcSinkPort(call, ctx.signal, 'PutClassAsync'),
        });
        accept(); // accepted: headers go out now, then the sink's events
        const outcome = await accepted.run();
        return outcome.ok ? undefined : outcome.error;
      }),

    putClass: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, async (ctx, input) => {
        const accepted = service.beginPutClass(input, ctx, { method: 'PutClass' });
        const outcome = await accepted.run();
        if (!outcome.ok) throw outcome.error;
        return {
          path: outcome.path,
          revision: outcome.revision,
          report: changeReportToProto(outcome.report),
        };
      }),

    compileMof: (method) => (call) =>
      serveStream(method, env, call, async (ctx, request, accept) => {
        const { namespace, sources, flags, context, continueOnError } = request;
        const accepted = service.beginCompileMof(
          { namespace, sources, flags, context: contextFromProto(context), continueOnError },
          ctx,
          grpcSinkPort(call, ctx.signal, 'CompileMof'),
        );
        accept();
        const outcome = await accepted.run();
        return outcome.ok ? undefined : outcome.error;
      }),
  };
}

function classHandlers(
  service: WbemServiceApi,
  env: CallEnv,
): Pick<WbemServicesFactories, 'getClass' | 'deleteClass' | 'enumClasses'> {
  return {
    getClass: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, async (ctx, request) => {
        const { namespace, className, localOnly, asMof } = request;
        const view = await service.getClass(namespace, className, localOnly, ctx);
        return {
          object: classViewToProto(view),
          mof: asMof ? writeMof([storedDefinitionOf(view.class)]) : '',
          revision: view.revision,
        };
      }),

    deleteClass: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, async (ctx, request) => {
        const { namespace, className, flags, context } = request;
        const result = await service.deleteClass(
          { namespace, className, flags, context: contextFromProto(context) },
          ctx,
        );
        return { deletedClasses: [...result.deletedClasses] };
      }),

    enumClasses: (method) => (call) =>
      serveStream(
        method,
        env,
        call,
        async (ctx, request, accept) => {
          const views = await service.enumClasses(request, ctx);
          accept();
          await writeAll(call, ctx.signal, views.map(classViewToProto));
          return undefined;
        },
        LONG_LIVED,
      ),
  };
}

function namespaceHandlers(
  service: WbemServiceApi,
  env: CallEnv,
): Pick<WbemServicesFactories, 'createNamespace' | 'deleteNamespace' | 'enumNamespaces'> {
  return {
    createNamespace: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, (ctx, request) =>
        service.createNamespace(request.parent, request.name, ctx),
      ),

    deleteNamespace: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, async (ctx, request) => {
        await service.deleteNamespace(request.namespace, ctx);
        return {};
      }),

    enumNamespaces: (method) => (call) =>
      serveStream(
        method,
        env,
        call,
        async (ctx, request, accept) => {
          const namespaces = await service.enumNamespaces(request.parent, request.deep, ctx);
          accept();
          await writeAll(
            call,
            ctx.signal,
            namespaces.map((n) => ({ name: n.name, path: n.path })),
          );
          return undefined;
        },
        LONG_LIVED,
      ),
  };
}

function instanceHandlers(
  service: WbemServiceApi,
  env: CallEnv,
): Pick<WbemServicesFactories, 'putInstance' | 'getInstance' | 'deleteInstance' | 'enumInstances'> {
  return {
    putInstance: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, (ctx, request) => {
        const { namespace, instance, flags, context } = request;
        return service.putInstance(
          {
            namespace,
            instance: instance === undefined ? undefined : instanceFromProto(instance),
            flags,
            context: contextFromProto(context),
          },
          ctx,
        );
      }),

    getInstance: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, async (ctx, request) => ({
        instance: instanceViewToProto(
          await service.getInstance(request.namespace, request.path, ctx),
        ),
      })),

    deleteInstance: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, async (ctx, request) => {
        const { namespace, path, flags, context } = request;
        await service.deleteInstance(
          { namespace, path, flags, context: contextFromProto(context) },
          ctx,
        );
        return {};
      }),

    enumInstances: (method) => (call) =>
      serveStream(
        method,
        env,
        call,
        async (ctx, request, accept) => {
          const views = await service.enumInstances(request, ctx);
          accept();
          await writeAll(call, ctx.signal, views.map(instanceViewToProto));
          return undefined;
        },
        LONG_LIVED,
      ),
  };
}

function wbemServicesHandlers(service: WbemServiceApi, env: CallEnv): WbemServicesHandlers {
  return namedHandlers<WbemServicesHandlers>(WBEM_SERVICES, {
    ...sinkHandlers(service, env),
    ...classHandlers(service, env),
    ...namespaceHandlers(service, env),
    ...instanceHandlers(service, env),
    watchClassEvents: (method) => (call) =>
      serveStream(
        method,
        env,
        call,
        async (ctx, request, accept) => {
          const { namespace, className, sinceRevision } = request;
          const watch = service.watchClassEvents({ namespace, className, sinceRevision }, ctx);
          // The revision the watch starts from: a client may list, then watch with it as since_revision.
          accept({ 'wbem-revision': watch.revision.toString() });
          return watch.run(streamPort(call, ctx.signal, classEventToProto));
        },
        LONG_LIVED,
      ),
  });
}

export function addWbemServices(
  server: Pick<Server, 'addService'>,
  service: WbemServiceApi,
  env: CallEnv,
): void {
  // Read now, so a missing descriptor set stops the start instead of the first malformed request.
  wireSchema();
  const catchUp = service.catchUp;
  const callEnv = catchUp === undefined ? env : { ...env, beforeCall: catchUp };
  server.addService(WBEM_SERVICES, wbemServicesHandlers(service, callEnv));
}
