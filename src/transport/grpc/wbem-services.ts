/**
 * The WbemServices handlers: convert, call the service, adapt, end. No WMI rule is decided here.
 */
import type {
  handleServerStreamingCall,
  handleUnaryCall,
  Server,
  ServerWritableStream,
} from '@grpc/grpc-js';
import {
  PutClassRequest,
  WbemServicesService,
  type ObjectSinkEvent,
  type PutClassResponse,
  type WbemServicesServer,
} from '../../../generated/wbem/v1/services';
import { storedDefinitionOf } from '../../domain/resolve-class';
import { writeMof } from '../../mof/writer';
import { WbemError } from '../../domain/wbem-status';
import type { CancellationSignal } from '../../service/operation-context';
import type { PutClassInput, WbemServiceApi } from '../../service/wbem-service-api';
import {
  changeReportToProto,
  classEventToProto,
  classViewToProto,
  instanceViewToProto,
} from './codec';
import { classFromProto, contextFromProto, instanceFromProto } from './from-proto';
import { BufferReader } from './buffer-reader';
import { grpcSinkPort, streamPort, writeWithBackPressure } from './grpc-sink-port';
import { namedHandlers, type HandlerFactories } from './registration';
import { serveStream, serveUnary, type CallEnv } from './serve';

function putClassInput(request: PutClassRequest): PutClassInput {
  return {
    namespace: request.namespace,
    definition: request.object === undefined ? undefined : classFromProto(request.object),
    flags: request.flags,
    context: contextFromProto(request.context),
    validateOnly: request.validateOnly === true,
    ...(request.expectedRevision === undefined
      ? {}
      : { expectedRevision: request.expectedRevision }),
  };
}

/** A PutClass(Async) request as the handler receives it: the service's input, or why it has none. */
type DecodedPutClass = { readonly input: PutClassInput } | { readonly malformed: WbemError };

/**
 * PutClass and PutClassAsync requests become the service's input while grpc-js deserializes them.
 * grpc-js keeps a call's request for the whole call, and a PutClass waits a synced batch: the
 * decoded protobuf tree (the bulk of a request's heap) would then outlive young-generation GCs
 * and be copied by each one. Converted here, only the input the operation needs stays alive
 * (docs/performance.md). A request that cannot be represented is still refused at once, by the
 * handler (not as a deserialization failure, which grpc-js would turn into a bare INTERNAL).
 */
function decodePutClassRequest(bytes: Buffer): DecodedPutClass {
  const request = PutClassRequest.decode(new BufferReader(bytes));
  try {
    return { input: putClassInput(request) };
  } catch (error) {
    if (error instanceof WbemError) return { malformed: error };
    throw error;
  }
}

function inputOf(decoded: DecodedPutClass): PutClassInput {
  if ('malformed' in decoded) throw decoded.malformed;
  return decoded.input;
}

/** The WbemServices definition grpc-js serves: generated, but for the PutClass deserializers. */
const WBEM_SERVICES = {
  ...WbemServicesService,
  putClassAsync: {
    ...WbemServicesService.putClassAsync,
    requestDeserialize: decodePutClassRequest,
  },
  putClass: { ...WbemServicesService.putClass, requestDeserialize: decodePutClassRequest },
} as const;

/** The generated handler types (without grpc-js's index signature), but for the PutClass requests. */
type WbemServicesHandlers = {
  [K in keyof WbemServicesServer as string extends K ? never : K]: K extends 'putClassAsync'
    ? handleServerStreamingCall<DecodedPutClass, ObjectSinkEvent>
    : K extends 'putClass'
      ? handleUnaryCall<DecodedPutClass, PutClassResponse>
      : WbemServicesServer[K];
};

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
      serveStream(method, env, call, async (ctx, accept) => {
        const accepted = service.beginPutClass(inputOf(call.request), ctx, {
          method: 'PutClassAsync',
          port: grpcSinkPort(call, ctx.signal, 'PutClassAsync'),
        });
        accept(); // accepted: headers go out now, then the sink's events
        const outcome = await accepted.run();
        return outcome.ok ? undefined : outcome.error;
      }),

    putClass: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, async (ctx) => {
        const accepted = service.beginPutClass(inputOf(call.request), ctx, { method: 'PutClass' });
        const outcome = await accepted.run();
        if (!outcome.ok) throw outcome.error;
        return {
          path: outcome.path,
          revision: outcome.revision,
          report: changeReportToProto(outcome.report),
        };
      }),

    compileMof: (method) => (call) =>
      serveStream(method, env, call, async (ctx, accept) => {
        const { namespace, sources, flags, context, continueOnError } = call.request;
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
      serveUnary(method, env, call, callback, async (ctx) => {
        const { namespace, className, localOnly, asMof } = call.request;
        const view = await service.getClass(namespace, className, localOnly, ctx);
        return {
          object: classViewToProto(view),
          mof: asMof ? writeMof([storedDefinitionOf(view.class)]) : '',
          revision: view.revision,
        };
      }),

    deleteClass: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, async (ctx) => {
        const { namespace, className, flags, context } = call.request;
        const result = await service.deleteClass(
          { namespace, className, flags, context: contextFromProto(context) },
          ctx,
        );
        return { deletedClasses: [...result.deletedClasses] };
      }),

    enumClasses: (method) => (call) =>
      serveStream(method, env, call, async (ctx, accept) => {
        const views = await service.enumClasses(call.request, ctx);
        accept();
        await writeAll(call, ctx.signal, views.map(classViewToProto));
        return undefined;
      }),
  };
}

function namespaceHandlers(
  service: WbemServiceApi,
  env: CallEnv,
): Pick<WbemServicesFactories, 'createNamespace' | 'deleteNamespace' | 'enumNamespaces'> {
  return {
    createNamespace: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, (ctx) =>
        service.createNamespace(call.request.parent, call.request.name, ctx),
      ),

    deleteNamespace: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, async (ctx) => {
        await service.deleteNamespace(call.request.namespace, ctx);
        return {};
      }),

    enumNamespaces: (method) => (call) =>
      serveStream(method, env, call, async (ctx, accept) => {
        const namespaces = await service.enumNamespaces(
          call.request.parent,
          call.request.deep,
          ctx,
        );
        accept();
        await writeAll(
          call,
          ctx.signal,
          namespaces.map((n) => ({ name: n.name, path: n.path })),
        );
        return undefined;
      }),
  };
}

function instanceHandlers(
  service: WbemServiceApi,
  env: CallEnv,
): Pick<WbemServicesFactories, 'putInstance' | 'getInstance' | 'deleteInstance' | 'enumInstances'> {
  return {
    putInstance: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, (ctx) => {
        const { namespace, instance, flags, context } = call.request;
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
      serveUnary(method, env, call, callback, async (ctx) => ({
        instance: instanceViewToProto(
          await service.getInstance(call.request.namespace, call.request.path, ctx),
        ),
      })),

    deleteInstance: (method) => (call, callback) =>
      serveUnary(method, env, call, callback, async (ctx) => {
        const { namespace, path, flags, context } = call.request;
        await service.deleteInstance(
          { namespace, path, flags, context: contextFromProto(context) },
          ctx,
        );
        return {};
      }),

    enumInstances: (method) => (call) =>
      serveStream(method, env, call, async (ctx, accept) => {
        const views = await service.enumInstances(call.request, ctx);
        accept();
        await writeAll(call, ctx.signal, views.map(instanceViewToProto));
        return undefined;
      }),
  };
}

function wbemServicesHandlers(service: WbemServiceApi, env: CallEnv): WbemServicesHandlers {
  return namedHandlers<WbemServicesHandlers>(WBEM_SERVICES, {
    ...sinkHandlers(service, env),
    ...classHandlers(service, env),
    ...namespaceHandlers(service, env),
    ...instanceHandlers(service, env),
    watchClassEvents: (method) => (call) =>
      serveStream(method, env, call, async (ctx, accept) => {
        const { namespace, className, sinceRevision } = call.request;
        const watch = service.watchClassEvents({ namespace, className, sinceRevision }, ctx);
        // The revision the watch starts from: a client may list, then watch with it as since_revision.
        accept({ 'wbem-revision': watch.revision.toString() });
        return watch.run(streamPort(call, ctx.signal, classEventToProto));
      }),
  });
}

export function addWbemServices(
  server: Pick<Server, 'addService'>,
  service: WbemServiceApi,
  env: CallEnv,
): void {
  server.addService(WBEM_SERVICES, wbemServicesHandlers(service, env));
}
