/**
 * Starts a server in a child process and waits for its `listening on HOST:PORT` line, so the
 * load generator never shares the server's event loop or its CPU accounting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags';

export interface ChildServer {
  readonly address: string;
  stop(): Promise<void>;
}

export async function startChildServer(
  command: string,
  args: readonly string[],
): Promise<ChildServer> {
  // The server's JSON logs are produced (their cost is part of the figure) but not shown.
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  if (child.stdout === null) throw new Error('child has no stdout');
  const lines = createInterface({ input: child.stdout });
  const address = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`${command} ${args.join(' ')} exited with ${code} before listening`)),
    );
    lines.on('line', (line) => {
      const match = /^listening on (\S+)$/.exec(line);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
  });
  return {
    address,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
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
export function startWbemd(dataDir: string): Promise<ChildServer> {
  return startNodeServer(resolve(__dirname, '../../bin/wbemd.js'), [
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--data',
    dataDir,
  ]);
}
