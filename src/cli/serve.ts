/**
 * `wbemd serve [--listen HOST:PORT] [--data DIR] [--server-name NAME] [--shutdown-grace-ms MS]`:
 * argv/env → startServer, one `listening on HOST:PORT` line on stdout once serving, JSON logs on
 * stderr (grpc-js's own lines included), SIGTERM/SIGINT → graceful stop → exit 0. A refused start
 * is one JSON line and exit 2 (configuration) or 1 (anything else).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino, { type Logger } from 'pino';
import {
  startServer,
  StartError,
  type RunningServer,
  type ServerOptions,
  type TlsOptions,
} from '../server';
import { StoreError } from '../store/class-store';
import {
  ConfigError,
  resolveServeConfig,
  type ConfigSources,
  type ServeConfig,
  type TlsFiles,
} from './config';
import { routeGrpcLogs } from './grpc-log';
import { applyServerHeapPolicy, collectYoungBetweenSlices, stopPretenuring } from './heap-policy';
import { wbemdVersion } from './version';

export const SERVE_USAGE = `usage: wbemd serve [--config FILE] [--listen HOST:PORT] [--data DIR] [options]

  --config FILE        JSON configuration (env WBEMD_CONFIG); flags and env override it
  --listen             address to serve on (env WBEMD_LISTEN; default 127.0.0.1:50051)
  --data               LevelDB directory (env WBEMD_DATA; default ./data)
  --server-name        __SERVER of classes and paths (env WBEMD_SERVER_NAME; default the host name)
  --shutdown-grace-ms  how long SIGTERM lets calls in flight finish (env WBEMD_SHUTDOWN_GRACE_MS; default 10000)
  --metrics-listen     HOST:PORT for Prometheus GET /metrics (env WBEMD_METRICS_LISTEN; default off)
  --http-listen        [HOST:]PORT for Connect, gRPC-Web, JSON and the web class browser
                       (env WBEMD_HTTP_LISTEN; default off; a port alone is loopback)
  --log-level          fatal|error|warn|info|debug|trace|silent (env WBEMD_LOG_LEVEL; default info)
  --max-concurrent-calls  calls served at once; more are refused (env WBEMD_MAX_CONCURRENT_CALLS; default 1024)
  --insecure           allow a non-loopback --listen without TLS and an ACL (env WBEMD_INSECURE)
  --etcd-endpoints     etcd client URLs, comma-separated: store in etcd instead of --data (env WBEMD_ETCD_ENDPOINTS)
  --etcd-prefix        key prefix in etcd (env WBEMD_ETCD_PREFIX; default /wbemd/)
  --etcd-ca, --etcd-cert, --etcd-key  TLS to etcd, PEM files (env WBEMD_ETCD_CA, _CERT, _KEY)
  --version            print the version and exit
  (docs/configuration.md lists every setting)
`;

/** The longest a log line waits in the buffer. */
const LOG_FLUSH_MS = 250;

/** The exit status of `wbemd serve` (docs/configuration.md, Exit status). */
const EXIT = { stopped: 0, cannotStart: 1, configuration: 2 } as const;

type ServeFlags = ConfigSources['flags'] & {
  readonly config?: string;
  readonly help?: boolean;
  readonly version?: boolean;
};

function parseServeFlags(args: readonly string[]): ServeFlags {
  return parseArgs({
    args: [...args],
    options: {
      config: { type: 'string' },
      listen: { type: 'string' },
      data: { type: 'string' },
      'server-name': { type: 'string' },
      'shutdown-grace-ms': { type: 'string' },
      'metrics-listen': { type: 'string' },
      'http-listen': { type: 'string' },
      'log-level': { type: 'string' },
      'max-concurrent-calls': { type: 'string' },
      'etcd-endpoints': { type: 'string' },
      'etcd-prefix': { type: 'string' },
      'etcd-ca': { type: 'string' },
      'etcd-cert': { type: 'string' },
      'etcd-key': { type: 'string' },
      insecure: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
    strict: true,
  }).values;
}

/**
 * `wbemd serve`. Every refusal to start is one JSON line on stderr (level fatal) and an exit
 * status: 2 for a configuration problem, 1 when the server could not start for another reason
 * (an address in use, a data directory locked or unreadable). A refused start creates nothing.
 */
export async function serve(args: readonly string[]): Promise<number> {
  let values: ServeFlags;
  try {
    values = parseServeFlags(args);
  } catch (error) {
    process.stderr.write(
      `wbemd: ${error instanceof Error ? error.message : String(error)}\n${SERVE_USAGE}`,
    );
    return EXIT.configuration;
  }
  if (values.help === true) {
    process.stdout.write(SERVE_USAGE);
    return EXIT.stopped;
  }
  if (values.version === true) {
    process.stdout.write(`${wbemdVersion()}\n`);
    return EXIT.stopped;
  }
  const configPath = values.config ?? process.env.WBEMD_CONFIG;
  const { config: _config, help: _help, version: _version, ...flags } = values;
  const loadConfig = (): ServeConfig =>
    resolveServeConfig({
      flags,
      env: process.env,
      ...(configPath === undefined || configPath === ''
        ? {}
        : { file: { path: configPath, text: readConfigFile(configPath) } }),
    });
  let config: ServeConfig;
  let tls: TlsOptions | undefined;
  try {
    config = loadConfig();
    tls = config.tls === undefined ? undefined : readTls(config.tls);
  } catch (error) {
    // The configured log level is not known: the line goes out at fatal, whatever it says.
    const problems = error instanceof ConfigError ? error.problems : [messageOf(error)];
    pino(pino.destination({ dest: 2, sync: true })).fatal(
      { problems },
      `invalid configuration: ${problems.join('; ')}`,
    );
    return EXIT.configuration;
  }
  const { logger, destination } = serverLogger(config.logLevel);
  routeGrpcLogs(logger);
  applyServerHeapPolicy();
  collectYoungBetweenSlices();
  stopPretenuring();
  return startAndServe(
    serverOptions(config, tls, logger),
    tls !== undefined,
    logger,
    () => {
      destination.flushSync();
    },
    loadConfig,
  );
}

/**
 * Starts the server and serves until a signal; the exit status. A signal while it starts stops it
 * as soon as it is up (signalsWhileStarting); a start that fails is logged. `flush` writes the log
 * lines still buffered.
 */
async function startAndServe(
  options: ServerOptions,
  tls: boolean,
  logger: Logger,
  flush: () => void,
  loadConfig: () => ServeConfig,
): Promise<number> {
  const starting = signalsWhileStarting();
  // Written at once (debug level: a refused start stays one line at info): from here a signal is
  // held until the server is up.
  logger.debug({ listen: options.listen }, 'starting');
  flush();
  let server: RunningServer;
  try {
    server = await startServer(options);
  } catch (error) {
    starting.release();
    const code = logStartFailure(logger, error);
    flush();
    return code;
  }
  starting.release();
  const early = starting.received();
  if (early !== undefined) {
    logger.info({ signal: early }, 'shutting down: signalled while starting');
    await server.stop().catch((error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
    });
    return EXIT.stopped;
  }
  await serveUntilSignal(server, tls, logger, loadConfig);
  return EXIT.stopped;
}

/**
 * SIGTERM and SIGINT while the server starts (the store opening, the ports binding) are noted, and
 * the server is stopped as soon as it is up, as after the start: without a handler their default
 * action would kill the process with its store half open. SIGHUP is ignored until then (the
 * configuration it would reload is being read). `release` removes the handlers; serveUntilSignal
 * installs its own in the same turn, so no signal falls between.
 */
function signalsWhileStarting(): {
  received: () => NodeJS.Signals | undefined;
  release: () => void;
} {
  let first: NodeJS.Signals | undefined;
  const note = (signal: NodeJS.Signals): void => {
    first ??= signal;
  };
  const ignore = (): void => undefined;
  process.on('SIGTERM', note);
  process.on('SIGINT', note);
  process.on('SIGHUP', ignore);
  return {
    received: () => first,
    release: () => {
      process.off('SIGTERM', note);
      process.off('SIGINT', note);
      process.off('SIGHUP', ignore);
    },
  };
}

/** What is served where: the side listeners in the log, the gRPC address as the one stdout line. */
function announce(server: RunningServer, tls: boolean, logger: Logger): void {
  if (server.metricsAddress !== undefined)
    logger.info({ metrics: `http://${server.metricsAddress}/metrics` }, 'metrics served');
  if (server.httpAddress !== undefined)
    logger.info(
      { http: `${tls ? 'https' : 'http'}://${server.httpAddress}/` },
      'HTTP (Connect, gRPC-Web, web browser) served',
    );
  process.stdout.write(`listening on ${server.address}\n`);
}

/**
 * Buffered, asynchronous log writes: a write(2) per access-log line cost ~6% of the server's CPU
 * under load. Lines wait at most LOG_FLUSH_MS (or until 4 KiB are buffered); pino flushes the
 * buffer synchronously when the process exits.
 */
function serverLogger(level: ServeConfig['logLevel']): {
  logger: Logger;
  destination: ReturnType<typeof pino.destination>;
} {
  const destination = pino.destination({ dest: 2, sync: false, minLength: 4096 });
  const flushTimer = setInterval(() => destination.flush(), LOG_FLUSH_MS);
  flushTimer.unref();
  return { logger: pino({ level }, destination), destination };
}

function serverOptions(
  config: ServeConfig,
  tls: TlsOptions | undefined,
  logger: Logger,
): ServerOptions {
  return {
    listen: config.listen,
    dataDir: config.dataDir,
    ...(config.serverName === undefined ? {} : { serverName: config.serverName }),
    shutdownGraceMs: config.shutdownGraceMs,
    ...(config.metricsListen === undefined ? {} : { metricsListen: config.metricsListen }),
    ...(config.httpListen === undefined ? {} : { httpListen: config.httpListen }),
    insecure: config.insecure,
    maxConcurrentCalls: config.maxConcurrentCalls,
    grpcOptions: config.grpcOptions,
    ...(tls === undefined ? {} : { tls }),
    ...(config.tokens === undefined ? {} : { tokens: config.tokens }),
    ...(config.acl === undefined ? {} : { acl: config.acl }),
    ...(config.etcd === undefined ? {} : { etcd: config.etcd }),
    logger,
  };
}

/** One fatal line for a start that failed; returns the exit status. */
function logStartFailure(logger: Logger, error: unknown): number {
  if (error instanceof StartError) {
    logger.fatal({ ...error.fields }, error.message);
    return error.kind === 'configuration' ? EXIT.configuration : EXIT.cannotStart;
  }
  if (error instanceof StoreError) {
    logger.fatal({ code: error.code }, `cannot start: ${error.message}`);
    return EXIT.cannotStart;
  }
  logger.fatal({ err: error }, `cannot start: ${messageOf(error)}`);
  return EXIT.cannotStart;
}

/**
 * Announces the server and serves until SIGTERM/SIGINT, then stops gracefully. SIGHUP: tokens and
 * ACL are read again; a configuration that does not validate is logged and the running one kept.
 * TLS certificates and addresses need a restart.
 */
async function serveUntilSignal(
  running: RunningServer,
  tls: boolean,
  logger: Logger,
  loadConfig: () => ServeConfig,
): Promise<void> {
  // The handlers go in before the line that says we serve: a supervisor may send SIGTERM the
  // moment it reads that line, and without a handler SIGTERM kills the process.
  const stopped = untilSignal(running, logger, loadConfig);
  announce(running, tls, logger);
  await stopped;
}

/** Installs the signal handlers now; the promise settles once a SIGTERM/SIGINT stop is done. */
function untilSignal(
  running: RunningServer,
  logger: Logger,
  loadConfig: () => ServeConfig,
): Promise<void> {
  const onHangup = (): void => {
    try {
      const fresh = loadConfig();
      running.reloadSecurity({
        ...(fresh.tokens === undefined ? {} : { tokens: fresh.tokens }),
        ...(fresh.acl === undefined ? {} : { acl: fresh.acl }),
      });
    } catch (error) {
      logger.error(
        { err: error },
        'SIGHUP: the configuration does not validate; keeping the running one',
      );
    }
  };
  process.on('SIGHUP', onHangup);
  return new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'shutting down');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.off('SIGHUP', onHangup);
      running.stop().then(resolve, (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A file the configuration names; an unreadable one is an error that says which and why. */
function readNamedFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(
      `cannot read ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function readConfigFile(path: string): string {
  return readNamedFile(path, 'config file').toString('utf8');
}

function readTls(files: TlsFiles): TlsOptions {
  const read = (path: string, what: string): Buffer => readNamedFile(path, `TLS ${what}`);
  return {
    cert: read(files.cert, 'certificate'),
    key: read(files.key, 'key'),
    ...(files.clientCa === undefined ? {} : { clientCa: read(files.clientCa, 'client CA') }),
    requireClientCert: files.requireClientCert,
  };
}
