/**
 * The transport's floor for an enumeration (R2, D2): wbemd's answer recorded once, then replayed
 * by a bare grpc-js server (`bare-server.ts replay`) to the same load generator with the same
 * request, in rounds alternating with wbemd's. Whatever wbemd does, it cannot send the same
 * messages faster than grpc-js and Node's HTTP/2 send them with nothing else to do.
 */
import { join, resolve } from 'node:path';
import { startNodeServer, type ChildServer } from '../child-server';
import { expectNoErrors, runLoad, type LoadSpec, type LoadgenResult } from '../loadgen';
import { makeTempDir, removeTempDir } from '../procs';
import { recordStream } from '../recorded-stream';

export const REPLAY_METHOD = '/bench.Bare/Replay';

export interface ReplayServer extends ChildServer {
  readonly messages: number;
  readonly bytes: number;
}

/** Records `method`'s answer to `request` from `source` and starts a bare server replaying it. */
export async function replayOf(
  source: { readonly address: string },
  method: string,
  request: Uint8Array,
): Promise<ReplayServer> {
  const dir = makeTempDir('wbemd-bench-replay-');
  try {
    const file = join(dir, 'stream.bin');
    const recorded = await recordStream(source.address, method, request, file);
    const server = await startNodeServer(resolve(__dirname, '../bare-server.js'), ['replay', file]);
    return {
      ...recorded,
      address: server.address,
      pid: server.pid,
      async stop() {
        await server.stop();
        removeTempDir(dir);
      },
    };
  } catch (error) {
    removeTempDir(dir);
    throw error;
  }
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
  expectNoErrors('bare replay', r);
  if (r.messages !== r.calls * replay.messages)
    throw new Error(
      `bare replay sent ${r.messages} messages in ${r.calls} calls, not ${replay.messages} a call`,
    );
  return r;
}
