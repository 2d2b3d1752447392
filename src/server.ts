/**
 * startServer: store → service → gRPC server with WbemServices, grpc.health.v1 and reflection.
 * stop(): health NOT_SERVING, new calls refused (WBEM_E_SHUTTING_DOWN), WatchClassEvents streams
 * ended (WBEM_E_SHUTTING_DOWN: they never finish by themselves), calls in flight drained until the
 * grace deadline, then forced, then the store closed (docs/stack.md trap 4).
 */
import { Server, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import { WbemService } from './service/wbem-service';
import { StoreError, type ClassStore } from './store/class-store';
import { EtcdClassStore, type EtcdClassStoreOptions } from './store/etcd/etcd-class-store';
import { LevelClassStore } from './store/level/level-class-store';
import { AccessPolicy, type AclEntry } from './domain/access';
import { Authenticator, type TokenEntry } from './transport/grpc/authenticate';
import { addReflection } from './transport/grpc/reflection';
import { Admission } from './transport/grpc/admission';
import { ConnectionAges } from './transport/grpc/connection-ages';
import { WbemdMetrics } from './transport/metrics';
import { addWbemServices } from './transport/grpc/wbem-services';
import {
  checkCanListen,
  checkTlsLoads,
  listenError,
  nonLoopbackRefusal,
  splitListen,
  StartError,
} from './startup';

export { isLoopback, StartError } from './startup';

export interface ServerOptions {
  /** `HOST:PORT`; port 0 picks a free one. */
  readonly listen: string;
  /** LevelDB directory (default store). */
  readonly dataDir?: string;
  /** Store in etcd instead of LevelDB under dataDir (replicas). */
  readonly etcd?: Omit<EtcdClassStoreOptions, 'eventRetention'>;
  /** A store to use instead of LevelDB under dataDir (tests, benchmarks). */
  readonly store?: ClassStore;
  /** __SERVER; default the host name. */
  readonly serverName?: string;
  /** How long stop() lets calls in flight finish before cancelling them. Default 10 s. */
  readonly shutdownGraceMs?: number;
  readonly logger?: Logger;
  /** grpc-js server options (keepalive, message sizes…); over DEFAULT_GRPC_OPTIONS. */
  readonly grpcOptions?: ChannelOptions;
  /** `HOST:PORT` of the Prometheus `GET /metrics` listener; absent = no metrics endpoint. */
  readonly metricsListen?: string;
  /**
   * Serve on a non-loopback address without both TLS and an ACL: anyone who can reach the port
   * could then change the schema, so it must be asked for explicitly.
   */
  readonly insecure?: boolean;
  /** TLS for the gRPC port; with clientCa, client certificates are verified (mTLS). */
  readonly tls?: TlsOptions;
  /** Bearer tokens (hashed); configured tokens make credentials mandatory. */
  readonly tokens?: readonly TokenEntry[];
  /** Namespace ACL (§8); absent = every caller may do everything. */
  readonly acl?: readonly AclEntry[];
  /** Calls served at once, server-wide; more are refused at once (RESOURCE_EXHAUSTED). Default 1024. */
  readonly maxConcurrentCalls?: number;
  /** The event log keeps the class events of the newest this many revisions (LevelDB store). Default 100,000. */
  readonly eventRetention?: number;
}

export interface TlsOptions {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** CA bundle that signs client certificates; present = mTLS. */
  readonly clientCa?: Buffer;
  /** Refuse connections without a client certificate (default true when clientCa is given). */
  readonly requireClientCert?: boolean;
}

export interface RunningServer {
  /** `127.0.0.1:41234`: the real port when asked for 0. */
  readonly address: string;
  readonly service: WbemService;
  /** The metrics listener's `HOST:PORT`, when metricsListen was given. */
  readonly metricsAddress?: string;
  /** SIGHUP: new tokens and ACL for calls from now on; calls in flight are not disturbed. */
  reloadSecurity(security: {
    readonly tokens?: readonly TokenEntry[];
    readonly acl?: readonly AclEntry[];
  }): void;
  /** Graceful and idempotent. */
  stop(): Promise<void>;
}

/** The service names health reports: '' (the whole server) and WbemServices. */
export const HEALTH_SERVICES = ['', 'wbem.v1.WbemServices'] as const;

/** What a mesh expects of a gRPC server (docs/stack.md); each can be set in the config file. */
export const DEFAULT_GRPC_OPTIONS: ChannelOptions = {
  // A class never needs more; the limit keeps a flood of huge requests from costing memory.
  // CompileMof of the whole CIM Schema 2.41 is about 4 MB.
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  'grpc.max_send_message_length': 16 * 1024 * 1024,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  // Connections are recycled so a load balancer can rebalance; idle ones are closed.
  'grpc.max_connection_idle_ms': 300_000,
  'grpc.max_connection_age_ms': 600_000,
  'grpc.max_connection_age_grace_ms': 30_000,
  'grpc.max_concurrent_streams': 1000,
  // wbemd serves no channelz service, so grpc-js's per-call channelz bookkeeping (timestamps,
  // counters, per-socket trackers) had no reader: off, it left PutClassAsync +2–4% RPC/s in A/B
  // runs (docs/performance.md). Metrics and logs cover what it would tell.
  'grpc.enable_channelz': 0,
};

/** Calls served at once, server-wide (one HTTP/2 connection is capped by grpc.max_concurrent_streams). */
export const DEFAULT_MAX_CONCURRENT_CALLS = 1024;

/** Client certificates are verified and required: a client CA is configured and not made optional. */
function requiresClientCertificates(tls: TlsOptions | undefined): boolean {
  return tls?.clientCa !== undefined && tls.requireClientCert !== false;
}

function credentialsOf(tls: TlsOptions | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(
    tls.clientCa ?? null,
    [{ private_key: tls.key, cert_chain: tls.cert }],
    requiresClientCertificates(tls),
  );
}

/** The Prometheus listener, once bound. */
interface MetricsListener {
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Everything that can refuse a start without creating anything, in this order: the listen address
 * (well-formed; not beyond loopback without TLS and an ACL unless `insecure`), the TLS material,
 * the metrics listener (bound for real), the gRPC address (bound and let go). Throws StartError.
 */
async function checkBeforeCreating(
  options: ServerOptions,
  metrics: WbemdMetrics | undefined,
): Promise<MetricsListener | undefined> {
  splitListen(options.listen);
  const refusal = nonLoopbackRefusal(options.listen, {
    insecure: options.insecure === true,
    tls: options.tls !== undefined,
    acl: options.acl !== undefined,
  });
  if (refusal !== undefined)
    throw new StartError('configuration', refusal, { address: options.listen });
  if (options.tls !== undefined) checkTlsLoads(options.tls);
  let metricsServer: MetricsListener | undefined;
  if (metrics !== undefined && options.metricsListen !== undefined) {
    const at = splitListen(options.metricsListen);
    try {
      metricsServer = await metrics.listen(at.host, at.port);
    } catch (error) {
      throw listenError(options.metricsListen, 'metricsListen', error);
    }
  }
  try {
    await checkCanListen(options.listen, 'listen');
  } catch (error) {
    await metricsServer?.close();
    throw error;
  }
  return metricsServer;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const metrics = options.metricsListen === undefined ? undefined : new WbemdMetrics();
  const metricsServer = await checkBeforeCreating(options, metrics);
  const { host } = splitListen(options.listen);
  const mutualTls = requiresClientCertificates(options.tls);
  const authenticator = new Authenticator(
    options.tokens ?? [],
    (options.tokens?.length ?? 0) > 0 || mutualTls,
  );
  const store = await openStore(options, metrics, metricsServer);
  let server: Server | undefined;
  let connectionAges: ConnectionAges | undefined;
  try {
    const health = new HealthImplementation(
      Object.fromEntries(HEALTH_SERVICES.map((name) => [name, 'NOT_SERVING' as const])),
    );
    const service = await buildService(options, store, logger, health);
    const grpcOptions = { ...DEFAULT_GRPC_OPTIONS, ...options.grpcOptions };
    const ages = new ConnectionAges(grpcOptions);
    connectionAges = ages;
    server = new Server(ages.serverOptions(grpcOptions));
    const port = await bindTransport(server, options, {
      service,
      logger,
      authenticator,
      metrics,
      health,
      connectionAges: ages,
    });
    ages.listening(port);
    // SERVING only while the store is open and the server is not draining.
    for (const name of HEALTH_SERVICES) health.setStatus(name, 'SERVING');
    followAvailability(store, service, health);
    return {
      address: `${host}:${port}`,
      service,
      stop: stopperOf(server, {
        options,
        health,
        service,
        store,
        metricsServer,
        logger,
        connectionAges: ages,
      }),
      reloadSecurity: securityReloaderOf(authenticator, service, logger),
      ...(metricsServer === undefined ? {} : { metricsAddress: metricsServer.address }),
    };
  } catch (error) {
    connectionAges?.close();
    server?.forceShutdown();
    await metricsServer?.close();
    await store.close();
    throw error;
  }
}

/** A shared store (etcd) that stops answering: NOT_SERVING until it answers again. */
function followAvailability(
  store: ClassStore,
  service: WbemService,
  health: HealthImplementation,
): void {
  store.onAvailability((available) => {
    if (service.isShuttingDown) return;
    for (const name of HEALTH_SERVICES)
      health.setStatus(name, available ? 'SERVING' : 'NOT_SERVING');
  });
}

/** The store, opened; the metrics listener is closed when it cannot be. */
async function openStore(
  options: ServerOptions,
  metrics: WbemdMetrics | undefined,
  metricsServer: MetricsListener | undefined,
): Promise<ClassStore> {
  const retention =
    options.eventRetention === undefined ? {} : { eventRetention: options.eventRetention };
  const store =
    options.store ??
    (options.etcd === undefined
      ? new LevelClassStore(options.dataDir ?? './data', {
          ...(metrics === undefined ? {} : { onBatch: metrics.storeBatch }),
          ...retention,
        })
      : new EtcdClassStore({ ...options.etcd, ...retention }));
  try {
    await store.open();
  } catch (error) {
    await metricsServer?.close();
    throw store instanceof EtcdClassStore ? etcdStartError(error, options.etcd) : error;
  }
  return store;
}

/** etcd unreachable may pass (exit 1); TLS files that cannot be read will not (exit 2). */
function etcdStartError(error: unknown, etcd: ServerOptions['etcd']): StartError {
  const endpoints = etcd?.endpoints.join(',') ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof StoreError)
    return new StartError('unavailable', `cannot reach etcd at ${endpoints}: ${message}`, {
      endpoints,
      code: error.code,
    });
  return new StartError('configuration', `cannot use the etcd TLS files: ${message}`, {
    endpoints,
  });
}

async function buildService(
  options: ServerOptions,
  store: ClassStore,
  logger: Logger,
  health: HealthImplementation,
): Promise<WbemService> {
  const service = new WbemService({
    store,
    serverName: options.serverName ?? hostname(),
    logger,
    accessPolicy: AccessPolicy.fromEntries(options.acl),
    // A store that failed a durable write refuses all work until restarted: stop advertising.
    onStoreFailure: () => {
      for (const name of HEALTH_SERVICES) health.setStatus(name, 'NOT_SERVING');
    },
  });
  await service.initialize();
  return service;
}

/** Adds the services to `server` and binds it; resolves with the port bound. */
async function bindTransport(
  server: Server,
  options: ServerOptions,
  parts: {
    service: WbemService;
    logger: Logger;
    authenticator: Authenticator;
    metrics: WbemdMetrics | undefined;
    health: HealthImplementation;
    connectionAges: ConnectionAges;
  },
): Promise<number> {
  const admission = new Admission(options.maxConcurrentCalls ?? DEFAULT_MAX_CONCURRENT_CALLS);
  addWbemServices(server, parts.service, {
    log: parts.logger,
    authenticator: parts.authenticator,
    admission,
    connectionAges: parts.connectionAges,
    ...(parts.metrics === undefined ? {} : { observer: parts.metrics }),
  });
  parts.health.addToServer(server);
  addReflection(server);
  // checkCanListen bound this address a moment ago; only a process that took it since fails here.
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(options.listen, credentialsOf(options.tls), (error, bound) =>
      error ? reject(listenError(options.listen, 'listen', error)) : resolve(bound),
    ),
  );
}

/** stop(): graceful, idempotent; see the top of this file for the order. */
function stopperOf(
  server: Server,
  parts: {
    options: ServerOptions;
    health: HealthImplementation;
    service: WbemService;
    store: ClassStore;
    metricsServer: MetricsListener | undefined;
    logger: Logger;
    connectionAges: ConnectionAges;
  },
): () => Promise<void> {
  const { options, health, service, store, metricsServer, logger, connectionAges } = parts;
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      for (const name of HEALTH_SERVICES) health.setStatus(name, 'NOT_SERVING');
      service.beginShutdown();
      const graceMs = options.shutdownGraceMs ?? 10_000;
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          logger.warn({ graceMs }, 'grace period over: cancelling calls still in flight');
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      connectionAges.close();
      await store.close();
      // Last, so a scrape during the drain still sees the calls finishing.
      await metricsServer?.close();
      logger.info({}, 'stopped');
    })());
}

function securityReloaderOf(
  authenticator: Authenticator,
  service: WbemService,
  logger: Logger,
): RunningServer['reloadSecurity'] {
  return (security) => {
    authenticator.setTokens(security.tokens ?? []);
    service.setAccessPolicy(AccessPolicy.fromEntries(security.acl));
    logger.info(
      { tokens: security.tokens?.length ?? 0, aclEntries: security.acl?.length ?? 0 },
      'security configuration reloaded',
    );
  };
}
