/**
 * startServer: store → service → gRPC server with WbemServices, grpc.health.v1 and reflection.
 * stop(): health NOT_SERVING, new calls refused (WBEM_E_SHUTTING_DOWN), calls in flight drained
 * until the grace deadline, then forced, then the store closed (docs/stack.md trap 4).
 */
import { Server, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import { WbemService } from './service/wbem-service';
import type { ClassStore } from './store/class-store';
import { LevelClassStore } from './store/level-class-store';
import { addReflection } from './transport/grpc/reflection';
import { addWbemServices } from './transport/grpc/wbem-services';

export interface ServerOptions {
  /** `HOST:PORT`; port 0 picks a free one. */
  readonly listen: string;
  /** LevelDB directory (default store). */
  readonly dataDir?: string;
  /** A store to use instead of LevelDB under dataDir (tests, benchmarks). */
  readonly store?: ClassStore;
  /** __SERVER; default the host name. */
  readonly serverName?: string;
  /** How long stop() lets calls in flight finish before cancelling them. Default 10 s. */
  readonly shutdownGraceMs?: number;
  readonly logger?: Logger;
  /** grpc-js server options (keepalive, message sizes…). */
  readonly grpcOptions?: ChannelOptions;
}

export interface RunningServer {
  /** `127.0.0.1:41234`: the real port when asked for 0. */
  readonly address: string;
  readonly service: WbemService;
  /** Graceful and idempotent. */
  stop(): Promise<void>;
}

/** The service names health reports: '' (the whole server) and WbemServices. */
export const HEALTH_SERVICES = ['', 'wbem.v1.WbemServices'] as const;

const DEFAULT_GRPC_OPTIONS: ChannelOptions = {
  // A class never needs more; the limit keeps a flood of huge requests from costing memory.
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
};

function splitListen(listen: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(listen);
  if (match === null || match[1] === undefined || match[2] === undefined || match[1] === '') {
    throw new Error(`--listen must be HOST:PORT, got "${listen}"`);
  }
  return { host: match[1], port: Number(match[2]) };
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const { host } = splitListen(options.listen);
  const store = options.store ?? new LevelClassStore(options.dataDir ?? './data');
  await store.open();
  let server: Server | undefined;
  try {
    const health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((name) => [name, 'NOT_SERVING' as const])));
    const service = new WbemService({
      store,
      serverName: options.serverName ?? hostname(),
      logger,
      // A store that failed a durable write refuses all work until restarted: stop advertising.
      onStoreFailure: () => {
        for (const name of HEALTH_SERVICES) health.setStatus(name, 'NOT_SERVING');
      },
    });
    await service.initialize();
    server = new Server({ ...DEFAULT_GRPC_OPTIONS, ...options.grpcOptions });
    addWbemServices(server, service, logger);
    health.addToServer(server);
    addReflection(server);
    const grpcServer = server;
    const port = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync(options.listen, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    // SERVING only while the store is open and the server is not draining.
    for (const name of HEALTH_SERVICES) health.setStatus(name, 'SERVING');
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        for (const name of HEALTH_SERVICES) health.setStatus(name, 'NOT_SERVING');
        service.beginShutdown();
        const graceMs = options.shutdownGraceMs ?? 10_000;
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            logger.warn({ graceMs }, 'grace period over: cancelling calls still in flight');
            grpcServer.forceShutdown();
            resolve();
          }, graceMs);
          grpcServer.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        await store.close();
        logger.info({}, 'stopped');
      })());
    return { address: `${host}:${port}`, service, stop };
  } catch (error) {
    server?.forceShutdown();
    await store.close();
    throw error;
  }
}
