/**
 * Starts a server in a child process and waits for its `listening on HOST:PORT` line, so the
 * load generator never shares the server's event loop or its CPU accounting.
 */
import { type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { SERVER_ENVIRONMENT, SERVER_NODE_FLAGS } from '../src/cli/node-flags';
import { makeTempDir, removeTempDir, spawnTracked } from './procs';

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
  /** Set in the server's environment: by default what `npm start` sets for wbemd. */
  environment: Readonly<Record<string, string>> = SERVER_ENVIRONMENT,
): Promise<ChildServer> {
  // The server's JSON logs are produced (their cost is part of the figure) but not shown. Every
  // server, wbemd or a reference, runs in the environment `npm start` gives wbemd.
  const child: ChildProcess = spawnTracked(command, args, {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, ...environment },
  });
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

/** The same server, owning `dir`: the directory is removed once the server has stopped. */
export function owningDir(server: ChildServer, dir: string): ChildServer {
  return {
    address: server.address,
    pid: server.pid,
    async stop() {
      await server.stop();
      removeTempDir(dir);
    },
  };
}

/**
 * bench/skeleton-server.ts (W1's and W2's floor) over a fresh temp data dir; `without` names the
 * parts left out (bench/skeleton-parts.ts), none for the floor itself.
 */
export async function startSkeleton(without: readonly string[] = []): Promise<ChildServer> {
  const dir = makeTempDir('wbemd-bench-skeleton-');
  const args = without.length === 0 ? [dir] : [dir, '--without', without.join(',')];
  return owningDir(await startNodeServer(resolve(__dirname, 'skeleton-server.js'), args), dir);
}

/** How a checkout's `npm start` starts its wbemd: the variables it sets and the Node flags it gives. */
export interface NpmStart {
  readonly environment: Readonly<Record<string, string>>;
  readonly flags: readonly string[];
}

export function npmStartOf(dir: string): NpmStart {
  const manifest = JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const start = manifest.scripts?.start ?? '';
  const [, assignments = '', flags = ''] =
    /((?:\b[A-Z_]+=\S+ )*)node ((?:--\S+ )*)bin\/wbemd\.js/.exec(start) ?? [];
  const environment = Object.fromEntries(
    words(assignments).map((word) => {
      const at = word.indexOf('=');
      return [word.slice(0, at), word.slice(at + 1)];
    }),
  );
  return { environment, flags: words(flags) };
}

function words(text: string): string[] {
  return text.split(' ').filter((word) => word !== '');
}
