/**
 * etcd (Debian's etcd-server) as W2's reference: one member on loopback ports, in a temp dir, with
 * its default durability (the WAL fsynced before a Put is answered).
 */
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { ChildServer } from './child-server';
import { freePort, makeTempDir, removeTempDir, sleep, spawnTracked } from './procs';

export const ETCD = '/usr/bin/etcd';

export function etcdInstalled(): boolean {
  return existsSync(ETCD);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startEtcd(): Promise<ChildServer> {
  const dir = makeTempDir('wbemd-bench-etcd-');
  const client = `http://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  const child = spawnTracked(
    ETCD,
    [
      '--name=bench',
      `--data-dir=${join(dir, 'data')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=bench=${peer}`,
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  if (child.pid === undefined) throw new Error('etcd did not start');
  const port = Number(new URL(client).port);
  for (let i = 0; i < 100 && !(await canConnect(port)); i++) {
    if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}`);
    await sleep(100);
  }
  // The member elects itself leader shortly after it listens.
  await sleep(1000);
  return {
    address: `127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      removeTempDir(dir);
    },
  };
}
