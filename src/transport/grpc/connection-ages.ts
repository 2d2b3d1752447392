/**
 * Long-lived streams and the server's own maximum connection age (`grpc.max_connection_age_ms`).
 *
 * grpc-js sends a connection GOAWAY once it is `age` old, jittered by ±10% (gRFC A9), and destroys
 * it `grace` later. A call still open then is torn down: its client sees UNAVAILABLE without WBEM
 * trailers, and its handler sees exactly what a client cancel shows (the 'cancelled' event), so
 * the access log recorded it as CANCELLED. grpc-js tells a handler nothing about its connection,
 * so the server learns when each connection was accepted from Node's `net.server.socket`
 * diagnostics channel, and ends its long-lived streams itself, with a WBEM status, at a time
 * when grpc-js has certainly sent the GOAWAY (so a client's next call opens a new connection) and
 * the connection is certainly still up: 1.1 × age + grace / 2 after it was accepted. For that
 * moment to come before the connection is destroyed, grpc-js is given a grace longer by the
 * jitter's span (0.2 × age); calls end first anyway, and an idle connection closes at once.
 */
import type { ChannelOptions } from '@grpc/grpc-js';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { WbemError } from '../../domain/wbem-status';

/** grpc-js's "no limit" for both options, and setTimeout's longest delay. */
const UNLIMITED_MS = 2 ** 31 - 1;

const AGE = 'grpc.max_connection_age_ms';
const GRACE = 'grpc.max_connection_age_grace_ms';

function limitOf(options: ChannelOptions, key: typeof AGE | typeof GRACE): number | undefined {
  const value: unknown = options[key];
  return typeof value === 'number' && value > 0 && value < UNLIMITED_MS ? value : undefined;
}

/** How a long-lived stream is ended when its connection is about to be cut. */
export function connectionRecycled(): WbemError {
  return new WbemError(
    'WBEM_E_TRANSPORT_FAILURE',
    'the server is closing this connection, which reached its maximum age (maxConnectionAgeMs): call again; a watch resumes with since_revision = the revision of the last event received',
  );
}

/** When each connection of one server was accepted, and when its long-lived streams must end. */
export class ConnectionAges {
  readonly #ageMs: number | undefined;
  readonly #graceMs: number | undefined;
  /** Accept times by `localPort|remoteAddress:remotePort`; a client port may serve two servers. */
  readonly #accepted = new Map<string, number>();
  #port: number | undefined;
  readonly #onSocket = (message: unknown): void => {
    const socket = (message as { socket: Socket }).socket;
    // Unix sockets have no address: their calls cannot be matched, and keep grpc-js's behaviour.
    if (socket.remoteAddress === undefined) return;
    const key = `${socket.localPort}|${socket.remoteAddress}:${socket.remotePort}`;
    this.#accepted.set(key, Date.now());
    socket.once('close', () => this.#accepted.delete(key));
  };

  constructor(options: ChannelOptions) {
    this.#ageMs = limitOf(options, AGE);
    this.#graceMs = limitOf(options, GRACE);
    if (this.#ageMs !== undefined && this.#graceMs !== undefined)
      subscribe('net.server.socket', this.#onSocket);
  }

  /** The options grpc-js is to serve with: the grace, when both are set, longer by 0.2 × age. */
  serverOptions(options: ChannelOptions): ChannelOptions {
    if (this.#ageMs === undefined || this.#graceMs === undefined) return options;
    return {
      ...options,
      [GRACE]: Math.min(UNLIMITED_MS - 1, this.#graceMs + Math.ceil(this.#ageMs / 5)),
    };
  }

  /** The port the server listens on: only its connections are looked up. */
  listening(port: number): void {
    this.#port = port;
  }

  /**
   * When (Date.now() time) a long-lived stream of the connection `peer` names (grpc-js's
   * `getPeer()`, `address:port`) must end; undefined when no age applies or the connection is
   * not known.
   */
  horizonOf(peer: string): number | undefined {
    if (this.#ageMs === undefined || this.#graceMs === undefined) return undefined;
    const accepted = this.#accepted.get(`${this.#port}|${peer}`);
    if (accepted === undefined) return undefined;
    return accepted + Math.ceil(this.#ageMs * 1.1) + Math.floor(this.#graceMs / 2);
  }

  close(): void {
    unsubscribe('net.server.socket', this.#onSocket);
    this.#accepted.clear();
  }
}
