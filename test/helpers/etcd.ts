/**
 * One etcd member for a test (Debian's etcd-server): loopback ports picked by binding port 0, a
 * temp data dir, limits raised so a large commit fits one Txn (as docs/deployment.md tells
 * operators), and a stop() that ends the process (SIGTERM, then SIGKILL) and removes its data.
 * test/helpers/etcd-cluster.ts starts three.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runsCleanly } from './external-tools';
import { freePort } from '../../bench/procs';

/** A free loopback port (the bench's helper: bound on port 0, then released). */
export { freePort };

export const ETCD_BINARY = process.env.ETCD_BINARY ?? 'etcd';

/** For describeWithTool. */
export const etcdTool = {
  name: 'etcd',
  available: runsCleanly(ETCD_BINARY, ['--version']),
  install: 'apt-get install etcd-server',
} as const;

/** Limits a test member runs with: a CIM schema compile is one Txn of several thousand operations. */
export const TEST_ETCD_LIMITS = ['--max-txn-ops', '20000', '--max-request-bytes', '67108864'];

export interface EtcdMember {
  /** The client URL, e.g. http://127.0.0.1:40123. */
  readonly endpoint: string;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** Ends the member and removes its data dir. Idempotent. */
  stop(): Promise<void>;
}

/** Resolves once GET /health answers {"health":"true"}; rejects after `timeoutMs`. */
export async function waitHealthy(endpoint: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await response.json()) as { health?: string };
      if (body.health === 'true') return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`etcd at ${endpoint} did not become healthy`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits for the process to exit; SIGKILL after `graceMs`. */
export function endProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** PEM files for client TLS: etcd serves https and requires a client certificate the CA signed. */
export interface EtcdServerTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * With TLS, etcd's client URL asks for a client certificate, so health is probed on a plain
 * metrics URL (it serves /health too).
 */
function tlsArguments(tls: EtcdServerTls, metricsUrl: string): string[] {
  return [
    '--cert-file',
    tls.cert,
    '--key-file',
    tls.key,
    '--trusted-ca-file',
    tls.ca,
    '--client-cert-auth',
    '--listen-metrics-urls',
    metricsUrl,
  ];
}

/**
 * `etcdDefaults`: etcd's own limits (128 operations, 1.5 MiB per Txn) instead of TEST_ETCD_LIMITS.
 * `tls`: client URLs are https with client certificate authentication.
 */
export async function startEtcd(
  options: { etcdDefaults?: boolean; tls?: EtcdServerTls } = {},
): Promise<EtcdMember> {
  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const metricsUrl = options.tls === undefined ? endpoint : `http://127.0.0.1:${await freePort()}`;
  const child = spawn(
    ETCD_BINARY,
    [
      '--name',
      'm1',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      endpoint,
      '--advertise-client-urls',
      endpoint,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `m1=${peer}`,
      '--logger',
      'zap',
      '--log-level',
      'error',
      ...(options.etcdDefaults === true ? [] : TEST_ETCD_LIMITS),
      ...(options.tls === undefined ? [] : tlsArguments(options.tls, metricsUrl)),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= endProcess(child).then(() => rm(dataDir, { recursive: true, force: true })));
  try {
    await waitHealthy(metricsUrl);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}: ${stderr}`);
  }
  return { endpoint, dataDir, process: child, stop };
}
