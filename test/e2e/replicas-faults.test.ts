/**
 * Issue #14 item 4: wbemd replicas (the built CLI, child processes) on a three-member etcd cluster
 * (test/helpers/etcd-cluster.ts), faults injected for real:
 * - kill -9 of the etcd leader under write load: every acknowledged PutClassAsync is readable
 *   afterwards with the revision it was acknowledged with, and writes go on;
 * - kill -9 of a replica: a grpc-js client given every replica's address (round_robin over a
 *   static list) carries on with the others;
 * - every etcd member down: a write fails within a bounded time with a WBEM status (not a hang),
 *   health turns NOT_SERVING, and both come back once etcd does.
 */
import {
  credentials,
  Metadata,
  status as Code,
  type ChannelOptions,
  type ServiceError,
} from '@grpc/grpc-js';
import { request } from 'node:http';
import {
  HealthCheckResponse_ServingStatus as Serving,
  HealthClient,
} from '../../generated/grpc/health/v1/health';
import { WbemServicesClient, type GetClassResponse } from '../../generated/wbem/v1/services';
import { etcdTool, startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster';
import { describeWithTool } from '../helpers/external-tools';
import { deadline, transcript, type CallEnd } from '../helpers/transcript';
import { startWbemdProcess, type WbemdProcess } from '../helpers/wbemd-process';
import { keyed } from './fixtures';

const CREATE_ONLY = 2;
const PREFIX = '/wbemd-faults/';

/** A client that spreads its calls over every address (grpc-js round_robin over a static list). */
function roundRobinClient(addresses: readonly string[]): WbemServicesClient {
  const options: ChannelOptions = {
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  };
  const target = `ipv4:${addresses.join(',')}`;
  return new WbemServicesClient(target, credentials.createInsecure(), options);
}

type PutResult =
  | { readonly ok: true; readonly name: string; readonly revision: bigint; readonly at: number }
  | { readonly ok: false; readonly name: string; readonly end: CallEnd; readonly at: number };

/** PutClassAsync CREATE_ONLY of a keyed class: acknowledged (with its revision) or failed (with its end). */
async function put(
  client: WbemServicesClient,
  name: string,
  timeoutMs = 20_000,
): Promise<PutResult> {
  const tr = await transcript(
    client.putClassAsync(
      { namespace: 'root/cimv2', object: keyed(name), flags: CREATE_ONLY },
      new Metadata(),
      deadline(timeoutMs),
    ),
  );
  const last = tr.messages.at(-1)?.event;
  if (tr.end.code === Code.OK && last?.$case === 'status')
    return { ok: true, name, revision: last.status.revision, at: Date.now() };
  return { ok: false, name, end: tr.end, at: Date.now() };
}

function getClass(
  client: WbemServicesClient,
  className: string,
): Promise<GetClassResponse | ServiceError> {
  return new Promise((resolve) =>
    client.getClass(
      { namespace: 'root/cimv2', className, localOnly: true, asMof: false },
      new Metadata(),
      deadline(),
      (error: ServiceError | null, response?: GetClassResponse) =>
        resolve(error ?? (response as GetClassResponse)),
    ),
  );
}

function health(address: string): Promise<Serving | string> {
  const client = new HealthClient(address, credentials.createInsecure());
  return new Promise((resolve) =>
    client.check({ service: '' }, new Metadata(), deadline(3_000), (error, response) => {
      client.close();
      resolve(error === null ? (response?.status ?? 'no response') : Code[error.code]);
    }),
  );
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  withinMs: number,
): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (done(value)) return { value, ms: Date.now() - started };
    if (Date.now() - started > withinMs)
      throw new Error(`${what}: still ${String(value)} after ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Writers that create classes `${prefix}N` one after another until stopped, keeping every result. */
function writeLoad(client: WbemServicesClient, prefix: string, writers: number) {
  const results: PutResult[] = [];
  let next = 0;
  let stopped = false;
  const loops = Array.from({ length: writers }, async () => {
    while (!stopped) results.push(await put(client, `${prefix}${next++}`));
  });
  return {
    results,
    acked: () => results.filter((r): r is Extract<PutResult, { ok: true }> => r.ok),
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** The etcd leader's index, from each member's /v3/maintenance/status (JSON gateway). */
async function leaderIndex(cluster: EtcdCluster): Promise<number> {
  const status = (endpoint: string): Promise<{ member: string; leader: string } | undefined> =>
    new Promise((resolve) => {
      const req = request(
        `${endpoint}/v3/maintenance/status`,
        { method: 'POST', agent: false, timeout: 3_000 },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const body = JSON.parse(text) as { header: { member_id: string }; leader: string };
            resolve({ member: body.header.member_id, leader: body.leader });
          });
        },
      );
      req.on('error', () => resolve(undefined));
      req.on('timeout', () => req.destroy());
      req.end('{}');
    });
  const statuses = await Promise.all(cluster.endpoints.map(status));
  const leader = statuses.find((s) => s !== undefined)?.leader;
  const index = statuses.findIndex((s) => s?.member === leader);
  if (index < 0) throw new Error('no etcd leader');
  return index;
}

describeWithTool(etcdTool, 'wbemd replicas over a three-member etcd cluster: faults', () => {
  let cluster: EtcdCluster;
  const replicas: WbemdProcess[] = [];
  const clients: { close(): void }[] = [];

  const startReplica = async (): Promise<WbemdProcess> => {
    const replica = await startWbemdProcess(
      { store: { etcd: { endpoints: cluster.endpoints, prefix: PREFIX } } },
      ['--server-name', 'FAULTS', '--shutdown-grace-ms', '2000', '--log-level', 'warn'],
    );
    replicas.push(replica);
    return replica;
  };
  const client = (addresses: readonly string[]): WbemServicesClient => {
    const c = roundRobinClient(addresses);
    clients.push(c);
    return c;
  };

  let a: WbemdProcess;
  let b: WbemdProcess;
  beforeAll(async () => {
    cluster = await startEtcdCluster();
    a = await startReplica();
    b = await startReplica();
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(replicas.map((r) => r.stop()));
    await cluster?.stop();
  }, 60_000);

  test('kill -9 of the etcd leader under write load: no acknowledged write lost, writes go on', async () => {
    const load = writeLoad(client([a.address, b.address]), 'Leader_', 8);
    await waitFor(
      'acknowledged writes',
      async () => load.acked().length,
      (n) => n >= 30,
      20_000,
    );
    const leader = await leaderIndex(cluster);
    await cluster.kill(leader);
    const killedAt = Date.now();
    const before = load.acked().length;
    // Writes go on with two members: 30 more acknowledged, all after the kill.
    await waitFor(
      'writes after the leader was killed',
      async () => load.acked().filter((r) => r.at > killedAt).length,
      (n) => n >= 30,
      30_000,
    );
    await load.stop();
    expect(load.acked().length).toBeGreaterThanOrEqual(before + 30);

    // Every acknowledged class is there, read through either replica, at the revision acknowledged.
    const reader = client([a.address, b.address]);
    const lost: string[] = [];
    for (const ack of load.acked()) {
      const read = await getClass(reader, ack.name);
      if ('code' in read || read.revision !== ack.revision)
        lost.push(`${ack.name}@${ack.revision}: ${'code' in read ? read.details : read.revision}`);
    }
    expect(lost).toEqual([]);
    // A write that failed failed with a WBEM status, never an unnamed internal error.
    const failures = load.results.filter((r) => !r.ok);
    for (const f of failures) expect(f.end.trailers['wbem-status']).toMatch(/^WBEM_E_/);
    await cluster.restart(leader);
  }, 90_000);

  test('kill -9 of a replica: a round_robin client over every replica carries on with the others', async () => {
    const c = await startReplica();
    const spread = client([a.address, c.address]);
    const peers = new Set<string>();
    const call = (name: string): Promise<{ ok: boolean; peer: string; code?: Code; at: number }> =>
      new Promise((resolve) => {
        const at = Date.now();
        const unary = spread.putClass(
          { namespace: 'root/cimv2', object: keyed(name), flags: CREATE_ONLY },
          new Metadata(),
          deadline(10_000),
          (error: ServiceError | null) =>
            resolve({
              ok: error === null,
              peer: unary.getPeer(),
              at,
              ...(error ? { code: error.code } : {}),
            }),
        );
      });
    let n = 0;
    // Both replicas answer while both are up.
    for (let i = 0; i < 20; i++) {
      const r = await call(`Spread_${n++}`);
      expect(r.ok).toBe(true);
      peers.add(r.peer);
    }
    expect(peers).toEqual(new Set([a.address, c.address]));

    const results: { ok: boolean; peer: string; code?: Code; at: number }[] = [];
    let stopped = false;
    const loops = Array.from({ length: 4 }, async () => {
      while (!stopped) results.push(await call(`Spread_${n++}`));
    });
    await new Promise((r) => setTimeout(r, 500));
    await c.kill();
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2_000));
    stopped = true;
    await Promise.all(loops);

    // Calls in flight when the replica died may fail UNAVAILABLE; every later call succeeds on a.
    const during = results.filter((r) => r.at <= killedAt + 300);
    const after = results.filter((r) => r.at > killedAt + 300);
    expect(during.filter((r) => !r.ok).map((r) => r.code)).toEqual(
      during.filter((r) => !r.ok).map(() => Code.UNAVAILABLE),
    );
    expect(after.length).toBeGreaterThanOrEqual(10);
    expect(after.filter((r) => !r.ok)).toEqual([]);
    expect(new Set(after.map((r) => r.peer))).toEqual(new Set([a.address]));
  }, 60_000);

  test('every etcd member down: writes fail with a WBEM status in bounded time, health NOT_SERVING; both recover', async () => {
    const writer = client([a.address]);
    expect((await put(writer, 'Before_Outage')).ok).toBe(true);
    expect(await health(a.address)).toBe(Serving.SERVING);

    await Promise.all([cluster.kill(0), cluster.kill(1), cluster.kill(2)]);
    const started = Date.now();
    const failed = await put(writer, 'During_Outage', 60_000);
    const tookMs = Date.now() - started;
    expect(failed.ok).toBe(false);
    if (failed.ok) return;
    expect(tookMs).toBeLessThan(15_000);
    expect({ code: failed.end.code, status: failed.end.trailers['wbem-status'] }).toEqual({
      code: Code.UNAVAILABLE,
      status: 'WBEM_E_TRANSPORT_FAILURE',
    });
    await waitFor(
      'health NOT_SERVING',
      () => health(a.address),
      (s) => s === Serving.NOT_SERVING,
      15_000,
    );
    await waitFor(
      'health NOT_SERVING',
      () => health(b.address),
      (s) => s === Serving.NOT_SERVING,
      15_000,
    );

    await cluster.restart(0, 1, 2);
    await waitFor(
      'health SERVING',
      () => health(a.address),
      (s) => s === Serving.SERVING,
      30_000,
    );
    await waitFor(
      'health SERVING',
      () => health(b.address),
      (s) => s === Serving.SERVING,
      30_000,
    );
    // Writes succeed again within a bounded time. Right after both report SERVING, a first write
    // has been seen (once in three CI runs) to fail still, with the retryable
    // WBEM_E_TRANSPORT_FAILURE (UNAVAILABLE) while the etcd client reconnects to every member;
    // nothing else may fail. A failed attempt may still have applied (D72), so a later one may
    // find the class there.
    const early: string[] = [];
    let after = await put(writer, 'After_Outage');
    for (const until = Date.now() + 10_000; !after.ok && Date.now() < until;) {
      const status = after.end.trailers['wbem-status'];
      if (status === 'WBEM_E_ALREADY_EXISTS') break;
      early.push(String(status));
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = await put(writer, 'After_Outage');
    }
    expect(early.filter((status) => status !== 'WBEM_E_TRANSPORT_FAILURE')).toEqual([]);
    const read = await getClass(client([b.address]), 'After_Outage');
    // The failure, if any, named: the write's last status and the read's error.
    expect({
      write: after.ok ? 'ok' : after.end.trailers['wbem-status'],
      read: 'code' in read ? `${read.code} ${read.details}` : 'found',
    }).toEqual({ write: expect.anything(), read: 'found' });
    if (after.ok && !('code' in read)) expect(read.revision).toBe(after.revision);
    // What was written before the outage is still there.
    expect('code' in (await getClass(writer, 'Before_Outage'))).toBe(false);
  }, 120_000);
});
