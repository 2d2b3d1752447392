/**
 * `wbemd serve` as a child process (the built CLI, `npm run build` first) with a JSON
 * configuration, for tests that must kill -9 a server. Its stdout's `listening on HOST:PORT`
 * gives the address; stderr (JSON logs) is kept for failure messages. A process exit kills any
 * child still running, so a failed test leaves none behind.
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

const WBEMD = resolve(__dirname, '..', '..', 'bin', 'wbemd.js');

export interface WbemdProcess {
  readonly address: string;
  readonly pid: number;
  /** The last lines the server logged (stderr). */
  log(): string;
  /** kill -9 and wait until the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after 10 s; removes the config dir. Idempotent. */
  stop(): Promise<void>;
}

const runningChildren = new Set<ChildProcess>();
let hooked = false;

/** Kills the children still running when the test process exits (once installed). */
function killOnExit(child: ChildProcess): void {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const running of runningChildren) running.kill('SIGKILL');
    });
  }
  runningChildren.add(child);
  child.once('exit', () => runningChildren.delete(child));
}

/**
 * `wbemd serve --listen 127.0.0.1:0 --data DIR …args`, as it is: for tests that read its output
 * and signal it themselves. Killed if the test process exits first.
 */
export function spawnServe(
  dataDir: string,
  args: readonly string[] = [],
): ChildProcessByStdio<null, Readable, Readable> {
  return spawnListening(['--data', dataDir, ...args]);
}

/** `wbemd serve --listen 127.0.0.1:0 …args`, its output piped, killed if the test process exits first. */
function spawnListening(args: readonly string[]): ChildProcessByStdio<null, Readable, Readable> {
  const child = spawn(process.execPath, [WBEMD, 'serve', '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  return child;
}

/** Starts `wbemd serve --listen 127.0.0.1:0 --config FILE` with `config` written to FILE. */
export async function startWbemdProcess(
  config: Record<string, unknown>,
  args: readonly string[] = [],
): Promise<WbemdProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'wbemd-process-'));
  const file = join(dir, 'wbemd.json');
  writeFileSync(file, JSON.stringify(config));
  const child = spawnListening(['--config', file, ...args]);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const lines = createInterface({ input: child.stdout });
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (!gone()) {
      const exited = once(child, 'exit');
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    lines.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const address = await new Promise<string>((resolveAddress, reject) => {
      child.once('exit', (code) =>
        reject(new Error(`wbemd exited with ${code} before listening:\n${stderr}`)),
      );
      lines.on('line', (line) => {
        const match = /^listening on (\S+)$/.exec(line);
        if (match?.[1] !== undefined) resolveAddress(match[1]);
      });
    });
    return {
      address,
      pid: child.pid!,
      log: () => stderr.split('\n').slice(-30).join('\n'),
      kill: () => end('SIGKILL'),
      stop: () => end('SIGTERM'),
    };
  } catch (error) {
    await end('SIGKILL');
    throw error;
  }
}
