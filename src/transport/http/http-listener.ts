/**
 * The HTTP listener (`--http-listen`): Connect (JSON and binary, unary and server streams),
 * gRPC-Web and the web class browser on one HTTP/1.1 port, TLS when the server is configured
 * with TLS (the same certificate, and client certificates verified the same way). Native gRPC
 * stays on the gRPC port: it needs HTTP/2 trailers, which this listener does not speak.
 */
import { createConnectRouter, createContextValues, type ConnectRouter } from '@connectrpc/connect';
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from '@connectrpc/connect-node';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { ChannelOptions } from '@grpc/grpc-js';
import { listenError, splitListen } from '../../startup';
import type { WbemOperations } from '../grpc/wbem-operations';
import type { ObservedHealth } from '../observed-health';
import { connectRoutes } from './connect-routes';
import type { TransportLogger } from '../grpc/access-log';
import { HTTP_PEER, type HttpCallEnv, type HttpPeer } from './serve-http';
import { findWebRoot, webAssetsHandler } from './web-assets';

export interface HttpListenerOptions {
  readonly host: string;
  readonly port: number;
  /** The largest request and response message, as on the gRPC port. */
  readonly maxReceiveBytes: number;
  readonly maxSendBytes: number;
  /** As the gRPC port's: with clientCa, client certificates are verified, and required unless requireClientCert is false. */
  readonly tls?: {
    readonly cert: Buffer;
    readonly key: Buffer;
    readonly clientCa?: Buffer;
    readonly requireClientCert?: boolean;
  };
}

export interface HttpListener {
  /** `127.0.0.1:41234`: the real port when asked for 0. */
  readonly address: string;
  /** Stops accepting; resolves once every connection is closed, forcing them after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

/** grpc-js spells peers `127.0.0.1:5000` / `[::1]:5000`; the access log reads the same here. */
function peerOf(request: IncomingMessage): HttpPeer {
  const socket = request.socket;
  const host = socket.remoteAddress ?? 'unknown';
  const address = `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort ?? 0}`;
  const tlsSocket = socket as Partial<TLSSocket>;
  let certificate: PeerCertificate | undefined;
  if (tlsSocket.encrypted === true && tlsSocket.authorized === true) {
    const presented = tlsSocket.getPeerCertificate?.();
    if (presented !== undefined && Object.keys(presented).length > 0) certificate = presented;
  }
  return { address, certificate };
}

type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Connect's router on Node's HTTP server: what connect-node's own adapter does, except that a
 * response that fails to be written is logged through the server's logger, and not at all when
 * the client has simply left (its call's end is logged by serve-http.ts already).
 */
function connectHandler(
  options: HttpListenerOptions,
  routes: (router: ConnectRouter) => void,
  log: TransportLogger,
): RequestHandler {
  const router = createConnectRouter({
    // gRPC proper needs HTTP/2 trailers; it is served on the gRPC port.
    grpc: false,
    readMaxBytes: options.maxReceiveBytes,
    writeMaxBytes: options.maxSendBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
  });
  routes(router);
  const handlers = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  const assets = webAssetsHandler(findWebRoot());
  return (request, response) => {
    const handler = handlers.get((request.url ?? '').split('?', 1)[0] ?? '');
    if (handler === undefined) {
      assets(request, response);
      return;
    }
    const contextValues = createContextValues().set(HTTP_PEER, peerOf(request));
    handler(universalRequestFromNodeRequest(request, response, undefined, contextValues))
      .then((universal) => universalResponseToNodeResponse(universal, response))
      .catch((reason: unknown) => {
        if (response.destroyed) return;
        log.error({ method: handler.method.name, err: reason }, 'HTTP response failed');
      });
  };
}

function createServer(options: HttpListenerOptions, handler: RequestHandler): Server {
  const { tls } = options;
  if (tls === undefined) return createHttpServer(handler);
  return createHttpsServer(
    {
      cert: tls.cert,
      key: tls.key,
      ...(tls.clientCa === undefined
        ? {}
        : {
            ca: tls.clientCa,
            requestCert: true,
            rejectUnauthorized: tls.requireClientCert !== false,
          }),
    },
    handler,
  );
}

export function startHttpListener(
  options: HttpListenerOptions,
  routes: (router: ConnectRouter) => void,
  log: TransportLogger,
): Promise<HttpListener> {
  const server = createServer(options, connectHandler(options, routes, log));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host.replace(/^\[|\]$/g, ''), port: options.port }, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({ address: `${options.host}:${port}`, close: closerOf(server) });
    });
  });
}

function closerOf(server: Server): (graceMs: number) => Promise<void> {
  let closing: Promise<void> | undefined;
  return (graceMs) =>
    (closing ??= new Promise<void>((resolve) => {
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
    }));
}

/**
 * The HTTP listener of a server: the same operations, env (credentials, the one admission cap,
 * access log, metrics) and health as its gRPC port, and the gRPC port's message size limits.
 */
export async function serveHttp(
  config: {
    /** Absent: no HTTP listener. */
    readonly listen: string | undefined;
    readonly grpcOptions: ChannelOptions;
    readonly tls?: HttpListenerOptions['tls'];
  },
  parts: { operations: WbemOperations; env: HttpCallEnv; health: ObservedHealth },
): Promise<HttpListener | undefined> {
  if (config.listen === undefined) return undefined;
  const { host, port } = splitListen(config.listen);
  const limit = (key: string): number => Number(config.grpcOptions[key]);
  try {
    return await startHttpListener(
      {
        host,
        port,
        maxReceiveBytes: limit('grpc.max_receive_message_length'),
        maxSendBytes: limit('grpc.max_send_message_length'),
        ...(config.tls === undefined ? {} : { tls: config.tls }),
      },
      connectRoutes(parts.operations, parts.env, parts.health),
      parts.env.log,
    );
  } catch (error) {
    throw listenError(config.listen, 'httpListen', error);
  }
}
