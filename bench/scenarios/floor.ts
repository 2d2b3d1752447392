/**
 * The transport's floor for an enumeration (R2, D2): wbemd's answer recorded once, then replayed
 * by a bare grpc-js server (`bare-server.ts replay`) to the same load generator with the same
 * request, in rounds alternating with wbemd's. Whatever wbemd does, it cannot send the same
 * messages faster than grpc-js and Node's HTTP/2 send them with nothing else to do. A first call
 * (D2) has its own floor: the same replay as the first call of a fresh bare server process.
 */
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startNodeServer, type ChildServer } from '../child-server';
import { expectNoErrors, runLoad, type LoadSpec, type LoadgenResult } from '../loadgen';
import { mainThreadCpuSeconds, makeTempDir, removeTempDir } from '../procs';
import { recordStream } from '../recorded-stream';

export const REPLAY_METHOD = '/bench.Bare/Replay';

export interface ReplayServer extends ChildServer {
  readonly messages: number;
  readonly bytes: number;
}

/** An answer recorded to a file, from which bare servers replaying it are started. */
export interface RecordedAnswer {
  readonly file: string;
  readonly messages: number;
  readonly bytes: number;
  remove(): void;
}

/** Records `method`'s answer to `request` from `source` into a temp file. */
export async function recordAnswer(
  source: { readonly address: string },
  method: string,
  request: Uint8Array,
): Promise<RecordedAnswer> {
  const dir = makeTempDir('wbemd-bench-replay-');
  try {
    const file = join(dir, 'stream.bin');
    return {
      file,
      ...(await recordStream(source.address, method, request, file)),
      remove: () => removeTempDir(dir),
    };
  } catch (error) {
    removeTempDir(dir);
    throw error;
  }
}

const startReplay = (answer: RecordedAnswer, built = false): Promise<ChildServer> =>
  startNodeServer(resolve(__dirname, '../bare-server.js'), [
    built ? 'replay-built' : 'replay',
    answer.file,
  ]);

/** Records `method`'s answer to `request` from `source` and starts a bare server replaying it. */
export async function replayOf(
  source: { readonly address: string },
  method: string,
  request: Uint8Array,
): Promise<ReplayServer> {
  const answer = await recordAnswer(source, method, request);
  try {
    const server = await replayServer(answer);
    return {
      ...server,
      async stop() {
        await server.stop();
        answer.remove();
      },
    };
  } catch (error) {
    answer.remove();
    throw error;
  }
}

/** A bare server replaying an answer recorded before; the answer's file stays the caller's. */
async function replayServer(answer: RecordedAnswer): Promise<ReplayServer> {
  const server = await startReplay(answer);
  return {
    messages: answer.messages,
    bytes: answer.bytes,
    address: server.address,
    pid: server.pid,
    stop: () => server.stop(),
  };
}

/** How long a fresh replay server is left idle before its call (its start's own work done). */
const SETTLE_MS = 300;

/** A call of a bare replay server, and how long the server's main thread ran meanwhile. */
export interface TimedCall extends LoadgenResult {
  /** The main thread's CPU from before the load generator started to after it ended. */
  readonly mainThreadSec: number;
}

/** Calls a fresh replay server answers after its first (`FirstCall.later`; deep.ts reports both). */
export const LATER_CALLS = 2;

/** A fresh replay server's first call, then its next ones of the same answer. */
export interface FirstCall extends TimedCall {
  /**
   * The same server's next LATER_CALLS calls: a process sending this answer again after its
   * first send's memory was freed and while its JIT still warms up, as D2's rounds 2 and 3 replay
   * the answer round 1 made and kept.
   */
  readonly later: readonly TimedCall[];
}

/**
 * The first call of a fresh bare server replaying `answer` (started for it, stopped after): the
 * floor of a server's first enumeration, grpc-js's send path run cold, its copies in new memory;
 * then its next calls, the floor of the same answer sent again soon after (D2's later rounds).
 * `built`: each message copied into new memory first and kept (`bare-server.ts replay-built`), the
 * least a server that builds its answer adds. A call's wall time is at least its main thread's
 * CPU, whatever the machine's load.
 */
export async function freshReplayCall(
  answer: RecordedAnswer,
  spec: Omit<LoadSpec, 'addr' | 'method' | 'pids'>,
  built = false,
): Promise<FirstCall> {
  const server = await startReplay(answer, built);
  const timedCall = async (): Promise<TimedCall> => {
    const before = mainThreadCpuSeconds(server.pid);
    const r = await runLoad({
      ...spec,
      addr: server.address,
      method: REPLAY_METHOD,
      pids: [server.pid],
    });
    const mainThreadSec = mainThreadCpuSeconds(server.pid) - before;
    return { ...checkedReplay(r, answer.messages), mainThreadSec };
  };
  try {
    await delay(SETTLE_MS);
    const first = await timedCall();
    const later: TimedCall[] = [];
    for (let i = 0; i < LATER_CALLS; i++) later.push(await timedCall());
    return { ...first, later };
  } finally {
    await server.stop();
  }
}

function checkedReplay(r: LoadgenResult, messages: number): LoadgenResult {
  expectNoErrors('bare replay', r);
  if (r.messages !== r.calls * messages)
    throw new Error(
      `bare replay sent ${r.messages} messages in ${r.calls} calls, not ${messages} a call`,
    );
  return r;
}

/** One measured round of `spec` against the replaying server: the same calls, the bare answer. */
export async function replayRound(
  replay: ReplayServer,
  spec: Omit<LoadSpec, 'addr' | 'method' | 'pids'>,
): Promise<LoadgenResult> {
  const r = await runLoad({
    ...spec,
    addr: replay.address,
    method: REPLAY_METHOD,
    pids: [replay.pid],
  });
  return checkedReplay(r, replay.messages);
}
