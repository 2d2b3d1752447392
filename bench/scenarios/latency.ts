/**
 * L1: health Check and GetClass latency, seen by separate client processes, while one heavy call
 * runs on the same server: a 2,000-class chain CompileMof (D1), the whole CIM 2.41 CompileMof, a
 * FORCE update that rewrites 10,000 subclasses, and (from big.ts) EnumClasses over the big store.
 * The probes are open-loop (a call every 1/rate s, latency counted from its scheduled start), so a
 * stalled server shows up in full rather than as one slow call. With --metrics-listen, the
 * server's own event-loop delay (prom-client's monitorEventLoopDelay, reset at each scrape) is
 * read before and after the heavy call.
 */
import { get } from 'node:http';
import { startLoad, type LoadgenResult } from '../loadgen';
import { addRow, judge } from '../report';
import {
  chainMof,
  cimSources,
  compileMofRequest,
  fanOutMof,
  forceUpdateRequest,
  getClassRequest,
  HEALTH_CHECK,
  WBEM,
} from '../requests';
import { sleep } from '../procs';
import { freshWbemd, ms, oneWrite, type BenchOptions, type Wbemd } from './common';

const PROBE_RATE = 200;
export const PROBE_CLASS = 'Probe_Target';

/** Creates the class the GetClass probe reads. */
export async function addProbeClass(server: Wbemd): Promise<void> {
  await oneWrite(
    server,
    'CompileMof',
    compileMofRequest([
      { name: 'probe.mof', text: `class ${PROBE_CLASS}\n{\n  [Key] string Id;\n};\n` },
    ]),
  );
}

function scrape(address: string): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    get(`http://${address}/metrics`, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const values = new Map<string, number>();
        for (const line of text.split('\n')) {
          const match = /^(nodejs_eventloop_lag_\w+) ([\d.e+-]+)$/.exec(line);
          if (match?.[1] !== undefined) values.set(match[1], Number(match[2]));
        }
        resolve(values);
      });
    }).on('error', reject);
  });
}

export interface ProbeOutcome {
  readonly heavy: LoadgenResult;
  readonly check: LoadgenResult;
  readonly getClass: LoadgenResult;
  /** Event-loop delay over the heavy call, ms (absent without metrics). */
  readonly loopMaxMs?: number;
  readonly loopP99Ms?: number;
}

/** Runs `heavy` while two probe processes call health Check and GetClass at PROBE_RATE each. */
export async function withProbes(
  server: Wbemd,
  heavy: () => Promise<LoadgenResult>,
): Promise<ProbeOutcome> {
  const common = {
    addr: server.address,
    rate: PROBE_RATE,
    inflight: 64,
    seconds: 900,
    timeoutSec: 60,
  };
  const check = startLoad({ ...common, method: HEALTH_CHECK, request: new Uint8Array() });
  const getClass = startLoad({
    ...common,
    method: `${WBEM}GetClass`,
    request: getClassRequest(PROBE_CLASS),
  });
  try {
    await Promise.all([check.measuring, getClass.measuring]);
    if (server.metrics !== undefined) await scrape(server.metrics);
    await sleep(300);
    const result = await heavy();
    await sleep(300);
    const loop = server.metrics === undefined ? undefined : await scrape(server.metrics);
    check.stop();
    getClass.stop();
    const [c, g] = await Promise.all([check.result, getClass.result]);
    const max = loop?.get('nodejs_eventloop_lag_max_seconds');
    const p99 = loop?.get('nodejs_eventloop_lag_p99_seconds');
    return {
      heavy: result,
      check: c,
      getClass: g,
      ...(max === undefined ? {} : { loopMaxMs: max * 1e3 }),
      ...(p99 === undefined ? {} : { loopP99Ms: p99 * 1e3 }),
    };
  } finally {
    check.stop();
    getClass.stop();
  }
}

/** Prints the probes' view of one heavy call and adds its L1 row. */
export function reportProbes(label: string, outcome: ProbeOutcome): void {
  const line = (name: string, r: LoadgenResult): string => {
    const failed = Object.entries(r.errors)
      .map(([code, n]) => `${n} ${code}`)
      .join(', ');
    return `${name} p50 ${ms(r.latencyUs.p50)} p99 ${ms(r.latencyUs.p99)} max ${ms(r.latencyUs.max)} (${r.calls} calls${failed === '' ? '' : `, failed: ${failed}`})`;
  };
  console.log(`  L1 during ${label} (${ms(outcome.heavy.latencyUs.max)}):`);
  console.log(`    ${line('health Check', outcome.check)}`);
  console.log(`    ${line('GetClass    ', outcome.getClass)}`);
  const loop =
    outcome.loopMaxMs === undefined
      ? 'event-loop delay: not exposed'
      : `event-loop delay max ${outcome.loopMaxMs.toFixed(0)} ms, p99 ${(outcome.loopP99Ms ?? NaN).toFixed(0)} ms`;
  console.log(`    ${loop} (server metrics)`);
  const worst = Math.max(outcome.check.latencyUs.p99, outcome.getClass.latencyUs.p99) / 1e3;
  const failures = [outcome.check, outcome.getClass].reduce(
    (n, r) => n + Object.values(r.errors).reduce((a, b) => a + b, 0),
    0,
  );
  addRow({
    id: 'L1',
    figure: `Check / GetClass p99 during ${label}`,
    measured: `${ms(outcome.check.latencyUs.p99)} / ${ms(outcome.getClass.latencyUs.p99)}${outcome.loopMaxMs === undefined ? '' : `; loop max ${outcome.loopMaxMs.toFixed(0)} ms`}${failures > 0 ? `; ${failures} failed` : ''}`,
    goal: '≤ 50 ms',
    status: failures > 0 ? 'MISSES' : judge(worst, 50),
  });
}

export async function benchLatency(o: BenchOptions): Promise<void> {
  console.log(
    `\nL1 health Check and GetClass latency (probes at ${PROBE_RATE}/s each, own processes) while one heavy call runs`,
  );
  const server = await freshWbemd('l1', true);
  try {
    await addProbeClass(server);
    if (o.l1Cases.has('force')) {
      const fanOut = await oneWrite(
        server,
        'CompileMof',
        compileMofRequest(fanOutMof('Force_', 10_000)),
      );
      console.log(
        `  setup: a root class and 10,000 subclasses by one CompileMof in ${ms(fanOut.latencyUs.max)}`,
      );
    }
    if (o.l1Cases.has('d1')) {
      const d1 = await withProbes(server, () =>
        oneWrite(server, 'CompileMof', compileMofRequest(chainMof('L1Chain_C', 2000))),
      );
      reportProbes('D1 (2,000-class chain CompileMof)', d1);
    }
    if (o.l1Cases.has('cim')) {
      const cim = await withProbes(server, () =>
        oneWrite(server, 'CompileMof', compileMofRequest(cimSources(), { dmtf: true })),
      );
      reportProbes('CIM 2.41 CompileMof', cim);
    }
    if (o.l1Cases.has('force')) {
      const force = await withProbes(server, () =>
        oneWrite(server, 'PutClassAsync', forceUpdateRequest('Force_')),
      );
      reportProbes('FORCE over 10,000 subclasses', force);
    }
  } finally {
    await server.stop();
  }
}
