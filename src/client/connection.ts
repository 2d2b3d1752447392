/**
 * How a WbemClient reaches its server: plain options (address, token, TLS files' contents) from
 * which the client builds its own credentials, or credentials from the caller's @grpc/grpc-js
 * together with that module. grpc-js checks credentials and metadata with `instanceof`, so
 * objects from a second copy of grpc-js ("Channel credentials must be a ChannelCredentials
 * object") are refused; here the client and its credentials always come from one copy.
 */
import * as bundledGrpc from '@grpc/grpc-js';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';

/** The parts of `@grpc/grpc-js` the client uses: pass your own `require('@grpc/grpc-js')`. */
export type GrpcModule = Pick<
  typeof bundledGrpc,
  'makeGenericClientConstructor' | 'credentials' | 'Metadata' | 'ChannelCredentials'
>;

/** PEM contents (not paths), as Buffers or strings. */
export interface TlsOptions {
  /** CA certificate(s) to trust; absent = the system's roots. */
  readonly ca?: Buffer | string;
  /** Client certificate and key, for mutual TLS. */
  readonly cert?: Buffer | string;
  readonly key?: Buffer | string;
}

export interface WbemClientOptions {
  /** `HOST:PORT` or `unix:///path.sock`. */
  readonly address: string;
  /** A bearer token, sent as `authorization: Bearer …` on every call. */
  readonly token?: string;
  /** TLS (true = TLS with the system's roots). Absent, with no `credentials`: plaintext. */
  readonly tls?: TlsOptions | true;
  /** Channel credentials you built; they must come from `grpc` (or the bundled grpc-js). */
  readonly credentials?: ChannelCredentials;
  /** Your `@grpc/grpc-js` module: the client is built on it, so your credentials fit. */
  readonly grpc?: GrpcModule;
  /** grpc-js channel options (`grpc.keepalive_time_ms`, …). */
  readonly channelOptions?: ChannelOptions;
  /** Deadline of each unary call in ms (default none). Streams have none. */
  readonly deadlineMs?: number;
}

const pem = (value: Buffer | string | undefined): Buffer | null =>
  value === undefined ? null : Buffer.isBuffer(value) ? value : Buffer.from(value);

/** The grpc-js module to build on and the credentials to use, checked to belong together. */
export function resolveConnection(options: WbemClientOptions): {
  grpc: GrpcModule;
  credentials: ChannelCredentials;
} {
  const grpc = options.grpc ?? bundledGrpc;
  if (options.credentials !== undefined) {
    if (options.tls !== undefined)
      throw new TypeError('WbemClient: give either `credentials` or `tls`, not both');
    if (!(options.credentials instanceof grpc.ChannelCredentials))
      throw new TypeError(
        'WbemClient: `credentials` come from another copy of @grpc/grpc-js than the client uses; ' +
          'pass that module as `grpc` too (`grpc: require("@grpc/grpc-js")`), or give `tls` ' +
          'options and let the client build the credentials',
      );
    return { grpc, credentials: options.credentials };
  }
  if (options.tls === undefined) return { grpc, credentials: grpc.credentials.createInsecure() };
  const tls = options.tls === true ? {} : options.tls;
  if ((tls.cert === undefined) !== (tls.key === undefined))
    throw new TypeError('WbemClient: TLS `cert` and `key` go together');
  return {
    grpc,
    credentials: grpc.credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert)),
  };
}
