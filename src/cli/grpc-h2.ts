/**
 * Server-streaming gRPC calls written to one of Node's own HTTP/2 sessions, without grpc-js's call
 * stack: what `wbemd mofcomp` sends its PutClassAsync calls with (D81). grpc-js wraps each call in
 * resolving, retrying, load-balancing and subchannel calls, interceptors, filters and metadata
 * objects; for CIM 2.41's 1,438 calls that cost the command ≈ 0.3 ms of CPU a call more than the
 * same request bytes written here (docs/performance.md, P3, 2026-12-03), CPU that the server it
 * shares a 2-core host with does not get. The wire is gRPC's over HTTP/2 (PROTOCOL-HTTP2.md): the
 * same method path and length-prefixed message as the command's grpc-js channel, plaintext or
 * over TLS (ALPN h2), with the same headers (a bearer token) on every call.
 */
import {
  connect,
  constants,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';

/** gRPC status codes this client gives itself (a status the server sent is passed on as sent). */
const UNKNOWN = 2;
const INTERNAL = 13;
const UNAVAILABLE = 14;

/** How a call ended: the messages it answered, its gRPC status and the metadata that came with it. */
export interface CallEnd {
  readonly messages: readonly Buffer[];
  readonly code: number;
  /** grpc-message, percent-decoded as grpc-js decodes it. */
  readonly details: string;
  /** The trailers (or, for a call refused at once, the headers) that carried the status. */
  readonly metadata: IncomingHttpHeaders;
}

/**
 * Whether this client dials `address` itself: HOST:PORT with a host name, an IPv4 address or a
 * bracketed IPv6 one. Any other target (grpc-js's `dns:`, `unix:`, `ipv4:` schemes, a host
 * without a port) goes to grpc-js, which knows how to resolve it.
 */
export function dialsItself(address: string): boolean {
  return /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/.test(address);
}

/** A gRPC message on the wire: its length prefix, then its bytes. */
type Frame = readonly [prefix: Buffer, message: Uint8Array];

/** One HTTP/2 session and what this client knows of it. */
interface Connection {
  readonly session: ClientHttp2Session;
  /** The session's own error (refused, reset), which says more than its streams' "canceled". */
  failure: Error | undefined;
  connected: boolean;
  /** The server sent GOAWAY, or the session closed: new calls go to a new session. */
  draining: boolean;
  /** Calls that ended with no status, waiting to learn whether the connection is going. */
  readonly statusless: Set<() => void>;
}

/** A call refused before the server saw it (RST_STREAM REFUSED_STREAM) is sent again, this often. */
const REFUSED_RETRIES = 3;

/**
 * How long a call that ended with no status and no error waits for its connection's GOAWAY or end
 * before it reads as a call without a status (a connection that stays up, a broken server).
 */
const STATUSLESS_WAIT_MS = 1_000;

/** How a channel reaches its server besides the address. */
export interface H2ChannelOptions {
  /** TLS (PEM contents: a CA to trust instead of the system's roots, a client certificate). */
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  /** Headers sent with every call (`authorization`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * HTTP/2 connections to a gRPC server, plaintext or TLS; calls run concurrently on the current
 * one. As grpc-js's channel does, a new call goes to a new connection once the current one has
 * received GOAWAY (the server's maximum connection age, a graceful drain) or has closed; calls in
 * flight end on the old one, which closes when they have. A connection that never connected
 * stays: its calls fail with its error, and nothing is dialled again.
 */
export class H2Channel {
  readonly #address: string;
  readonly #options: H2ChannelOptions;
  #current: Connection;
  #closed = false;

  constructor(address: string, options: H2ChannelOptions = {}) {
    this.#address = address;
    this.#options = options;
    this.#current = this.#open();
  }

  #open(): Connection {
    const tls = this.#options.tls;
    // As grpc-js's channel: no limit on the session's memory (Node's degrades badly at its limit).
    // Over TLS Node offers ALPN h2 and checks the server's certificate against the host's name.
    const session = connect(`${tls === undefined ? 'http' : 'https'}://${this.#address}`, {
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
      settings: { enablePush: false },
      ...tls,
    });
    const connection: Connection = {
      session,
      failure: undefined,
      connected: false,
      draining: false,
      statusless: new Set(),
    };
    const going = (): void => {
      connection.draining = true;
      for (const settle of connection.statusless) settle();
    };
    session.on('connect', () => {
      connection.connected = true;
    });
    session.on('error', (error: Error) => {
      connection.failure = error;
    });
    // Node closes the session itself on a GOAWAY (NO_ERROR: its open streams run to their end).
    session.on('goaway', going);
    session.on('close', going);
    return connection;
  }

  /** The connection a new call goes to. */
  #connection(): Connection {
    const current = this.#current;
    const gone = current.draining || current.session.closed || current.session.destroyed;
    if (!gone || !current.connected || this.#closed) return current;
    // Node's session.close() lets the old session's streams end first, then closes it.
    current.session.close();
    this.#current = this.#open();
    return this.#current;
  }

  /**
   * A server-streaming call of `path` with one request message; resolves when it has ended.
   * `onMessage` sees each message as it arrives (a CompileMof's progress events), before the end.
   */
  async serverStream(
    path: string,
    request: Uint8Array,
    onMessage?: (message: Buffer) => void,
  ): Promise<CallEnd> {
    // The message's 5-byte prefix and its bytes go out as two chunks of one write (the stream is
    // corked): copying them into one frame cost `--atomic` a fresh 4 MB buffer, ≈ 20 ms of the
    // command before the request left (docs/performance.md, P3, 2026-12-04).
    const prefix = Buffer.allocUnsafe(5);
    prefix[0] = 0; // not compressed
    prefix.writeUInt32BE(request.length, 1);
    const frame: Frame = [prefix, request];
    for (let attempt = 0; ; attempt++) {
      const { end, refused } = await this.#call(this.#connection(), path, frame, onMessage);
      // Refused unseen (e.g. beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS before the client
      // had its SETTINGS): safe to send again, as grpc-js's transparent retry does.
      if (!refused || attempt >= REFUSED_RETRIES) return end;
    }
  }

  #call(
    connection: Connection,
    path: string,
    frame: Frame,
    onMessage: ((message: Buffer) => void) | undefined,
  ): Promise<{ end: CallEnd; refused: boolean }> {
    return new Promise((resolveEnd) => {
      const reader = new MessageReader(onMessage);
      let head: IncomingHttpHeaders | undefined;
      let trailers: IncomingHttpHeaders | undefined;
      let failure: Error | undefined;
      let stream;
      try {
        const headers: OutgoingHttpHeaders = {
          ...this.#options.headers,
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/grpc',
          te: 'trailers',
        };
        stream = connection.session.request(headers);
      } catch (error) {
        // The session is closed or destroyed already (its connection failed).
        const cause = error instanceof Error ? error : new Error(String(error));
        const end = ending(connection, reader, undefined, undefined, cause);
        return resolveEnd({ end, refused: false });
      }
      stream.on('response', (headers: IncomingHttpHeaders) => {
        head = headers;
      });
      stream.on('trailers', (headers: IncomingHttpHeaders) => {
        trailers = headers;
      });
      stream.on('data', (chunk: Buffer) => reader.push(chunk));
      stream.on('error', (error: Error) => {
        failure = error;
      });
      stream.on('close', () => {
        const refused = head === undefined && stream.rstCode === constants.NGHTTP2_REFUSED_STREAM;
        const end = (): void =>
          resolveEnd({ end: ending(connection, reader, head, trailers, failure), refused });
        // A stream that closes with no status and no error of its own may be one of a connection
        // that is going: Node closes such streams (NO_ERROR) before it reports the server's GOAWAY
        // or the session's end. It is read once the session has said so (or has not, in time).
        if (head?.['grpc-status'] !== undefined || trailers !== undefined || failure !== undefined)
          return end();
        if (refused || connection.draining) return end();
        const settle = (): void => {
          clearTimeout(timer);
          connection.statusless.delete(settle);
          end();
        };
        const timer = setTimeout(settle, STATUSLESS_WAIT_MS);
        connection.statusless.add(settle);
      });
      stream.cork();
      stream.write(frame[0]);
      stream.end(frame[1]);
    });
  }

  close(): void {
    this.#closed = true;
    this.#current.session.close();
  }
}

function ending(
  connection: Connection,
  reader: MessageReader,
  head: IncomingHttpHeaders | undefined,
  trailers: IncomingHttpHeaders | undefined,
  failure: Error | undefined,
): CallEnd {
  const messages = reader.messages;
  // A call refused at once sends its status in its only headers (gRPC's trailers-only answer).
  const status = trailers ?? (head?.['grpc-status'] === undefined ? undefined : head);
  const broken = reader.broken ?? (reader.partial ? 'a message cut short' : undefined);
  if (broken !== undefined) return ended(messages, INTERNAL, broken, status ?? {});
  if (status !== undefined) {
    const code = Number(status['grpc-status']);
    return ended(messages, Number.isInteger(code) ? code : UNKNOWN, details(status), status);
  }
  // The connection's own error (refused, reset) says more than its streams' "canceled".
  const cause = connection.failure ?? failure;
  const reason = cause?.cause instanceof Error ? cause.cause.message : cause?.message;
  if (!connection.connected)
    return ended(messages, UNAVAILABLE, `no connection: ${reason ?? 'closed'}`, {});
  // A connection lost mid-call closes its streams either with NO_ERROR or with the socket's error
  // (ECONNRESET), as the timing of the server's close falls; the session is closing by then.
  if (connection.draining || connection.session.closed || connection.session.destroyed)
    return ended(
      messages,
      UNAVAILABLE,
      `connection lost${reason === undefined ? '' : `: ${reason}`}`,
      {},
    );
  if (failure !== undefined) return ended(messages, UNAVAILABLE, reason ?? failure.message, {});
  // Node gives :status as a number, though typed as a header string.
  const http = Number(head?.[':status'] ?? 200);
  return http === 200
    ? ended(messages, INTERNAL, 'the call ended without a gRPC status', head ?? {})
    : ended(messages, UNKNOWN, `HTTP status ${http}`, head ?? {});
}

function ended(
  messages: readonly Buffer[],
  code: number,
  text: string,
  metadata: IncomingHttpHeaders,
): CallEnd {
  return { messages, code, details: text, metadata };
}

/** grpc-message, percent-decoded with decodeURI as grpc-js does (kept as sent if malformed). */
function details(status: IncomingHttpHeaders): string {
  const message = status['grpc-message'];
  const text = typeof message === 'string' ? message : '';
  try {
    return decodeURI(text);
  } catch {
    return text;
  }
}

/** Splits the DATA of a call into its length-prefixed messages, whatever the chunks' bounds. */
class MessageReader {
  readonly messages: Buffer[] = [];
  broken: string | undefined;
  #pending: Buffer | undefined;

  constructor(private readonly onMessage: ((message: Buffer) => void) | undefined) {}

  /** Whether the DATA ended inside a message. */
  get partial(): boolean {
    return this.#pending !== undefined;
  }

  push(chunk: Buffer): void {
    let rest = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    while (rest.length >= 5 && this.broken === undefined) {
      const length = rest.readUInt32BE(1);
      if (rest.length < 5 + length) break;
      // Nothing here asks for compression (no grpc-accept-encoding), so a server sends none.
      if (rest[0] !== 0) this.broken = 'a compressed message, which was not asked for';
      else {
        const message = rest.subarray(5, 5 + length);
        this.messages.push(message);
        this.onMessage?.(message);
      }
      rest = rest.subarray(5 + length);
    }
    this.#pending = rest.length === 0 ? undefined : rest;
  }
}
