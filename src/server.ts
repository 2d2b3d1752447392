/**
 * startServer: store → service → gRPC server with WbemServices, grpc.health.v1 and reflection.
 * stop(): health NOT_SERVING, new calls refused (WBEM_E_SHUTTING_DOWN), WatchClassEvents streams
 * ended (WBEM_E_SHUTTING_DOWN: they never finish by themselves), calls in flight drained until the
 * grace deadline, then forced, then the store closed (docs/stack.md trap 4).
 */
import { Server, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import { WbemService } from './service/wbem-service';
import type { ClassStore } from './store/class-store';
import type { EtcdClassStoreOptions } from './store/etcd/etcd-class-store';
import { openStore } from './server-store';
import { AccessPolicy, type AclEntry } from './domain/access';
import { Authenticator, type TokenEntry } from './transport/grpc/authenticate';
import { addReflection } from './transport/grpc/reflection';
import { Admission } from './transport/grpc/admission';
import { ConnectionAges } from './transport/grpc/connection-ages';
import { grpcServerMetricsInterceptor } from './transport/grpc/grpc-server-metrics';
import { WbemdMetrics } from './transport/metrics';
import { addWbemServices } from './transport/grpc/wbem-services';
import { wbemOperations } from './transport/grpc/wbem-operations';
import type { CallEnv } from './transport/grpc/serve';
import { serveHttp, type HttpListener } from './transport/http/http-listener';
import type { HttpCallEnv } from './transport/http/serve-http';
import { ObservedHealth } from './transport/observed-health';
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
   * `HOST:PORT` of the HTTP listener: Connect, gRPC-Web, JSON and the web class browser, with the
   * same service, credentials, limits and access log (docs/http.md); absent = none.
   */
  readonly httpListen?: string;
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
  /** The HTTP listener's `HOST:PORT`, when httpListen was given. */
  readonly httpAddress?: string;
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
  const security = {
    insecure: options.insecure === true,
    tls: options.tls !== undefined,
    acl: options.acl !== undefined,
  };
  for (const listen of [options.listen, options.httpListen]) {
    if (listen === undefined) continue;
    splitListen(listen);
    const refusal = nonLoopbackRefusal(listen, security);
    if (refusal !== undefined) throw new StartError('configuration', refusal, { address: listen });
  }
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
    if (options.httpListen !== undefined) await checkCanListen(options.httpListen, 'httpListen');
  } catch (error) {
    await metricsServer?.close();
    throw error;
  }
  return metricsServer;
}

/** One env for both listeners: the same credentials, the one cap on calls, one access log. */
function callEnvOf(
  options: ServerOptions,
  logger: Logger,
  metrics: WbemdMetrics | undefined,
): { env: HttpCallEnv; authenticator: Authenticator } {
  const authenticator = new Authenticator(
    options.tokens ?? [],
    (options.tokens?.length ?? 0) > 0 || requiresClientCertificates(options.tls),
  );
  const env: HttpCallEnv = {
    log: logger,
    authenticator,
    admission: new Admission(options.maxConcurrentCalls ?? DEFAULT_MAX_CONCURRENT_CALLS),
    ...(metrics === undefined ? {} : { observer: metrics }),
  };
  return { env, authenticator };
}

/** The grpc-js server: the connection-age policy, and the standard grpc_server_* metrics (metrics.ts) for every service when metrics are on. */
function grpcServerOf(
  grpcOptions: ChannelOptions,
  ages: ConnectionAges,
  metrics: WbemdMetrics | undefined,
): Server {
  return new Server({
    ...ages.serverOptions(grpcOptions),
    ...(metrics === undefined ? {} : { interceptors: [grpcServerMetricsInterceptor(metrics)] }),
  });
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const metrics = options.metricsListen === undefined ? undefined : new WbemdMetrics();
  const metricsServer = await checkBeforeCreating(options, metrics);
  const { host } = splitListen(options.listen);
  const { env, authenticator } = callEnvOf(options, logger, metrics);
  const store = await openStore(options, metrics, metricsServer);
  let server: Server | undefined;
  let connectionAges: ConnectionAges | undefined;
  let http: HttpListener | undefined;
  try {
    const health = notServingYet();
    const service = await buildService(options, store, logger, health);
    // A replica over a shared store catches up before each call, on either port.
    const callEnv = service.catchUp === undefined ? env : { ...env, beforeCall: service.catchUp };
    const grpcOptions = { ...DEFAULT_GRPC_OPTIONS, ...options.grpcOptions };
    const ages = new ConnectionAges(grpcOptions);
    connectionAges = ages;
    server = grpcServerOf(grpcOptions, ages, metrics);
    const port = await bindTransport(server, options, {
      service,
      env: { ...callEnv, connectionAges: ages },
      health,
    });
    ages.listening(port);
    // TLS exactly when the gRPC port has it.
    http = await serveHttp(
      { listen: options.httpListen, grpcOptions, tls: options.tls },
      { operations: wbemOperations(service), env: callEnv, health },
    ); // SERVING only while the store is open and the server is not draining.
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
        http,
        logger,
        connectionAges: ages,
      }),
      reloadSecurity: securityReloaderOf(authenticator, service, logger),
      ...(metricsServer === undefined ? {} : { metricsAddress: metricsServer.address }),
      ...(http === undefined ? {} : { httpAddress: http.address }),
    };
  } catch (error) {
    await http?.close(0);
    connectionAges?.close();
    server?.forceShutdown();
    await metricsServer?.close();
    await store.close();
    throw error;
  }
}

/** Every health service NOT_SERVING, until the server is ready. */
function notServingYet(): ObservedHealth {
  return new ObservedHealth(
    Object.fromEntries(HEALTH_SERVICES.map((name) => [name, 'NOT_SERVING' as const])),
  );
}

/** A shared store (etcd) that stops answering: NOT_SERVING until it answers again. */
function followAvailability(store: ClassStore, service: WbemService, health: ObservedHealth): void {
  store.onAvailability((available) => {
    if (service.isShuttingDown) return;
    for (const name of HEALTH_SERVICES)
      health.setStatus(name, available ? 'SERVING' : 'NOT_SERVING');
  });
}

async function buildService(
  options: ServerOptions,
  store: ClassStore,
  logger: Logger,
  health: ObservedHealth,
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
  parts: { service: WbemService; env: CallEnv; health: ObservedHealth },
): Promise<number> {
  addWbemServices(server, parts.service, parts.env);
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
    health: ObservedHealth;
    service: WbemService;
    store: ClassStore;
    metricsServer: MetricsListener | undefined;
    http: HttpListener | undefined;
    logger: Logger;
    connectionAges: ConnectionAges;
  },
): () => Promise<void> {
  const { options, health, service, store, metricsServer, http, logger, connectionAges } = parts;
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      for (const name of HEALTH_SERVICES) health.setStatus(name, 'NOT_SERVING');
      service.beginShutdown();
      const graceMs = options.shutdownGraceMs ?? 10_000;
      const httpClosed = http?.close(graceMs);
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
      await httpClosed;
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
