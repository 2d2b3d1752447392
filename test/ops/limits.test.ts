/**
 * Limits under load, through real clients: oversized requests, the server-wide cap on calls in
 * progress, and clients that stop reading; the server keeps answering everyone else.
 */
import { credentials, Metadata, status as Code } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
  HealthClient,
} from '../../generated/grpc/health/v1/health';
import { WbemServicesClient } from '../../generated/wbem/v1/services';
import { startServer } from '../../src/server';
import { LevelClassStore } from '../../src/store/level/level-class-store';
import { cls, keyed, p, q } from '../e2e/fixtures';
import { GatedStore } from '../helpers/gated-store';
import { deadline, transcript, unary } from '../helpers/transcript';

test('a flood of oversized requests and of clients that stop reading: each refused or parked, everyone else served', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-limits-'));
  const server = await startServer({
    listen: '127.0.0.1:0',
    dataDir,
    serverName: 'LIM',
    grpcOptions: { 'grpc.max_receive_message_length': 64 * 1024 },
  });
  const client = new WbemServicesClient(server.address, credentials.createInsecure());
  const health = new HealthClient(server.address, credentials.createInsecure());
  try {
    // 200 classes to enumerate, so a stream that is not read fills its window.
    for (let i = 0; i < 200; i++) {
      const big = cls(`Ex_Many${i}`, '', [
        p('P', 8, {
          qualifiers: [q('Description', { kind: { $case: 'string', string: 'x'.repeat(2000) } })],
        }),
      ]);
      expect(
        (
          await transcript(
            client.putClassAsync(
              { namespace: 'root/cimv2', object: big, flags: 0 },
              new Metadata(),
              deadline(),
            ),
          )
        ).end.code,
      ).toBe(Code.OK);
    }
    const stalled = Array.from({ length: 20 }, () => {
      const call = client.enumClasses(
        { namespace: 'root/cimv2', superclass: '', deep: true, localOnly: false },
        new Metadata(),
      );
      call.pause(); // a client that never reads
      call.on('error', () => undefined);
      return call;
    });
    const oversized = cls('Ex_Huge', '', [
      p('P', 8, {
        qualifiers: [
          q('Description', { kind: { $case: 'string', string: 'y'.repeat(100 * 1024) } }),
        ],
      }),
    ]);
    const flood = Array.from({ length: 50 }, () =>
      transcript(
        client.putClassAsync(
          { namespace: 'root/cimv2', object: oversized, flags: 0 },
          new Metadata(),
          deadline(),
        ),
      ),
    );
    // Meanwhile an ordinary caller is served.
    const ordinary = await transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Ex_Ordinary'), flags: 0 },
        new Metadata(),
        deadline(),
      ),
    );
    expect(ordinary.end.code).toBe(Code.OK);
    const ends = await Promise.all(flood);
    expect(new Set(ends.map((e) => e.end.code))).toEqual(new Set([Code.RESOURCE_EXHAUSTED]));
    const check = await unary<HealthCheckResponse>((cb) =>
      health.check({ service: '' }, new Metadata(), deadline(), cb),
    );
    expect(check.response?.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    for (const call of stalled) call.cancel();
  } finally {
    client.close();
    health.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}, 60_000);

test('beyond maxConcurrentCalls a call is refused at once (RESOURCE_EXHAUSTED, WBEM_E_OUT_OF_MEMORY); the slot frees when a call ends', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-limits-'));
  const store = new GatedStore(new LevelClassStore(dataDir), 'getClass');
  const server = await startServer({
    listen: '127.0.0.1:0',
    store,
    serverName: 'LIM',
    maxConcurrentCalls: 1,
  });
  const client = new WbemServicesClient(server.address, credentials.createInsecure());
  try {
    store.arm();
    const held = transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Ex_Held'), flags: 0 },
        new Metadata(),
        deadline(),
      ),
    );
    await store.reached;
    const refused = await transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Ex_Refused'), flags: 128 },
        new Metadata(),
        deadline(),
      ),
    );
    expect(refused.messages).toEqual([]);
    expect(refused.end.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(refused.end.trailers['wbem-status']).toBe('WBEM_E_OUT_OF_MEMORY');
    expect(refused.end.details).toBe(
      'the server is serving its limit of 1 calls at once; retry later',
    );
    store.release();
    expect((await held).end.code).toBe(Code.OK);
    const after = await transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Ex_After'), flags: 0 },
        new Metadata(),
        deadline(),
      ),
    );
    expect(after.end.code).toBe(Code.OK);
  } finally {
    client.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
