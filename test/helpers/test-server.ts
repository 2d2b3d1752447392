import { credentials } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WbemServicesClient } from '../../generated/wbem/v1/services';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server';

export interface TestServer {
  readonly server: RunningServer;
  readonly client: WbemServicesClient;
  readonly dataDir: string;
  /** Client first, then the server (graceful), then the data directory. */
  close(): Promise<void>;
}

/** A real server on 127.0.0.1:0 with a fresh LevelDB directory, and a generated client. */
export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-e2e-'));
  const server = await startServer({
    listen: '127.0.0.1:0',
    dataDir,
    serverName: 'TESTHOST',
    shutdownGraceMs: 5_000,
    ...options,
  });
  const client = new WbemServicesClient(server.address, credentials.createInsecure());
  return {
    server,
    client,
    dataDir,
    async close() {
      client.close();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
