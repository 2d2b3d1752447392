/**
 * L1's long main-thread stretches, between builds: `node dist/bench/stretches.js [--cases
 * cim,force,d1,r3] [--classes N] [--rounds N] [--cpu-prof DIR] [--node-flag F]… [--stdout FILE]
 * DIR_A [DIR_B …]` runs L1's heavy calls (with its probes; `r3`: EnumClasses deep over N created
 * classes, default 100,000) on a wbemd of each built checkout, whole runs alternating between the
 * builds, each server started as its checkout's `npm start` starts it (its environment and Node
 * flags), with bench/stretch-preload.js. Per heavy call it prints the main thread's CPU stretches
 * of over 20 and over 30 ms, the longest ones, the GC pauses among them, and the probes' p99.
 * Main-thread CPU, unlike wall time, does not grow when other tenants take the machine.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { npmStartOf, startChildServer } from './child-server';
import { buildLoadgen, useLoadgen } from './loadgen';
import { freePort, installCleanup, makeTempDir, removeTempDir } from './procs';
import { chainMof, cimSources, compileMofRequest, fanOutMof, forceUpdateRequest } from './requests';
import { createBigClasses, enumerateAll } from './scenarios/big';
import { oneWrite, type Wbemd } from './scenarios/common';
import { addProbeClass, withProbes } from './scenarios/latency';

interface Stretch {
  readonly at: number;
  readonly cpuMs?: number;
  readonly wallMs?: number;
  readonly gcMs?: number;
  readonly kind?: number;
  readonly flags?: number;
}

const CASES = ['d1', 'cim', 'force', 'r3'] as const;
type Case = (typeof CASES)[number];

interface Options {
  readonly cases: readonly Case[];
  readonly rounds: number;
  /** How many classes `r3` creates before it enumerates them. */
  readonly classes: number;
  /** Where --cpu-prof profiles and the stretch logs are kept (else they are removed). */
  readonly cpuProf?: string;
  /** More node flags for the servers (e.g. --trace-gc-nvp). */
  readonly nodeFlags: readonly string[];
  /** A file the servers' stdout is appended to. */
  readonly stdout?: string;
  readonly dirs: readonly string[];
}

function options(argv: readonly string[]): Options {
  let cases: Case[] = ['cim', 'force'];
  let rounds = 2;
  let classes = 100_000;
  let cpuProf: string | undefined;
  let stdout: string | undefined;
  const nodeFlags: string[] = [];
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--cases') cases = (argv[++i] ?? '').split(',') as Case[];
    else if (arg === '--rounds') rounds = Number(argv[++i]);
    else if (arg === '--classes') classes = Number(argv[++i]);
    else if (arg === '--cpu-prof') cpuProf = resolve(argv[++i] ?? '.');
    else if (arg === '--node-flag') nodeFlags.push(argv[++i] ?? '');
    else if (arg === '--stdout') stdout = resolve(argv[++i] ?? '.');
    else dirs.push(resolve(arg));
  }
  if (dirs.length === 0 || cases.some((c) => !CASES.includes(c))) {
    console.error(
      'usage: stretches.js [--cases cim,force,d1,r3] [--classes N] [--rounds N] [--cpu-prof DIR] [--node-flag F]… [--stdout FILE] DIR…',
    );
    process.exit(2);
  }
  return {
    cases,
    rounds,
    classes,
    nodeFlags,
    dirs,
    ...(cpuProf === undefined ? {} : { cpuProf }),
    ...(stdout === undefined ? {} : { stdout }),
  };
}

async function startWithPreload(dir: string, log: string, o: Options): Promise<Wbemd> {
  const dataDir = makeTempDir('wbemd-bench-stretch-');
  const metrics = `127.0.0.1:${await freePort()}`;
  process.env['WBEMD_STRETCH_LOG'] = log;
  const profile =
    o.cpuProf === undefined
      ? []
      : ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`, '--cpu-prof-interval=250'];
  const { stdout } = o;
  const { environment, flags } = npmStartOf(dir);
  const server = await startChildServer(
    process.execPath,
    [
      ...flags,
      ...o.nodeFlags,
      ...profile,
      '-r',
      join(__dirname, 'stretch-preload.js'),
      join(dir, 'bin/wbemd.js'),
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--data',
      dataDir,
      '--metrics-listen',
      metrics,
    ],
    stdout === undefined ? undefined : (line) => appendFileSync(stdout, `${line}\n`),
    environment,
  );
  return {
    address: server.address,
    pid: server.pid,
    dataDir,
    metrics,
    async stop() {
      await server.stop();
      removeTempDir(dataDir);
    },
  };
}

function heavyCall(server: Wbemd, c: Case): Promise<unknown> {
  if (c === 'r3') return enumerateAll(server);
  if (c === 'd1')
    return oneWrite(server, 'CompileMof', compileMofRequest(chainMof(`S${Date.now()}_C`, 2000)));
  if (c === 'cim')
    return oneWrite(server, 'CompileMof', compileMofRequest(cimSources(), { dmtf: true }));
  return oneWrite(server, 'PutClassAsync', forceUpdateRequest('Force_'));
}

/** One server of `dir`, every case once; a line per case. */
async function runBuild(dir: string, o: Options): Promise<void> {
  const { cases, cpuProf } = o;
  const scratch = makeTempDir('wbemd-bench-stretch-log-');
  const log = join(cpuProf ?? scratch, `stretches-${Date.now()}.jsonl`);
  const server = await startWithPreload(dir, log, o);
  const windows: [Case, number, number, string][] = [];
  try {
    await addProbeClass(server);
    if (cases.includes('force'))
      await oneWrite(server, 'CompileMof', compileMofRequest(fanOutMof('Force_', 10_000)));
    if (cases.includes('r3')) await createBigClasses(server, { count: o.classes });
    for (const c of cases) {
      let start = 0;
      let end = 0;
      const outcome = await withProbes(server, async () => {
        start = Date.now();
        const r = await heavyCall(server, c);
        end = Date.now();
        return r as Awaited<ReturnType<typeof oneWrite>>;
      });
      if (cpuProf !== undefined) console.log(`${c} window ${start}..${end} (${log})`);
      const p99 = (us: number): string => (us / 1e3).toFixed(0);
      windows.push([
        c,
        start,
        end,
        `p99 ${p99(outcome.check.latencyUs.p99)} / ${p99(outcome.getClass.latencyUs.p99)} ms, loop max ${(outcome.loopMaxMs ?? NaN).toFixed(0)}`,
      ]);
    }
  } finally {
    await server.stop();
  }
  let lines: Stretch[] = [];
  try {
    lines = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Stretch);
  } catch {
    // no stretch was long enough to be noted
  }
  removeTempDir(scratch);
  for (const [c, start, end, probes] of windows) {
    const inside = lines.filter((s) => s.at >= start && s.at <= end);
    const cpu = inside.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs]));
    const gc = inside.flatMap((s) =>
      s.gcMs === undefined
        ? []
        : [
            `${s.gcMs.toFixed(0)}${s.kind === 1 ? 's' : 'k' + String(s.kind)}${(s.flags ?? 0) & 4 ? 'f' : ''}`,
          ],
    );
    const top = [...cpu].sort((a, b) => b - a).slice(0, 6);
    console.log(
      `${dir} ${c}: ${end - start} ms; stretches > 20 / > 30 ms: ${cpu.filter((v) => v > 20).length} / ${cpu.filter((v) => v > 30).length}; longest ${top.map((v) => v.toFixed(0)).join(' ')}; GC ≥ 5 ms ${gc.join(' ')}; ${probes}`,
    );
  }
}

async function main(): Promise<void> {
  installCleanup();
  const o = options(process.argv.slice(2));
  const loadgen = buildLoadgen();
  if (!loadgen.ok) throw new Error(loadgen.reason);
  useLoadgen(loadgen.path);
  for (let round = 0; round < o.rounds; round++) {
    const order = round % 2 === 0 ? o.dirs : [...o.dirs].reverse();
    for (const dir of order) await runBuild(dir, o);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
