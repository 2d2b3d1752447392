/**
 * W1 between builds, same time: `node dist/bench/same-time.js DIR_A DIR_B [DIR…] [--sets N]
 * [--rounds N]` starts a wbemd of every checkout (each built: DIR/bin/wbemd.js, with the
 * environment and Node flags of its own `npm start`), loads all of them at once with W1's request
 * (PutClassAsync create of a 2 KB class, durable, 64 in flight), each by its own load generator,
 * and compares their server CPU per call round by round. Machine drift hits every server of a
 * round alike, which alternating whole bench runs cannot promise: a few percent between two builds
 * is visible here and not in `npm run bench` (docs/performance.md, "Same-time pairs"). The start
 * order rotates from set to set, since the server started first tends to be favoured.
 */
import { resolve } from 'node:path';
import { npmStartOf, startChildServer, type ChildServer, type NpmStart } from './child-server';
import { buildLoadgen, expectNoErrors, startLoad, useLoadgen } from './loadgen';
import { installCleanup, makeTempDir, removeTempDir } from './procs';
import { FLAG, putClassRequest, WBEM } from './requests';

/** A checkout's wbemd, started as its `npm start` starts it. */
interface Build extends NpmStart {
  readonly name: string;
  readonly bin: string;
}

interface Running extends Build {
  readonly server: ChildServer;
  readonly dataDir: string;
  serial: number;
}

const WARM_SECONDS = 6;
const ROUND_SECONDS = 2;
const UNMEASURED_SECONDS = 0.3;

/** The checkout's wbemd, and the environment and Node flags its `npm start` gives it. */
function buildAt(dir: string): Build {
  return { name: dir, bin: resolve(dir, 'bin/wbemd.js'), ...npmStartOf(dir) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

const put = putClassRequest('Bench_C', FLAG.CREATE_ONLY);

/** One window of load on every server at once: each server's CPU per call (µs). */
async function round(servers: Running[], seconds: number): Promise<number[]> {
  const results = await Promise.all(
    servers.map(
      (s) =>
        startLoad({
          addr: s.server.address,
          method: `${WBEM}PutClassAsync`,
          stream: true,
          request: put.bytes,
          patches: put.patches,
          serialStart: s.serial,
          inflight: 64,
          seconds,
          warmup: UNMEASURED_SECONDS,
          pids: [s.server.pid],
        }).result,
    ),
  );
  return results.map((r, i) => {
    const s = servers[i];
    if (s === undefined) throw new Error('a result without its server');
    s.serial = r.serialNext;
    expectNoErrors(s.name, r);
    return ((r.servers[0]?.cpuSec ?? NaN) / r.calls) * 1e6;
  });
}

/** One set: fresh servers in the given order, a warm-up, then `rounds` measured rounds. */
async function set(builds: readonly Build[], rounds: number): Promise<Map<string, number[]>> {
  const servers: Running[] = [];
  try {
    for (const build of builds) {
      const dataDir = makeTempDir('wbemd-same-time-');
      const server = await startChildServer(
        process.execPath,
        [...build.flags, build.bin, 'serve', '--listen', '127.0.0.1:0', '--data', dataDir],
        undefined,
        build.environment,
      );
      servers.push({ ...build, server, dataDir, serial: 0 });
    }
    await round(servers, WARM_SECONDS);
    const cpu = new Map<string, number[]>(builds.map((b) => [b.name, []]));
    for (let i = 0; i < rounds; i++) {
      const perServer = await round(servers, ROUND_SECONDS);
      perServer.forEach((value, j) => cpu.get(servers[j]?.name ?? '')?.push(value));
    }
    return cpu;
  } finally {
    for (const s of servers) {
      await s.server.stop();
      removeTempDir(s.dataDir);
    }
  }
}

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(args[at + 1]);
  args.splice(at, 2);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} takes a positive integer`);
  return value;
}

async function main(): Promise<void> {
  installCleanup();
  const args = process.argv.slice(2);
  const sets = option(args, '--sets', 4);
  const rounds = option(args, '--rounds', 16);
  if (args.length < 2)
    throw new Error('usage: same-time.js DIR_A DIR_B [DIR…] [--sets N] [--rounds N]');
  const built = buildLoadgen();
  if (!built.ok) throw new Error(`the load generator: ${built.reason}`);
  useLoadgen(built.path);
  const builds = args.map(buildAt);
  const reference = builds[0];
  if (reference === undefined) return;
  console.log(
    `W1 same-time sets: ${sets} × ${rounds} rounds of ${ROUND_SECONDS} s, ratios ÷ ${reference.name}`,
  );
  const ratios = new Map<string, number[]>(builds.map((b) => [b.name, []]));
  for (let n = 0; n < sets; n++) {
    const order = builds.map((_, i) => builds[(i + n) % builds.length] as Build);
    const cpu = await set(order, rounds);
    const base = cpu.get(reference.name) ?? [];
    const line = builds.map((b) => {
      const mine = cpu.get(b.name) ?? [];
      const ratio = median(mine.map((v, i) => v / (base[i] ?? NaN)));
      ratios.get(b.name)?.push(ratio);
      return `${b.name} ${median(mine).toFixed(0)} µs (${ratio.toFixed(3)})`;
    });
    console.log(`set ${n + 1} (first started: ${order[0]?.name}): ${line.join(', ')}`);
  }
  for (const b of builds.slice(1)) {
    const all = ratios.get(b.name) ?? [];
    console.log(`${b.name} ÷ ${reference.name}: median of the sets ${median(all).toFixed(3)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
