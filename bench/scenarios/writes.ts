/**
 * W1: PutClassAsync create of a 2 KB class, durable, 64 in flight, against a bare grpc-js stream
 * server: server CPU per call and throughput. W2: the same at 1 in flight against etcd's Put.
 */
import type { ChildServer } from '../child-server';
import { ETCD } from '../etcd';
import { startEtcd } from '../etcd';
import { expectNoErrors, INSTALL_HINT, runLoad, type LoadgenResult } from '../loadgen';
import { addRow, detail, judge, pool } from '../report';
import {
  ETCD_PUT,
  FLAG,
  isSuccessfulSetStatus,
  putClassRequest,
  setStatusText,
  WBEM,
} from '../requests';
import { alternate, bareServer, freshWbemd, WARMUP, x, type BenchOptions } from './common';

export async function benchWrites(o: BenchOptions, only: (id: string) => boolean): Promise<void> {
  const put = putClassRequest('Bench_C', FLAG.CREATE_ONLY);
  const wbemd = await freshWbemd('w');
  const bare = await bareServer('stream');
  let serial = 0;
  const putRound = (inflight: number, seconds: number) => async (): Promise<LoadgenResult> => {
    const r = await runLoad({
      addr: wbemd.address,
      method: `${WBEM}PutClassAsync`,
      stream: true,
      request: put.bytes,
      patches: put.patches,
      serialStart: serial,
      inflight,
      seconds,
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
  const bareRound = (server: ChildServer, inflight: number, seconds: number) => async () => {
    const r = await runLoad({
      addr: server.address,
      method: '/bench.Bare/Stream',
      stream: true,
      request: Buffer.alloc(put.bytes.length, 7),
      inflight,
      seconds,
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
      console.log(`\nW2 PutClassAsync create at 1 in flight vs etcd Put (fsync), same client`);
      if (!o.etcd) {
        console.log(`  skipped: ${ETCD} is not installed (${INSTALL_HINT})`);
        addRow({
          id: 'W2',
          figure: 'p50 ÷ etcd Put p50',
          measured: 'etcd not installed',
          goal: '≤ 1.2×',
          status: 'skipped',
        });
      } else {
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
          await alternate(1, [putRound(1, 0.5), etcdRound]);
          const [puts, etcds] = await alternate(o.rounds, [putRound(1, o.seconds), etcdRound]);
          const p = pool(puts ?? []);
          const e = pool(etcds ?? []);
          console.log(detail('wbemd PutClassAsync, 1 in flight', p));
          console.log(detail(`etcd Put (${put.bytes.length}-byte value)`, e));
          addRow({
            id: 'W2',
            figure: 'p50 ÷ etcd Put p50',
            measured: `${x(p.p50ms / e.p50ms)} (${p.p50ms.toFixed(2)} / ${e.p50ms.toFixed(2)} ms)`,
            goal: '≤ 1.2×',
            status: judge(p.p50ms / e.p50ms, 1.2),
          });
        } finally {
          await etcd.stop();
        }
      }
    }
  } finally {
    await Promise.all([wbemd.stop(), bare.stop()]);
  }
}
