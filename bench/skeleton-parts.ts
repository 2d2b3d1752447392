/**
 * What each part of W1's and W2's floor costs: `node dist/bench/skeleton-parts.js [--rounds N]
 * [--seconds S] [--inflight 64,1]` runs wbemd, the bare grpc-js stream server and the skeleton
 * (bench/skeleton-server.ts) whole and with one part left out at a time (the request's decode,
 * the headers sent at accept, the fdatasync, LevelDB for a plain file, the pool thread, the store), in alternating rounds of W1's request
 * from the load generator, at each number in flight (with etcd's Put at 1 when installed), and
 * prints each server's CPU per call and p50. The variants break wbemd's contract: they say what
 * the contract costs, not what a server may do. Not part of `npm run bench` (docs/performance.md).
 */
import { parseArgs } from 'node:util';
import { startSkeleton, type ChildServer } from './child-server';
import { etcdInstalled, startEtcd } from './etcd';
import { buildLoadgen, expectNoErrors, runLoad, useLoadgen, type LoadgenResult } from './loadgen';
import { installCleanup } from './procs';
import { detail, pool } from './report';
import { FLAG, putClassRequest, WBEM } from './requests';
import { loneEtcdPuts } from './scenarios/writes';
import { alternate, bareServer, freshWbemd, WARMUP } from './scenarios/common';

const VARIANTS: readonly (readonly [string, string])[] = [
  ['skeleton', ''],
  ['skeleton without decode', 'decode'],
  ['skeleton without early headers', 'early-headers'],
  ['skeleton without fdatasync', 'sync'],
  ['skeleton, a plain file instead of LevelDB', 'leveldb'],
  ['skeleton, that file on the main thread', 'pool'],
  ['skeleton without store', 'store'],
  ['skeleton without all four', 'decode,early-headers,store'],
];

interface Side {
  readonly label: string;
  readonly server: ChildServer;
  readonly method: string;
}

async function main(): Promise<void> {
  installCleanup();
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '4' },
      seconds: { type: 'string', default: '1.5' },
      inflight: { type: 'string', default: '64,1' },
    },
  });
  const built = buildLoadgen();
  if (!built.ok) throw new Error(built.reason);
  useLoadgen(built.path);
  const put = putClassRequest('Bench_C', FLAG.CREATE_ONLY);
  const sides: Side[] = [
    { label: 'wbemd', server: await freshWbemd('parts'), method: `${WBEM}PutClassAsync` },
    { label: 'bare grpc-js stream', server: await bareServer('stream'), method: '' },
  ];
  for (const [label, without] of VARIANTS)
    sides.push({
      label,
      server: await startSkeleton(without === '' ? [] : without.split(',')),
      method: `${WBEM}PutClassAsync`,
    });
  const etcd = etcdInstalled() ? await startEtcd() : undefined;
  let serial = 0;
  const round = (side: Side, inflight: number, seconds: number) => async () => {
    const r = await runLoad({
      addr: side.server.address,
      method: side.method === '' ? '/bench.Bare/Stream' : side.method,
      stream: true,
      request: side.method === '' ? Buffer.alloc(put.bytes.length, 7) : put.bytes,
      ...(side.method === '' ? {} : { patches: put.patches }),
      serialStart: serial,
      inflight,
      seconds,
      warmup: WARMUP,
      pids: [side.server.pid],
    });
    serial = r.serialNext;
    expectNoErrors(side.label, r);
    return r;
  };
  const etcdRound = (seconds: number) => async (): Promise<LoadgenResult> => {
    if (etcd === undefined) throw new Error('no etcd');
    const r = await loneEtcdPuts(etcd, put.bytes.length, serial, seconds);
    serial = r.serialNext;
    return r;
  };
  try {
    // Every server's code warmed up as W1 warms wbemd's (the JIT tiers up by calls).
    await alternate(1, [...sides.map((s) => round(s, 64, 3))]);
    for (const inflight of (values.inflight ?? '').split(',').map(Number)) {
      const rounds = sides.map((s) => round(s, inflight, Number(values.seconds)));
      if (inflight === 1 && etcd !== undefined) rounds.push(etcdRound(Number(values.seconds)));
      const results = await alternate(Number(values.rounds), rounds);
      console.log(`\n${inflight} in flight, ${values.rounds} alternating rounds`);
      const labels = [...sides.map((s) => s.label), 'etcd Put'];
      results.forEach((r, i) => console.log(detail(labels[i] ?? '', pool(r))));
    }
  } finally {
    await Promise.all([...sides.map((s) => s.server.stop()), etcd?.stop()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
