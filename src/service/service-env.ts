/**
 * What every operation of the service runs against, one per service and passed explicitly to each
 * call family (namespaces.ts, classes.ts, put-class.ts, compile-mof.ts, instances.ts,
 * class-events.ts): the store port, the namespace table, the class loader, the namespace locks,
 * the watchers, the logger, the access policy, the lifecycle. And the steps every operation
 * shares: lifecycle check, authorization, the one catch-all, the correlation log line, the
 * system properties of what it returns. The per-call part is the OperationContext (`ctx`).
 */
import type { Derivation } from '../domain/class-model';
import { AccessPolicy } from '../domain/access';
import { correlationIdOf, type ClientContext } from '../domain/client-context';
import { formatClassPath, formatNamespace } from '../domain/namespace-path';
import { WbemError, type WbemErrorSubject } from '../domain/wbem-status';
import {
  StoreError,
  type ClassEventRecord,
  type ClassStore,
  type NamespaceRecord,
} from '../store/class-store';
import { ClassLoader } from './class-loader';
import type { ClassWatcher } from './class-watch';
import { KeyedMutex } from './keyed-mutex';
import { NamespaceTable, type BoundNamespace } from './namespace-table';
import { storeFailureStatus } from './optimistic';
import type { OperationContext } from './operation-context';
import type { ClassEventView, SystemPropertiesView } from './views';

/** pino-compatible: `logger.info({ operationId }, 'message')`. */
export interface ServiceLogger {
  info(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** A durable class change with its revision: what __ClassCreationEvent / Modification / Deletion carry (§9). */
export type ClassChange = ClassEventRecord;

export interface WbemServiceOptions {
  readonly store: ClassStore;
  /** __SERVER, and the machine name accepted in `\\SERVER\root\...` namespace paths. */
  readonly serverName: string;
  readonly logger?: ServiceLogger;
  /**
   * Called once per class change, after the write is durable and in revision order (the feed the
   * watchers are served from). A throw is logged and ignored.
   */
  readonly onClassChange?: (change: ClassChange) => void;
  /**
   * Called once when the store reports a failed durable write (STORE_FAILED): from then on it
   * refuses all work until restarted, so the server should stop advertising itself as serving.
   */
  readonly onStoreFailure?: (error: StoreError) => void;
  /** Who may do what per namespace (§8); default: everyone everything (no ACL configured). */
  readonly accessPolicy?: AccessPolicy;
  /** The most live events a WatchClassEvents client may fall behind before its watch ends (WBEM_E_QUEUE_OVERFLOW). Default 1024. */
  readonly watchQueueLimit?: number;
  /** Resolved classes the class loader keeps per namespace (default CLASS_CACHE_LIMIT). */
  readonly classCacheLimit?: number;
}

/** The properties a class or an instance's system properties are computed from. */
export interface SystemPropertiesSource {
  readonly name: string;
  readonly superclass: string;
  readonly dynasty: string;
  readonly derivation: Derivation;
}

const DEFAULT_WATCH_QUEUE_LIMIT = 1024;

/** __NAMESPACE and the __PATH prefix (`\\SERVER\root\cimv2:`) of a namespace's classes. */
interface NamespaceSpelling {
  readonly namespace: string;
  readonly pathPrefix: string;
}

const SILENT_LOGGER: ServiceLogger = { info() {}, debug() {}, warn() {}, error() {} };

export class ServiceEnv {
  readonly store: ClassStore;
  readonly serverName: string;
  readonly logger: ServiceLogger;
  readonly namespaces: NamespaceTable;
  readonly classes: ClassLoader;
  /** One writer at a time per namespace; NAMESPACE_TREE_LOCK for the namespace tree. */
  readonly locks = new KeyedMutex();
  /** The WatchClassEvents being served. */
  readonly watchers = new Set<ClassWatcher<ClassEventView>>();
  readonly watchQueueLimit: number;
  readonly onClassChange: ((change: ClassChange) => void) | undefined;
  readonly #onStoreFailure: ((error: StoreError) => void) | undefined;
  /** Made once per namespace: every class a read returns carries them (an enumeration thousands). */
  readonly #spellings = new WeakMap<readonly string[], NamespaceSpelling>();
  #access: AccessPolicy;
  #initialized = false;
  #shuttingDown = false;
  #storeFailed = false;

  constructor(options: WbemServiceOptions) {
    this.store = options.store;
    this.serverName = options.serverName;
    this.logger = options.logger ?? SILENT_LOGGER;
    this.onClassChange = options.onClassChange;
    this.#onStoreFailure = options.onStoreFailure;
    this.#access = options.accessPolicy ?? AccessPolicy.allowAll();
    this.watchQueueLimit = options.watchQueueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT;
    const serverName = options.serverName.toLowerCase();
    this.namespaces = new NamespaceTable((machine) => machine.toLowerCase() === serverName);
    this.classes = new ClassLoader(options.store, options.classCacheLimit);
  }

  /** The namespace table is loaded: calls may be served. */
  markInitialized(): void {
    this.#initialized = true;
  }

  get access(): AccessPolicy {
    return this.#access;
  }

  /** A new ACL (SIGHUP): calls from now on are judged by it; calls in flight keep their answer. */
  setAccessPolicy(policy: AccessPolicy): void {
    this.#access = policy;
  }

  /**
   * From now on every new call fails at once with WBEM_E_SHUTTING_DOWN; calls in flight finish.
   * Watches never finish by themselves, so they end here (WBEM_E_SHUTTING_DOWN): the server's
   * drain must not wait for them.
   */
  beginShutdown(): void {
    this.#shuttingDown = true;
    this.endWatchers(() => true, shuttingDown);
  }

  get isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  checkLifecycle(): void {
    if (this.#shuttingDown) throw shuttingDown();
    if (!this.#initialized)
      throw new Error('WbemService: initialize() was not awaited before serving');
  }

  /** §8: the rights an operation needs on a namespace, checked before anything else happens (rejected at once). */
  authorize(ctx: OperationContext, bound: BoundNamespace, needed: number, operation: string): void {
    this.#access.require(ctx.principal, bound.record.elements, needed, operation);
  }

  /** Ends the watches `which` selects, each with a fresh `error()`. */
  endWatchers(
    which: (watcher: ClassWatcher<ClassEventView>) => boolean,
    error: () => WbemError,
  ): void {
    for (const watcher of this.watchers) if (which(watcher)) watcher.end(error());
  }

  /** Runs a unary operation and converts every failure into a WbemError (one catch-all). */
  async guard<T>(
    ctx: OperationContext,
    subject: WbemErrorSubject,
    body: () => Promise<T>,
  ): Promise<T> {
    try {
      return await body();
    } catch (failure) {
      throw this.asWbemError(failure, ctx, subject);
    }
  }

  /**
   * The service's catch-all: WbemError passes (with its subject filled in), an abort becomes
   * WBEM_E_CALL_CANCELLED, a closed store during shutdown WBEM_E_SHUTTING_DOWN, anything else
   * WBEM_E_FAILED with the cause logged, never sent.
   */
  asWbemError(failure: unknown, ctx: OperationContext, subject: WbemErrorSubject): WbemError {
    if (failure instanceof WbemError) return failure.about(subject);
    if (ctx.signal.aborted && (failure === ctx.signal.reason || isAbortError(failure))) {
      return new WbemError(
        'WBEM_E_CALL_CANCELLED',
        'the call was cancelled before anything was written',
        subject,
      );
    }
    if (failure instanceof StoreError && failure.code === 'STORE_NOT_OPEN' && this.#shuttingDown) {
      return new WbemError('WBEM_E_SHUTTING_DOWN', 'the server is shutting down', subject);
    }
    const storeStatus = storeFailureStatus(failure);
    if (storeStatus !== undefined) return storeStatus.about(subject);
    if (failure instanceof StoreError && failure.code === 'STORE_FAILED')
      this.#storeFailure(failure);
    this.logger.error(
      {
        operationId: ctx.operationId,
        ...(ctx.traceId === undefined ? {} : { traceId: ctx.traceId }),
        err: failure,
        ...subject,
      },
      'operation failed',
    );
    return new WbemError(
      'WBEM_E_FAILED',
      `internal error (operation ${ctx.operationId})`,
      subject,
      { cause: failure },
    );
  }

  #storeFailure(error: StoreError): void {
    if (this.#storeFailed) return;
    this.#storeFailed = true;
    this.logger.error(
      { err: error },
      'the class store failed a durable write and refuses further work; restart the server',
    );
    // No more events will come: end the watches rather than leave them waiting.
    this.endWatchers(
      () => true,
      () =>
        new WbemError(
          'WBEM_E_FAILED',
          'the class store failed; watch again after the server restarts',
        ),
    );
    try {
      this.#onStoreFailure?.(error);
    } catch (listenerError) {
      this.logger.error({ err: listenerError }, 'store failure listener failed');
    }
  }

  logCorrelation(
    ctx: OperationContext,
    context: ClientContext | undefined,
    message: string,
    subject: WbemErrorSubject,
  ): void {
    const correlationId = correlationIdOf(context);
    // The transport logs every call; this line adds what only the service knows. It is worth an
    // info line when the client asked to be traced (__CorrelationId SHOULD be logged, §7).
    const fields = {
      operationId: ctx.operationId,
      ...(ctx.traceId === undefined ? {} : { traceId: ctx.traceId }),
      peer: ctx.peer,
      ...subject,
      ...(correlationId === undefined ? {} : { correlationId }),
    };
    if (correlationId === undefined) this.logger.debug(fields, message);
    else this.logger.info(fields, message);
  }

  /**
   * __GENUS … __PROPERTY_COUNT of a class (genus 1, relpath = its name) or of one of its instances:
   * of a resolved class for reads, of a class as written (with its recorded derivation) for events.
   */
  systemProperties(
    namespace: NamespaceRecord,
    of: SystemPropertiesSource,
    genus: 1 | 2,
    relpath: string,
    count: number,
  ): SystemPropertiesView {
    let spelling = this.#spellings.get(namespace.elements);
    if (spelling === undefined) {
      spelling = {
        namespace: formatNamespace(namespace.elements),
        pathPrefix: formatClassPath(this.serverName, namespace.elements, ''),
      };
      this.#spellings.set(namespace.elements, spelling);
    }
    return {
      genus,
      className: of.name,
      superclass: of.superclass,
      dynasty: of.dynasty,
      derivation: of.derivation,
      server: this.serverName,
      namespace: spelling.namespace,
      path: `${spelling.pathPrefix}${relpath}`,
      relpath,
      propertyCount: count,
    };
  }
}

function shuttingDown(): WbemError {
  return new WbemError('WBEM_E_SHUTTING_DOWN', 'the server is shutting down');
}

function isAbortError(value: unknown): boolean {
  return value instanceof Error && (value.name === 'AbortError' || value.name === 'TimeoutError');
}
