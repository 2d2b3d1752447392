/**
 * What startServer checks before it creates anything (the data directory included): the listen
 * address is well-formed and allowed, the TLS material loads, and the gRPC address can be bound.
 * A failure is a StartError that says whether the same options could ever start
 * (`configuration`: `wbemd serve` exits 2) or might on a later try (`unavailable`: exit 1).
 */
import { lookup } from 'node:dns/promises';
import { createServer } from 'node:net';
import { createSecureContext } from 'node:tls';

export type StartErrorKind = 'configuration' | 'unavailable';

/**
 * startServer refused to start; the message stands alone (`cannot listen on …`, `refusing to …`).
 * `fields` are for the log line: the address, the system error code.
 */
export class StartError extends Error {
  override readonly name = 'StartError';
  constructor(
    readonly kind: StartErrorKind,
    message: string,
    readonly fields: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** 127.0.0.0/8, ::1, localhost and unix sockets stay on this machine. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    bare === 'localhost' ||
    bare === '::1' ||
    /^127(\.\d{1,3}){3}$/.test(bare) ||
    host.startsWith('unix:')
  );
}

export function splitListen(listen: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(listen);
  if (match === null || match[1] === undefined || match[2] === undefined || match[1] === '') {
    throw new StartError('configuration', `--listen must be HOST:PORT, got "${listen}"`, {
      address: listen,
    });
  }
  return { host: match[1], port: Number(match[2]) };
}

/**
 * Why `listen` may not be served as configured, or undefined: beyond this machine only with TLS
 * and an ACL, or when the operator explicitly accepts the risk (`insecure`).
 */
export function nonLoopbackRefusal(
  listen: string,
  security: { readonly insecure: boolean; readonly tls: boolean; readonly acl: boolean },
): string | undefined {
  const host = /^(.*):\d+$/.exec(listen)?.[1] ?? listen;
  if (isLoopback(host) || security.insecure || (security.tls && security.acl)) return undefined;
  return (
    `refusing to listen on ${listen}: it is not a loopback address, and without TLS and an ACL anyone who can reach it ` +
    'could change the schema. Configure "tls" and "acl", listen on 127.0.0.1, or pass --insecure (config "insecure": true) to accept that.'
  );
}

/** The certificate, key and client CA load (PEM that parses, a key that fits the certificate). */
export function checkTlsLoads(tls: { cert: Buffer; key: Buffer; clientCa?: Buffer }): void {
  try {
    createSecureContext({
      cert: tls.cert,
      key: tls.key,
      ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa }),
    });
  } catch (error) {
    throw new StartError(
      'configuration',
      `cannot load the TLS certificate, key or client CA: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * Binds every address `listen` resolves to, one at a time, and lets go: succeeds when one of them
 * could be bound (grpc-js serves when at least one is). Port 0 always succeeds. Checked before
 * the data directory is created, so a busy port creates nothing; a process that takes the port
 * in between is caught by the real bind.
 */
export async function checkCanListen(listen: string, what: string): Promise<void> {
  const { host, port } = splitListen(listen);
  if (port === 0) return;
  let addresses: string[];
  try {
    addresses = (await lookup(host.replace(/^\[|\]$/g, ''), { all: true })).map((a) => a.address);
  } catch (error) {
    throw listenError(listen, what, error);
  }
  let first: unknown;
  for (const address of addresses) {
    const failure = await tryListen(address, port);
    if (failure === undefined) return;
    first ??= failure;
  }
  throw listenError(listen, what, first);
}

function tryListen(host: string, port: number): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', resolve);
    server.listen({ host, port }, () => server.close(() => resolve(undefined)));
  });
}

const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is already in use',
  EACCES: 'permission denied (a port below 1024 needs privileges)',
  EADDRNOTAVAIL: 'the address is not one of this host',
  ENOTFOUND: 'the host name does not resolve',
};

/** A bind failure: in use (or a DNS lookup that may succeed later) is `unavailable`, the rest `configuration`. */
export function listenError(listen: string, what: string, error: unknown): StartError {
  const message = error instanceof Error ? error.message : String(error);
  // grpc-js's bind error has no code, only the system error's text inside its message.
  const own = (error as { code?: unknown } | undefined)?.code;
  const code = typeof own === 'string' ? own : /\b(E[A-Z_]{3,})\b/.exec(message)?.[1];
  const known = code === undefined ? undefined : REASONS[code];
  const reason = known ?? message;
  const kind = code === 'EADDRINUSE' || code === 'EAI_AGAIN' ? 'unavailable' : 'configuration';
  return new StartError(kind, `cannot listen on ${listen} (${what}): ${reason}`, {
    address: listen,
    ...(code === undefined ? {} : { code }),
  });
}
