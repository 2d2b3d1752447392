/**
 * M1: server RSS over a soak at 64 in flight: 32 writers (PutClassAsync create-or-update over 5,000
 * names, created before the soak, so every put in it is an update that changes the class) and 32
 * readers (GetClass over the same names), RSS sampled every 2 s.
 */
import { expectNoErrors, runLoad, type LoadgenResult } from '../loadgen';
import { memoryMb, sleep } from '../procs';
import { addRow, judge, pool } from '../report';
import { FLAG, getClassPatched, putClassRequest, WBEM } from '../requests';
import { freshWbemd, type BenchOptions } from './common';
import { execFileSync } from 'node:child_process';

const NAMES = 5000;
const FULL_MINUTES = 10;
const SAMPLE_MS = 2000;

export async function benchSoak(o: BenchOptions): Promise<void> {
  const seconds = o.soakMinutes * 60;
  const warmup = Math.max(10, seconds * 0.2);
  console.log(
    `\nM1 soak: ${o.soakMinutes} min at 64 in flight (32 writers updating ${NAMES} classes, 32 readers of them), RSS every ${SAMPLE_MS / 1000} s, the first ${warmup.toFixed(0)} s warm-up`,
  );
  const server = await freshWbemd('m1');
  try {
    const writes = putClassRequest('Soak_C', FLAG.CREATE_OR_UPDATE, NAMES, true);
    const reads = getClassPatched('Soak_C', NAMES);
    // The names are created first (not measured), so that readers find them and the soak's writes
    // are updates, each changing the class (its Description carries the call's serial number).
    const created = await runLoad({
      addr: server.address,
      method: `${WBEM}PutClassAsync`,
      stream: true,
      request: writes.bytes,
      patches: writes.patches,
      inflight: 64,
      count: NAMES,
    });
    expectNoErrors('PutClassAsync', created);
    console.log(`  setup: ${NAMES} classes created in ${created.seconds.toFixed(1)} s`);
    const samples: { t: number; rss: number }[] = [];
    const started = Date.now();
    let running = true;
    const sampler = (async () => {
      for (let i = 0; running && i < (seconds * 1000) / SAMPLE_MS + 100; i++) {
        samples.push({ t: (Date.now() - started) / 1000, rss: memoryMb(server.pid).rss });
        await sleep(SAMPLE_MS);
      }
    })();
    let results: LoadgenResult[];
    try {
      results = await Promise.all([
        runLoad({
          addr: server.address,
          method: `${WBEM}PutClassAsync`,
          stream: true,
          request: writes.bytes,
          patches: writes.patches,
          serialStart: NAMES,
          inflight: 32,
          seconds: seconds - warmup,
          warmup,
          pids: [server.pid],
        }),
        runLoad({
          addr: server.address,
          method: `${WBEM}GetClass`,
          request: reads.bytes,
          patches: reads.patches,
          serialStart: 2500,
          inflight: 32,
          seconds: seconds - warmup,
          warmup,
        }),
      ]);
    } finally {
      running = false;
      await sampler;
    }
    const [w, r] = results;
    if (w === undefined || r === undefined) return;
    const line = (label: string, r: LoadgenResult): string => {
      const p = pool([r]);
      return `  ${label.padEnd(40)} ${p.rps.toFixed(0).padStart(7)}/s  p50 ${p.p50ms.toFixed(2).padStart(8)} ms  p99 ${p.p99ms.toFixed(2).padStart(8)} ms  [${p.calls} calls]`;
    };
    console.log(line('writers: PutClassAsync updates', w));
    console.log(line('readers: GetClass', r));
    const serverCpu = w.servers[0]?.cpuSec ?? NaN;
    console.log(
      `  server CPU ${(serverCpu / w.seconds).toFixed(2)} cores after warm-up, ${((serverCpu / (w.calls + r.calls)) * 1e6).toFixed(0)} µs a call (writes and reads together)`,
    );
    for (const [name, result] of [
      ['writers', w],
      ['readers', r],
    ] as const)
      if (Object.keys(result.errors).length > 0)
        console.log(
          `  ${name} failures after warm-up: ${JSON.stringify(result.errors)} (${result.firstError})`,
        );
    const after = samples.filter((s) => s.t >= warmup);
    const quarter = Math.max(1, Math.floor(after.length / 4));
    const maxOf = (list: { rss: number }[]): number => Math.max(...list.map((s) => s.rss));
    const firstQ = maxOf(after.slice(0, quarter));
    const lastQ = maxOf(after.slice(-quarter));
    const peak = maxOf(after);
    const marks = samples
      .filter(
        (_, i) =>
          i % Math.max(1, Math.round(samples.length / 12)) === 0 || i === samples.length - 1,
      )
      .map((s) => `${s.t.toFixed(0)}s ${s.rss.toFixed(0)}`)
      .join(', ');
    const disk = execFileSync('du', ['-sm', server.dataDir]).toString().split('\t')[0];
    console.log(`  RSS MB: ${marks}`);
    console.log(
      `  after warm-up: max ${peak.toFixed(0)} MB; first quarter max ${firstQ.toFixed(0)} MB, last quarter max ${lastQ.toFixed(0)} MB; data dir ${disk} MB`,
    );
    const full = o.soakMinutes >= FULL_MINUTES;
    const flat = lastQ <= firstQ * 1.1;
    addRow({
      id: 'M1',
      figure: `RSS, ${o.soakMinutes}-min soak${full ? '' : ` (goal is for ${FULL_MINUTES} min)`}`,
      measured: `max ${peak.toFixed(0)} MB; last ÷ first quarter ${x2(lastQ / firstQ)}`,
      goal: 'flat (≤ 1.1×), < 300 MB',
      status: !full ? 'partial' : flat && peak < 300 ? 'meets' : 'MISSES',
    });
    if (!full)
      console.log(
        `  (${o.soakMinutes} min is shorter than the row's ${FULL_MINUTES}: run with --soak-minutes ${FULL_MINUTES}; this run's own verdict: ${flat && judge(peak, 300) === 'meets' ? 'flat and under 300 MB' : 'not flat or not under 300 MB'})`,
      );
  } finally {
    await server.stop();
  }
}

const x2 = (v: number): string => `${v.toFixed(2)}×`;
