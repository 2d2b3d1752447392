/**
 * The three-member etcd cluster the replica tests run on (test/helpers/etcd-cluster.ts): it forms
 * one cluster, keeps serving with one member killed (kill -9), takes the member back with what it
 * missed, and leaves no process and no directory behind. Talks to etcd through its JSON gateway
 * (/v3/kv/put, /v3/kv/range), so the check depends on nothing under test.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { dirname } from 'node:path';
import { describeWithTool } from '../helpers/external-tools';
import { etcdTool, startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(JSON.parse(text) as Record<string, unknown>)
          : reject(new Error(`${url}: HTTP ${res.statusCode}: ${text}`)),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function put(endpoint: string, key: string, value: string): Promise<void> {
  await postJson(`${endpoint}/v3/kv/put`, { key: b64(key), value: b64(value) });
}

/** A linearizable read (etcd's default): answered only with a quorum. */
async function get(endpoint: string, key: string): Promise<string | undefined> {
  const reply = await postJson(`${endpoint}/v3/kv/range`, { key: b64(key) });
  const kvs = reply.kvs as { value: string }[] | undefined;
  return kvs?.[0] === undefined ? undefined : Buffer.from(kvs[0].value, 'base64').toString('utf8');
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describeWithTool(etcdTool, 'a three-member etcd cluster on loopback', () => {
  let cluster: EtcdCluster | undefined;

  beforeAll(async () => {
    cluster = await startEtcdCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  test('three members on distinct ports form one cluster', async () => {
    const c = cluster!;
    expect(c.members).toHaveLength(3);
    expect(new Set(c.endpoints).size).toBe(3);
    expect(c.members.every((m) => m.pid !== undefined && processExists(m.pid))).toBe(true);
    await put(c.endpoints[0]!, 'k/one', 'written via m0');
    expect(await get(c.endpoints[2]!, 'k/one')).toBe('written via m0');
  });

  test('kill -9 of one member: the other two keep a quorum; the member comes back with what it missed', async () => {
    const c = cluster!;
    const pid = c.members[1]!.pid!;
    await c.kill(1);
    expect(processExists(pid)).toBe(false);
    expect(c.members[1]!.pid).toBeUndefined();
    expect(await c.isHealthy(1)).toBe(false);
    // When the killed member led, the other two elect a new leader first (about a second).
    await c.waitHealthy();
    await put(c.endpoints[0]!, 'k/two', 'while m1 was down');
    expect(await get(c.endpoints[2]!, 'k/two')).toBe('while m1 was down');

    await c.restart(1);
    expect(c.members[1]!.pid).not.toBe(pid);
    expect(await get(c.endpoints[1]!, 'k/two')).toBe('while m1 was down');
  }, 60_000);

  test('all three killed, then restarted together: the data is still there', async () => {
    const c = cluster!;
    await Promise.all([c.kill(0), c.kill(1), c.kill(2)]);
    expect(await c.isHealthy(0)).toBe(false);
    await c.restart(0, 1, 2);
    expect(await get(c.endpoints[0]!, 'k/one')).toBe('written via m0');
    expect(await get(c.endpoints[2]!, 'k/two')).toBe('while m1 was down');
  }, 60_000);

  test('stop ends every member and removes the data', async () => {
    const c = cluster!;
    const pids = c.members.map((m) => m.pid!);
    const root = dirname(c.members[0]!.dataDir);
    expect(existsSync(root)).toBe(true);
    await c.stop();
    expect(pids.filter(processExists)).toEqual([]);
    expect(existsSync(root)).toBe(false);
    await c.stop(); // idempotent
  }, 30_000);
});
