/**
 * What every client subcommand (`class`, `namespace`, `instance`, `watch`) shares: the connection
 * options (address, token, TLS), `--namespace` and `--output`, the exit codes (docs/cli.md), and
 * the one place an error is shown: once, with its WBEM status, hresult and a hint.
 */
import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { WbemClient, WbemError, WbemTransportError, type TlsOptions } from '../../client';

/** Exit codes of the client subcommands (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** The server answered with a WBEM error status. */
  wbemError: 1,
  /** The command line was wrong (unknown option, missing argument). */
  usage: 2,
  /** The server could not be reached (refused, unresolvable, TLS, transport failure). */
  unreachable: 3,
  /** A local input could not be read or parsed (a MOF or JSON file). */
  input: 4,
} as const;

/** A problem with a local input: shown as is, exit EXIT.input. */
export class InputError extends Error {}
/** A wrong combination of arguments found after parsing: exit EXIT.usage. */
export class UsageError extends Error {}

export type OutputFormat = 'table' | 'json' | 'mof';

export interface ConnectionFlags {
  readonly address?: string;
  readonly server?: string;
  readonly token?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly tls?: boolean;
  readonly namespace: string;
  readonly output: OutputFormat;
}

export const DEFAULT_ADDRESS = '127.0.0.1:50051';

/** Adds the shared options to a subcommand. */
export function withSharedOptions(command: Command, outputs: readonly OutputFormat[]): Command {
  return command
    .option(
      '--address <host:port>',
      `the wbemd server (env WBEMD_ADDRESS or WBEMD_SERVER; default ${DEFAULT_ADDRESS})`,
    )
    .addOption(new Option('--server <host:port>', 'same as --address').hideHelp())
    .option('--token <token>', 'bearer token (env WBEMD_TOKEN)')
    .option('--ca <file>', 'CA certificate (PEM) to trust; connects with TLS')
    .option('--cert <file>', 'client certificate (PEM) for mutual TLS; with --key')
    .option('--key <file>', 'client private key (PEM)')
    .option('--tls', 'connect with TLS, trusting the system roots')
    .option('-N, --namespace <namespace>', 'namespace', 'root/cimv2')
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(outputs).default(outputs[0]),
    );
}

function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new InputError(`cannot read the ${what} ${path}: ${messageOf(error)}`);
  }
}

export function addressOf(flags: ConnectionFlags): string {
  return (
    flags.address ??
    flags.server ??
    (process.env.WBEMD_ADDRESS || undefined) ??
    (process.env.WBEMD_SERVER || undefined) ??
    DEFAULT_ADDRESS
  );
}

/** The client the flags describe. */
export function clientOf(flags: ConnectionFlags): WbemClient {
  if ((flags.cert === undefined) !== (flags.key === undefined))
    throw new UsageError('--cert and --key go together');
  const ca = readPem(flags.ca, 'CA certificate');
  const cert = readPem(flags.cert, 'client certificate');
  const key = readPem(flags.key, 'client key');
  const secure = flags.tls === true || ca !== undefined || cert !== undefined;
  const tls: TlsOptions = {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
  const token = flags.token ?? (process.env.WBEMD_TOKEN || undefined);
  return new WbemClient({
    address: addressOf(flags),
    ...(token === undefined ? {} : { token }),
    ...(secure ? { tls } : {}),
  });
}

/** What to do about a status: the common ones; docs/errors.md has every one. */
const HINTS: Partial<Record<WbemError['status'], string>> = {
  WBEM_E_NOT_FOUND: 'check the name: `wbemd class enum` lists the classes of a namespace',
  WBEM_E_INVALID_NAMESPACE: 'check -N: `wbemd namespace list --deep` lists the namespaces',
  WBEM_E_ACCESS_DENIED:
    'pass --token (or --cert/--key); the server ACL may not grant this right (docs/configuration.md)',
  WBEM_E_ALREADY_EXISTS: 'it exists: drop --create-only to update it',
  WBEM_E_INVALID_SUPERCLASS: 'put the superclass first, or check its name',
  WBEM_E_CLASS_HAS_CHILDREN:
    'the change conflicts with subclasses: --safe or --force choose how (docs/wmi-semantics.md)',
  WBEM_E_CLASS_HAS_INSTANCES:
    'the change conflicts with instances: delete them, or --force (docs/wmi-semantics.md)',
  WBEM_E_INVALID_PARAMETER: 'check the arguments and flags',
  WBEM_E_RESERVED_001: 'the class changed since it was read: read it again and retry',
  WBEM_E_QUEUE_OVERFLOW: 'the event log no longer holds that revision: watch without it',
  WBEM_E_SHUTTING_DOWN: 'the server is stopping: retry against a running one',
  WBEM_E_SERVER_TOO_BUSY: 'the server is at its call limit: retry later',
};

export function hintOf(status: WbemError['status']): string {
  return HINTS[status] ?? `see docs/errors.md#${status.toLowerCase()}`;
}

/** Shows `error` once on `err`; returns the exit code. */
export function reportError(error: unknown, address: string, err: NodeJS.WritableStream): number {
  if (error instanceof WbemError) {
    const detail = error.detail === '' ? '' : `: ${error.detail}`;
    err.write(
      `wbemd: ${error.status} (${error.hresult})${detail}\n  hint: ${hintOf(error.status)}\n`,
    );
    return EXIT.wbemError;
  }
  if (error instanceof WbemTransportError) {
    const reason = error.connectFailure;
    err.write(
      reason === undefined
        ? `wbemd: the call to ${address} failed without a WBEM status (gRPC code ${error.code}): ${error.detail}\n`
        : `cannot reach wbemd at ${address}: ${reason}\n`,
    );
    return EXIT.unreachable;
  }
  if (error instanceof UsageError) {
    err.write(`wbemd: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof InputError) {
    err.write(`wbemd: ${error.message}\n`);
    return EXIT.input;
  }
  throw error;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Writes `value` as JSON (the proto JSON mapping, already applied by the caller), one document. */
export function writeJson(out: NodeJS.WritableStream, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Runs a subcommand's body with a client made from its flags (program.ts supplies it). */
export type Runner = <F extends ConnectionFlags>(
  command: Command,
  body: (
    client: WbemClient,
    flags: F,
    out: NodeJS.WritableStream,
    err: NodeJS.WritableStream,
  ) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;
