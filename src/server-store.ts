/**
 * The store a server runs on, chosen by its options: one given (tests, benchmarks), etcd (replicas),
 * or LevelDB under the data directory (the embedded default); opened, with a refusal to open
 * turned into the StartError that `wbemd serve` exits with.
 */
import { StoreError, type ClassStore } from './store/class-store';
import type { EtcdClassStoreOptions } from './store/etcd/etcd-class-store';
import { LevelClassStore } from './store/level/level-class-store';
import type { WbemdMetrics } from './transport/metrics';
import { StartError } from './startup';

/** The options of ServerOptions that choose the store. */
export interface StoreChoice {
  readonly dataDir?: string;
  readonly etcd?: Omit<EtcdClassStoreOptions, 'eventRetention'>;
  readonly store?: ClassStore;
  readonly eventRetention?: number;
}

/** The store, opened; the metrics listener is closed when it cannot be. */
export async function openStore(
  options: StoreChoice,
  metrics: WbemdMetrics | undefined,
  metricsServer: { close(): Promise<void> } | undefined,
): Promise<ClassStore> {
  const store = options.store ?? (await newStore(options, metrics));
  try {
    await store.open();
  } catch (error) {
    await metricsServer?.close();
    throw options.store === undefined && options.etcd !== undefined
      ? etcdStartError(error, options.etcd)
      : error;
  }
  return store;
}

async function newStore(
  options: StoreChoice,
  metrics: WbemdMetrics | undefined,
): Promise<ClassStore> {
  const retention =
    options.eventRetention === undefined ? {} : { eventRetention: options.eventRetention };
  if (options.etcd === undefined)
    return new LevelClassStore(options.dataDir ?? './data', {
      ...(metrics === undefined ? {} : { onBatch: metrics.storeBatch }),
      ...retention,
    });
  // Loaded only for etcd: etcd3 brings its own grpc-js and parses its .proto files at load, most
  // of what a LevelDB server's modules cost to load (docs/performance.md, "A server's start").
  const { EtcdClassStore } = await import('./store/etcd/etcd-class-store.js');
  return new EtcdClassStore({ ...options.etcd, ...retention });
}

/** etcd unreachable may pass (exit 1); TLS files that cannot be read will not (exit 2). */
function etcdStartError(error: unknown, etcd: StoreChoice['etcd']): StartError {
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
