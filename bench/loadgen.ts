/**
 * The native load generator (bench/loadgen/main.go): built here from Debian's Go packages, offline
 * (GOPATH mode over /usr/share/gocode), and run as its own process per measured round.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { makeTempDir, spawnTracked } from './procs';

export const GO_PACKAGES = 'golang-go golang-google-grpc-dev golang-google-protobuf-dev';
export const INSTALL_HINT = `apt-get install -y --no-install-recommends ${GO_PACKAGES} etcd-server`;

const SOURCE = resolve(__dirname, '../../bench/loadgen');
const BINARY = resolve(__dirname, 'loadgen/loadgen');
const GOPATH = '/usr/share/gocode';

/** Builds the load generator if Go and Debian's grpc sources are there; why not, otherwise. */
export function buildLoadgen(): { ok: true; path: string } | { ok: false; reason: string } {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    return { ok: false, reason: 'go is not installed' };
  }
  if (!existsSync(join(GOPATH, 'src/google.golang.org/grpc')))
    return { ok: false, reason: `Debian's gRPC Go sources are missing (${GOPATH})` };
  const sources = readdirSync(SOURCE).filter((name) => name.endsWith('.go'));
  const newest = Math.max(...sources.map((name) => statSync(join(SOURCE, name)).mtimeMs));
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs > newest) return { ok: true, path: BINARY };
  mkdirSync(resolve(BINARY, '..'), { recursive: true });
  try {
    execFileSync('go', ['build', '-o', BINARY, '.'], {
      cwd: SOURCE,
      env: { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '', GOPROXY: 'off' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    return {
      ok: false,
      reason: `go build failed: ${stderr.trim().split('\n').slice(0, 5).join(' | ')}`,
    };
  }
  return { ok: true, path: BINARY };
}

export interface ServerWindow {
  readonly pid: number;
  readonly cpuSec: number;
  readonly rssKb: number;
  readonly hwmKb: number;
}

/** What loadgen prints (main.go's result). */
export interface LoadgenResult {
  readonly method: string;
  readonly inflight: number;
  readonly calls: number;
  readonly errors: Record<string, number>;
  readonly firstError?: string;
  readonly seconds: number;
  readonly throughput: number;
  readonly latencyUs: { p50: number; p90: number; p99: number; max: number; mean: number };
  readonly firstMessageUs?: { p50: number; max: number };
  readonly messages: number;
  readonly bytes: number;
  readonly requestBytes: number;
  readonly clientCpuSec: number;
  readonly servers: readonly ServerWindow[];
  readonly lastMessageHex?: string;
  readonly serialNext: number;
  /** Every successful call's latency (µs), read from -latency-file. */
  readonly latencies: number[];
}

export interface LoadSpec {
  readonly addr: string;
  readonly method: string;
  readonly stream?: boolean;
  /** The encoded request; or etcd: a PutRequest built by loadgen itself. */
  readonly request?: Uint8Array;
  readonly etcdPut?: { keyPrefix: string; valueSize: number };
  /** Byte offsets of decimal serial fields in the request: [offset, width, modulo?]. */
  readonly patches?: readonly (readonly [number, number, number?])[];
  readonly serialStart?: number;
  readonly inflight?: number;
  readonly conns?: number;
  readonly seconds?: number;
  readonly warmup?: number;
  readonly count?: number;
  readonly rate?: number;
  readonly timeoutSec?: number;
  readonly window?: number;
  readonly recvDelayUs?: number;
  readonly keepLast?: boolean;
  /** Server processes whose CPU time is read over the window. */
  readonly pids?: readonly number[];
}

let binary: string | undefined;
let scratch: string | undefined;
let runs = 0;

export function useLoadgen(path: string): void {
  binary = path;
}

function argsOf(spec: LoadSpec, latencyFile: string): string[] {
  if (scratch === undefined) scratch = makeTempDir('wbemd-bench-loadgen-');
  const args = ['-addr', spec.addr, '-method', spec.method, '-latency-file', latencyFile];
  if (spec.stream === true) args.push('-stream');
  if (spec.request !== undefined) {
    const file = join(scratch, `request-${runs}.bin`);
    writeFileSync(file, spec.request);
    args.push('-request', file);
  }
  if (spec.etcdPut !== undefined)
    args.push(
      '-etcd-key-prefix',
      spec.etcdPut.keyPrefix,
      '-etcd-value-size',
      String(spec.etcdPut.valueSize),
    );
  for (const [offset, width, mod] of spec.patches ?? [])
    args.push('-patch', `${offset}:${width}${mod === undefined ? '' : `:${mod}`}`);
  const numeric: [string, number | undefined][] = [
    ['-serial-start', spec.serialStart],
    ['-inflight', spec.inflight],
    ['-conns', spec.conns],
    ['-duration', spec.seconds],
    ['-warmup', spec.warmup],
    ['-count', spec.count],
    ['-rate', spec.rate],
    ['-timeout', spec.timeoutSec],
    ['-window', spec.window],
    ['-recv-delay-us', spec.recvDelayUs],
  ];
  for (const [flag, value] of numeric) if (value !== undefined) args.push(flag, String(value));
  if (spec.keepLast === true) args.push('-keep-last');
  for (const pid of spec.pids ?? []) args.push('-pid', String(pid));
  return args;
}

/** A load generator process: `measuring` resolves when its window opens, `result` at its end. */
export interface RunningLoad {
  readonly measuring: Promise<void>;
  readonly result: Promise<LoadgenResult>;
  /** Closes the window now (SIGTERM); the result still comes. */
  stop(): void;
}

export function startLoad(spec: LoadSpec): RunningLoad {
  if (binary === undefined) throw new Error('the load generator is not built');
  if (scratch === undefined) scratch = makeTempDir('wbemd-bench-loadgen-');
  const latencyFile = join(scratch, `latencies-${runs++}.txt`);
  const args = argsOf(spec, latencyFile);
  const child: ChildProcess = spawnTracked(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.stdout === null || child.stderr === null) throw new Error('loadgen has no stdout');
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  let onMeasuring: () => void = () => undefined;
  const measuring = new Promise<void>((resolvePromise) => (onMeasuring = resolvePromise));
  const result = new Promise<LoadgenResult>((resolvePromise, reject) => {
    let parsed: Omit<LoadgenResult, 'latencies'> | undefined;
    lines.on('line', (line) => {
      if (line === '{"phase":"measuring"}') onMeasuring();
      else if (line.startsWith('{')) parsed = JSON.parse(line) as Omit<LoadgenResult, 'latencies'>;
    });
    // 'close', not 'exit': the result line may still be unread in stdout when the process exits.
    child.once('close', (code) => {
      onMeasuring();
      if (code !== 0 || parsed === undefined) {
        reject(new Error(`loadgen ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
        return;
      }
      const latencies = existsSync(latencyFile)
        ? readFileSync(latencyFile, 'latin1')
            .split('\n')
            .filter((l) => l !== '')
            .map(Number)
        : [];
      resolvePromise({ ...parsed, latencies });
    });
  });
  return {
    measuring,
    result,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}

export function runLoad(spec: LoadSpec): Promise<LoadgenResult> {
  return startLoad(spec).result;
}

/** Throws when any call failed (the figures of a failing server mean nothing). */
export function expectNoErrors(label: string, r: LoadgenResult): void {
  const failed = Object.values(r.errors).reduce((a, b) => a + b, 0);
  if (failed > 0)
    throw new Error(
      `${label}: ${failed} of ${failed + r.calls} calls failed (${r.firstError ?? ''})`,
    );
}
