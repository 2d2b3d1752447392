/**
 * The client subcommands on commander: `wbemd class …`, `namespace …`, `instance …`, `watch`.
 * commander parses and prints usage; every subcommand runs through `runner`, which makes the
 * client, closes it, and turns whatever the body throws into one message and an exit code.
 */
import { Command, CommanderError } from 'commander';
import type { WbemClient } from '../../client';
import { classCommand } from './class-commands';
import { instanceCommand, namespaceCommand, watchCommand } from './other-commands';
import {
  EXIT,
  addressOf,
  clientOf,
  reportError,
  type ConnectionFlags,
  type Runner,
} from './shared';
import { CLIENT_COMMANDS } from './command-names';

export { CLIENT_COMMANDS, isClientCommand } from './command-names';

export const CLIENT_USAGE = `usage: wbemd class get|enum|tree|delete|put …    classes
       wbemd namespace list|create|delete …      namespaces
       wbemd instance get|enum|put|delete …      static instances
       wbemd watch [--class C] [--since-revision N]  class events until Ctrl-C
       wbemd --version

  every one takes --address HOST:PORT (env WBEMD_ADDRESS; default 127.0.0.1:50051),
  --token T, --ca/--cert/--key FILE, -N NAMESPACE, -o table|json|mof;
  \`wbemd class --help\`, \`wbemd class put --help\`… say more (docs/cli.md)
`;

interface Io {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
}

function buildProgram(version: string, io: Io, exit: { code: number }): Command {
  const runner: Runner =
    <F extends ConnectionFlags>(
      command: Command,
      body: (
        client: WbemClient,
        flags: F,
        out: NodeJS.WritableStream,
        err: NodeJS.WritableStream,
      ) => Promise<void>,
    ) =>
    async (): Promise<void> => {
      const flags = command.opts<F>();
      let client: WbemClient | undefined;
      try {
        client = clientOf(flags);
        await body(client, flags, io.out, io.err);
        exit.code = EXIT.ok;
      } catch (error) {
        exit.code = reportError(error, addressOf(flags), io.err);
      } finally {
        client?.close();
      }
    };
  const program = new Command('wbemd')
    .version(version, '-V, --version')
    .configureOutput({
      writeOut: (text) => io.out.write(text),
      writeErr: (text) => io.err.write(text),
    })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');
  program
    .addCommand(classCommand(runner))
    .addCommand(namespaceCommand(runner))
    .addCommand(instanceCommand(runner))
    .addCommand(watchCommand(runner));
  // Every subcommand inherits the output routing and reports errors instead of exiting.
  const configure = (command: Command): void => {
    command.exitOverride().configureOutput(program.configureOutput());
    command.showHelpAfterError('(add --help for usage)');
    command.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

/**
 * The shared options may also come first, as pywbemcli and cimcli users write them
 * (`wbemd --address H:P class get X`): they are moved after the subcommand path, where commander
 * reads a subcommand's options, keeping their order and their values.
 */
export function globalOptionsLast(argv: readonly string[]): string[] {
  const first = argv.findIndex((token) => CLIENT_COMMANDS.includes(token));
  if (first <= 0) return [...argv];
  const leading = argv.slice(0, first);
  const rest = argv.slice(first);
  const end = rest.indexOf('--');
  return end < 0 ? [...rest, ...leading] : [...rest.slice(0, end), ...leading, ...rest.slice(end)];
}

/** Runs `wbemd <argv>` for a client subcommand; resolves with the exit code. */
export async function runClientCommand(
  argv: readonly string[],
  version: string,
  io: Io = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const exit = { code: EXIT.usage as number };
  const program = buildProgram(version, io, exit);
  try {
    await program.parseAsync(globalOptionsLast(argv), { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError)
      // --help and --version end well; a missing subcommand shows the help as an error.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? EXIT.ok
        : EXIT.usage;
    throw error;
  }
  return exit.code;
}
