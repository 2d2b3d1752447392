/**
 * Everything the bench starts is registered here and ended here: child processes (servers, load
 * generators, etcd, the mofcomp CLI) and temporary directories. On a normal end, an exception,
 * SIGINT or SIGTERM, every child still running is killed and every temp dir removed, so a run
 * leaves nothing behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

/** Spawns a child that is killed at exit if it is still running then. */
export function spawnTracked(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  const child = spawn(command, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  return child;
}

/** A fresh directory under the system's temp dir, removed at exit unless removed before. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Ends whatever is left: SIGKILL for children (a graceful stop already had its chance). */
export function cleanupSync(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let installed = false;

/** Cleanup on exit and on SIGINT/SIGTERM (which then end the bench). */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping every child process\n`);
      cleanupSync();
      process.exit(130);
    });
  }
}

/** How many children are running now (the bench checks it is 0 at the end). */
export function runningChildren(): number {
  return [...children].filter((c) => c.exitCode === null && c.signalCode === null).length;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for servers that take no port 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The fields of /proc/PID/stat after the command's name: state is [0], minflt [7], utime [11]. */
function statFields(pid: number | 'self'): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** utime+stime of a process, all its threads, in seconds (/proc/PID/stat, USER_HZ = 100). */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Minor page faults of a process, all its threads (/proc/PID/stat minflt): each is a page the
 * process touched for the first time. What one costs depends on the machine (first-touch.ts).
 */
export function minorFaults(pid: number): number {
  return Number(statFields(pid)[7]);
}

/** Time the process's main thread has run, in seconds (/proc/PID/task/PID/schedstat, in ns). */
export function mainThreadCpuSeconds(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'latin1').split(' ')[0]) / 1e9;
}

/** CPU seconds of this process's children that have ended and been waited for (cutime+cstime). */
export function endedChildrenCpuSeconds(): number {
  const fields = statFields('self');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Minor page faults of this process's children that have ended and been waited for (cminflt). */
function endedChildrenMinorFaults(): number {
  return Number(statFields('self')[8]);
}

/** A Node script run as a child to its end: its exit code, output, wall time and CPU. */
export interface TimedRun {
  readonly code: number | null;
  /** stdout and stderr, as they came. */
  readonly out: string;
  readonly ms: number;
  /** The child's own CPU (all threads, once ended). */
  readonly clientCpuSec: number;
  /** `serverPid`'s CPU over the same time. */
  readonly serverCpuSec: number;
  /** Of it, the time `serverPid`'s main thread ran (its JavaScript, its GC pauses). */
  readonly serverMainCpuSec: number;
  /** The child's minor page faults (all threads, once ended), and `serverPid`'s over the same time. */
  readonly clientFaults: number;
  readonly serverFaults: number;
}

/** What a timed run measured: its wall time, the child's and the server's CPU and faults. */
export type RunFigures = Omit<TimedRun, 'code' | 'out'>;

/** Runs `node ARGS` (no flags of its own, as a user runs a command) against the server `serverPid`. */
export async function timedNodeRun(args: readonly string[], serverPid: number): Promise<TimedRun> {
  const cpuAt = cpuSeconds(serverPid);
  const mainAt = mainThreadCpuSeconds(serverPid);
  const clientAt = endedChildrenCpuSeconds();
  const faultsAt = minorFaults(serverPid);
  const clientFaultsAt = endedChildrenMinorFaults();
  const started = process.hrtime.bigint();
  const child = spawnTracked(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return {
    code,
    out,
    ms: Number(process.hrtime.bigint() - started) / 1e6,
    serverCpuSec: cpuSeconds(serverPid) - cpuAt,
    serverMainCpuSec: mainThreadCpuSeconds(serverPid) - mainAt,
    clientCpuSec: endedChildrenCpuSeconds() - clientAt,
    serverFaults: minorFaults(serverPid) - faultsAt,
    clientFaults: endedChildrenMinorFaults() - clientFaultsAt,
  };
}

/** VmRSS and VmHWM (peak) of a process, in MB. */
export function memoryMb(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'latin1');
  const kb = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Resets a process's VmHWM to its current RSS (Linux ≥ 4.0; needs the right to write it). */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
