/**
 * W1: PutClassAsync create of a 2 KB class, durable, 64 in flight, against a bare grpc-js stream
 * server: server CPU per call and throughput. W2: the same at 1 in flight against etcd's Put, with
 * the floor beside it: the bare stream server at 1 in flight plus LevelDB's synced batch alone
 * (bench/leveldb-sync.ts), what wbemd would take if it did no work of its own. Beside both, in the
 * same alternating rounds, the skeleton (bench/skeleton-server.ts): the same request, response
 * shape and synced group commit as wbemd, none of its logic — each row's floor in Node with
 * wbemd's contract, as `info` rows.
 */
import { resolve } from 'node:path';
import { startSkeleton, type ChildServer } from '../child-server';
import { ETCD } from '../etcd';
import { startEtcd } from '../etcd';
import type { SyncProbeResult } from '../leveldb-sync';
import { expectNoErrors, INSTALL_HINT, runLoad, type LoadgenResult } from '../loadgen';
import { makeTempDir, removeTempDir, spawnTracked } from '../procs';
import { addRow, detail, judge, pool, quantile } from '../report';
import {
  ETCD_PUT,
  FLAG,
  isSuccessfulSetStatus,
  putClassRequest,
  setStatusText,
  WBEM,
} from '../requests';
import { alternate, bareServer, freshWbemd, WARMUP, x, type BenchOptions } from './common';

/** Calls that warm a server up before W2 when W1 did not run first. */
const WARM_CALLS = 10_000;

/** W2's reference: etcd Puts of `valueSize`-byte values at 1 in flight for `seconds`. */
export function loneEtcdPuts(
  etcd: { readonly address: string; readonly pid: number },
  valueSize: number,
  serialStart: number,
  seconds: number,
): Promise<LoadgenResult> {
  return runLoad({
    addr: etcd.address,
    method: ETCD_PUT,
    etcdPut: { keyPrefix: 'bench/', valueSize },
    serialStart,
    inflight: 1,
    seconds,
    warmup: WARMUP,
    pids: [etcd.pid],
  });
}

export async function benchWrites(o: BenchOptions, only: (id: string) => boolean): Promise<void> {
  const put = putClassRequest('Bench_C', FLAG.CREATE_ONLY);
  const wbemd = await freshWbemd('w');
  const bare = await bareServer('stream');
  const skeleton = await startSkeleton();
  let serial = 0;
  const putRound =
    (server: ChildServer, inflight: number, seconds: number, count?: number) =>
    async (): Promise<LoadgenResult> => {
      const r = await runLoad({
        addr: server.address,
        method: `${WBEM}PutClassAsync`,
        stream: true,
        request: put.bytes,
        patches: put.patches,
        serialStart: serial,
        inflight,
        seconds,
        ...(count === undefined ? {} : { count }),
        warmup: WARMUP,
        keepLast: true,
        pids: [server.pid],
      });
      serial = r.serialNext;
      expectNoErrors('PutClassAsync', r);
      if (!isSuccessfulSetStatus(r.lastMessageHex))
        throw new Error(`PutClassAsync did not succeed: ${setStatusText(r.lastMessageHex)}`);
      return r;
    };
  const bareRound =
    (server: ChildServer, inflight: number, seconds: number, count?: number) => async () => {
      const r = await runLoad({
        addr: server.address,
        method: '/bench.Bare/Stream',
        stream: true,
        request: Buffer.alloc(put.bytes.length, 7),
        inflight,
        seconds,
        ...(count === undefined ? {} : { count }),
        warmup: WARMUP,
        pids: [server.pid],
      });
      expectNoErrors('bare stream', r);
      return r;
    };
  try {
    if (only('W1')) {
      console.log(
        `\nW1 PutClassAsync create, ${put.bytes.length}-byte request, durable, 64 in flight, vs a bare grpc-js stream server; the floor: the skeleton (${o.rounds} alternating rounds of ${o.seconds} s)`,
      );
      // warm them up
      await alternate(1, [
        putRound(wbemd, 64, 0.5),
        bareRound(bare, 64, 0.5),
        putRound(skeleton, 64, 0.5),
      ]);
      const [puts, bares, skeletons] = await alternate(o.rounds, [
        putRound(wbemd, 64, o.seconds),
        bareRound(bare, 64, o.seconds),
        putRound(skeleton, 64, o.seconds),
      ]);
      const p = pool(puts ?? []);
      const b = pool(bares ?? []);
      const s = pool(skeletons ?? []);
      console.log(detail('wbemd PutClassAsync', p));
      console.log(detail('bare grpc-js stream', b));
      console.log(detail('skeleton (wire shape + sync, no logic)', s));
      const cpuRatio = p.cpuUsPerCall / b.cpuUsPerCall;
      addRow({
        id: 'W1',
        figure: 'server CPU/call ÷ bare stream',
        measured: `${x(cpuRatio)} (${p.cpuUsPerCall.toFixed(0)} / ${b.cpuUsPerCall.toFixed(0)} µs)`,
        goal: '≤ 1.8×',
        status: judge(cpuRatio, 1.8),
      });
      addRow({
        id: 'W1',
        figure: 'throughput ÷ bare stream',
        measured: `${x(p.rps / b.rps)} (${p.rps.toFixed(0)} / ${b.rps.toFixed(0)} /s)`,
        goal: '≥ 0.55×',
        status: judge(p.rps / b.rps, 0.55, true),
      });
      addRow({
        id: 'W1',
        figure: 'floor: same wire shape and durability, no logic; CPU/call ÷ bare stream',
        measured: `${x(s.cpuUsPerCall / b.cpuUsPerCall)} (${s.cpuUsPerCall.toFixed(0)} µs; wbemd ${x(p.cpuUsPerCall / s.cpuUsPerCall)} it)`,
        goal: '–',
        status: 'info',
      });
    }
    if (only('W2')) {
      // The full bench runs W2 on W1's servers after ≈ 10,000 calls or more; alone, W2 warms
      // them with as many first (the JIT tiers a function up after a number of calls, not a
      // time: a cold wbemd spent ≈ 2 ms of CPU a call at 1 in flight here, a warm one ≈ 1).
      if (!only('W1'))
        await alternate(1, [
          putRound(wbemd, 64, 60, WARM_CALLS),
          bareRound(bare, 64, 60, WARM_CALLS),
          putRound(skeleton, 64, 60, WARM_CALLS),
        ]);
      await benchLoneWrite(o, {
        put: putRound(wbemd, 1, o.seconds),
        bare: bareRound(bare, 1, o.seconds),
        skeleton: putRound(skeleton, 1, o.seconds),
        warmPut: putRound(wbemd, 1, 0.5),
      });
    }
  } finally {
    await Promise.all([wbemd.stop(), bare.stop(), skeleton.stop()]);
  }
}

/** W2's rounds at 1 in flight: wbemd, the bare stream server, the skeleton; wbemd's warm-up. */
interface LoneRounds {
  readonly put: () => Promise<LoadgenResult>;
  readonly bare: () => Promise<LoadgenResult>;
  readonly skeleton: () => Promise<LoadgenResult>;
  readonly warmPut: () => Promise<LoadgenResult>;
}

/**
 * W2: a lone durable create against etcd's Put, and two floors: bare stream + LevelDB's sync
 * measured apart, and the skeleton (both in one process, wbemd's wire shape).
 */
async function benchLoneWrite(o: BenchOptions, lone: LoneRounds): Promise<void> {
  const put = putClassRequest('Bench_C', FLAG.CREATE_ONLY);
  console.log(
    `\nW2 PutClassAsync create at 1 in flight vs etcd Put (fsync), same client; the floors: bare grpc-js stream + LevelDB synced batch alone, and the skeleton`,
  );
  if (!o.etcd) {
    console.log(`  skipped: ${ETCD} is not installed (${INSTALL_HINT})`);
    addRow({
      id: 'W2',
      figure: 'p50 ÷ etcd Put p50',
      measured: 'etcd not installed',
      goal: '≤ 1.2×',
      status: 'skipped',
    });
    return;
  }
  const etcd = await startEtcd();
  let etcdSerial = 0;
  const etcdRound = async (): Promise<LoadgenResult> => {
    const r = await loneEtcdPuts(etcd, put.bytes.length, etcdSerial, o.seconds);
    etcdSerial = r.serialNext;
    expectNoErrors('etcd Put', r);
    return r;
  };
  try {
    await alternate(1, [lone.warmPut, etcdRound]);
    const [puts, etcds, bares, probes, skeletons] = await alternate<
      LoadgenResult | SyncProbeResult
    >(o.rounds, [lone.put, etcdRound, lone.bare, () => syncProbe(o.seconds), lone.skeleton]);
    const p = pool((puts ?? []) as LoadgenResult[]);
    const e = pool((etcds ?? []) as LoadgenResult[]);
    const b = pool((bares ?? []) as LoadgenResult[]);
    const probed = (probes ?? []) as SyncProbeResult[];
    const levelMs = p50Of(probed.flatMap((r) => r.levelUs)) / 1e3;
    const s = pool((skeletons ?? []) as LoadgenResult[]);
    console.log(detail('wbemd PutClassAsync, 1 in flight', p));
    console.log(detail(`etcd Put (${put.bytes.length}-byte value)`, e));
    console.log(detail('bare grpc-js stream, 1 in flight', b));
    console.log(
      `  LevelDB synced batch alone (a lone create's 3 puts, own process): p50 ${levelMs.toFixed(2)} ms`,
    );
    console.log(detail('skeleton, 1 in flight', s));
    addRow({
      id: 'W2',
      figure: 'p50 ÷ etcd Put p50',
      measured: `${x(p.p50ms / e.p50ms)} (${p.p50ms.toFixed(2)} / ${e.p50ms.toFixed(2)} ms)`,
      goal: '≤ 1.2×',
      status: judge(p.p50ms / e.p50ms, 1.2),
    });
    const floor = b.p50ms + levelMs;
    addRow({
      id: 'W2',
      figure: 'floor ÷ etcd Put p50 (bare stream + LevelDB sync)',
      measured: `${x(floor / e.p50ms)} (${b.p50ms.toFixed(2)} + ${levelMs.toFixed(2)} ms)`,
      goal: '–',
      status: 'info',
    });
    addRow({
      id: 'W2',
      figure: 'floor: same wire shape and durability, no logic; p50 ÷ etcd Put p50',
      measured: `${x(s.p50ms / e.p50ms)} (${s.p50ms.toFixed(2)} ms; wbemd ${x(p.p50ms / s.p50ms)} it)`,
      goal: '–',
      status: 'info',
    });
  } finally {
    await etcd.stop();
  }
}

function p50Of(values: readonly number[]): number {
  return quantile(
    [...values].sort((a, c) => a - c),
    0.5,
  );
}

/** One run of bench/leveldb-sync.ts in its own process over a fresh temp dir. */
async function syncProbe(seconds: number): Promise<SyncProbeResult> {
  const dir = makeTempDir('wbemd-bench-leveldb-sync-');
  try {
    const child = spawnTracked(
      process.execPath,
      [resolve(__dirname, '../leveldb-sync.js'), dir, String(seconds)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('close', done));
    if (code !== 0) throw new Error(`leveldb-sync exited with ${code}`);
    return JSON.parse(out) as SyncProbeResult;
  } finally {
    removeTempDir(dir);
  }
}
