/**
 * W1: PutClassAsync create of a 2 KB class, durable, 64 in flight, against a bare grpc-js stream
 * server: server CPU per call and throughput. W2: the same at 1 in flight against etcd's Put, with
 * the floor beside it: the bare stream server at 1 in flight plus LevelDB's synced batch alone
 * (bench/leveldb-sync.ts), what wbemd would take if it did no work of its own.
 */
import { resolve } from 'node:path';
import type { ChildServer } from '../child-server';
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

export async function benchWrites(o: BenchOptions, only: (id: string) => boolean): Promise<void> {
  const put = putClassRequest('Bench_C', FLAG.CREATE_ONLY);
  const wbemd = await freshWbemd('w');
  const bare = await bareServer('stream');
  let serial = 0;
  const putRound =
    (inflight: number, seconds: number, count?: number) => async (): Promise<LoadgenResult> => {
      const r = await runLoad({
        addr: wbemd.address,
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
        pids: [wbemd.pid],
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
        `\nW1 PutClassAsync create, ${put.bytes.length}-byte request, durable, 64 in flight, vs a bare grpc-js stream server (${o.rounds} alternating rounds of ${o.seconds} s)`,
      );
      await alternate(1, [putRound(64, 0.5), bareRound(bare, 64, 0.5)]); // warm both up
      const [puts, bares] = await alternate(o.rounds, [
        putRound(64, o.seconds),
        bareRound(bare, 64, o.seconds),
      ]);
      const p = pool(puts ?? []);
      const b = pool(bares ?? []);
      console.log(detail('wbemd PutClassAsync', p));
      console.log(detail('bare grpc-js stream', b));
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
    }
    if (only('W2')) {
      // The full bench runs W2 on W1's servers after ≈ 10,000 calls or more; alone, W2 warms
      // them with as many first (the JIT tiers a function up after a number of calls, not a
      // time: a cold wbemd spent ≈ 2 ms of CPU a call at 1 in flight here, a warm one ≈ 1).
      if (!only('W1'))
        await alternate(1, [putRound(64, 60, WARM_CALLS), bareRound(bare, 64, 60, WARM_CALLS)]);
      await benchLoneWrite(o, putRound(1, o.seconds), bareRound(bare, 1, o.seconds), () =>
        putRound(1, 0.5)(),
      );
    }
  } finally {
    await Promise.all([wbemd.stop(), bare.stop()]);
  }
}

/** W2: a lone durable create against etcd's Put, and the floor (bare stream + LevelDB's sync). */
async function benchLoneWrite(
  o: BenchOptions,
  putRound: () => Promise<LoadgenResult>,
  bareRound: () => Promise<LoadgenResult>,
  warmPut: () => Promise<LoadgenResult>,
): Promise<void> {
  const put = putClassRequest('Bench_C', FLAG.CREATE_ONLY);
  console.log(
    `\nW2 PutClassAsync create at 1 in flight vs etcd Put (fsync), same client; the floor: bare grpc-js stream at 1 in flight + LevelDB synced batch alone`,
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
    const r = await runLoad({
      addr: etcd.address,
      method: ETCD_PUT,
      etcdPut: { keyPrefix: 'bench/', valueSize: put.bytes.length },
      serialStart: etcdSerial,
      inflight: 1,
      seconds: o.seconds,
      warmup: WARMUP,
      pids: [etcd.pid],
    });
    etcdSerial = r.serialNext;
    expectNoErrors('etcd Put', r);
    return r;
  };
  try {
    await alternate(1, [warmPut, etcdRound]);
    const [puts, etcds, bares, probes] = await alternate<LoadgenResult | SyncProbeResult>(
      o.rounds,
      [putRound, etcdRound, bareRound, () => syncProbe(o.seconds)],
    );
    const p = pool((puts ?? []) as LoadgenResult[]);
    const e = pool((etcds ?? []) as LoadgenResult[]);
    const b = pool((bares ?? []) as LoadgenResult[]);
    const probed = (probes ?? []) as SyncProbeResult[];
    const levelMs = p50Of(probed.flatMap((r) => r.levelUs)) / 1e3;
    console.log(detail('wbemd PutClassAsync, 1 in flight', p));
    console.log(detail(`etcd Put (${put.bytes.length}-byte value)`, e));
    console.log(detail('bare grpc-js stream, 1 in flight', b));
    console.log(
      `  LevelDB synced batch alone (a lone create's 3 puts, own process): p50 ${levelMs.toFixed(2)} ms`,
    );
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
