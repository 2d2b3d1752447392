/**
 * What the client commands (`mofcomp`, `mofgen`) share: the options every one of them takes,
 * argument parsing with the usual exits (usage error 2, --help 0), and the server's address
 * (grpc-client.ts connects to it: grpc-js is loaded only by the commands that use it).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Options every client command takes. */
export const CLIENT_OPTIONS = {
  server: { type: 'string' },
  namespace: { type: 'string', short: 'N' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

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

/** `--server`, else env WBEMD_SERVER, else 127.0.0.1:50051. */
export function serverAddress(server: string | undefined): string {
  return server ?? process.env.WBEMD_SERVER ?? '127.0.0.1:50051';
}
