/**
 * R3: EnumClasses deep over a big store (100,000 classes with --classes 100000): time, time to the
 * first class, the server's peak RSS, and a slow reader (64 KB HTTP/2 window, 1 ms a message,
 * cancelled 5 s after the fast reads' first class came) whose RSS growth shows whether the server
 * streams with back pressure or buffers the whole answer. L1 during a fast R3. P4 (first, on the
 * store as filled): create rate with the big store ÷ with 1,000 classes stored, alternating rounds
 * on two servers. R3's floor: the same answer recorded once and replayed by a bare grpc-js server
 * (floor.ts), in rounds alternating with wbemd's enumeration.
 */
import { expectNoErrors, runLoad, type LoadgenResult } from '../loadgen';
import { cpuSeconds, memoryMb, resetPeakRss, sleep } from '../procs';
import { addRow, detail, judge, median, pool } from '../report';
import { enumClassesRequest, FLAG, putClassRequest, WBEM } from '../requests';
import { alternate, freshWbemd, ms, WARMUP, x, type BenchOptions, type Wbemd } from './common';
import { replayOf, replayRound } from './floor';
import { addProbeClass, reportProbes, withProbes } from './latency';

const SMALL = 1000;
const SLOW_READ_SEC = 5;
const IDLE_SEC = 2;
/** The store size R3's and P4's goals are for. */
const FULL = 100_000;
/** R3's floor: rounds alternating with wbemd's enumeration (a call each). */
const FLOOR_ROUNDS = 3;

/**
 * R3's and P4's writes: creates of 2 KB classes `Big_C<serial>` from `serialStart` at 64 in flight,
 * `count` of them, or for `seconds` after a warm-up.
 */
export async function createBigClasses(
  server: Wbemd,
  spec: { count?: number; seconds?: number },
  serialStart = 0,
): Promise<LoadgenResult> {
  const put = putClassRequest('Big_C', FLAG.CREATE_ONLY);
  const r = await runLoad({
    addr: server.address,
    method: `${WBEM}PutClassAsync`,
    stream: true,
    request: put.bytes,
    patches: put.patches,
    serialStart,
    inflight: 64,
    pids: [server.pid],
    ...(spec.count === undefined
      ? { seconds: spec.seconds ?? 1, warmup: WARMUP }
      : { count: spec.count }),
  });
  expectNoErrors('PutClassAsync', r);
  return r;
}

export async function benchBig(o: BenchOptions, only: (id: string) => boolean): Promise<void> {
  const full = o.bigClasses >= FULL;
  const big = await freshWbemd('big', true);
  const small = only('P4') ? await freshWbemd('small', true) : undefined;
  const serials = new Map<Wbemd, number>();
  const stored = new Map<Wbemd, number>();
  const create = async (
    server: Wbemd,
    spec: { count?: number; seconds?: number },
  ): Promise<LoadgenResult> => {
    const r = await createBigClasses(server, spec, serials.get(server) ?? 0);
    serials.set(server, r.serialNext);
    // Every call started was a successful create (no errors), counted or not.
    stored.set(server, r.serialNext);
    return r;
  };
  try {
    console.log(`\nR3/P4 setup: ${o.bigClasses} classes of 2 KB created at 64 in flight`);
    const fill = await create(big, { count: o.bigClasses });
    console.log(detail(`fill, ${o.bigClasses} creates`, pool([fill])));
    if (small !== undefined) await create(small, { count: SMALL });

    if (small !== undefined) {
      console.log(
        `\nP4 create rate, 64 in flight, with ${stored.get(big)} classes stored ÷ with ${stored.get(small)} (${o.rounds} alternating rounds of ${o.seconds} s; each round adds classes)`,
      );
      await alternate(1, [
        () => create(small, { seconds: 0.5 }),
        () => create(big, { seconds: 0.5 }),
      ]); // warm both up
      const [s, b] = (
        await alternate(o.rounds, [
          () => create(small, { seconds: o.seconds }),
          () => create(big, { seconds: o.seconds }),
        ])
      ).map((rs) => pool(rs));
      if (s === undefined || b === undefined) throw new Error('P4 has no rounds');
      console.log(detail(`creates, ${SMALL} stored at the start`, s));
      console.log(detail(`creates, ${o.bigClasses} stored at the start`, b));
      console.log(`  stored at the end: ${stored.get(small)} and ${stored.get(big)}`);
      addRow({
        id: 'P4',
        figure: `create rate ${o.bigClasses} ÷ ${SMALL} stored${full ? '' : ` (goal is for ${FULL})`}`,
        measured: `${x(b.rps / s.rps)} (${b.rps.toFixed(0)} / ${s.rps.toFixed(0)} /s; CPU ${b.cpuUsPerCall.toFixed(0)} / ${s.cpuUsPerCall.toFixed(0)} µs)`,
        goal: '≥ 0.9',
        status: full ? judge(b.rps / s.rps, 0.9, true) : 'partial',
      });
    }

    if (only('R3')) {
      console.log(`\nR3 EnumClasses deep over ${stored.get(big)} classes, 1 in flight`);
      const fast: LoadgenResult[] = [];
      const peaks: number[] = [];
      const before = memoryMb(big.pid).rss;
      const peakKnown = resetPeakRss(big.pid);
      for (let round = 0; round < o.slowRounds; round++) {
        const r = await enumerateAll(big, [big.pid]);
        fast.push(r);
        peaks.push(r.servers[0]?.hwmKb ?? NaN);
      }
      const t = median(fast.map((r) => r.latencyUs.max));
      const first = median(fast.map((r) => r.firstMessageUs?.p50 ?? NaN));
      const streamMb = (fast[0]?.bytes ?? 0) / 1e6;
      const peak = Math.max(...peaks) / 1024;
      console.log(
        `  ${fast[0]?.messages} classes, ${streamMb.toFixed(0)} MB a call: ${fast.map((r) => ms(r.latencyUs.max)).join(', ')}; first class after ${ms(first)}; server CPU ${median(fast.map((r) => r.servers[0]?.cpuSec ?? NaN)).toFixed(2)} s a call`,
      );
      console.log(
        `  server RSS ${before.toFixed(0)} MB before, peak ${peakKnown ? `${peak.toFixed(0)} MB` : 'unknown (VmHWM could not be reset)'} during the fast reads`,
      );
      addRow({
        id: 'R3',
        figure: `EnumClasses deep, ${fast[0]?.messages} classes${full ? '' : ` (goal is for ${FULL})`}`,
        measured: `${ms(t)}; first class after ${ms(first)}`,
        goal: '≤ 5 s',
        status: full ? judge(t, 5e6) : 'partial',
      });
      await benchR3Floor(big, stored.get(big) ?? 0);

      const rssBefore = memoryMb(big.pid).rss;
      resetPeakRss(big.pid);
      // It reads for SLOW_READ_SEC once the first class can have come (the fast reads' time to it).
      const slowSec = Math.ceil(first / 1e6) + SLOW_READ_SEC;
      const slow = await runLoad({
        addr: big.address,
        method: `${WBEM}EnumClasses`,
        stream: true,
        request: enumClassesRequest(''),
        count: 1,
        timeoutSec: slowSec,
        window: 65535,
        recvDelayUs: 1000,
        pids: [big.pid],
      });
      const growth = (slow.servers[0]?.hwmKb ?? NaN) / 1024 - rssBefore;
      const received = slow.messages;
      console.log(
        `  slow reader (64 KB window, 1 ms a class, cancelled after ${slowSec} s): ${received} classes read, ${
          Object.entries(slow.errors)
            .map(([c, n]) => `${n} ${c}`)
            .join(', ') || 'finished'
        }; server RSS ${rssBefore.toFixed(0)} MB before, peak +${growth.toFixed(0)} MB (the whole answer is ${streamMb.toFixed(0)} MB)`,
      );
      addRow({
        id: 'R3',
        figure: 'slow reader: server peak RSS growth',
        measured: `+${growth.toFixed(0)} MB of a ${streamMb.toFixed(0)} MB answer`,
        goal: 'bounded (< ¼ of the answer)',
        status: !peakKnown ? 'info' : full ? judge(growth, streamMb / 4) : 'partial',
      });

      // A cancelled call should leave an idle server: its CPU over the next seconds.
      await sleep(1000);
      const idleAt = cpuSeconds(big.pid);
      await sleep(IDLE_SEC * 1000);
      console.log(
        `  server CPU in the ${IDLE_SEC} s after the cancelled read, no calls: ${((cpuSeconds(big.pid) - idleAt) / IDLE_SEC).toFixed(2)} cores`,
      );

      if (only('L1')) {
        await addProbeClass(big);
        const probed = await withProbes(big, () => enumerateAll(big));
        reportProbes(`R3 (EnumClasses of ${stored.get(big)})`, probed);
      }
    }
  } finally {
    await Promise.all([big.stop(), small?.stop()]);
  }
}

/** One EnumClasses deep of the whole namespace, 1 in flight; `pids` are the servers to measure. */
export async function enumerateAll(
  server: Wbemd,
  pids: readonly number[] = [],
): Promise<LoadgenResult> {
  const r = await runLoad({
    addr: server.address,
    method: `${WBEM}EnumClasses`,
    stream: true,
    request: enumClassesRequest(''),
    count: 1,
    timeoutSec: 300,
    pids,
  });
  expectNoErrors('EnumClasses', r);
  return r;
}

/**
 * R3 in rounds alternating with its floor: wbemd's answer recorded once (an unmeasured call) and
 * replayed by a bare grpc-js server to the same load generator, one call a round each.
 */
async function benchR3Floor(big: Wbemd, classes: number): Promise<void> {
  const request = enumClassesRequest('');
  const replay = await replayOf(big, `${WBEM}EnumClasses`, request);
  try {
    const spec = { stream: true, request, count: 1, timeoutSec: 300 } as const;
    console.log(
      `  the floor: a bare grpc-js server replaying the same ${replay.messages} messages (${(replay.bytes / 1e6).toFixed(0)} MB), ${FLOOR_ROUNDS} rounds alternating with wbemd's enumeration of ${classes}`,
    );
    await replayRound(replay, spec); // unmeasured: the bare server is a fresh process
    const [enums, bares] = await alternate(FLOOR_ROUNDS, [
      async () => {
        const r = await runLoad({
          ...spec,
          addr: big.address,
          method: `${WBEM}EnumClasses`,
          pids: [big.pid],
        });
        expectNoErrors('EnumClasses', r);
        return r;
      },
      () => replayRound(replay, spec),
    ]);
    const time = (rs: readonly LoadgenResult[] | undefined): string =>
      ms(median((rs ?? []).map((r) => r.latencyUs.max)));
    const cpu = (rs: readonly LoadgenResult[] | undefined): string =>
      median((rs ?? []).map((r) => r.servers[0]?.cpuSec ?? NaN)).toFixed(2);
    const line = (rs: readonly LoadgenResult[] | undefined): string =>
      `${time(rs)} (${(rs ?? []).map((r) => ms(r.latencyUs.max)).join(', ')}), server CPU ${cpu(rs)} s a call, peak RSS ${(Math.max(...(rs ?? []).map((r) => r.servers[0]?.hwmKb ?? NaN)) / 1024).toFixed(0)} MB`;
    console.log(`    wbemd: ${line(enums)}`);
    console.log(`    floor: ${line(bares)}`);
    addRow({
      id: 'R3',
      figure: 'floor: bare grpc-js replaying the same messages / wbemd, same rounds',
      measured: `${time(bares)} (CPU ${cpu(bares)} s) / ${time(enums)} (CPU ${cpu(enums)} s)`,
      goal: '–',
      status: 'info',
    });
  } finally {
    await replay.stop();
  }
}
