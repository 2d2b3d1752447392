/**
 * Prometheus metrics (prom-client: the registry format, histograms and process metrics are the
 * ecosystem's, not ours to rewrite) on a separate plain-HTTP listener, `GET /metrics`:
 *   wbemd_calls_total{method,code,wbem_status}         calls ended, by gRPC code and WbemStatus
 *   wbemd_call_duration_seconds{method}                 latency histogram
 *   wbemd_calls_in_flight{method}                       calls started and not yet ended
 *   wbemd_store_batch_commits                           commits per synced LevelDB batch (group size)
 *   wbemd_store_sync_seconds                            time of one synced batch write
 *   plus prom-client's process_* and nodejs_* defaults.
 */
import { status as Code } from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CallObserver } from './grpc/access-log';

export class WbemdMetrics implements CallObserver {
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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
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
