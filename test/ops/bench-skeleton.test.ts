/**
 * W1's and W2's floor (bench/skeleton-server.ts) is only wbemd's floor if it answers as wbemd
 * answers: the same PutClassAsync request sent to a real wbemd and to the built skeleton must get
 * response headers with a `wbem-operation-id`, the same final SetStatus bytes and the same
 * trailers; and what the skeleton acknowledged is in its LevelDB, with its log record, once it
 * has stopped.
 */
import { Client, credentials, Metadata, type StatusObject } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Level } from 'level';
import { startNodeServer, type ChildServer } from '../../bench/child-server';
import { FLAG, putClassRequest, WBEM } from '../../bench/requests';
import { startTestServer, type TestServer } from '../helpers/test-server';

const SKELETON = resolve(__dirname, '../../dist/bench/skeleton-server.js');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What a client sees of one server-streaming call. */
interface Seen {
  readonly operationId: string | undefined;
  readonly messages: Buffer[];
  readonly trailers: Record<string, unknown>;
  readonly code: number;
}

async function call(address: string, request: Uint8Array): Promise<Seen> {
  const client = new Client(address, credentials.createInsecure());
  try {
    return await new Promise<Seen>((done, fail) => {
      const messages: Buffer[] = [];
      let operationId: string | undefined;
      const stream = client.makeServerStreamRequest(
        `${WBEM}PutClassAsync`,
        (value: Uint8Array) => Buffer.from(value),
        (value: Buffer) => value,
        request,
        new Metadata(),
      );
      stream.on('metadata', (headers: Metadata) => {
        operationId = headers.get('wbem-operation-id')[0]?.toString();
      });
      stream.on('data', (message: Buffer) => {
        messages.push(message);
      });
      stream.on('error', fail);
      stream.on('status', (status: StatusObject) =>
        done({
          operationId,
          messages,
          trailers: status.metadata.getMap(),
          code: status.code,
        }),
      );
    });
  } finally {
    client.close();
  }
}

describe("the bench's skeleton answers PutClassAsync as wbemd does", () => {
  let wbemd: TestServer;
  let skeleton: ChildServer | undefined;
  let dir: string;

  beforeAll(async () => {
    wbemd = await startTestServer({ serverName: hostname() });
    dir = await mkdtemp(join(tmpdir(), 'wbemd-skeleton-'));
  });

  afterAll(async () => {
    await skeleton?.stop();
    await wbemd.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the same headers, final SetStatus and trailers, and keeps what it acknowledged', async () => {
    skeleton = await startNodeServer(SKELETON, [dir]);
    const put = putClassRequest('Skeleton_C', FLAG.CREATE_ONLY);
    const fromWbemd = await call(wbemd.server.address, put.bytes);
    const fromSkeleton = await call(skeleton.address, put.bytes);

    for (const seen of [fromWbemd, fromSkeleton]) {
      expect(seen.code).toBe(0);
      expect(seen.messages).toHaveLength(1);
      expect(seen.operationId).toMatch(UUID);
    }
    expect(fromSkeleton.messages).toEqual(fromWbemd.messages);
    expect(fromSkeleton.trailers).toEqual(fromWbemd.trailers);
    expect(fromSkeleton.trailers['wbem-status']).toBe('WBEM_S_NO_ERROR');

    await skeleton.stop();
    skeleton = undefined;
    const db = new Level<string, Buffer>(join(dir, 'db'), { valueEncoding: 'buffer' });
    try {
      const record = await db.get('c!root/cimv2!skeleton_c00000000');
      expect(record).toEqual(Buffer.from(put.bytes));
      const log = await db.get('e!00000000000000000001');
      expect(log?.toString()).toContain('c!root/cimv2!skeleton_c00000000');
    } finally {
      await db.close();
    }
  });
});
