/**
 * The baseline: a bare grpc-js server-streaming RPC that answers a request of the same size with
 * one small message and OK — what the transport alone costs, to compare PutClassAsync against.
 */
import { Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';

export const BARE_SERVICE = {
  stream: {
    path: '/bench.Bare/Stream',
    requestStream: false,
    responseStream: true,
    requestSerialize: (value: Buffer): Buffer => value,
    requestDeserialize: (value: Buffer): Buffer => value,
    responseSerialize: (value: Buffer): Buffer => value,
    responseDeserialize: (value: Buffer): Buffer => value,
  },
} as const;

const REPLY = Buffer.alloc(48, 1);

function main(): void {
  const server = new Server();
  server.addService(BARE_SERVICE, {
    stream: (call: ServerWritableStream<Buffer, Buffer>) => {
      call.write(REPLY);
      call.end();
    },
  });
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    console.log(`listening on 127.0.0.1:${port}`);
  });
  process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
}

if (require.main === module) main();
