/**
 * `wbemd mofcomp` sends its PutClassAsync calls straight to an HTTP/2 session (src/cli/grpc-h2.ts,
 * D81) instead of through grpc-js's client. Each outcome the command reports — written, a rule's
 * failure in the final SetStatus, a call refused at once with its WbemStatus in the trailers, a
 * stream of progress events before its status — must read the same from both, against a real
 * server; a server that is not there is a failure with the connection's error.
 */
import { Metadata } from '@grpc/grpc-js';
import {
  createServer as createHttp2Server,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileMof } from '../../src/mof/parser';
import { definitionToProto } from '../../src/transport/grpc/codec';
import { dialsItself, H2Channel } from '../../src/cli/grpc-h2';
import { grpcJsSender } from '../../src/cli/mofcomp-grpc';
import { DMTF_CONTEXT, h2Sender, type ClassSender } from '../../src/cli/mofcomp-send';
import { encodeClassPut, type ClassPut } from '../../src/cli/put-class-codec';
import { finalStatusOf } from '../../src/cli/sink-event-codec';
import { ObjectSinkEvent, PutClassRequest } from '../../generated/wbem/v1/services';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline } from '../helpers/transcript';
import { runWbemd } from '../helpers/wbemd-cli';

let t: TestServer;
let channel: H2Channel;
beforeAll(async () => {
  t = await startTestServer();
  channel = new H2Channel(t.server.address);
});
afterAll(async () => {
  channel.close();
  await t.close();
});

const SEND_STATUS = 0x80;
const CREATE_ONLY = 2;
const UPDATE_ONLY = 1;

/** The classes of `mof`, each as the command's request for it. */
function requests(mof: string, flags = 0, namespace = 'root/cimv2'): ClassPut[] {
  return compileMof('test.mof', () => mof).classes.map((c) => ({
    namespace,
    definition: c.definition,
    flags,
    context: DMTF_CONTEXT,
  }));
}

/** Sends `mof`'s classes one after the other, with the names given a suffix of the sender's own. */
async function outcomes(send: ClassSender, mof: string, flags?: number, namespace?: string) {
  const results = [];
  for (const request of requests(mof, flags, namespace)) results.push(await send(request));
  return results;
}

/** The same MOF through both senders (each its own class names), outcomes side by side. */
async function both(mof: (suffix: string) => string, flags?: number, namespace?: string) {
  return {
    grpcJs: await outcomes(grpcJsSender(t.client), mof('Js'), flags, namespace),
    h2: await outcomes(h2Sender(channel), mof('H2'), flags, namespace),
  };
}

test('written, a rule failure in the final status, and a missing superclass read the same', async () => {
  const { grpcJs, h2 } = await both(
    (s) =>
      `class Ex_${s}A { [Key] string Id; };\n` +
      `class Ex_${s}B : Ex_${s}A { [Key] string More; };\n` +
      `class Ex_${s}C : Ex_${s}Missing { };\n`,
  );
  expect(grpcJs[0]).toEqual({ ok: true });
  expect(grpcJs[1]).toMatchObject({ ok: false, status: 'WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE' });
  expect(grpcJs[2]).toMatchObject({ ok: false, status: 'WBEM_E_INVALID_SUPERCLASS' });
  expect(h2).toEqual(
    grpcJs.map((o) => (o.ok ? o : { ...o, reason: o.reason.replaceAll('Js', 'H2') })),
  );
});

test('progress events before the final status (several messages in one call) read the same', async () => {
  const { grpcJs, h2 } = await both((s) => `class Ex_${s}P { string P; };\n`, SEND_STATUS);
  expect(grpcJs).toEqual([{ ok: true }]);
  expect(h2).toEqual(grpcJs);
});

test('calls refused at once (flags in conflict, an unknown namespace) read the same', async () => {
  const conflict = await both((s) => `class Ex_${s}F { };\n`, CREATE_ONLY | UPDATE_ONLY);
  expect(conflict.grpcJs[0]).toMatchObject({ ok: false, status: 'WBEM_E_INVALID_PARAMETER' });
  expect(conflict.h2).toEqual(conflict.grpcJs);
  const nowhere = await both((s) => `class Ex_${s}N { };\n`, 0, 'root/nowhere');
  expect(nowhere.grpcJs[0]).toMatchObject({ ok: false, status: 'WBEM_E_INVALID_NAMESPACE' });
  expect(nowhere.h2).toEqual(nowhere.grpcJs);
});

test('64 calls at once on one session all end, each with its own outcome', async () => {
  const mof = Array.from({ length: 64 }, (_, i) => `class Ex_Many${i} { string P${i}; };\n`);
  const send = h2Sender(channel);
  const results = await Promise.all(requests(mof.join('')).map((request) => send(request)));
  expect(results).toEqual(mof.map(() => ({ ok: true })));
  const again = await Promise.all(requests(mof.join(''), CREATE_ONLY).map((r) => send(r)));
  expect(again.every((o) => !o.ok && o.status === 'WBEM_E_ALREADY_EXISTS')).toBe(true);
});

test('a server that is not there: every call fails with the connection error', async () => {
  const port = await new Promise<number>((resolvePort) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
  const nowhere = new H2Channel(`127.0.0.1:${port}`);
  try {
    const [outcome] = await outcomes(h2Sender(nowhere), 'class Ex_Gone { };\n');
    expect(outcome).toEqual({
      ok: false,
      status: '',
      reason: expect.stringContaining('ECONNREFUSED'),
    });
  } finally {
    nowhere.close();
  }
});

test('only HOST:PORT is dialled here; any other grpc-js target goes to grpc-js', () => {
  for (const address of ['127.0.0.1:50051', 'localhost:1', '[::1]:50051', 'db-1.example:443'])
    expect(dialsItself(address)).toBe(true);
  for (const address of ['dns:///localhost:50051', 'unix:/tmp/wbemd.sock', 'localhost', '::1:5'])
    expect(dialsItself(address)).toBe(false);
});

test("a class put's bytes are PutClassRequest.encode's, for every class of CIM 2.41", () => {
  const root = join(__dirname, '../../schemas/cim-schema-2.41/DMTF');
  const unit = compileMof('cim_schema_2.41.0.mof', (path) =>
    readFileSync(join(root, path), 'utf8'),
  );
  expect(unit.classes.length).toBe(1438);
  const context = requests('class Ex_C { };\n')[0]?.context;
  const differing: string[] = [];
  for (const [index, mofClass] of unit.classes.entries()) {
    const request: ClassPut = {
      namespace: index % 3 === 0 ? '' : 'root/cimv2',
      definition: mofClass.definition,
      flags: index % 2 === 0 ? 0 : CREATE_ONLY | 0x20,
      ...(index % 5 === 0 || context === undefined ? {} : { context }),
    };
    const { definition, ...fields } = request;
    const generated = { ...fields, object: definitionToProto(definition) };
    if (!encodeClassPut(request).equals(PutClassRequest.encode(generated).finish()))
      differing.push(mofClass.definition.name);
  }
  expect(differing).toEqual([]);
});

test('a request that cannot be encoded throws, and the next is encoded whole', () => {
  const [fits] = requests('class Ex_Big { sint64 P = 1; };\n');
  if (fits === undefined) throw new Error('the class did not compile');
  const [property] = fits.definition.properties;
  if (property === undefined) throw new Error('the class has no property');
  const tooLarge: ClassPut = {
    ...fits,
    definition: {
      ...fits.definition,
      properties: [{ ...property, value: { kind: 'sint', value: 1n << 70n } }],
    },
  };
  expect(() => encodeClassPut(tooLarge)).toThrow(/too large/);
  const { definition, ...fields } = fits;
  const generated = { ...fields, object: definitionToProto(definition) };
  expect(encodeClassPut(fits).equals(PutClassRequest.encode(generated).finish())).toBe(true);
});

test("an answer's final status reads as ObjectSinkEvent.decode reads it", () => {
  const events: ObjectSinkEvent[] = [
    { event: { $case: 'status', status: { hresult: 0, param: 'root/cimv2:Ex_A', revision: 7n } } },
    {
      event: {
        $case: 'status',
        status: {
          hresult: -2147217406,
          param: 'no such class — ü',
          revision: 0n,
          extendedStatus: {
            description: 'x',
            operation: 'PutClass',
            parameterInfo: 'Ex',
            providerName: 'wbemd',
            statusCode: -2147217406,
          },
        },
      },
    },
    { event: { $case: 'progress', progress: { current: 1, total: 2, message: 'Ex_A' } } },
    { event: undefined },
  ];
  for (const event of events) {
    const bytes = ObjectSinkEvent.encode(event).finish();
    const decoded = ObjectSinkEvent.decode(bytes).event;
    const expected =
      decoded?.$case === 'status'
        ? { hresult: decoded.status.hresult, param: decoded.status.param }
        : undefined;
    expect(finalStatusOf(bytes)).toEqual(expected);
  }
  // A oneof's last field is its value: a progress after a status is a progress.
  const both = Buffer.concat(events.slice(0, 3).map((e) => ObjectSinkEvent.encode(e).finish()));
  expect(ObjectSinkEvent.decode(both).event?.$case).toBe('progress');
  expect(finalStatusOf(both)).toBeUndefined();
  const last = Buffer.concat(
    [events[2], events[1]].map((e) => ObjectSinkEvent.encode(e!).finish()),
  );
  expect(finalStatusOf(last)).toEqual({ hresult: -2147217406, param: 'no such class — ü' });
});

/** `classes` generated classes, a chain every 10 (the window waits on superclasses as with a schema). */
function chains(classes: number): string {
  return Array.from({ length: classes }, (_, i) =>
    i % 10 === 0
      ? `class Ex_G${i} { [Key] string Id; };\n`
      : `class Ex_G${i} : Ex_G${i - 1} { string P${i}; };\n`,
  ).join('');
}

/** `wbemd mofcomp` as a user runs it (a child process), of `mof`, into the server at `address`. */
async function mofcompInto(address: string, mof: string, args: string[] = []) {
  const dir = await mkdtemp(join(tmpdir(), 'wbemd-h2-'));
  try {
    const file = join(dir, 'many.mof');
    await writeFile(file, mof);
    return await runWbemd(['mofcomp', '--server', address, ...args, file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The names of the Ex_G classes `server` holds. */
function generatedClasses(server: TestServer): Promise<string[]> {
  return new Promise((resolveNames, reject) => {
    const names: string[] = [];
    const call = server.client.enumClasses(
      { namespace: 'root/cimv2', superclass: '', deep: true, localOnly: false },
      new Metadata(),
      deadline(60_000),
    );
    call.on('data', (object: { className: string }) => {
      if (object.className.startsWith('Ex_G')) names.push(object.className);
    });
    call.on('error', reject);
    call.on('end', () => resolveNames(names));
  });
}

test("a server's GOAWAY at its maximum connection age: the next calls go to a new connection, every class is written", async () => {
  // GOAWAY 225-275 ms after each connection opened; a run of 3,000 classes lasts seconds.
  const aged = await startTestServer({
    grpcOptions: { 'grpc.max_connection_age_ms': 250, 'grpc.max_connection_age_grace_ms': 20_000 },
  });
  try {
    const started = Date.now();
    const load = await mofcompInto(aged.server.address, chains(3000));
    expect(load.stderr).toBe('');
    expect(load.code).toBe(0);
    expect(load.stdout).toContain('3000 of 3000 classes written to root/cimv2\n');
    expect(Date.now() - started).toBeGreaterThan(1000); // several connection ages
    expect((await generatedClasses(aged)).length).toBe(3000);
  } finally {
    await aged.close();
  }
}, 120_000);

test('--window 64 against a server that allows 8 streams a connection: every class is written', async () => {
  const narrow = await startTestServer({ grpcOptions: { 'grpc.max_concurrent_streams': 8 } });
  try {
    const load = await mofcompInto(narrow.server.address, chains(1000), ['--window', '64']);
    expect(load.stderr).toBe('');
    expect(load.code).toBe(0);
    expect(load.stdout).toContain('1000 of 1000 classes written to root/cimv2\n');
    expect((await generatedClasses(narrow)).length).toBe(1000);
  } finally {
    await narrow.close();
  }
}, 120_000);

/** Answers a PutClassAsync on a hand-made HTTP/2 server: a final SetStatus of success, status 0. */
function answerSuccess(stream: ServerHttp2Stream): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  const event = ObjectSinkEvent.encode({
    event: { $case: 'status', status: { hresult: 0, param: '', revision: 1n } },
  }).finish();
  const frame = Buffer.alloc(5 + event.length);
  frame.writeUInt32BE(event.length, 1);
  frame.set(event, 5);
  stream.end(frame);
}

test('a server that ends a call without a status and stays up: that call is a failure line of its own', async () => {
  // An HTTP/2 server of its own: class Ex_S1's call gets a 200 and an empty end, no trailers.
  const sessions = new Set<ServerHttp2Session>();
  const statusless = createHttp2Server();
  statusless.on('session', (session) => sessions.add(session));
  statusless.on('stream', (stream) => {
    let body = Buffer.alloc(0);
    stream.on('data', (chunk: Buffer) => (body = Buffer.concat([body, chunk])));
    stream.on('end', () => {
      if (body.includes('Ex_S1')) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
        return void stream.end();
      }
      answerSuccess(stream);
    });
  });
  await new Promise<void>((listening) => statusless.listen(0, '127.0.0.1', listening));
  const address = statusless.address();
  try {
    const port = typeof address === 'object' && address ? address.port : 0;
    const mof = Array.from({ length: 3 }, (_, i) => `class Ex_S${i} { };\n`).join('');
    const load = await mofcompInto(`127.0.0.1:${port}`, mof, ['--continue']);
    expect(load.code).toBe(1);
    expect(load.stdout).toContain('2 of 3 classes written to root/cimv2, 1 failed\n');
    expect(load.stderr).toMatch(
      /^\S+\.mof:2:1: class Ex_S1: the call ended without a gRPC status\n$/,
    );
  } finally {
    for (const session of sessions) session.destroy();
    await new Promise((closed) => statusless.close(closed));
  }
}, 60_000);

test('a server that drops the connection mid-run: each call in flight is a failure line, only the acknowledged ones are written', async () => {
  // An HTTP/2 server of its own: it answers the first 5 calls (a final status of success), holds
  // the next ones, and destroys the connection when the 20th arrives.
  const sessions = new Set<ServerHttp2Session>();
  let calls = 0;
  const dropping = createHttp2Server();
  dropping.on('session', (session) => sessions.add(session));
  dropping.on('stream', (stream) => {
    stream.resume();
    calls++;
    if (calls === 20) stream.session?.destroy();
    if (calls <= 5) answerSuccess(stream);
  });
  await new Promise<void>((listening) => dropping.listen(0, '127.0.0.1', listening));
  const address = dropping.address();
  try {
    const port = typeof address === 'object' && address ? address.port : 0;
    const mof = Array.from({ length: 20 }, (_, i) => `class Ex_D${i} { };\n`).join('');
    const load = await mofcompInto(`127.0.0.1:${port}`, mof, ['--window', '64']);
    expect(load.code).toBe(1);
    expect(load.stdout).toContain('5 of 20 classes written to root/cimv2, 15 failed\n');
    const failed = load.stderr.split('\n').filter((line) => line !== '');
    expect(failed).toHaveLength(15);
    // The calls held when the connection went: each its own line. Node closes their streams with
    // NO_ERROR or with the socket's ECONNRESET, as the timing falls; either reads as a lost
    // connection (grpc-js: UNAVAILABLE "Connection dropped").
    const held = Array.from({ length: 15 }, (_, i) => `:${i + 6}:1: class Ex_D${i + 5}: `);
    const lines = failed.map((line) => line.slice(line.lastIndexOf('.mof') + 4)).sort();
    expect(
      lines.map((line) => line.replace(/: connection lost(: read ECONNRESET)?$/, ': ')),
    ).toEqual(held.sort());
  } finally {
    for (const session of sessions) session.destroy();
    await new Promise((closed) => dropping.close(closed));
  }
}, 60_000);
