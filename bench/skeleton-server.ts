/**
 * W1's and W2's floor with wbemd's own contract: a grpc-js server answering PutClassAsync from the
 * same proto (so W1's request works unchanged) with exactly the work the contract cannot do
 * without, and no rule, cache, class model, access log or metric.
 *   node skeleton-server.js DATA_DIR
 * Each call: the request decoded by the generated codec (ts-proto); the response headers with a
 * `wbem-operation-id` sent at once (wbemd's accept); the request's bytes as the class record, in a
 * synced LevelDB batch (the same `level`, options and value encoding as src/store/level) with one
 * log record naming the batch's revisions and the revisions record, batches formed per turn of
 * the event loop (a `setImmediate` before the first, then whatever queued during a sync: one
 * fdatasync a batch, as group-commit.ts); after the sync the final SetStatus (the same message
 * type and fields as wbemd's: hresult, the class's path, its revision) and the same trailers.
 * The bench starts it as its own process, with the Node flags `npm start` gives wbemd.
 *
 * `node skeleton-server.js DATA_DIR --without PART[,PART]` leaves parts of that work out, to
 * measure what each costs (bench/skeleton-parts.ts; these variants break the contract):
 * `decode` (the request is not decoded: the record's key is a counter), `early-headers` (the
 * headers go out with the SetStatus, after the sync, as one write), `sync` (the batch is written
 * without fdatasync), `leveldb` (the group's record bytes appended to a plain file instead, one
 * `writev` and one `fdatasync` on the libuv pool: the cheapest durable write Node offers), `pool`
 * (the same file written and fdatasync'd on the main thread, blocking it: no pool round trip, which
 * no server with many calls in flight can afford), `store` (nothing written at all: a group is
 * answered one turn after it formed).
 */
import { Metadata, Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { closeSync, fdatasyncSync, openSync, writevSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { WbemStatus } from '../generated/wbem/v1/status';
import {
  type ObjectSinkEvent,
  type PutClassRequest,
  WbemServicesService,
} from '../generated/wbem/v1/services';
import { LEVELDB_MEMORY } from '../src/store/level/leveldb-memory';
import { SUCCESS_TRAILERS } from '../src/transport/grpc/status-map';

/** The request as decoded, with the bytes it came in (they are the record written). */
interface Received {
  /** Undefined only when the skeleton runs `--without decode`. */
  readonly request: PutClassRequest | undefined;
  readonly bytes: Buffer;
}

type Call = ServerWritableStream<Received, ObjectSinkEvent>;

interface Pending {
  readonly call: Call;
  readonly key: string;
  readonly value: Buffer;
  readonly path: string;
  readonly revision: bigint;
}

const BYTES_VALUE = { valueEncoding: 'buffer' } as const;
const SERVER = `\\\\${hostname()}`;

const PARTS = ['decode', 'early-headers', 'sync', 'leveldb', 'pool', 'store'] as const;
type Part = (typeof PARTS)[number];

function partsLeftOut(args: readonly string[]): ReadonlySet<Part> {
  const at = args.indexOf('--without');
  const named = at < 0 ? [] : (args[at + 1] ?? '').split(',').filter((p) => p !== '');
  for (const part of named)
    if (!(PARTS as readonly string[]).includes(part))
      throw new Error(`unknown part ${part} (${PARTS.join(', ')})`);
  return new Set(named as Part[]);
}

function operationHeaders(): Metadata {
  const headers = new Metadata();
  headers.set('wbem-operation-id', randomUUID());
  return headers;
}

class Skeleton {
  readonly #persist: Persist;
  readonly #without: ReadonlySet<Part>;
  #queue: Pending[] = [];
  #flushing = false;
  #revision = 0n;

  constructor(persist: Persist, without: ReadonlySet<Part>) {
    this.#persist = persist;
    this.#without = without;
  }

  accept(call: Call): void {
    const { request, bytes } = call.request;
    if (!this.#without.has('early-headers')) call.sendMetadata(operationHeaders());
    const namespace = request?.namespace ?? 'root/cimv2';
    const name = request?.object?.className ?? `Bench_C${this.#revision}`;
    this.#queue.push({
      call,
      key: `c!${namespace.toLowerCase()}!${name.toLowerCase()}`,
      value: bytes,
      path: `${SERVER}\\${namespace.replaceAll('/', '\\')}:${name}`,
      revision: ++this.#revision,
    });
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(() => void this.#flush());
    }
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const group = this.#queue;
      this.#queue = [];
      await this.#persist(group);
      for (const { call, path, revision } of group) {
        if (call.cancelled) continue;
        if (this.#without.has('early-headers')) call.sendMetadata(operationHeaders());
        call.write({
          event: {
            $case: 'status',
            status: { hresult: WbemStatus.WBEM_S_NO_ERROR, param: path, revision },
          },
        });
        call.end(SUCCESS_TRAILERS);
      }
    }
    this.#flushing = false;
  }
}

/** Makes a group durable (or, in the variants, does less). */
type Persist = (group: readonly Pending[]) => Promise<void>;

/** One batch: the group's records, the revisions record, one log record; synced. */
function levelBatches(db: Level<string, string>, sync: boolean): Persist {
  return async (group) => {
    const batch = db.batch();
    for (const { key, value } of group) batch.put(key, value, BYTES_VALUE);
    const last = group[group.length - 1] as Pending;
    batch.put('m!revisions', Buffer.from(`{"v":1,"body":["${last.revision}","1"]}`), BYTES_VALUE);
    const entries = group.map((p) => `{"r":"${p.revision}","k":"put","c":"${p.key}"}`);
    batch.put(
      `e!${last.revision.toString().padStart(20, '0')}`,
      Buffer.from(`{"v":1,"e":[${entries.join(',')}]}`),
      BYTES_VALUE,
    );
    await batch.write({ sync });
  };
}

/** `--without leveldb`: the group's records appended to one file, one writev, one fdatasync. */
function appendedFile(file: FileHandle, sync: boolean): Persist {
  return async (group) => {
    await file.writev(group.map((p) => p.value));
    if (sync) await file.datasync();
  };
}

/** `--without pool`: the same, blocking the main thread for the write and the fdatasync. */
function appendedFileOnMainThread(fd: number, sync: boolean): Persist {
  return (group) => {
    writevSync(
      fd,
      group.map((p) => p.value),
    );
    if (sync) fdatasyncSync(fd);
    return Promise.resolve();
  };
}

/** `--without store`: nothing written; the group is answered a turn later. */
const nothing: Persist = () => new Promise((resolve) => setImmediate(resolve));

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: skeleton-server DATA_DIR');
  const without = partsLeftOut(process.argv.slice(3));
  const sync = !without.has('sync');
  let close = (): Promise<void> => Promise.resolve();
  let persist = nothing;
  if (without.has('store')) {
    // nothing written
  } else if (without.has('pool')) {
    const fd = openSync(join(dir, 'log'), 'a');
    close = () => Promise.resolve(closeSync(fd));
    persist = appendedFileOnMainThread(fd, sync);
  } else if (without.has('leveldb')) {
    const file = await open(join(dir, 'log'), 'a');
    close = () => file.close();
    persist = appendedFile(file, sync);
  } else {
    const db = new Level<string, string>(join(dir, 'db'), {
      valueEncoding: 'utf8',
      ...LEVELDB_MEMORY,
    });
    await db.open();
    close = () => db.close();
    persist = levelBatches(db, sync);
  }
  const skeleton = new Skeleton(persist, without);
  const generated = WbemServicesService.putClassAsync;
  const server = new Server();
  server.addService(
    {
      putClassAsync: {
        ...generated,
        requestDeserialize: (bytes: Buffer): Received => ({
          request: without.has('decode') ? undefined : generated.requestDeserialize(bytes),
          bytes,
        }),
      },
    },
    { putClassAsync: (call: Call) => skeleton.accept(call) },
  );
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    console.log(`listening on 127.0.0.1:${port}`);
  });
  process.on('SIGTERM', () => server.tryShutdown(() => void close().then(() => process.exit(0))));
}

if (require.main === module)
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
