/**
 * Prometheus metrics (prom-client: the registry format, histograms and process metrics are the
 * ecosystem's, not ours to rewrite) on a separate plain-HTTP listener, `GET /metrics`:
 *   wbemd_calls_total{method,code,wbem_status}         calls ended, by gRPC code and WbemStatus
 *   wbemd_call_duration_seconds{method}                 latency histogram
 *   wbemd_calls_in_flight{method}                       calls started and not yet ended
 *   wbemd_store_batch_commits                           commits per synced LevelDB batch (group size)
 *   wbemd_store_sync_seconds                            time of one synced batch write
 *   wbemd_build_info{version}                           1, labelled with the package version
 * the standard gRPC server metrics, named and labelled as grpc-ecosystem's Go interceptors do
 * (grpc/grpc-server-metrics.ts), for every service served (WBEM, health, reflection):
 *   grpc_server_started_total{grpc_type,grpc_service,grpc_method}
 *   grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}   grpc_code: "OK", "NotFound", …
 *   grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}           histogram, Go's default buckets
 *   grpc_server_msg_received_total / grpc_server_msg_sent_total{grpc_type,grpc_service,grpc_method}
 * plus prom-client's process_* and nodejs_* defaults (event-loop delay: nodejs_eventloop_lag_*).
 */
import { status as Code } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CallObserver } from './grpc/access-log';
import {
  goCodeName,
  type GrpcCallLabels,
  type GrpcServerObserver,
} from './grpc/grpc-server-metrics';

const GRPC_LABELS = ['grpc_type', 'grpc_service', 'grpc_method'] as const;

/** The `version` of wbemd's package.json, found upwards from this file (source or dist/). */
export function packageVersion(): string {
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (manifest.name === 'wbemd' && typeof manifest.version === 'string')
        return manifest.version;
    } catch {
      // no package.json here: look further up
    }
  }
  return 'unknown';
}

export class WbemdMetrics implements CallObserver, GrpcServerObserver {
  readonly registry = new Registry();
  readonly #calls = new Counter({
    name: 'wbemd_calls_total',
    help: 'Calls ended, by method, gRPC code and WbemStatus.',
    labelNames: ['method', 'code', 'wbem_status'] as const,
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: 'wbemd_call_duration_seconds',
    help: 'Call latency, from the handler to the final status.',
    labelNames: ['method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly #inFlight = new Gauge({
    name: 'wbemd_calls_in_flight',
    help: 'Calls started and not yet ended.',
    labelNames: ['method'] as const,
    registers: [this.registry],
  });
  readonly #batchCommits = new Histogram({
    name: 'wbemd_store_batch_commits',
    help: 'Commits grouped into one synced LevelDB batch.',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });
  readonly #syncSeconds = new Histogram({
    name: 'wbemd_store_sync_seconds',
    help: 'Time to write and sync one LevelDB batch.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly #grpcStarted = new Counter({
    name: 'grpc_server_started_total',
    help: 'Total number of RPCs started on the server.',
    labelNames: GRPC_LABELS,
    registers: [this.registry],
  });
  readonly #grpcHandled = new Counter({
    name: 'grpc_server_handled_total',
    help: 'Total number of RPCs completed on the server, regardless of success or failure.',
    labelNames: [...GRPC_LABELS, 'grpc_code'] as const,
    registers: [this.registry],
  });
  readonly #grpcHandling = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
    labelNames: GRPC_LABELS,
    // Prometheus's default buckets, which the Go interceptors use.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly #grpcReceived = new Counter({
    name: 'grpc_server_msg_received_total',
    help: 'Total number of RPC stream messages received on the server.',
    labelNames: GRPC_LABELS,
    registers: [this.registry],
  });
  readonly #grpcSent = new Counter({
    name: 'grpc_server_msg_sent_total',
    help: 'Total number of gRPC stream messages sent by the server.',
    labelNames: GRPC_LABELS,
    registers: [this.registry],
  });

  constructor(version: string = packageVersion()) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'wbemd_build_info',
      help: 'Always 1; the labels say which wbemd is running.',
      labelNames: ['version'] as const,
      registers: [this.registry],
    }).set({ version }, 1);
  }

  grpcStarted(labels: GrpcCallLabels): void {
    this.#grpcStarted.inc(labels);
  }

  grpcReceived(labels: GrpcCallLabels): void {
    this.#grpcReceived.inc(labels);
  }

  grpcSent(labels: GrpcCallLabels): void {
    this.#grpcSent.inc(labels);
  }

  grpcHandled(labels: GrpcCallLabels, code: Code, seconds: number): void {
    this.#grpcHandled.inc({ ...labels, grpc_code: goCodeName(code) });
    this.#grpcHandling.observe(labels, seconds);
  }

  callStarted(method: string): void {
    this.#inFlight.inc({ method });
  }

  callEnded(method: string, code: Code, wbemStatus: string, seconds: number): void {
    this.#inFlight.dec({ method });
    this.#calls.inc({ method, code: Code[code], wbem_status: wbemStatus });
    this.#duration.observe({ method }, seconds);
  }

  /** The LevelDB store's batch observer. */
  readonly storeBatch = (batch: { readonly commits: number; readonly syncMs: number }): void => {
    this.#batchCommits.observe(batch.commits);
    this.#syncSeconds.observe(batch.syncMs / 1e3);
  };

  /** Serves `GET /metrics` on `host:port` (port 0: any); resolves with the bound address. */
  async listen(host: string, port: number): Promise<{ address: string; close(): Promise<void> }> {
    const server: Server = createServer((request, response) => {
      if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (error: unknown) =>
          response
            .writeHead(500, { 'content-type': 'text/plain' })
            .end(`${error instanceof Error ? error.message : String(error)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address();
    const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
    return {
      address: `${host}:${boundPort}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }
}
