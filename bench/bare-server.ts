/**
 * The baselines: bare grpc-js servers that do nothing but answer — what the transport alone costs.
 *   node bare-server.js [stream|unary] [REPLY_BYTES]
 * `stream` (/bench.Bare/Stream): a server-streaming RPC answering one message and OK, the shape of
 * PutClassAsync. `unary` (/bench.Bare/Unary): a unary no-op answering REPLY_BYTES bytes (the bench
 * passes the size of the real GetClass response, so the two carry the same bytes).
 * The bench starts each as its own process, so its CPU time is its own.
 */
import {
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';

const raw = {
  requestSerialize: (value: Buffer): Buffer => value,
  requestDeserialize: (value: Buffer): Buffer => value,
  responseSerialize: (value: Buffer): Buffer => value,
  responseDeserialize: (value: Buffer): Buffer => value,
} as const;

export const BARE_SERVICE = {
  stream: { path: '/bench.Bare/Stream', requestStream: false, responseStream: true, ...raw },
  unary: { path: '/bench.Bare/Unary', requestStream: false, responseStream: false, ...raw },
} as const;

function main(): void {
  const mode = process.argv[2] ?? 'stream';
  const reply = Buffer.alloc(Number(process.argv[3] ?? 48), 1);
  const server = new Server();
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
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    console.log(`listening on 127.0.0.1:${port}`);
  });
  process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
}

if (require.main === module) main();
