/**
 * E1: PutClassAsync create of a 2 KB class, durable, 64 in flight, on three deployments in
 * alternating rounds: one wbemd on LevelDB (the embedded default), one wbemd on one etcd member,
 * two wbemd replicas on a three-member etcd cluster (the load generator spreads its calls over
 * both replicas). E2: GetClass of small classes, 64 in flight, through one replica and through
 * both, on the three-member cluster. Server CPU is summed over the deployment's processes (wbemd
 * and etcd separately), so the figures show where the time goes.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { owningDir, startNodeServer, type ChildServer } from '../child-server';
import { startEtcdCluster, type EtcdCluster } from '../etcd';
import { expectNoErrors, INSTALL_HINT, runLoad, type LoadgenResult } from '../loadgen';
import { makeTempDir } from '../procs';
import { addRow, pool, type Pooled } from '../report';
import {
  FLAG,
  getClassPatched,
  isSuccessfulSetStatus,
  putClassRequest,
  setStatusText,
  WBEM,
} from '../requests';
import { alternate, freshWbemd, WARMUP, type BenchOptions } from './common';

/** Classes the read row spreads its GetClass calls over. */
const READ_CLASSES = 200;

/** `wbemd serve` on an etcd store (a config file naming the endpoints), its own prefix. */
async function etcdWbemd(endpoints: readonly string[], prefix: string): Promise<ChildServer> {
  const dir = makeTempDir('wbemd-bench-replica-');
  const config = join(dir, 'wbemd.json');
  writeFileSync(config, JSON.stringify({ store: { etcd: { endpoints, prefix } } }));
  const server = await startNodeServer(resolve(__dirname, '../../../bin/wbemd.js'), [
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--config',
    config,
  ]);
  return owningDir(server, dir);
}

/** One deployment under test: where the load goes and whose CPU counts. */
interface Deployment {
  readonly label: string;
  readonly addresses: readonly string[];
  readonly wbemdPids: readonly number[];
  readonly etcdPids: readonly number[];
}

interface Side {
  readonly pooled: Pooled;
  /** Calls that failed, by gRPC code (counted, not fatal: two replicas writing one namespace conflict). */
  readonly failed: Record<string, number>;
  /** CPU µs per call of the wbemd processes, summed; of the etcd members, summed. */
  readonly wbemdUsPerCall: number;
  readonly etcdUsPerCall: number;
}

function side(results: readonly LoadgenResult[], deployment: Deployment): Side {
  const calls = results.reduce((s, r) => s + r.calls, 0);
  const cpuOf = (pids: readonly number[]): number =>
    results.reduce(
      (s, r) => s + r.servers.filter((w) => pids.includes(w.pid)).reduce((a, w) => a + w.cpuSec, 0),
      0,
    );
  const failed: Record<string, number> = {};
  for (const r of results)
    for (const [code, n] of Object.entries(r.errors)) failed[code] = (failed[code] ?? 0) + n;
  return {
    pooled: pool(results),
    failed,
    wbemdUsPerCall: (cpuOf(deployment.wbemdPids) / calls) * 1e6,
    etcdUsPerCall: (cpuOf(deployment.etcdPids) / calls) * 1e6,
  };
}

function line(label: string, s: Side): string {
  const p = s.pooled;
  const etcd = Number.isFinite(s.etcdUsPerCall) && s.etcdUsPerCall > 0;
  return `  ${label.padEnd(34)} ${p.rps.toFixed(0).padStart(6)}/s  p50 ${p.p50ms.toFixed(2).padStart(7)} ms  p99 ${p.p99ms.toFixed(2).padStart(7)} ms  wbemd ${s.wbemdUsPerCall.toFixed(0).padStart(5)} µs/call${etcd ? `  etcd ${s.etcdUsPerCall.toFixed(0).padStart(5)} µs/call` : ''}  [${p.calls} calls, ${p.rounds} rounds]${failures(s)}`;
}

function failures(s: Side): string {
  const entries = Object.entries(s.failed);
  return entries.length === 0 ? '' : `; failed: ${entries.map(([c, n]) => `${n} ${c}`).join(', ')}`;
}

function addFigure(id: string, label: string, s: Side): void {
  addRow({
    id,
    figure: label,
    measured: `${s.pooled.rps.toFixed(0)}/s, p50 ${s.pooled.p50ms.toFixed(1)} ms, p99 ${s.pooled.p99ms.toFixed(1)} ms${failures(s)}`,
    goal: '-',
    status: 'info',
  });
}

export async function benchReplicas(o: BenchOptions, only: (id: string) => boolean): Promise<void> {
  if (!o.etcd) {
    console.log(`\nE1/E2 skipped: etcd is not installed (${INSTALL_HINT})`);
    for (const id of ['E1', 'E2'])
      if (only(id))
        addRow({ id, figure: '-', measured: 'etcd not installed', goal: '-', status: 'skipped' });
    return;
  }
  const started: { stop(): Promise<void> }[] = [];
  try {
    const level = await freshWbemd('e1');
    started.push(level);
    const single: EtcdCluster = await startEtcdCluster(1);
    started.push(single);
    const oneOnOne = await etcdWbemd(single.endpoints, '/bench-e1/');
    started.push(oneOnOne);
    const three: EtcdCluster = await startEtcdCluster(3);
    started.push(three);
    const replicaA = await etcdWbemd(three.endpoints, '/bench-e1/');
    started.push(replicaA);
    const replicaB = await etcdWbemd(three.endpoints, '/bench-e1/');
    started.push(replicaB);
    const deployments: Deployment[] = [
      {
        label: 'LevelDB, one wbemd',
        addresses: [level.address],
        wbemdPids: [level.pid],
        etcdPids: [],
      },
      {
        label: 'etcd ×1, one wbemd',
        addresses: [oneOnOne.address],
        wbemdPids: [oneOnOne.pid],
        etcdPids: single.pids,
      },
      {
        label: 'etcd ×3, two wbemd replicas',
        addresses: [replicaA.address, replicaB.address],
        wbemdPids: [replicaA.pid, replicaB.pid],
        etcdPids: three.pids,
      },
    ];
    if (only('E1')) await createRow(o, deployments);
    if (only('E2')) await readRow(o, deployments[2] as Deployment);
  } finally {
    for (const s of started.reverse()) await s.stop();
  }
}

async function createRow(o: BenchOptions, deployments: readonly Deployment[]): Promise<void> {
  const put = putClassRequest('Bench_E', FLAG.CREATE_ONLY);
  console.log(
    `\nE1 PutClassAsync create, ${put.bytes.length}-byte request, durable, 64 in flight: LevelDB vs etcd ×1 vs two replicas on etcd ×3 (${o.rounds} alternating rounds of ${o.seconds} s)`,
  );
  const serials = deployments.map(() => 0);
  const round = (d: Deployment, i: number, seconds: number) => async (): Promise<LoadgenResult> => {
    const r = await runLoad({
      addr: d.addresses.join(','),
      method: `${WBEM}PutClassAsync`,
      stream: true,
      request: put.bytes,
      patches: put.patches,
      serialStart: serials[i],
      inflight: 64,
      seconds,
      warmup: WARMUP,
      keepLast: true,
      pids: [...d.wbemdPids, ...d.etcdPids],
    });
    serials[i] = r.serialNext;
    // Replicas writing one namespace may give up after five conflicts (WBEM_E_SERVER_TOO_BUSY,
    // UNAVAILABLE, D70): counted and shown; any other failure ends the row.
    const other = Object.keys(r.errors).filter((code) => code !== 'Unavailable');
    if (d.wbemdPids.length < 2 || other.length > 0) expectNoErrors(`PutClassAsync (${d.label})`, r);
    if (!isSuccessfulSetStatus(r.lastMessageHex))
      throw new Error(`PutClassAsync did not succeed: ${setStatusText(r.lastMessageHex)}`);
    return r;
  };
  await alternate(
    1,
    deployments.map((d, i) => round(d, i, 0.5)),
  ); // warm every side up
  const results = await alternate(
    o.rounds,
    deployments.map((d, i) => round(d, i, o.seconds)),
  );
  deployments.forEach((d, i) => {
    const s = side(results[i] ?? [], d);
    console.log(line(d.label, s));
    addFigure('E1', `create, ${d.label}`, s);
  });
}

async function readRow(o: BenchOptions, cluster: Deployment): Promise<void> {
  const [first] = cluster.addresses;
  if (first === undefined) return;
  // The classes to read, written through one replica before the rounds (no write conflicts).
  const put = putClassRequest('Bench_G', FLAG.CREATE_ONLY, READ_CLASSES);
  const setup = await runLoad({
    addr: first,
    method: `${WBEM}PutClassAsync`,
    stream: true,
    request: put.bytes,
    patches: put.patches,
    inflight: 8,
    count: READ_CLASSES,
    timeoutSec: 60,
  });
  expectNoErrors('PutClassAsync (read set)', setup);
  const get = getClassPatched('Bench_G', READ_CLASSES);
  console.log(
    `\nE2 GetClass of ${READ_CLASSES} 2 KB classes, 64 in flight, on etcd ×3: one replica vs two (${o.rounds} alternating rounds of ${o.seconds} s)`,
  );
  const one: Deployment = {
    ...cluster,
    label: 'one replica',
    addresses: [first],
    wbemdPids: cluster.wbemdPids.slice(0, 1),
  };
  const two: Deployment = { ...cluster, label: 'two replicas' };
  const round = (d: Deployment) => async (): Promise<LoadgenResult> => {
    const r = await runLoad({
      addr: d.addresses.join(','),
      method: `${WBEM}GetClass`,
      request: get.bytes,
      patches: get.patches,
      inflight: 64,
      seconds: o.seconds,
      warmup: WARMUP,
      pids: [...d.wbemdPids, ...d.etcdPids],
    });
    expectNoErrors(`GetClass (${d.label})`, r);
    return r;
  };
  await alternate(1, [round(one), round(two)]);
  const [ones, twos] = await alternate(o.rounds, [round(one), round(two)]);
  const a = side(ones ?? [], one);
  const b = side(twos ?? [], two);
  console.log(line('GetClass, one replica', a));
  console.log(line('GetClass, two replicas', b));
  addFigure('E2', 'GetClass, one replica', a);
  addFigure('E2', 'GetClass, two replicas', b);
  addRow({
    id: 'E2',
    figure: 'read rate two ÷ one replica',
    measured: `${(b.pooled.rps / a.pooled.rps).toFixed(2)}×`,
    goal: '-',
    status: 'info',
  });
}
