/**
 * Issue #13, L1: no heavy call freezes the server. Not timed: each test starts a heavy call on a
 * real `wbemd serve` process, and checks that a grpc.health.v1 Check and a GetClass both
 * completed while the heavy call had not yet ended (its status not yet received) — for the
 * CompileMof, before it had even committed. With the time slicing of src/service/time-slice.ts
 * disabled the CompileMof test fails (both wait for the whole decision; measured once by hand);
 * the enumeration's back pressure keeps the event loop free for a slow reader either way.
 * A scrape of --metrics-listen then shows the event-loop delay metric.
 */
import { credentials, Metadata, status as Code, type ClientReadableStream } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../bench/procs';
import { twoKilobyteClass } from '../../bench/put-class-async';
import { chainMof } from '../../bench/requests';
import {
  HealthCheckResponse_ServingStatus,
  HealthClient,
} from '../../generated/grpc/health/v1/health';
import { WbemServicesClient } from '../../generated/wbem/v1/services';
import { namespaceKeyOf } from '../../src/domain/names';
import { WbemService } from '../../src/service/wbem-service';
import { LevelClassStore } from '../../src/store/level/level-class-store';
import { classFromProto } from '../../src/transport/grpc/from-proto';
import { startWbemdProcess, type WbemdProcess } from '../helpers/wbemd-process';

/** ~2.3 KB each as sent: some 9 MB, far beyond what HTTP/2 windows and buffers hold. */
const STORED = 4000;
const CHAIN = 1500;
const name = (i: number): string => `Big_C${String(i).padStart(8, '0')}`;

/** The classes straight into the store before the server opens it (4,000 PutClass calls would only slow the test). */
async function fill(dataDir: string): Promise<void> {
  const store = new LevelClassStore(dataDir);
  await store.open();
  const service = new WbemService({ store, serverName: 'L1' });
  await service.initialize();
  const namespace = namespaceKeyOf(['root', 'cimv2']);
  for (let from = 0; from < STORED; from += 500) {
    await store.commit(
      Array.from({ length: Math.min(500, STORED - from) }, (_, i) => ({
        op: 'putClass' as const,
        namespace,
        definition: classFromProto(twoKilobyteClass(name(from + i))),
        previousSuperclass: undefined,
      })),
    );
  }
  await store.close();
}

/** Resolves when the call's status arrives (its end), whatever it is; `ended` says whether it has. */
function watchEnd<T>(call: ClientReadableStream<T>): {
  ended: () => boolean;
  end: Promise<number>;
} {
  let ended = false;
  const end = new Promise<number>((resolve) => {
    call.on('status', (status: { code: number }) => {
      ended = true;
      resolve(status.code);
    });
    call.on('error', () => undefined); // the status event carries it
  });
  return { ended: () => ended, end };
}

describe('L1: health and GetClass answer while a heavy call runs (real server process)', () => {
  let dataDir: string;
  let server: WbemdProcess;
  let metrics: string;
  let client: WbemServicesClient;
  let health: HealthClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wbemd-l1-'));
    await fill(dataDir);
    metrics = `127.0.0.1:${await freePort()}`;
    server = await startWbemdProcess({ data: dataDir, metricsListen: metrics }, [
      '--log-level',
      'warn',
    ]);
    client = new WbemServicesClient(server.address, credentials.createInsecure());
    health = new HealthClient(server.address, credentials.createInsecure());
  }, 120_000);

  afterAll(async () => {
    client?.close();
    health?.close();
    await server?.stop();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  /** A health Check and a GetClass: the status, and the class name or the gRPC error code. */
  const lightCalls = async (className: string): Promise<[string, string]> =>
    Promise.all([
      new Promise<string>((resolve, reject) =>
        health.check({ service: '' }, (error, response) =>
          error === null
            ? resolve(HealthCheckResponse_ServingStatus[response.status])
            : reject(error),
        ),
      ),
      new Promise<string>((resolve) =>
        client.getClass(
          { namespace: 'root/cimv2', className, localOnly: false, asMof: false },
          (error, response) =>
            resolve(error === null ? (response.object?.className ?? '') : `code ${error.code}`),
        ),
      ),
    ]);

  test('during a deep EnumClasses of 4,000 classes whose reader has stopped reading', async () => {
    const call = client.enumClasses(
      { namespace: 'root/cimv2', superclass: '', deep: true, localOnly: false },
      new Metadata(),
    );
    const { ended, end } = watchEnd(call);
    await new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.pause(); // a slow reader: the server can send no more than the windows hold
    expect(await lightCalls(name(7))).toEqual(['SERVING', name(7)]);
    expect(ended()).toBe(false);
    call.cancel();
    await end;
  }, 120_000);

  test(`during a CompileMof of a ${CHAIN}-class chain`, async () => {
    const call = client.compileMof(
      {
        namespace: 'root/cimv2',
        sources: chainMof('L1_C', CHAIN),
        flags: 0,
        context: undefined,
        continueOnError: false,
      },
      new Metadata(),
    );
    const { ended, end } = watchEnd(call);
    const events: string[] = [];
    call.on('data', (event: { event?: { $case: string } }) =>
      events.push(event.event?.$case ?? ''),
    );
    // Accepted: the response headers come before the compile's work.
    await new Promise<void>((resolve) => call.once('metadata', () => resolve()));
    // Answered while the compile was still deciding: its last class not yet committed (NOT_FOUND).
    // Without the time slicing, both wait for the whole decision, and the class is there.
    const last = `L1_C${CHAIN - 1}`;
    expect(await lightCalls(last)).toEqual(['SERVING', `code ${Code.NOT_FOUND}`]);
    expect(ended()).toBe(false);
    expect(await end).toBe(0);
    expect(await lightCalls(last)).toEqual(['SERVING', last]);
    expect(events.at(-1)).toBe('status');
  }, 300_000);

  test('a scrape of --metrics-listen shows the event-loop delay', async () => {
    const body = await (await fetch(`http://${metrics}/metrics`)).text();
    expect(body).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    expect(body).toMatch(/^nodejs_eventloop_lag_max_seconds \d/m);
  });
});
