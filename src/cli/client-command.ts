/**
 * What the client commands (`mofcomp`, `mofgen`) share: the options every one of them takes,
 * argument parsing with the usual exits (usage error 2, --help 0), and the server they talk to
 * with its token and TLS, as the client subcommands take them (docs/cli.md; grpc-client.ts and
 * grpc-h2.ts connect: grpc-js is loaded only by the commands that use it).
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Options every client command takes. */
export const CLIENT_OPTIONS = {
  server: { type: 'string' },
  address: { type: 'string' },
  namespace: { type: 'string', short: 'N' },
  token: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  tls: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** The usage lines of CLIENT_OPTIONS' connection options, for each command's usage text. */
export const CONNECTION_USAGE = `  --server HOST:PORT  the wbemd server, also --address (env WBEMD_ADDRESS, then WBEMD_SERVER;
                      default 127.0.0.1:50051)
  --token TOKEN       bearer token, sent as authorization: Bearer (env WBEMD_TOKEN)
  --ca FILE           trust this CA certificate (PEM) and connect with TLS
  --cert FILE         client certificate (PEM) for mutual TLS; with --key FILE, its key
  --tls               connect with TLS, trusting the system's roots
`;

/** The server a client command talks to, and how. */
export interface ServerTarget {
  readonly address: string;
  /** Sent as `authorization: Bearer …` on every call. */
  readonly token?: string;
  /** TLS, with the PEM files' contents (a CA to trust, a client certificate); absent: plaintext. */
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
}

interface ConnectionValues {
  readonly server?: string | undefined;
  readonly address?: string | undefined;
  readonly token?: string | undefined;
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly tls?: boolean | undefined;
}

/**
 * The server the parsed options name: `--server` or `--address` (else env WBEMD_ADDRESS, then
 * WBEMD_SERVER, as the client subcommands read them), `--token` (else env
 * WBEMD_TOKEN), TLS when `--tls`, `--ca` or `--cert` is given. Returns the exit status when they
 * cannot be used: 2 for `--cert` without `--key` (or the other way round), 1 for a file that
 * cannot be read; the reason is written to `err`.
 */
export function serverTarget(
  command: string,
  values: ConnectionValues,
  err: NodeJS.WritableStream,
): ServerTarget | number {
  if ((values.cert === undefined) !== (values.key === undefined)) {
    err.write(`wbemd ${command}: --cert and --key go together\n`);
    return 2;
  }
  const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  for (const [part, what] of [
    ['ca', 'CA certificate'],
    ['cert', 'client certificate'],
    ['key', 'client key'],
  ] as const) {
    const path = values[part];
    if (path === undefined) continue;
    try {
      tls[part] = readFileSync(path);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      err.write(`wbemd ${command}: cannot read the ${what} ${path}: ${reason}\n`);
      return 1;
    }
  }
  const token = values.token ?? (process.env.WBEMD_TOKEN || undefined);
  const secure = values.tls === true || tls.ca !== undefined || tls.cert !== undefined;
  return {
    address: serverAddress(values.address ?? values.server),
    ...(token === undefined ? {} : { token }),
    ...(secure ? { tls } : {}),
  };
}

/** The headers every call to `target` carries: its token as `authorization: Bearer …`. */
export function callHeaders(target: ServerTarget): Readonly<Record<string, string>> {
  return target.token === undefined ? {} : { authorization: `Bearer ${target.token}` };
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses `args` with CLIENT_OPTIONS plus the command's own; returns the parse, or the exit status
 * when the command is done already (a usage error, or --help).
 */
export function parseClientCommand<O extends Options>(
  command: string,
  usage: string,
  args: readonly string[],
  options: O,
  out: NodeJS.WriteStream,
  err: NodeJS.WriteStream,
):
  | ReturnType<
      typeof parseArgs<{
        args: string[];
        allowPositionals: true;
        options: O & typeof CLIENT_OPTIONS;
      }>
    >
  | number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { ...options, ...CLIENT_OPTIONS },
    });
  } catch (error) {
    err.write(
      `wbemd ${command}: ${error instanceof Error ? error.message : String(error)}\n${usage}`,
    );
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    out.write(usage);
    return 0;
  }
  return parsed;
}

/** The address given, else env WBEMD_ADDRESS, then WBEMD_SERVER (unless empty), else 127.0.0.1:50051. */
function serverAddress(given: string | undefined): string {
  return (
    given ??
    (process.env.WBEMD_ADDRESS || undefined) ??
    (process.env.WBEMD_SERVER || undefined) ??
    '127.0.0.1:50051'
  );
}
