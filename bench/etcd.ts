/**
 * etcd (Debian's etcd-server) for the bench: W2's reference (one member) and the replica rows'
 * backing store (one or three members), on loopback ports, in temp dirs, with its default
 * durability (the WAL fsynced before a Put is answered).
 */
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { ChildServer } from './child-server';
import { freePort, makeTempDir, removeTempDir, sleep, spawnTracked } from './procs';

export const ETCD = '/usr/bin/etcd';

export function etcdInstalled(): boolean {
  return existsSync(ETCD);
}

/** GET /health: true once the member has a leader and a quorum answers. */
function healthy(clientUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${clientUrl}/health`, { agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"true"')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export interface EtcdCluster {
  /** `http://127.0.0.1:PORT` of each member. */
  readonly endpoints: readonly string[];
  /** Each member's process id (its CPU time is read from /proc/PID). */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** `size` members forming one cluster; resolves once every member reports healthy. */
export async function startEtcdCluster(size: number): Promise<EtcdCluster> {
  const dir = makeTempDir('wbemd-bench-etcd-');
  const members: { name: string; client: string; peer: string }[] = [];
  for (let i = 0; i < size; i++)
    members.push({
      name: `m${i}`,
      client: `http://127.0.0.1:${await freePort()}`,
      peer: `http://127.0.0.1:${await freePort()}`,
    });
  const initialCluster = members.map((m) => `${m.name}=${m.peer}`).join(',');
  const children = members.map((m) =>
    spawnTracked(
      ETCD,
      [
        `--name=${m.name}`,
        `--data-dir=${join(dir, m.name)}`,
        `--listen-client-urls=${m.client}`,
        `--advertise-client-urls=${m.client}`,
        `--listen-peer-urls=${m.peer}`,
        `--initial-advertise-peer-urls=${m.peer}`,
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-state=new',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    ),
  );
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    removeTempDir(dir);
  };
  try {
    for (let i = 0; ; i++) {
      const exited = children.find((c) => c.exitCode !== null);
      if (exited !== undefined) throw new Error(`etcd exited with ${exited.exitCode}`);
      if ((await Promise.all(members.map((m) => healthy(m.client)))).every(Boolean)) break;
      if (i > 300) throw new Error('etcd did not become healthy within 30 s');
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoints: members.map((m) => m.client),
    pids: children.map((c) => {
      if (c.pid === undefined) throw new Error('etcd did not start');
      return c.pid;
    }),
    stop,
  };
}

/** One member as a ChildServer (W2's reference: the load generator dials it directly). */
export async function startEtcd(): Promise<ChildServer> {
  const cluster = await startEtcdCluster(1);
  return {
    address: new URL(cluster.endpoints[0] as string).host,
    pid: cluster.pids[0] as number,
    stop: () => cluster.stop(),
  };
}
