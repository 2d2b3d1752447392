/**
 * `wbemd <command> …`: dispatches to the command's module. Each is loaded only when its command
 * runs: `serve` and `store` load the server, the stores and their clients (etcd3, classic-level,
 * pino), which a `wbemd mofcomp` or `wbemd class get` never needs and which cost the command
 * ≈ 0.3–0.6 s of CPU at start (issue #13, P3).
 */
import { isClientCommand } from './commands/command-names';
import { wbemdVersion } from './version';

/** Every command's usage, for `wbemd --help` and an unknown command. */
async function usage(): Promise<string> {
  const [serve, mofcomp, mofgen, store, client] = await Promise.all([
    import('./serve.js'),
    import('./mofcomp.js'),
    import('./mofgen.js'),
    import('./store-copy.js'),
    import('./commands/program.js'),
  ]);
  return `${serve.SERVE_USAGE}\n${mofcomp.MOFCOMP_USAGE}\n${mofgen.MOFGEN_USAGE}\n${store.STORE_USAGE}\n${client.CLIENT_USAGE}`;
}

/**
 * Whether the process may end as soon as `main(argv)` has resolved, without waiting for the event
 * loop to empty: `wbemd mofcomp`, whose calls have all ended by then. What is left is its HTTP/2
 * session's close and, on a natural exit, the teardown of its heap: ≈ 12 ms of the command in
 * P3's rounds (docs/performance.md, P3, 2026-12-04), nothing the server waits for. The caller
 * checks that stdout and stderr have nothing pending first (on Linux their writes to files, pipes
 * and terminals are synchronous; elsewhere a pipe's may not be).
 */
export function endsWhenResolved(argv: readonly string[]): boolean {
  return argv[0] === 'mofcomp';
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(await usage());
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`${wbemdVersion()}\n`);
    return 0;
  }
  if (isClientCommand(argv))
    return (await import('./commands/program.js')).runClientCommand(argv, wbemdVersion());
  if (command === 'mofcomp')
    return (await import('./mofcomp.js')).mofcomp(rest, process.stdout, process.stderr);
  if (command === 'mofgen')
    return (await import('./mofgen.js')).mofgen(rest, process.stdout, process.stderr);
  if (command === 'store')
    return (await import('./store-copy.js')).storeCommand(rest, process.stdout, process.stderr);
  if (command !== 'serve') {
    process.stderr.write(`wbemd: unknown command "${command}"\n${await usage()}`);
    return 2;
  }
  return (await import('./serve.js')).serve(rest);
}
