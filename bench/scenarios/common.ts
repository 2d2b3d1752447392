/**
 * What every scenario shares: the options, fresh servers in temp dirs, alternating rounds, and
 * single calls through the load generator.
 */
import { resolve } from 'node:path';
import { startNodeServer, startWbemd, type ChildServer } from '../child-server';
import { expectNoErrors, runLoad, type LoadSpec, type LoadgenResult } from '../loadgen';
import { freePort, makeTempDir, removeTempDir } from '../procs';
import { isSuccessfulSetStatus, setStatusText, WBEM } from '../requests';

export interface BenchOptions {
  /** Alternating rounds per side. */
  readonly rounds: number;
  /** Rounds of the scenarios whose single calls take seconds to minutes today (D1, D2, R3). */
  readonly slowRounds: number;
  /** Measured seconds per round. */
  readonly seconds: number;
  /** Classes stored for R3 and P4. */
  readonly bigClasses: number;
  readonly soakMinutes: number;
  /** L1's heavy calls to run (`--l1-cases`). */
  readonly l1Cases: ReadonlySet<L1Case>;
  /** Whether etcd (Debian's etcd-server) can be started. */
  readonly etcd: boolean;
}

/** L1's heavy calls on its own server: D1's chain, the CIM 2.41 CompileMof, the FORCE update. */
export const L1_CASES = ['d1', 'cim', 'force'] as const;
export type L1Case = (typeof L1_CASES)[number];

/** Seconds of calls before each round's window (connections, JIT), not counted. */
export const WARMUP = 0.3;

/** Calls per round of a one-in-flight enumeration (a slow one could miss a short timed window). */
export const CALLS_PER_ROUND = 5;

export interface Wbemd extends ChildServer {
  readonly dataDir: string;
  /** `HOST:PORT` of GET /metrics when started with metrics. */
  readonly metrics?: string;
}

/** `wbemd serve` over a fresh temp data dir, removed when stopped. */
export async function freshWbemd(label: string, metrics = false): Promise<Wbemd> {
  const dataDir = makeTempDir(`wbemd-bench-${label}-`);
  const metricsAddress = metrics ? `127.0.0.1:${await freePort()}` : undefined;
  const server = await startWbemd(
    dataDir,
    metricsAddress === undefined ? [] : ['--metrics-listen', metricsAddress],
  );
  return {
    address: server.address,
    pid: server.pid,
    dataDir,
    ...(metricsAddress === undefined ? {} : { metrics: metricsAddress }),
    async stop() {
      await server.stop();
      removeTempDir(dataDir);
    },
  };
}

/** A bare grpc-js server (bench/bare-server.ts) as its own process. */
export function bareServer(mode: 'stream' | 'unary', replyBytes?: number): Promise<ChildServer> {
  return startNodeServer(resolve(__dirname, '../bare-server.js'), [
    mode,
    ...(replyBytes === undefined ? [] : [String(replyBytes)]),
  ]);
}

/**
 * Alternating rounds: A B, then B A, then A B …, so that both sides see the same drift of the
 * machine's speed (other tenants, frequency) and neither always goes first.
 */
export async function alternate<T>(
  rounds: number,
  sides: readonly (() => Promise<T>)[],
): Promise<T[][]> {
  const results: T[][] = sides.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const order = sides.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) results[i]?.push(await (sides[i] as () => Promise<T>)());
  }
  return results;
}

/** One streaming call (CompileMof, PutClassAsync) that must end with a successful SetStatus. */
export async function oneWrite(
  server: { address: string; pid: number },
  method: 'CompileMof' | 'PutClassAsync',
  request: Uint8Array,
  extra: Partial<LoadSpec> = {},
): Promise<LoadgenResult> {
  const r = await runLoad({
    addr: server.address,
    method: WBEM + method,
    stream: true,
    request,
    count: 1,
    keepLast: true,
    timeoutSec: 600,
    pids: [server.pid],
    ...extra,
  });
  expectNoErrors(method, r);
  if (!isSuccessfulSetStatus(r.lastMessageHex))
    throw new Error(`${method} did not succeed: ${setStatusText(r.lastMessageHex)}`);
  return r;
}

export const ms = (us: number): string =>
  us >= 1e7 ? `${(us / 1e6).toFixed(1)} s` : `${(us / 1e3).toFixed(us < 1e4 ? 2 : 0)} ms`;
export const x = (ratio: number): string => `${ratio.toFixed(2)}×`;
