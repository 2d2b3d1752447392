/**
 * Long-lived streams and the server's maximum connection age (issue #12 item 5): the server ends
 * them itself, before grpc-js cuts the connection, with WBEM_E_TRANSPORT_FAILURE and the three
 * encodings, and logs them so; the example client resumes and sees every event exactly once.
 */
import { Metadata, status as Code } from '@grpc/grpc-js';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { PutClassResponse } from '../../generated/wbem/v1/services';
import { watchWithResume } from '../../examples/watch-resume';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline, responseOf, transcript, unary } from '../helpers/transcript';
import { keyed } from './fixtures';

let t: TestServer;
let lines: Record<string, unknown>[];
beforeEach(async () => {
  lines = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  t = await startTestServer({
    logger: pino({ level: 'info' }, sink),
    // GOAWAY after 0.9–1.1 s; the server ends its watches 1.6 s after a connection opened.
    grpcOptions: { 'grpc.max_connection_age_ms': 1_000, 'grpc.max_connection_age_grace_ms': 1_000 },
  });
});
afterEach(async () => {
  await t.close();
});

const watchEnds = (): Record<string, unknown>[] =>
  lines.filter((line) => line.msg === 'call ended' && line.method === 'WatchClassEvents');

test('a watch is ended by the server before its connection is cut: WBEM_E_TRANSPORT_FAILURE with the three encodings, logged as UNAVAILABLE', async () => {
  const tr = await transcript(
    t.client.watchClassEvents({ namespace: 'root/cimv2', className: '' }, new Metadata()),
  );
  expect(tr.headers).toMatchObject({ 'wbem-revision': '0' });
  expect(tr.messages).toEqual([]);
  expect(tr.end).toEqual({
    code: Code.UNAVAILABLE,
    details:
      'the server is closing this connection, which reached its maximum age (maxConnectionAgeMs): call again; a watch resumes with since_revision = the revision of the last event received',
    trailers: { 'wbem-hresult': '0x80041015', 'wbem-status': 'WBEM_E_TRANSPORT_FAILURE' },
    errorInfo: {
      reason: 'WBEM_E_TRANSPORT_FAILURE',
      domain: 'wbem.v1',
      metadata: { hresult: '0x80041015' },
    },
  });
  expect(watchEnds()).toEqual([
    expect.objectContaining({ code: 'UNAVAILABLE', wbemStatus: 'WBEM_E_TRANSPORT_FAILURE' }),
  ]);
});

test('the example client resumes across connection cuts and sees every event exactly once, in order', async () => {
  const seen: bigint[] = [];
  const waiters: { revision: bigint; resolve: () => void }[] = [];
  const watch = watchWithResume(
    t.client,
    { namespace: 'root/cimv2', className: '', sinceRevision: 0n },
    (event) => {
      seen.push(event.revision);
      for (const waiter of waiters) if (event.revision >= waiter.revision) waiter.resolve();
    },
    50,
  );
  const written: bigint[] = [];
  const put = async (name: string): Promise<void> => {
    const response = responseOf(
      await unary<PutClassResponse>((cb) =>
        t.client.putClass(
          { namespace: 'root/cimv2', object: keyed(name), flags: 0 },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    written.push(response.revision);
  };
  // Classes are written while the server ends the watch twice; a few more after the second end.
  for (let i = 0; watchEnds().length < 2 || i % 10 !== 0; i++) {
    await put(`Ex_Resume${i}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const last = written.at(-1) as bigint;
  await new Promise<void>((resolve) =>
    seen.includes(last) ? resolve() : waiters.push({ revision: last, resolve }),
  );
  watch.stop();
  await watch.done;
  expect(seen).toEqual(written);
  expect(written).toEqual(written.map((_, i) => BigInt(i + 1)));
  // Every watch the server ended before the client stopped the last one was ended for the connection's age.
  const ends = watchEnds();
  expect(ends.length).toBeGreaterThanOrEqual(2);
  expect(ends.slice(0, -1).map((line) => [line.code, line.wbemStatus])).toEqual(
    ends.slice(0, -1).map(() => ['UNAVAILABLE', 'WBEM_E_TRANSPORT_FAILURE']),
  );
});
