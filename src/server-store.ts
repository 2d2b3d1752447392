/**
 * The store a server runs on, chosen by its options: one given (tests, benchmarks), etcd (replicas),
 * or LevelDB under the data directory (the embedded default); opened, with a refusal to open
 * turned into the StartError that `wbemd serve` exits with.
 */
import { StoreError, type ClassStore } from './store/class-store';
import { EtcdClassStore, type EtcdClassStoreOptions } from './store/etcd/etcd-class-store';
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
