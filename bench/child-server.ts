/**
 * Starts a server in a child process and waits for its `listening on HOST:PORT` line, so the
 * load generator never shares the server's event loop or its CPU accounting.
 */
import { type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags';
import { spawnTracked } from './procs';

export interface ChildServer {
  readonly address: string;
  /** The server's process id: its CPU time and RSS are read from /proc/PID. */
  readonly pid: number;
  stop(): Promise<void>;
}

/** How long a SIGTERM may take before SIGKILL (wbemd's own grace is 10 s). */
const STOP_MS = 15_000;

export async function startChildServer(
  command: string,
  args: readonly string[],
  /** Sees every line of the server's stdout (e.g. V8's --trace-gc-nvp output). */
  onLine?: (line: string) => void,
): Promise<ChildServer> {
  // The server's JSON logs are produced (their cost is part of the figure) but not shown.
  const child: ChildProcess = spawnTracked(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  if (child.stdout === null || child.pid === undefined) throw new Error(`${command} did not start`);
  const pid = child.pid;
  const lines = createInterface({ input: child.stdout });
  if (onLine !== undefined) lines.on('line', onLine);
  const address = await new Promise<string>((resolvePromise, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`${command} ${args.join(' ')} exited with ${code} before listening`)),
    );
    lines.on('line', (line) => {
      const match = /^listening on (\S+)$/.exec(line);
      if (match?.[1] !== undefined) resolvePromise(match[1]);
    });
  });
  return {
    address,
    pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
      await exited;
      clearTimeout(timer);
      lines.close();
    },
  };
}

/** A node script of this folder (compiled) run as a server with the Node flags `npm start` gives wbemd. */
export function startNodeServer(
  script: string,
  args: readonly string[] = [],
): Promise<ChildServer> {
  return startChildServer(process.execPath, [...SERVER_NODE_FLAGS, script, ...args]);
}

/** `wbemd serve` on an ephemeral loopback port over `dataDir`, started as `npm start` starts it. */
export function startWbemd(
  dataDir: string,
  extraArgs: readonly string[] = [],
): Promise<ChildServer> {
  return startNodeServer(resolve(__dirname, '../../bin/wbemd.js'), [
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--data',
    dataDir,
    ...extraArgs,
  ]);
}
