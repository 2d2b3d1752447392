/**
 * The baselines: bare grpc-js servers that do nothing but answer — what the transport alone costs.
 *   node bare-server.js [stream|unary] [REPLY_BYTES]
 * `stream` (/bench.Bare/Stream): a server-streaming RPC answering one message and OK, the shape of
 * PutClassAsync. `unary` (/bench.Bare/Unary): a unary no-op answering REPLY_BYTES bytes (the bench
 * passes the size of the real GetClass response, so the two carry the same bytes).
 * `replay FILE [PATH]` (/bench.Bare/Replay, or PATH): a server-streaming RPC answering, whatever
 * the request, the messages recorded in FILE (`bench/recorded-stream.ts`), written as wbemd writes
 * a stream: one `write` a message, waiting for 'drain' when it returns false. It is the transport's
 * floor for an enumeration: grpc-js framing and Node's HTTP/2 sending the very bytes wbemd sends;
 * with PATH `/wbem.v1.WbemServices/PutClassAsync` and a recorded final status, P3's floor server
 * (every call answered as wbemd answers a class it wrote, `bench/bare-mofcomp.ts` its client);
 * with PATH `/wbem.v1.WbemServices/CompileMof` and wbemd's recorded answer, `--atomic`'s floor.
 * `replay-built FILE`: the same, but each message is first copied into new memory and the copies
 * are kept until the next call, as wbemd builds and keeps an answer (D2's floor of a first call).
 * The bench starts each as its own process, so its CPU time is its own.
 */
import { once } from 'node:events';
import {
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { readRecordedStream } from './recorded-stream';

const raw = {
  requestSerialize: (value: Buffer): Buffer => value,
  requestDeserialize: (value: Buffer): Buffer => value,
  responseSerialize: (value: Buffer): Buffer => value,
  responseDeserialize: (value: Buffer): Buffer => value,
} as const;

export const BARE_SERVICE = {
  stream: { path: '/bench.Bare/Stream', requestStream: false, responseStream: true, ...raw },
  unary: { path: '/bench.Bare/Unary', requestStream: false, responseStream: false, ...raw },
  replay: { path: '/bench.Bare/Replay', requestStream: false, responseStream: true, ...raw },
} as const;

/** The messages a `replay-built` server made in its last call, kept as wbemd keeps an answer. */
const lastBuilt: { messages: readonly Buffer[] } = { messages: [] };

async function replay(
  call: ServerWritableStream<Buffer, Buffer>,
  messages: readonly Buffer[],
  build: boolean,
) {
  let cancelled = false;
  call.once('cancelled', () => (cancelled = true));
  const made: Buffer[] = [];
  for (const recorded of messages) {
    if (cancelled) return;
    // Building the answer at its least: new memory, first touched by one copy, kept.
    const message = build ? Buffer.from(recorded) : recorded;
    if (build) made.push(message);
    if (!call.write(message)) await once(call, 'drain');
  }
  if (build) lastBuilt.messages = made;
  call.end();
}

function serveReplay(
  server: Server,
  file: string,
  path: string = BARE_SERVICE.replay.path,
  build = false,
): void {
  const messages = readRecordedStream(file);
  server.addService(
    { replay: { ...BARE_SERVICE.replay, path } },
    { replay: (call: ServerWritableStream<Buffer, Buffer>) => void replay(call, messages, build) },
  );
}

function main(): void {
  const mode = process.argv[2] ?? 'stream';
  // wbemd's own limit (src/server.ts): a replayed CompileMof takes CIM 2.41's 4 MB request.
  const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  if (mode === 'replay') serveReplay(server, process.argv[3] ?? '', process.argv[4]);
  else if (mode === 'replay-built') serveReplay(server, process.argv[3] ?? '', undefined, true);
  else addAnswering(server, mode, Buffer.alloc(Number(process.argv[3] ?? 48), 1));
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    console.log(`listening on 127.0.0.1:${port}`);
  });
  process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
}

function addAnswering(server: Server, mode: string, reply: Buffer): void {
  server.addService(
    mode === 'unary' ? { unary: BARE_SERVICE.unary } : { stream: BARE_SERVICE.stream },
    mode === 'unary'
      ? {
          unary: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) =>
            callback(null, reply),
        }
      : {
          stream: (call: ServerWritableStream<Buffer, Buffer>) => {
            call.write(reply);
            call.end();
          },
        },
  );
}

if (require.main === module) main();
