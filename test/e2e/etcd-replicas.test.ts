/**
 * Three wbemd replicas (startServer with the etcd store) over one etcd member: every rule holds
 * across replicas (optimistic transactions: write fences), events and caches follow other
 * replicas' writes, and a read after an acknowledged write never returns what it replaced.
 */
import { credentials, Metadata, status as Code } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import {
  HealthCheckResponse_ServingStatus,
  HealthClient,
} from '../../generated/grpc/health/v1/health';
import { CimType, type ClassObject } from '../../generated/wbem/v1/cim';
import type {
  ClassEvent,
  GetClassResponse,
  PutClassResponse,
} from '../../generated/wbem/v1/services';
import { startEtcd, etcdTool, type EtcdMember } from '../helpers/etcd';
import { describeWithTool } from '../helpers/external-tools';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline, responseOf, transcript, unary, type CallEnd } from '../helpers/transcript';
import { CREATE_ONLY, keyed, p, q } from './fixtures';

const NS = 'root/cimv2';
const FORCE = 0x40;

type Result<T> = { response?: T; end?: CallEnd };

function put(
  t: TestServer,
  object: ClassObject,
  flags = 0,
  expectedRevision?: bigint,
  namespace = NS,
): Promise<Result<PutClassResponse>> {
  return unary<PutClassResponse>((cb) =>
    t.client.putClass(
      { namespace, object, flags, ...(expectedRevision === undefined ? {} : { expectedRevision }) },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
}

function get(
  t: TestServer,
  className: string,
  localOnly = false,
): Promise<Result<GetClassResponse>> {
  return unary<GetClassResponse>((cb) =>
    t.client.getClass(
      { namespace: NS, className, localOnly, asMof: false },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
}

const statusOf = (result: Result<unknown>): string =>
  result.end === undefined
    ? 'ok'
    : (result.end.trailers['wbem-status'] ?? `code ${result.end.code}`);

describeWithTool(etcdTool, 'wbemd replicas over one etcd member', () => {
  let member: EtcdMember;
  let replicas: TestServer[] = [];
  beforeAll(async () => {
    member = await startEtcd();
  }, 30_000);
  afterAll(async () => {
    await member?.stop();
  });
  /** Three replicas on a fresh prefix; `lags[i]` makes replica i's watch lag that many ms. */
  const startReplicas = async (lags: readonly number[] = [0, 0, 0]): Promise<void> => {
    const prefix = `/replicas/${randomUUID()}/`;
    replicas = [];
    for (const watchDelayMs of lags)
      replicas.push(
        await startTestServer({ etcd: { endpoints: [member.endpoint], prefix, watchDelayMs } }),
      );
  };
  beforeEach(async () => {
    await startReplicas();
  });
  afterEach(async () => {
    await Promise.all(replicas.map((r) => r.close()));
  });
  const replica = (i: number): TestServer => replicas[i % replicas.length] as TestServer;

  test('50 concurrent CREATE_ONLY of one class over three replicas: exactly one succeeds, the rest WBEM_E_ALREADY_EXISTS', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => put(replica(i), keyed('Ex_Once', ''), CREATE_ONLY)),
    );
    const statuses = results.map(statusOf);
    expect(statuses.filter((s) => s === 'ok')).toHaveLength(1);
    expect(statuses.filter((s) => s !== 'ok')).toEqual(Array(49).fill('WBEM_E_ALREADY_EXISTS'));
  }, 60_000);

  test('expected_revision holds across replicas: a stale etag is refused, nothing is lost', async () => {
    const first = responseOf(await put(replica(0), keyed('Ex_Etag')));
    const read = responseOf(await get(replica(1), 'Ex_Etag'));
    expect(read.revision).toBe(first.revision);
    const withP = { ...keyed('Ex_Etag'), properties: [...keyed('Ex_Etag').properties, p('P')] };
    const second = responseOf(await put(replica(2), withP, 0, read.revision));
    expect(second.revision).toBeGreaterThan(first.revision);
    // Replica 1 still holds the old etag: refused, and replica 2's write stands.
    const stale = await put(replica(1), keyed('Ex_Etag'), 0, read.revision);
    expect(stale.end?.code).not.toBe(Code.OK);
    expect(statusOf(stale)).not.toBe('ok');
    const after = responseOf(await get(replica(0), 'Ex_Etag', true));
    expect(after.object?.properties.map((x) => x.name)).toEqual(['Id', 'P']);
    expect(after.revision).toBe(second.revision);
    // 0 = must not exist, across replicas too.
    expect(statusOf(await put(replica(2), keyed('Ex_Etag'), 0, 0n))).not.toBe('ok');
  }, 30_000);

  test('concurrent read-modify-write with expected_revision over the replicas: no update is lost', async () => {
    responseOf(await put(replica(0), keyed('Ex_Counter')));
    const writers = 6;
    const attempts: number[] = Array(writers).fill(0);
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (;;) {
          attempts[w] = (attempts[w] ?? 0) + 1;
          if ((attempts[w] ?? 0) > 60) throw new Error(`writer ${w} never got its update in`);
          const read = responseOf(await get(replica(w), 'Ex_Counter', true));
          const object = read.object as ClassObject;
          const next = { ...object, properties: [...object.properties, p(`W${w}`)] };
          const result = await put(replica(w + 1), next, 0, read.revision);
          if (statusOf(result) === 'ok') return;
        }
      }),
    );
    const final = responseOf(await get(replica(2), 'Ex_Counter', true));
    expect(final.object?.properties.map((x) => x.name).sort()).toEqual(
      ['Id', ...Array.from({ length: writers }, (_, w) => `W${w}`)].sort(),
    );
  }, 60_000);

  test('a FORCE update racing a subclass creation on another replica ends in a serializable outcome', async () => {
    for (let round = 0; round < 5; round++) {
      const base = `Ex_Base${round}`;
      const sub = `Ex_Sub${round}`;
      responseOf(
        await put(replica(0), {
          ...keyed(base),
          properties: [...keyed(base).properties, p('P', CimType.CIM_STRING)],
        }),
      );
      // The base's P becomes uint32 (FORCE); the subclass overrides P as a string.
      const [forced, created] = await Promise.all([
        put(
          replica(round),
          { ...keyed(base), properties: [...keyed(base).properties, p('P', CimType.CIM_UINT32)] },
          FORCE,
        ),
        put(replica(round + 1), {
          ...keyed(sub, base),
          properties: [
            p('P', CimType.CIM_STRING, {
              qualifiers: [q('Description', { kind: { $case: 'string', string: 'mine' } })],
            }),
          ],
        }),
      ]);
      expect(statusOf(forced)).toBe('ok');
      const subNow = await get(replica(round + 2), sub);
      if (statusOf(created) === 'ok') {
        // Serial order "subclass, then FORCE": the subclass exists, its P rewritten to the base's type.
        expect(statusOf(subNow)).toBe('ok');
      } else {
        // Serial order "FORCE, then subclass": the override conflicts with the new base; nothing written.
        expect(statusOf(subNow)).toBe('WBEM_E_NOT_FOUND');
      }
      if (subNow.response !== undefined) {
        const pType = subNow.response.object?.properties.find((x) => x.name === 'P')?.type;
        expect(pType).toBe(CimType.CIM_UINT32);
      }
    }
  }, 60_000);

  test('a read on another replica right after an acknowledged write never returns what it replaced, however its watch lags', async () => {
    await Promise.all(replicas.map((r) => r.close()));
    // The readers hear of writes 300 ms after the writer: only catching up before a read keeps it fresh.
    await startReplicas([0, 300, 300]);
    for (let version = 1; version <= 8; version++) {
      const object = {
        ...keyed('Ex_Fresh'),
        qualifiers: [q('Version', { kind: { $case: 'sint', sint: BigInt(version) } })],
      };
      // Written through replica 0 only; replicas 1 and 2 only read (their caches are warm).
      responseOf(await put(replica(0), object));
      const read = responseOf(await get(replica(1 + (version % 2)), 'Ex_Fresh', false));
      const value = read.object?.qualifiers.find((x) => x.name === 'Version')?.value;
      expect(value).toEqual({ kind: { $case: 'sint', sint: BigInt(version) } });
    }
  }, 60_000);

  test('a namespace created on one replica is there at once on the others, and its deletion too', async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await startReplicas([300, 0, 300]);
    const created = await unary((cb) =>
      replica(1).client.createNamespace(
        { parent: 'root', name: 'fresh' },
        new Metadata(),
        deadline(),
        cb,
      ),
    );
    responseOf(created);
    expect(statusOf(await put(replica(0), keyed('Ex_InFresh'), 0, undefined, 'root/fresh'))).toBe(
      'ok',
    );
    responseOf(
      await unary((cb) =>
        replica(1).client.deleteNamespace(
          { namespace: 'root/fresh' },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(statusOf(await put(replica(2), keyed('Ex_Late'), 0, undefined, 'root/fresh'))).toBe(
      'WBEM_E_INVALID_NAMESPACE',
    );
  }, 30_000);

  test('WatchClassEvents on one replica sees writes made through the others, in revision order, resumable with since_revision', async () => {
    const live = replica(1).client.watchClassEvents(
      { namespace: NS, className: '' },
      new Metadata(),
      deadline(),
    );
    const events: ClassEvent[] = [];
    const headers = new Promise<void>((resolve) => live.on('metadata', () => resolve()));
    live.on('data', (event: ClassEvent) => events.push(event));
    live.on('error', () => undefined);
    await headers;
    const revisions: bigint[] = [];
    for (let i = 0; i < 6; i++)
      revisions.push(
        responseOf(await put(replica(i % 2 === 0 ? 0 : 2), keyed(`Ex_W${i}`))).revision,
      );
    for (let waited = 0; events.length < 6 && waited < 100; waited++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    live.cancel();
    expect(events.map((e) => e.revision)).toEqual(revisions);
    expect(events.map((e) => e.targetClass?.className)).toEqual(
      Array.from({ length: 6 }, (_, i) => `Ex_W${i}`),
    );
    // Resumed on a third replica after the second event: the rest, from the log.
    const resumed = await transcript(
      replica(2).client.watchClassEvents(
        { namespace: NS, className: '', sinceRevision: revisions[1] },
        new Metadata(),
        deadline(1500),
      ),
    );
    expect(resumed.messages.map((e) => e.revision)).toEqual(revisions.slice(2));
  }, 30_000);

  test('a CompileMof through one replica reaches a watch on another whole: its classes share one revision', async () => {
    const live = replica(1).client.watchClassEvents(
      { namespace: NS, className: '' },
      new Metadata(),
      deadline(),
    );
    const events: ClassEvent[] = [];
    const headers = new Promise<void>((resolve) => live.on('metadata', () => resolve()));
    live.on('data', (event: ClassEvent) => events.push(event));
    live.on('error', () => undefined);
    await headers;
    const mof = [1, 2, 3].map((i) => `class Ex_Mof${i} { [Key] string Id; };`).join('\n');
    const compiled = await transcript(
      replica(0).client.compileMof(
        {
          namespace: NS,
          sources: [{ name: 'a.mof', text: mof }],
          flags: 0,
          continueOnError: false,
        },
        new Metadata(),
        deadline(),
      ),
    );
    expect(compiled.end.code).toBe(Code.OK);
    for (let waited = 0; events.length < 3 && waited < 100; waited++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    live.cancel();
    expect(events.map((e) => e.targetClass?.className)).toEqual(['Ex_Mof1', 'Ex_Mof2', 'Ex_Mof3']);
    expect(new Set(events.map((e) => e.revision)).size).toBe(1);
    // Replayed from the log on the third replica: all three again.
    const replayed = await transcript(
      replica(2).client.watchClassEvents(
        { namespace: NS, className: '', sinceRevision: (events[0]?.revision ?? 1n) - 1n },
        new Metadata(),
        deadline(1500),
      ),
    );
    expect(replayed.messages.map((e) => e.targetClass?.className)).toEqual([
      'Ex_Mof1',
      'Ex_Mof2',
      'Ex_Mof3',
    ]);
  }, 30_000);
});

describeWithTool(etcdTool, 'a replica whose etcd stops answering', () => {
  test('calls fail with WBEM_E_TRANSPORT_FAILURE (no hang), health turns NOT_SERVING, and both recover', async () => {
    const member = await startEtcd();
    const t = await startTestServer({
      etcd: { endpoints: [member.endpoint], prefix: '/pause/', requestTimeoutMs: 1000 },
    });
    const health = new HealthClient(t.server.address, credentials.createInsecure());
    const healthOf = (): Promise<string> =>
      new Promise((resolve) =>
        health.check({ service: '' }, new Metadata(), deadline(), (error, response) =>
          resolve(
            error === null
              ? HealthCheckResponse_ServingStatus[response.status]
              : `error ${error.code}`,
          ),
        ),
      );
    try {
      expect(await healthOf()).toBe('SERVING');
      member.process.kill('SIGSTOP');
      const started = Date.now();
      const failed = await put(t, keyed('Ex_Frozen'));
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(statusOf(failed)).toBe('WBEM_E_TRANSPORT_FAILURE');
      expect(failed.end?.code).toBe(Code.UNAVAILABLE);
      expect(await healthOf()).toBe('NOT_SERVING');
      member.process.kill('SIGCONT');
      for (let waited = 0; (await healthOf()) !== 'SERVING' && waited < 100; waited++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await healthOf()).toBe('SERVING');
      expect(statusOf(await put(t, keyed('Ex_Thawed')))).toBe('ok');
    } finally {
      member.process.kill('SIGCONT');
      health.close();
      await t.close();
      await member.stop();
    }
  }, 60_000);
});
