/**
 * A CompileMof's progress events (WBEM_FLAG_SEND_STATUS) are written without its work waiting for
 * the client at each one, up to a backlog (StreamOut, PROGRESS_BACKLOG): a client that reads
 * nothing for a while does not hold the compile, and its namespaces' locks, until it reads. Every
 * event still reaches the client, in order, before the one final status.
 */
import { Metadata, status as Code } from '@grpc/grpc-js';
import { connect, constants } from 'node:http2';
import { CompileMofRequest, ObjectSinkEvent } from '../../generated/wbem/v1/services';
import { PROGRESS_BACKLOG } from '../../src/transport/grpc/wbem-operations';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline, transcript, unary } from '../helpers/transcript';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const SEND_STATUS = 128;

function classes(prefix: string, count: number): string {
  return Array.from({ length: count }, (_, i) => `class ${prefix}${i} { };\n`).join('');
}

function request(text: string) {
  return { namespace: 'root/cimv2', sources: [{ name: 'many.mof', text }], flags: SEND_STATUS };
}

async function classExists(name: string): Promise<boolean> {
  const read = await unary((cb) =>
    t.client.getClass(
      { namespace: 'root/cimv2', className: name, localOnly: true, asMof: false },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
  return read.end === undefined;
}

test('more progress events than the backlog: every one arrives, in order, then the final status', async () => {
  const count = PROGRESS_BACKLOG + 500;
  const text = classes('Ex_Pg', count);
  const call = await transcript(
    t.client.compileMof({ ...request(text), continueOnError: false }, new Metadata(), deadline()),
  );
  expect(call.end.code).toBe(Code.OK);
  const events = call.messages.map((m) => m.event);
  expect(events).toHaveLength(count + 1);
  events.slice(0, count).forEach((event, i) => {
    expect(event).toEqual({
      $case: 'progress',
      progress: { current: i + 1, total: count, message: `Ex_Pg${i}` },
    });
  });
  expect(events[count]?.$case).toBe('status');
}, 120_000);

test('a client that reads nothing: the compile commits anyway, and every event is there when it reads', async () => {
  // 2,000 progress events are ≈ 60 KB: far more than the 1 KB window this client gives the stream,
  // so they wait in the server's buffer (below the backlog) while the compile goes on.
  const count = 2000;
  const body = CompileMofRequest.encode({
    ...request(classes('Ex_Unread', count)),
    continueOnError: false,
  }).finish();
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  const session = connect(`http://${t.server.address}`, {
    settings: { initialWindowSize: 1024 },
  });
  try {
    const stream = session.request({
      ':method': 'POST',
      ':path': '/wbem.v1.WbemServices/CompileMof',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.pause();
    stream.end(frame);
    // Another client sees the last class committed while this one has read nothing.
    const committedBy = Date.now() + 30_000;
    while (!(await classExists(`Ex_Unread${count - 1}`))) {
      expect(Date.now()).toBeLessThan(committedBy);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(stream.readableLength).toBeLessThan(2048);
    const chunks: Buffer[] = [];
    const trailers = new Promise<Record<string, unknown>>((resolve) =>
      stream.on('trailers', (headers) => resolve(headers)),
    );
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.resume();
    await new Promise((resolve) => stream.on('close', resolve));
    expect(stream.rstCode).toBe(constants.NGHTTP2_NO_ERROR);
    expect((await trailers)['grpc-status']).toBe('0');
    const events: ObjectSinkEvent[] = [];
    let rest = Buffer.concat(chunks);
    while (rest.length >= 5) {
      const length = rest.readUInt32BE(1);
      events.push(ObjectSinkEvent.decode(rest.subarray(5, 5 + length)));
      rest = rest.subarray(5 + length);
    }
    expect(events).toHaveLength(count + 1);
    expect(
      events.slice(0, count).map((e) => e.event?.$case === 'progress' && e.event.progress.current),
    ).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(events[count]?.event?.$case).toBe('status');
  } finally {
    session.destroy();
  }
}, 120_000);
