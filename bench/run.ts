/**
 * `npm run bench [-- options]`: issue #13's table. Every server runs in its own process with the
 * Node flags `npm start` gives wbemd; the load comes from bench/loadgen (Go, native, own process),
 * which reads each server's CPU time over the measured window. See docs/performance.md.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { SERVER_ENVIRONMENT, SERVER_NODE_FLAGS } from '../src/cli/node-flags';
import { etcdInstalled } from './etcd';
import { buildLoadgen, INSTALL_HINT, useLoadgen } from './loadgen';
import { cleanupSync, installCleanup, runningChildren } from './procs';
import { addRow, formatTable, rows } from './report';
import { benchBig } from './scenarios/big';
import { L1_CASES, type BenchOptions, type L1Case } from './scenarios/common';
import { benchDeep } from './scenarios/deep';
import { benchLatency } from './scenarios/latency';
import { benchReads } from './scenarios/reads';
import { benchReplicas } from './scenarios/replicas';
import { benchSchema } from './scenarios/schema';
import { benchSoak } from './scenarios/soak';
import { benchWrites } from './scenarios/writes';
import { benchPutClassAsync } from './put-class-async';
import { benchSchemaLoad } from './schema-load';

const ROWS = [
  'W1',
  'W2',
  'R1',
  'R2',
  'R3',
  'D1',
  'D2',
  'L1',
  'P3',
  'M1',
  'P4',
  'E1',
  'E2',
] as const;

const USAGE = `usage: npm run bench -- [options]
  --only ROWS         comma-separated rows to run (${ROWS.join(',')}); default all
  --rounds N          alternating rounds per side (default 6)
  --slow-rounds N     rounds of D1, D2 and R3, whose calls take seconds to minutes today (default 1)
  --seconds S         measured seconds per round (default 1.5)
  --classes N         classes stored for R3 and P4 (default 20000; the rows' goals are for 100000)
  --soak-minutes M    M1's soak (default 1; the row's goal is for 10)
  --l1-cases CASES    L1's heavy calls on its own server, comma-separated: d1,cim,force (default all;
                      R3's enumeration is L1's fourth case, run with R3)
  --legacy            also the old in-process grpc-js benches (bench/put-class-async.ts, schema-load.ts)
`;

function options(): { bench: BenchOptions; only: Set<string>; legacy: boolean } {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      only: { type: 'string' },
      rounds: { type: 'string' },
      'slow-rounds': { type: 'string' },
      seconds: { type: 'string' },
      classes: { type: 'string' },
      'soak-minutes': { type: 'string' },
      'l1-cases': { type: 'string' },
      legacy: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const only = new Set(
    (values.only ?? ROWS.join(','))
      .split(',')
      .map((id) => id.trim().toUpperCase())
      .filter((id) => id !== ''),
  );
  for (const id of only)
    if (!(ROWS as readonly string[]).includes(id)) throw new Error(`unknown row ${id}\n${USAGE}`);
  const number = (text: string | undefined, fallback: number, min: number, max: number): number => {
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isFinite(value) || value < min || value > max)
      throw new Error(`${text} is not in ${min}..${max}\n${USAGE}`);
    return value;
  };
  return {
    bench: {
      rounds: Math.round(number(values.rounds, 6, 1, 50)),
      slowRounds: Math.round(number(values['slow-rounds'], 1, 1, 20)),
      seconds: number(values.seconds, 1.5, 0.2, 60),
      bigClasses: Math.round(number(values.classes, 20_000, 1000, 1_000_000)),
      soakMinutes: number(values['soak-minutes'], 1, 0.5, 60),
      l1Cases: l1Cases(values['l1-cases']),
      etcd: etcdInstalled(),
    },
    only,
    legacy: values.legacy === true,
  };
}

function l1Cases(text: string | undefined): ReadonlySet<L1Case> {
  if (text === undefined) return new Set(L1_CASES);
  const cases = text.split(',').map((c) => c.trim().toLowerCase());
  for (const c of cases)
    if (!(L1_CASES as readonly string[]).includes(c))
      throw new Error(`unknown L1 case ${c}\n${USAGE}`);
  return new Set(cases as L1Case[]);
}

function version(command: string, args: string[]): string {
  try {
    return (
      execFileSync(command, args, { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .split('\n')[0]
        ?.trim() ?? '?'
    );
  } catch {
    return 'not installed';
  }
}

async function main(): Promise<void> {
  installCleanup();
  const { bench, only, legacy } = options();
  const selected = (id: string): boolean => only.has(id);
  const started = new Date();
  console.log(
    `wbemd bench ${started.toISOString()} — rows ${[...only].join(',')}; ${bench.rounds} rounds of ${bench.seconds} s (slow rows ${bench.slowRounds}); R3/P4 ${bench.bigClasses} classes; M1 ${bench.soakMinutes} min`,
  );
  console.log(
    `node ${process.version} (servers: ${serverSetup()}); ${version('go', ['version'])}; etcd ${bench.etcd ? version('etcd', ['--version']) : 'not installed'}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const built = buildLoadgen();
  if (!built.ok) {
    console.log(
      `\nThe native load generator could not be built (${built.reason}).\nInstall Debian's Go and gRPC sources: ${INSTALL_HINT}\nSkipped: every row (they all drive the servers with it).`,
    );
    for (const id of ROWS)
      if (selected(id))
        addRow({ id, figure: '-', measured: 'no load generator', goal: '-', status: 'skipped' });
  } else {
    useLoadgen(built.path);
    if (!bench.etcd && selected('W2'))
      console.log(`etcd is not installed: W2 is skipped (${INSTALL_HINT})`);
    if (selected('W1') || selected('W2')) await benchWrites(bench, selected);
    if (selected('R1') || selected('R2')) await benchReads(bench, selected);
    if (selected('D1') || selected('D2')) await benchDeep(bench, selected);
    if (selected('P3')) await benchSchema(bench);
    if (selected('L1')) await benchLatency(bench);
    if (selected('R3') || selected('P4')) await benchBig(bench, selected);
    else if (selected('L1')) console.log("\n(L1 during R3 needs R3's store: add R3 to --only)");
    if (selected('M1')) await benchSoak(bench);
    if (selected('E1') || selected('E2')) await benchReplicas(bench, selected);
  }
  if (legacy) {
    console.log('\nLegacy benches (grpc-js client in this process):');
    await benchPutClassAsync();
    await benchSchemaLoad();
  }
  const minutes = (Date.now() - started.getTime()) / 60_000;
  console.log(
    `\nSummary — ${started.toISOString()}, ${minutes.toFixed(1)} min; load average now ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(formatTable());
  const ran = new Set(rows.filter((r) => r.status !== 'skipped').map((r) => r.id));
  console.log(
    `rows run: ${[...ran].join(', ') || 'none'}; not run: ${ROWS.filter((id) => !ran.has(id)).join(', ') || 'none'}`,
  );
  cleanupSync();
  if (runningChildren() > 0) console.log('warning: child processes were still running at the end');
}

main().catch((error: unknown) => {
  console.error(error);
  cleanupSync();
  process.exitCode = 1;
});

/** How every server of the rows is started: its environment and its Node flags, as `npm start`'s. */
function serverSetup(): string {
  const environment = Object.entries(SERVER_ENVIRONMENT).map(([name, value]) => `${name}=${value}`);
  return [...environment, ...SERVER_NODE_FLAGS].join(' ');
}
