/**
 * What each WbemServices RPC does, apart from the wire it arrives on: convert, call the service,
 * adapt. Both transports run these bodies — gRPC (wbem-services.ts) and Connect / gRPC-Web / JSON
 * over HTTP (../http/) — each wrapping them in its own way to admit a call, send messages and end
 * it. The requests and responses are the ts-proto shapes; no WMI rule is decided here.
 */
import { storedDefinitionOf } from '../../domain/resolve-class';
import type { WbemError } from '../../domain/wbem-status';
import type { ObjectSinkEvent } from '../../../generated/wbem/v1/services';
import { writeMof } from '../../mof/writer';
import type { SinkPort } from '../../service/object-sink';
import type { OperationContext } from '../../service/operation-context';
import type { ClassPages } from '../../service/views';
import type { WbemServiceApi } from '../../service/wbem-service-api';
import { ClassObjectEncoder, getClassResponseBytes } from './class-bytes';
import {
  changeReportToProto,
  classEventToProto,
  instanceViewToProto,
  qualifierDeclarationToProto,
  sinkEventToProto,
} from './codec';
import { contextFromProto, instanceFromProto } from './from-proto';
import type { HandlerRequest, ResponseOf, MethodKey } from './wbem-services-definition';

/**
 * Where a server stream's messages go. `send` returns undefined when the next may be sent at once
 * (no promise to make and await for each of an enumeration's thousands of messages), else a
 * promise that resolves when it may; it never rejects. A `progress` message (the object sink's
 * progress events: small, and as many as the request has classes and instances at most) waits for
 * nothing until PROGRESS_BACKLOG of them are waiting to be written: the work that reports them
 * (a CompileMof's rules, under its namespaces' locks) does not wait for the client at each one.
 */
export interface StreamOut<T> {
  send(message: T, progress?: boolean): Promise<void> | undefined;
}

/**
 * How many messages may wait to be written before a progress event waits too. grpc-js's buffer
 * holds 16 and writes them one after the other, each when the last was written out: CIM 2.41's
 * CompileMof waited ≈ 90 times for its own progress events, ≈ 55 ms of its 0.65 s
 * (docs/performance.md, "P3: --atomic's CompileMof without grpc-js"). 4,096 events are ≈ 0.5 MB.
 */
export const PROGRESS_BACKLOG = 4096;

/** Sends the response headers of an accepted stream, plus any the operation adds. */
export type Accept = (headers?: Readonly<Record<string, string>>) => void;

export interface UnaryOperation<Req, Res> {
  readonly kind: 'unary';
  readonly run: (ctx: OperationContext, request: Req) => Promise<Res>;
}

export interface StreamOperation<Req, Res> {
  readonly kind: 'stream';
  /**
   * A long-lived read (a watch, an enumeration): a transport that cuts connections for age ends
   * it before that happens (serve.ts). Writes are never cut short.
   */
  readonly longLived: boolean;
  /** The failure the stream ends with, or undefined for success. */
  readonly run: (
    ctx: OperationContext,
    request: Req,
    accept: Accept,
    out: StreamOut<Res>,
  ) => Promise<WbemError | undefined>;
}

/** The operation of each WbemServices method, typed by the generated definition. */
export type WbemOperations = {
  readonly [K in MethodKey]: K extends
    | 'putClassAsync'
    | 'enumClasses'
    | 'enumNamespaces'
    | 'compileMof'
    | 'enumInstances'
    | 'watchClassEvents'
    | 'enumQualifiers'
    ? StreamOperation<HandlerRequest[K], ResponseOf<K>>
    : UnaryOperation<HandlerRequest[K], ResponseOf<K>>;
};

/** Sends each item; stops quietly once the call is cancelled. */
async function sendAll<T>(
  ctx: OperationContext,
  out: StreamOut<T>,
  items: readonly T[],
): Promise<void> {
  for (const item of items) {
    if (ctx.signal.aborted) return;
    const taken = out.send(item);
    if (taken !== undefined) await taken;
  }
}

/**
 * Sends each page's classes as the service produces the pages, each once the last was taken
 * (back pressure reaches the service: the next page is read only then), each encoded just before
 * it is sent (a page's encoding is not one stretch of the event loop); a page sent before (a kept
 * answer) is sent as its messages were made. Once the call is cancelled it stops, and leaving the
 * loop stops the service's work.
 */
async function sendClassPages(
  ctx: OperationContext,
  out: StreamOut<Buffer>,
  pages: ClassPages,
  encoder: ClassObjectEncoder,
): Promise<void> {
  for await (const page of pages) {
    const kept = encoder.keptPage(page);
    if (kept !== undefined) {
      await sendAll(ctx, out, kept);
      continue;
    }
    const messages: Buffer[] = [];
    for (const view of page) {
      if (ctx.signal.aborted) return;
      const message = encoder.encode(view);
      messages.push(message);
      const taken = out.send(message);
      if (taken !== undefined) await taken;
    }
    encoder.keepPage(page, messages);
  }
}

function unary<Req, Res>(run: UnaryOperation<Req, Res>['run']): UnaryOperation<Req, Res> {
  return { kind: 'unary', run };
}

function stream<Req, Res>(
  run: StreamOperation<Req, Res>['run'],
  longLived = false,
): StreamOperation<Req, Res> {
  return { kind: 'stream', longLived, run };
}

/** The object sink's events as the stream's messages; progress events do not wait (StreamOut). */
function sinkPort(
  out: StreamOut<ObjectSinkEvent>,
  method: 'PutClassAsync' | 'CompileMof',
): SinkPort {
  return {
    send: async (event) => out.send(sinkEventToProto(event, method), event.kind === 'progress'),
  };
}

/** The calls that report through the service's object sink. */
function sinkOperations(
  service: WbemServiceApi,
): Pick<WbemOperations, 'putClassAsync' | 'putClass' | 'compileMof'> {
  return {
    putClassAsync: stream(async (ctx, input, accept, out) => {
      const accepted = service.beginPutClass(input, ctx, {
        method: 'PutClassAsync',
        port: sinkPort(out, 'PutClassAsync'),
      });
      accept(); // accepted: headers go out now, then the sink's events
      const outcome = await accepted.run();
      return outcome.ok ? undefined : outcome.error;
    }),
    putClass: unary(async (ctx, input) => {
      const accepted = service.beginPutClass(input, ctx, { method: 'PutClass' });
      const outcome = await accepted.run();
      if (!outcome.ok) throw outcome.error;
      return {
        path: outcome.path,
        revision: outcome.revision,
        report: changeReportToProto(outcome.report),
      };
    }),
    compileMof: stream(async (ctx, input, accept, out) => {
      // Rejected at once (no headers, no events) until accepted, as PutClassAsync.
      const accepted = await service.acceptCompileMof(input, ctx, sinkPort(out, 'CompileMof'));
      accept();
      const outcome = await accepted.run();
      return outcome.ok ? undefined : outcome.error;
    }),
  };
}

function classOperations(
  service: WbemServiceApi,
): Pick<WbemOperations, 'getClass' | 'deleteClass' | 'enumClasses'> {
  return {
    getClass: unary(async (ctx, request) => {
      const { namespace, className, localOnly, asMof } = request;
      const view = await service.getClass(namespace, className, localOnly, ctx);
      const mof = asMof ? writeMof([storedDefinitionOf(view.class)]) : '';
      return getClassResponseBytes(view, mof, view.revision);
    }),
    deleteClass: unary(async (ctx, request) => {
      const { namespace, className, flags, context } = request;
      const result = await service.deleteClass(
        { namespace, className, flags, context: contextFromProto(context) },
        ctx,
      );
      return { deletedClasses: [...result.deletedClasses] };
    }),
    enumClasses: stream(async (ctx, request, accept, out) => {
      const pages = await service.enumClasses(request, ctx);
      accept();
      await sendClassPages(ctx, out, pages, new ClassObjectEncoder());
      return undefined;
    }, true),
  };
}

function namespaceOperations(
  service: WbemServiceApi,
): Pick<
  WbemOperations,
  'createNamespace' | 'deleteNamespace' | 'enumNamespaces' | 'enumQualifiers'
> {
  return {
    createNamespace: unary((ctx, request) =>
      service.createNamespace(request.parent, request.name, ctx),
    ),
    deleteNamespace: unary(async (ctx, request) => {
      await service.deleteNamespace(request.namespace, ctx);
      return {};
    }),
    enumNamespaces: stream(async (ctx, request, accept, out) => {
      const namespaces = await service.enumNamespaces(request.parent, request.deep, ctx);
      accept();
      await sendAll(
        ctx,
        out,
        namespaces.map((n) => ({ name: n.name, path: n.path })),
      );
      return undefined;
    }, true),
    enumQualifiers: stream(async (ctx, request, accept, out) => {
      const declarations = service.enumQualifiers(request.namespace, ctx);
      accept();
      await sendAll(ctx, out, declarations.map(qualifierDeclarationToProto));
      return undefined;
    }, true),
  };
}

function instanceOperations(
  service: WbemServiceApi,
): Pick<WbemOperations, 'putInstance' | 'getInstance' | 'deleteInstance' | 'enumInstances'> {
  return {
    putInstance: unary((ctx, request) => {
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
    getInstance: unary(async (ctx, request) => ({
      instance: instanceViewToProto(
        await service.getInstance(request.namespace, request.path, ctx),
      ),
    })),
    deleteInstance: unary(async (ctx, request) => {
      const { namespace, path, flags, context } = request;
      await service.deleteInstance(
        { namespace, path, flags, context: contextFromProto(context) },
        ctx,
      );
      return {};
    }),
    enumInstances: stream(async (ctx, request, accept, out) => {
      const views = await service.enumInstances(request, ctx);
      accept();
      await sendAll(ctx, out, views.map(instanceViewToProto));
      return undefined;
    }, true),
  };
}

export function wbemOperations(service: WbemServiceApi): WbemOperations {
  return {
    ...sinkOperations(service),
    ...classOperations(service),
    ...namespaceOperations(service),
    ...instanceOperations(service),
    watchClassEvents: stream(async (ctx, request, accept, out) => {
      const { namespace, className, sinceRevision } = request;
      const watch = service.watchClassEvents({ namespace, className, sinceRevision }, ctx);
      // The revision the watch starts from: a client may list, then watch with it as since_revision.
      accept({ 'wbem-revision': watch.revision.toString() });
      return watch.run({ send: async (event) => out.send(classEventToProto(event)) });
    }, true),
  };
}
