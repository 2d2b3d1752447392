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
 */
import { Metadata, Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
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
  readonly request: PutClassRequest;
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

class SkeletonStore {
  readonly #db: Level<string, string>;
  #queue: Pending[] = [];
  #flushing = false;
  #revision = 0n;

  constructor(db: Level<string, string>) {
    this.#db = db;
  }

  accept(call: Call): void {
    const { request, bytes } = call.request;
    const headers = new Metadata();
    headers.set('wbem-operation-id', randomUUID());
    call.sendMetadata(headers);
    const namespace = request.namespace;
    const name = request.object?.className ?? '';
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
      const batch = this.#db.batch();
      for (const { key, value } of group) batch.put(key, value, BYTES_VALUE);
      const last = group[group.length - 1] as Pending;
      batch.put('m!revisions', Buffer.from(`{"v":1,"body":["${last.revision}","1"]}`), BYTES_VALUE);
      const entries = group.map((p) => `{"r":"${p.revision}","k":"put","c":"${p.key}"}`);
      batch.put(
        `e!${last.revision.toString().padStart(20, '0')}`,
        Buffer.from(`{"v":1,"e":[${entries.join(',')}]}`),
        BYTES_VALUE,
      );
      await batch.write({ sync: true });
      for (const { call, path, revision } of group) {
        if (call.cancelled) continue;
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

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: skeleton-server DATA_DIR');
  const db = new Level<string, string>(join(dir, 'db'), {
    valueEncoding: 'utf8',
    ...LEVELDB_MEMORY,
  });
  await db.open();
  const store = new SkeletonStore(db);
  const generated = WbemServicesService.putClassAsync;
  const server = new Server();
  server.addService(
    {
      putClassAsync: {
        ...generated,
        requestDeserialize: (bytes: Buffer): Received => ({
          request: generated.requestDeserialize(bytes),
          bytes,
        }),
      },
    },
    { putClassAsync: (call: Call) => store.accept(call) },
  );
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    console.log(`listening on 127.0.0.1:${port}`);
  });
  process.on('SIGTERM', () =>
    server.tryShutdown(() => void db.close().then(() => process.exit(0))),
  );
}

if (require.main === module)
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
