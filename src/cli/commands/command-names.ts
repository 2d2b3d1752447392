/**
 * Which word of `wbemd <argv>` names a client subcommand: kept apart from program.ts so that
 * main.ts decides where a command goes without loading commander and the client.
 */

/** The subcommands program.ts serves (main.ts dispatches them there). */
export const CLIENT_COMMANDS: readonly string[] = ['class', 'namespace', 'instance', 'watch'];

const SERVER_SIDE = new Set(['serve', 'mofcomp', 'mofgen']);

/** Whether `argv` runs a client subcommand. */
export function isClientCommand(argv: readonly string[]): boolean {
  // The first word that names a command decides (what comes before it are shared options).
  const command = argv.find((token) => CLIENT_COMMANDS.includes(token) || SERVER_SIDE.has(token));
  return command !== undefined && CLIENT_COMMANDS.includes(command);
}
