/**
 * D1: CompileMof of a chain C0 … C(n-1), each class a subclass of the one before, at 500, 1,000
 * and 2,000 classes in alternating rounds (linear: twice the classes, twice the time). D2:
 * EnumClasses deep from the top of a chain of each size, 1 in flight, one call a round (today's
 * calls take seconds to a minute; --slow-rounds gives more rounds). In D2's rounds, alternating with
 * its calls, the floor of a first call: a fresh bare grpc-js server's first call replaying the
 * same answer (recorded beforehand from a server of its own, so D2's first call stays the first),
 * and the same when the bare server first copies each message into new memory and keeps it.
 */
import { runLoad, type LoadgenResult } from '../loadgen';
import { addRow, judge, median } from '../report';
import { chainMof, compileMofRequest, enumClassesRequest, WBEM } from '../requests';
import { alternate, freshWbemd, ms, oneWrite, x, type BenchOptions } from './common';
import {
  freshReplayCall,
  recordAnswer,
  replayOf,
  replayRound,
  type FirstCall,
  type TimedCall,
  type RecordedAnswer,
} from './floor';

const SIZES = [500, 1000, 2000] as const;
/** The chains whose first enumeration has a floor row (the goals' two). */
const FLOOR_LEVELS = [1000, 2000] as const;
/** t(2n) / t(n) at most this for "linear" (quadratic would give 4). */
const LINEAR = 2.5;
/** Calls the bare replay server answers before its measured rounds (its JIT, not its network). */
const FLOOR_WARMUP_CALLS = 5;
/** The longest one call may take before it counts as failed. */
const TIMEOUT_SEC = 300;

const time = (rs: readonly LoadgenResult[] | undefined): number =>
  median((rs ?? []).map((r) => (r.calls > 0 ? r.latencyUs.max : Infinity)));
const cpu = (rs: readonly LoadgenResult[] | undefined): number =>
  median((rs ?? []).map((r) => r.servers[0]?.cpuSec ?? NaN));

function growth(label: string, results: LoadgenResult[][]): string {
  return SIZES.map(
    (n, i) =>
      `${n}: ${(results[i] ?? []).map((r) => (r.calls > 0 ? ms(r.latencyUs.max) : `> ${TIMEOUT_SEC} s`)).join(', ')} (server CPU ${cpu(results[i]).toFixed(2)} s)`,
  )
    .join('   ')
    .replace(/^/, `  ${label} `);
}

/** The class names of the `serial`th chain compiled (D2 enumerates the warm-up round's). */
const chainPrefix = (n: number, serial: number): string => `Chain${n}_${serial}_C`;

/**
 * The answers D2's first calls will get, recorded before D2's server starts: a server of their own
 * compiles the same chains under the same names (the warm-up round's: serial = index in SIZES) and
 * enumerates each once. D2's server never enumerates before its measured calls.
 */
async function recordFirstAnswers(): Promise<Map<number, RecordedAnswer>> {
  const answers = new Map<number, RecordedAnswer>();
  const recorder = await freshWbemd('d-record');
  try {
    for (const n of FLOOR_LEVELS) {
      const prefix = chainPrefix(n, SIZES.indexOf(n));
      await oneWrite(recorder, 'CompileMof', compileMofRequest(chainMof(prefix, n)), {
        timeoutSec: TIMEOUT_SEC,
      });
      const request = enumClassesRequest(`${prefix}0`);
      answers.set(n, await recordAnswer(recorder, `${WBEM}EnumClasses`, request));
    }
    return answers;
  } catch (error) {
    for (const answer of answers.values()) answer.remove();
    throw error;
  } finally {
    await recorder.stop();
  }
}

export async function benchDeep(o: BenchOptions, only: (id: string) => boolean): Promise<void> {
  const firstAnswers = only('D2') ? await recordFirstAnswers() : new Map<number, RecordedAnswer>();
  const server = await freshWbemd('d');
  try {
    const rounds = o.slowRounds;
    let serial = 0;
    const prefixes = new Map<number, string>();
    const compile = (n: number) => async (): Promise<LoadgenResult> => {
      const prefix = chainPrefix(n, serial++);
      const r = await oneWrite(server, 'CompileMof', compileMofRequest(chainMof(prefix, n)), {
        timeoutSec: TIMEOUT_SEC,
      });
      if (!prefixes.has(n)) prefixes.set(n, prefix);
      return r;
    };
    console.log(
      `\nD1 CompileMof of a chain, each class a subclass of the last: ${SIZES.join(', ')} classes (${rounds} alternating round${rounds > 1 ? 's' : ''}, after one unmeasured round)`,
    );
    // Unmeasured first: a fresh server's first CompileMofs run while V8 compiles and optimises
    // their code (≈ 3× a warm call's CPU, over the first four or five calls whatever their size),
    // a cost of the server's start, not of a chain's depth, that landed on the first two rounds
    // and so on the 2,000-level median (docs/performance.md, D1). As the paired rows' warm-up pair.
    await alternate(1, SIZES.map(compile));
    const compiled = await alternate(rounds, SIZES.map(compile));
    console.log(growth('CompileMof', compiled));
    if (only('D1')) {
      const [t1, t2] = [time(compiled[1]), time(compiled[2])];
      addRow({
        id: 'D1',
        figure: 'CompileMof chain of 2,000',
        measured: ms(t2),
        goal: '≤ 1 s',
        status: judge(t2, 1e6),
      });
      addRow({
        id: 'D1',
        figure: 't(2,000) ÷ t(1,000)',
        measured: x(t2 / t1),
        goal: `linear (≤ ${LINEAR}×)`,
        status: judge(t2 / t1, LINEAR),
      });
    }
    /** EnumClasses deep from the top of the first chain of `n` classes compiled. */
    const fromTop = (n: number): Uint8Array => enumClassesRequest(`${prefixes.get(n) ?? ''}0`);
    if (only('D2')) {
      console.log(
        `\nD2 EnumClasses deep from the top of a chain of ${SIZES.join(', ')} levels, 1 in flight (${rounds} alternating round${rounds > 1 ? 's' : ''} of one call)`,
      );
      const enumerate = (n: number) => async (): Promise<LoadgenResult> =>
        runLoad({
          addr: server.address,
          method: `${WBEM}EnumClasses`,
          stream: true,
          request: fromTop(n),
          inflight: 1,
          count: 1,
          timeoutSec: TIMEOUT_SEC,
          pids: [server.pid],
        });
      for (const n of FLOOR_LEVELS)
        if (prefixes.get(n) !== chainPrefix(n, SIZES.indexOf(n)))
          throw new Error(`D2's ${n}-level chain is not the one its first-call floor recorded`);
      const spec = { stream: true, inflight: 1, count: 1, timeoutSec: TIMEOUT_SEC } as const;
      const freshBare = (n: number, built: boolean) => (): Promise<FirstCall> =>
        freshReplayCall(
          firstAnswers.get(n) as RecordedAnswer,
          { ...spec, request: fromTop(n) },
          built,
        );
      const [l500, l1000, l2000, ...bare] = await alternate<LoadgenResult>(rounds, [
        ...SIZES.map(enumerate),
        ...FLOOR_LEVELS.map((n) => freshBare(n, false)),
        ...FLOOR_LEVELS.map((n) => freshBare(n, true)),
      ]);
      const listed = [l500, l1000, l2000] as LoadgenResult[][];
      console.log(growth('EnumClasses', listed));
      const [e1, e2] = [time(listed[1]), time(listed[2])];
      addRow({
        id: 'D2',
        figure: 'EnumClasses deep, 1,000-level chain',
        measured: ms(e1),
        goal: '≤ 50 ms',
        status: judge(e1, 50e3),
      });
      addRow({
        id: 'D2',
        figure: 'EnumClasses deep, 2,000-level chain',
        measured: ms(e2),
        goal: '≤ 100 ms',
        status: judge(e2, 100e3),
      });
      addRow({
        id: 'D2',
        figure: 't(2,000) ÷ t(1,000)',
        measured: x(e2 / e1),
        goal: `linear (≤ ${LINEAR}×)`,
        status: judge(e2 / e1, LINEAR),
      });
      firstCallFloor(bare as FirstCall[][]); // the sides after SIZES are freshBare's
      for (const n of FLOOR_LEVELS) {
        const answer = firstAnswers.get(n) as RecordedAnswer;
        await benchD2Floor(rounds, server, n, fromTop(n), answer);
      }
    }
  } finally {
    await server.stop();
    for (const answer of firstAnswers.values()) answer.remove();
  }
}

/**
 * The floor of D2's first calls: each round's fresh bare servers, their first call; `bare` holds
 * the replaying servers' calls (one list per FLOOR_LEVELS), then the building ones'. The replaying
 * servers' next calls are the floor of D2's later rounds, which replay the answer round 1 kept.
 */
function firstCallFloor(bare: readonly FirstCall[][]): void {
  const mainMs = (rs: readonly TimedCall[] | undefined): string =>
    (median((rs ?? []).map((r) => r.mainThreadSec)) * 1e3).toFixed(0);
  const each = (rs: readonly TimedCall[] | undefined): string =>
    (rs ?? [])
      .map(
        (r) =>
          `${ms(r.latencyUs.max)} (CPU ${((r.servers[0]?.cpuSec ?? NaN) * 1e3).toFixed(0)} ms, main thread ${(r.mainThreadSec * 1e3).toFixed(0)} ms)`,
      )
      .join(', ');
  const kinds = [
    ['first call replaying the same answer', 'first call, replaying', 0, -1],
    [
      'first call building it (each message copied into new memory, kept) and replaying it',
      'first call, building',
      1,
      -1,
    ],
    ['second call replaying the same answer', 'second call, replaying', 0, 0],
    ['third call replaying the same answer', 'third call, replaying', 0, 1],
  ] as const;
  for (const [what, short, k, later] of kinds) {
    const [a, b] = [bare[2 * k], bare[2 * k + 1]].map((rs) =>
      later < 0 ? rs : rs?.map((r) => r.later[later] as TimedCall),
    );
    console.log(
      `  the floor, a fresh bare grpc-js server's ${what}: ${FLOOR_LEVELS[0]}: ${each(a)}   ${FLOOR_LEVELS[1]}: ${each(b)}`,
    );
    addRow({
      id: 'D2',
      figure: `floor: a fresh bare grpc-js server's ${short}, 1,000 / 2,000 levels`,
      measured: `${ms(time(a))} / ${ms(time(b))} (main thread ${mainMs(a)} / ${mainMs(b)} ms)`,
      goal: '–',
      status: 'info',
    });
  }
}

/**
 * D2's chain enumerated again (warm: its answer kept by the first call, replayed; after the
 * measured rounds, whose later rounds are the same replay in a process that made the answer
 * moments before) in rounds alternating with the transport's floor, a warm bare grpc-js server
 * replaying the same messages. One call a round, each by its own load generator on a fresh
 * connection, as D2's own calls.
 */
async function benchD2Floor(
  rounds: number,
  server: { address: string; pid: number },
  levels: number,
  request: Uint8Array,
  firstAnswer: RecordedAnswer,
): Promise<void> {
  const replay = await replayOf(server, `${WBEM}EnumClasses`, request);
  try {
    if (replay.messages !== firstAnswer.messages || replay.bytes !== firstAnswer.bytes)
      throw new Error(
        `D2's ${levels}-level answer (${replay.messages} messages, ${replay.bytes} bytes) is not the one its first-call floor replayed (${firstAnswer.messages}, ${firstAnswer.bytes})`,
      );
    const spec = { stream: true, request, inflight: 1, count: 1, timeoutSec: TIMEOUT_SEC } as const;
    // Unmeasured calls first: the bare server is a fresh process, wbemd's code has run for minutes.
    await replayRound(replay, { ...spec, count: FLOOR_WARMUP_CALLS });
    const [warm, bare] = await alternate(Math.max(rounds, 3), [
      () =>
        runLoad({
          ...spec,
          addr: server.address,
          method: `${WBEM}EnumClasses`,
          pids: [server.pid],
        }),
      () => replayRound(replay, spec),
    ]);
    const line = (rs: readonly LoadgenResult[] | undefined): string =>
      `${ms(time(rs))} (${(rs ?? []).map((r) => ms(r.latencyUs.max)).join(', ')}; server CPU ${(cpu(rs) * 1e3).toFixed(0)} ms)`;
    console.log(
      `  ${levels} levels again (warm) ${line(warm)}; the floor, a warm bare grpc-js server replaying its ${replay.messages} messages (${(replay.bytes / 1e6).toFixed(1)} MB): ${line(bare)}`,
    );
    addRow({
      id: 'D2',
      figure: `${levels.toLocaleString('en')}-level chain again (warm) / floor: a warm bare grpc-js server replaying it`,
      measured: `${ms(time(warm))} / ${ms(time(bare))}`,
      goal: '–',
      status: 'info',
    });
  } finally {
    await replay.stop();
  }
}
