/**
 * A three-member etcd cluster (Debian's etcd-server, /usr/bin/etcd) on loopback, for the replica
 * and fault tests: ephemeral ports (bound at port 0 to find free ones, then passed to etcd), one
 * temp dir per cluster, fsync on as shipped. Members can be killed with SIGKILL and restarted on
 * the same ports and data; stop() ends every member and removes the dir. A process exit (a test
 * run that failed before its afterAll) kills whatever is still running, so nothing is left behind.
 *
 * Usage: `cluster = await startEtcdCluster()` in beforeAll, `await cluster?.stop()` in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD_BINARY = '/usr/bin/etcd';

/** For describeWithTool (test/helpers/external-tools.ts). */
export const etcdTool = {
  name: 'etcd-server',
  available: existsSync(ETCD_BINARY),
  install: 'apt-get install -y etcd-server',
} as const;

export interface EtcdClusterOptions {
  /** Members (default 3). */
  readonly size?: number;
  /** etcd's --heartbeat-interval / --election-timeout (defaults: etcd's own, 100 / 1000 ms). */
  readonly heartbeatMs?: number;
  readonly electionTimeoutMs?: number;
  /** How long start() and restart() wait for health (default 30 s: the machine is shared). */
  readonly healthyWithinMs?: number;
}

export interface EtcdMember {
  readonly name: string;
  /** `http://127.0.0.1:PORT`: what a client dials. */
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** The running process's id; undefined while the member is down. */
  readonly pid: number | undefined;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** Every member's client URL, member order (whether running or not). */
  readonly endpoints: readonly string[];
  /** kill -9 one member and wait until its process is gone. */
  kill(index: number): Promise<void>;
  /**
   * Starts killed members again (same ports, same data) and waits until every running member is
   * healthy. Several at once when a quorum needs them (e.g. after killing all three).
   */
  restart(...indexes: number[]): Promise<void>;
  /** Waits until every running member answers /health with true (a leader and a quorum read). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Whether the member answers /health with true now. */
  isHealthy(index: number): Promise<boolean>;
  /** The tail of a member's log (for failure messages). */
  logTail(index: number, lines?: number): string;
  /** Ends every member (SIGKILL) and removes the data. Idempotent. */
  stop(): Promise<void>;
}

/** Children of every cluster of this process: killed at process exit if still running. */
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** `count` distinct loopback ports that were free a moment ago (all held at once, then let go). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((server) => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      return address.port;
    });
  } finally {
    await Promise.all(
      servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }
}

/** GET /health on a client URL: true when etcd says {"health":"true"} within 2 s. */
function checkHealth(clientUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${clientUrl}/health`, { agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && /"health"\s*:\s*"true"/.test(body)));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface MemberState {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
  child: ChildProcess | undefined;
}

function memberArgs(member: MemberState, cluster: string, options: EtcdClusterOptions): string[] {
  return [
    `--name=${member.name}`,
    `--data-dir=${member.dataDir}`,
    `--listen-client-urls=${member.clientUrl}`,
    `--advertise-client-urls=${member.clientUrl}`,
    `--listen-peer-urls=${member.peerUrl}`,
    `--initial-advertise-peer-urls=${member.peerUrl}`,
    `--initial-cluster=${cluster}`,
    // Ignored once the data dir exists, so a restart passes the same flags.
    '--initial-cluster-state=new',
    `--initial-cluster-token=wbemd-test-${process.pid}`,
    `--heartbeat-interval=${options.heartbeatMs ?? 100}`,
    `--election-timeout=${options.electionTimeoutMs ?? 1000}`,
    '--logger=zap',
    '--log-level=warn',
    '--log-outputs=stderr',
  ];
}

function spawnMember(member: MemberState, cluster: string, options: EtcdClusterOptions): void {
  const log = openSync(member.logFile, 'a');
  try {
    const child = spawn(ETCD_BINARY, memberArgs(member, cluster, options), {
      stdio: ['ignore', log, log],
    });
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    child.once('error', () => liveChildren.delete(child));
    member.child = child;
  } finally {
    closeSync(log);
  }
}

function isRunning(child: ChildProcess | undefined): boolean {
  return child?.exitCode === null && child.signalCode === null;
}

async function endChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (child === undefined || !isRunning(child)) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Starts the cluster and waits until every member is healthy; on any failure nothing is left. */
export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  installExitHook();
  const size = options.size ?? 3;
  // A port taken by someone else between our probe and etcd's bind fails the start: try again.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const cluster = await createCluster(size, options);
    try {
      await cluster.waitHealthy(options.healthyWithinMs ?? 30_000);
      return cluster;
    } catch (error) {
      lastError = error;
      await cluster.stop();
    }
  }
  throw lastError;
}

async function createCluster(size: number, options: EtcdClusterOptions): Promise<EtcdCluster> {
  const root = mkdtempSync(join(tmpdir(), 'wbemd-etcd-cluster-'));
  liveDirs.add(root);
  const ports = await freePorts(size * 2);
  const members: MemberState[] = Array.from({ length: size }, (_, i) => ({
    name: `m${i}`,
    clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
    dataDir: join(root, `m${i}`),
    logFile: join(root, `m${i}.log`),
    child: undefined,
  }));
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  for (const member of members) spawnMember(member, initialCluster, options);
  let stopped = false;

  const memberAt = (index: number): MemberState => {
    const member = members[index];
    if (member === undefined) throw new Error(`no etcd member ${index}`);
    return member;
  };
  const stateOf = (m: MemberState): string => {
    if (m.child === undefined) return 'killed';
    if (isRunning(m.child)) return 'running';
    return `exited with ${String(m.child.exitCode ?? m.child.signalCode)}`;
  };
  const describeFailure = (what: string): Error =>
    new Error(
      [what, ...members.map((m) => `--- ${m.name} (${stateOf(m)}):\n${tail(m.logFile, 8)}`)].join(
        '\n',
      ),
    );

  const cluster: EtcdCluster = {
    get members(): readonly EtcdMember[] {
      return members.map((m) => ({
        name: m.name,
        clientUrl: m.clientUrl,
        peerUrl: m.peerUrl,
        dataDir: m.dataDir,
        pid: isRunning(m.child) ? m.child?.pid : undefined,
      }));
    },
    endpoints: members.map((m) => m.clientUrl),
    async kill(index) {
      const member = memberAt(index);
      await endChild(member.child, 'SIGKILL');
      member.child = undefined;
    },
    async restart(...indexes) {
      for (const index of indexes) {
        const member = memberAt(index);
        if (isRunning(member.child)) throw new Error(`etcd member ${member.name} is running`);
        spawnMember(member, initialCluster, options);
      }
      await cluster.waitHealthy(options.healthyWithinMs ?? 30_000);
    },
    async waitHealthy(timeoutMs = options.healthyWithinMs ?? 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const running = members.filter((m) => isRunning(m.child));
        if (running.length < members.filter((m) => m.child !== undefined).length)
          throw describeFailure('an etcd member exited');
        const health = await Promise.all(running.map((m) => checkHealth(m.clientUrl)));
        if (running.length > 0 && health.every(Boolean)) return;
        if (Date.now() > deadline)
          throw describeFailure(`etcd cluster not healthy within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    isHealthy(index) {
      return checkHealth(memberAt(index).clientUrl);
    },
    logTail(index, lines = 20) {
      return tail(memberAt(index).logFile, lines);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // The data is thrown away: a graceful stop (leadership transfer) would only cost time.
      await Promise.all(members.map((m) => endChild(m.child, 'SIGKILL')));
      rmSync(root, { recursive: true, force: true });
      liveDirs.delete(root);
    },
  };
  return cluster;
}
