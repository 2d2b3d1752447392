/**
 * R1: GetClass of a CIM 2.41 class, 16 in flight, against a bare grpc-js unary no-op answering the
 * same number of bytes. R2: EnumClasses deep over the whole CIM 2.41 schema, 1 in flight.
 */
import { expectNoErrors, runLoad, type LoadgenResult } from '../loadgen';
import { addRow, detail, judge, pool } from '../report';
import { replayOf, replayRound } from './floor';
import {
  cimSources,
  compileMofRequest,
  enumClassesRequest,
  getClassRequest,
  WBEM,
} from '../requests';
import {
  alternate,
  CALLS_PER_ROUND,
  bareServer,
  freshWbemd,
  oneWrite,
  WARMUP,
  ms,
  x,
  type BenchOptions,
} from './common';

/** A class with a few levels of superclasses and a fair number of properties. */
export const R1_CLASS = 'CIM_ComputerSystem';

export async function benchReads(o: BenchOptions, only: (id: string) => boolean): Promise<void> {
  const wbemd = await freshWbemd('r');
  try {
    const load = await oneWrite(
      wbemd,
      'CompileMof',
      compileMofRequest(cimSources(), { dmtf: true }),
    );
    console.log(
      `\nCIM Schema 2.41 loaded by one CompileMof in ${ms(load.latencyUs.max)} (setup; P3 measures loading)`,
    );
    if (only('R1')) {
      const request = getClassRequest(R1_CLASS);
      const probe = await runLoad({
        addr: wbemd.address,
        method: `${WBEM}GetClass`,
        request,
        count: 1,
      });
      expectNoErrors('GetClass', probe);
      const replyBytes = probe.bytes;
      console.log(
        `\nR1 GetClass ${R1_CLASS} (${replyBytes}-byte response), 16 in flight, vs a bare grpc-js unary no-op answering ${replyBytes} bytes (${o.rounds} alternating rounds of ${o.seconds} s)`,
      );
      const bare = await bareServer('unary', replyBytes);
      try {
        const getRound = async (): Promise<LoadgenResult> => {
          const r = await runLoad({
            addr: wbemd.address,
            method: `${WBEM}GetClass`,
            request,
            inflight: 16,
            seconds: o.seconds,
            warmup: WARMUP,
            pids: [wbemd.pid],
          });
          expectNoErrors('GetClass', r);
          return r;
        };
        const bareRound = async (): Promise<LoadgenResult> => {
          const r = await runLoad({
            addr: bare.address,
            method: '/bench.Bare/Unary',
            request,
            inflight: 16,
            seconds: o.seconds,
            warmup: WARMUP,
            pids: [bare.pid],
          });
          expectNoErrors('bare unary', r);
          return r;
        };
        const [gets, bares] = await alternate(o.rounds, [getRound, bareRound]);
        const g = pool(gets ?? []);
        const b = pool(bares ?? []);
        console.log(detail('wbemd GetClass', g));
        console.log(detail('bare grpc-js unary no-op', b));
        const cpuRatio = g.cpuUsPerCall / b.cpuUsPerCall;
        addRow({
          id: 'R1',
          figure: 'server CPU/call ÷ bare unary',
          measured: `${x(cpuRatio)} (${g.cpuUsPerCall.toFixed(0)} / ${b.cpuUsPerCall.toFixed(0)} µs)`,
          goal: '≤ 2×',
          status: judge(cpuRatio, 2),
        });
        addRow({
          id: 'R1',
          figure: 'throughput ÷ bare unary',
          measured: `${x(g.rps / b.rps)} (${g.rps.toFixed(0)} / ${b.rps.toFixed(0)} /s)`,
          goal: '≥ 0.5×',
          status: judge(g.rps / b.rps, 0.5, true),
        });
      } finally {
        await bare.stop();
      }
    }
    if (only('R2')) await benchR2(o, wbemd);
  } finally {
    await wbemd.stop();
  }
}

/**
 * R2 in rounds alternating with the transport's floor: a bare grpc-js server replaying the very
 * messages of wbemd's answer to the same load generator.
 */
async function benchR2(o: BenchOptions, wbemd: { address: string; pid: number }): Promise<void> {
  const rounds = Math.min(o.rounds, 3);
  const request = enumClassesRequest('');
  const spec = { stream: true, request, inflight: 1, count: CALLS_PER_ROUND } as const;
  const replay = await replayOf(wbemd, `${WBEM}EnumClasses`, request);
  console.log(
    `\nR2 EnumClasses deep of the whole CIM 2.41 schema, 1 in flight, alternating with the floor: a bare grpc-js server replaying the same ${replay.messages} messages (${(replay.bytes / 1e6).toFixed(2)} MB) (${rounds} rounds of ${CALLS_PER_ROUND} calls a side)`,
  );
  try {
    // The first round of each side starts with a second of unmeasured calls (JIT, connection).
    let wbemdRounds = 0;
    let bareRounds = 0;
    const wbemdRound = async (): Promise<LoadgenResult> => {
      const r = await runLoad({
        ...spec,
        addr: wbemd.address,
        method: `${WBEM}EnumClasses`,
        warmup: wbemdRounds++ === 0 ? 1 : 0,
        pids: [wbemd.pid],
      });
      expectNoErrors('EnumClasses', r);
      return r;
    };
    const bareRound = (): Promise<LoadgenResult> =>
      replayRound(replay, { ...spec, warmup: bareRounds++ === 0 ? 1 : 0 });
    const [enums, bares] = await alternate(rounds, [wbemdRound, bareRound]);
    const p = pool(enums ?? []);
    const b = pool(bares ?? []);
    console.log(detail('wbemd EnumClasses deep', p));
    console.log(detail('bare grpc-js replaying it', b));
    const classes = p.messagesPerCall;
    console.log(
      `  ${classes.toFixed(0)} classes a call, ${(p.bytesPerCall / 1e6).toFixed(2)} MB; server ${(p.cpuUsPerCall / classes).toFixed(1)} µs CPU a class (bare: ${(b.cpuUsPerCall / classes).toFixed(1)} µs)`,
    );
    addRow({
      id: 'R2',
      figure: `p50, ${classes.toFixed(0)} classes`,
      measured: `${p.p50ms.toFixed(1)} ms (p99 ${p.p99ms.toFixed(1)})`,
      goal: '≤ 50 ms',
      status: judge(p.p50ms, 50),
    });
    addRow({
      id: 'R2',
      figure: 'p50 a class',
      measured: `${((p.p50ms * 1e3) / classes).toFixed(1)} µs`,
      goal: '≤ 30 µs',
      status: judge((p.p50ms * 1e3) / classes, 30),
    });
    addRow({
      id: 'R2',
      figure: 'floor: bare grpc-js replaying the same messages, p50',
      measured: `${b.p50ms.toFixed(1)} ms (server CPU ${(b.cpuUsPerCall / 1e3).toFixed(1)} ms a call; wbemd ${(p.cpuUsPerCall / 1e3).toFixed(1)} ms)`,
      goal: '–',
      status: 'info',
    });
  } finally {
    await replay.stop();
  }
}
