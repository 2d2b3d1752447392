/**
 * The HTTP listener (`httpListen`): Connect JSON as curl sends it, Connect server streams decoded
 * by hand and by @connectrpc/connect's own client, gRPC-Web, errors carrying the WBEM status, the
 * shared credentials and size limit, health, and the listener being off unless asked for.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { ErrorInfoSchema } from '../../generated/google/rpc/error_details_pb';
import {
  GetClassRequestSchema,
  GetClassResponseSchema,
  WbemServices,
} from '../../generated/wbem/v1/services_pb';
import { Metadata } from '@grpc/grpc-js';
import { Writable } from 'node:stream';
import pino from 'pino';
import { sha256Hex } from '../../src/transport/grpc/authenticate';
import { startTestServer, type TestServer } from '../helpers/test-server';

const SEND_STATUS = 0x80;
const SERVICE = 'wbem.v1.WbemServices';

/** A keyed class as the proto's JSON mapping spells it. */
const widgetJson = (className: string, superclass = ''): Record<string, unknown> => ({
  className,
  superclass,
  properties: [
    { name: 'Id', type: 'CIM_STRING', qualifiers: [{ name: 'Key', value: { boolean: true } }] },
  ],
});

let t: TestServer;
let base: string;

async function start(options: Parameters<typeof startTestServer>[0] = {}): Promise<void> {
  t = await startTestServer({ httpListen: '127.0.0.1:0', ...options });
  base = `http://${t.server.httpAddress as string}`;
}

afterEach(async () => {
  await t.close();
});

/** A unary Connect call with a JSON body, as `curl -H 'content-type: application/json' -d …` sends it. */
async function postJson(
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(`${base}/${SERVICE}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

/** One envelope of a Connect or gRPC-Web stream: flags, then a 4-byte big-endian length. */
function envelope(flags: number, payload: Uint8Array): Uint8Array {
  const framed = new Uint8Array(5 + payload.length);
  framed[0] = flags;
  new DataView(framed.buffer).setUint32(1, payload.length);
  framed.set(payload, 5);
  return framed;
}

function envelopes(bytes: Uint8Array): { flags: number; payload: Uint8Array }[] {
  const frames: { flags: number; payload: Uint8Array }[] = [];
  let at = 0;
  while (at < bytes.length) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0);
    frames.push({ flags: bytes[at] as number, payload: bytes.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return frames;
}

/** A Connect server stream in JSON, decoded by hand: the messages and the end-of-stream message. */
async function connectStream(
  method: string,
  body: unknown,
): Promise<{ messages: Record<string, unknown>[]; end: Record<string, unknown> }> {
  const response = await fetch(`${base}/${SERVICE}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/connect+json' },
    body: envelope(0, new TextEncoder().encode(JSON.stringify(body))),
  });
  expect(response.status).toBe(200);
  const frames = envelopes(new Uint8Array(await response.arrayBuffer()));
  const decode = (payload: Uint8Array) =>
    JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  const last = frames.at(-1);
  expect(last?.flags).toBe(0x02); // end-of-stream
  return {
    messages: frames.slice(0, -1).map((frame) => decode(frame.payload)),
    end: decode((last as { payload: Uint8Array }).payload),
  };
}

function connectClient() {
  return createClient(WbemServices, createConnectTransport({ baseUrl: base, httpVersion: '1.1' }));
}

describe('HTTP listener', () => {
  test('off by default: a server started without httpListen has no HTTP address', async () => {
    t = await startTestServer();
    expect(t.server.httpAddress).toBeUndefined();
  });

  test('unary JSON as curl sends it (snake_case in, the JSON mapping out); a missing class is NOT_FOUND with the WBEM status', async () => {
    await start();
    const put = await postJson('PutClass', {
      namespace: 'root/cimv2',
      object: widgetJson('Ex_Widget'),
    });
    expect(put.status).toBe(200);
    expect(put.json.path).toBe('\\\\TESTHOST\\root\\cimv2:Ex_Widget');
    expect(put.headers.get('trailer-wbem-status')).toBe('WBEM_S_NO_ERROR');

    const got = await postJson('GetClass', {
      namespace: 'root/cimv2',
      class_name: 'Ex_Widget',
      as_mof: true,
    });
    expect(got.status).toBe(200);
    expect(got.headers.get('wbem-operation-id')).toMatch(/^[0-9a-f-]{36}$/);
    const object = got.json.object as { className: string; system: { derivation?: string[] } };
    expect(object.className).toBe('Ex_Widget');
    expect(got.json.mof).toContain('class Ex_Widget');

    const missing = await postJson('GetClass', {
      namespace: 'root/cimv2',
      class_name: 'CIM_ManagedElement',
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('wbem-status')).toBe('WBEM_E_NOT_FOUND');
    expect(missing.headers.get('wbem-hresult')).toBe('0x80041002');
    expect(missing.json).toMatchObject({
      code: 'not_found',
      details: [
        {
          type: 'google.rpc.ErrorInfo',
          debug: {
            reason: 'WBEM_E_NOT_FOUND',
            domain: 'wbem.v1',
            metadata: { hresult: '0x80041002', class: 'CIM_ManagedElement' },
          },
        },
      ],
    });
    // The binary detail says the same as its debug form.
    const [detail] = missing.json.details as { value: string }[];
    const info = fromBinary(ErrorInfoSchema, Buffer.from(detail?.value ?? '', 'base64'));
    expect(info.reason).toBe('WBEM_E_NOT_FOUND');
  });

  test('a CompileMof and a PutClassAsync of more than a megabyte (decoded in a turn of its own) are served', async () => {
    await start();
    const comment = `// ${'x'.repeat(1_200_000)}\n`;
    const compiled = await connectStream('CompileMof', {
      namespace: 'root/cimv2',
      sources: [{ name: 'big.mof', text: `${comment}class Ex_Big { [Key] string Id; };\n` }],
    });
    expect(compiled.end.error).toBeUndefined();
    expect(compiled.end.metadata).toMatchObject({ 'wbem-status': ['WBEM_S_NO_ERROR'] });
    const got = await postJson('GetClass', { namespace: 'root/cimv2', class_name: 'Ex_Big' });
    expect(got.status).toBe(200);

    const big = widgetJson('Ex_BigDefault');
    // Two strings: one value may hold at most 1,048,576 characters.
    for (const name of ['Note', 'Memo'])
      (big.properties as Record<string, unknown>[]).push({
        name,
        type: 'CIM_STRING',
        value: { string: 'n'.repeat(600_000) },
      });
    const { messages, end } = await connectStream('PutClassAsync', {
      namespace: 'root/cimv2',
      object: big,
    });
    expect(messages.at(-1)).toMatchObject({
      status: { param: '\\\\TESTHOST\\root\\cimv2:Ex_BigDefault' },
    });
    expect(end.error).toBeUndefined();
  });

  test("PutClassAsync over a Connect JSON stream: the sink's progress events, then one final SetStatus", async () => {
    await start();
    const { messages, end } = await connectStream('PutClassAsync', {
      namespace: 'root/cimv2',
      flags: SEND_STATUS,
      object: widgetJson('Ex_Streamed'),
    });
    expect(messages.map((m) => ('progress' in m ? 'progress' : Object.keys(m)[0]))).toEqual([
      'progress',
      'progress',
      'progress',
      'progress',
      'status',
    ]);
    expect(messages.at(-1)).toMatchObject({
      status: { param: '\\\\TESTHOST\\root\\cimv2:Ex_Streamed', revision: '1' },
    });
    expect(end.error).toBeUndefined();
    expect(end.metadata).toMatchObject({ 'wbem-status': ['WBEM_S_NO_ERROR'] });
  });

  test('a failing PutClassAsync stream: the final SetStatus, then the error with the same WBEM status and detail', async () => {
    await start();
    const { messages, end } = await connectStream('PutClassAsync', {
      namespace: 'root/cimv2',
      flags: SEND_STATUS,
      object: widgetJson('Ex_Orphan', 'Ex_NoSuchParent'),
    });
    expect(messages.at(-1)).toMatchObject({
      status: { hresult: 'WBEM_E_INVALID_SUPERCLASS' },
    });
    expect(end.error).toMatchObject({
      code: 'failed_precondition',
      details: [{ debug: { reason: 'WBEM_E_INVALID_SUPERCLASS' } }],
    });
    expect(end.metadata).toMatchObject({
      'wbem-status': ['WBEM_E_INVALID_SUPERCLASS'],
      'wbem-hresult': ['0x8004100D'],
    });
  });

  test("@connectrpc/connect's own client: a sink stream, a watch that sees the class created, and a typed error", async () => {
    await start();
    const client = connectClient();
    const controller = new AbortController();
    const watch = client.watchClassEvents(
      { namespace: 'root/cimv2' },
      { signal: controller.signal },
    );
    const firstEvent = (async () => {
      for await (const event of watch) return event;
      return undefined;
    })();
    const events = [];
    for await (const event of client.putClassAsync({
      namespace: 'root/cimv2',
      flags: SEND_STATUS,
      object: {
        className: 'Ex_Watched',
        properties: [
          {
            name: 'Id',
            type: 8,
            qualifiers: [{ name: 'Key', value: { kind: { case: 'boolean', value: true } } }],
          },
        ],
      },
    }))
      events.push(event.event.case);
    expect(events).toEqual(['progress', 'progress', 'progress', 'progress', 'status']);
    const event = await firstEvent;
    controller.abort();
    expect(event?.eventClass).toBe('__ClassCreationEvent');
    expect(event?.targetClass?.className).toBe('Ex_Watched');

    const failure = await client.getClass({ namespace: 'root/nowhere', className: 'X' }).then(
      () => undefined,
      (error: unknown) => ConnectError.from(error),
    );
    expect(failure?.code).toBe(Code.NotFound);
    expect(failure?.metadata.get('wbem-status')).toBe('WBEM_E_INVALID_NAMESPACE');
    expect(failure?.findDetails(ErrorInfoSchema)[0]?.reason).toBe('WBEM_E_INVALID_NAMESPACE');
  });

  test('gRPC-Web: binary messages, and the same trailers as gRPC (status, WBEM status, details)', async () => {
    await start();
    const call = async (className: string) => {
      const response = await fetch(`${base}/${SERVICE}/GetClass`, {
        method: 'POST',
        headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' },
        body: envelope(
          0,
          toBinary(
            GetClassRequestSchema,
            create(GetClassRequestSchema, { namespace: 'root/cimv2', className }),
          ),
        ),
      });
      expect(response.status).toBe(200);
      const frames = envelopes(new Uint8Array(await response.arrayBuffer()));
      const trailerFrame = frames.find((f) => (f.flags & 0x80) !== 0);
      const trailers = Object.fromEntries(
        new TextDecoder()
          .decode(trailerFrame?.payload)
          .split('\r\n')
          .filter((line) => line !== '')
          .map((line) => [
            line.slice(0, line.indexOf(':')).toLowerCase(),
            line.slice(line.indexOf(':') + 1).trim(),
          ]),
      );
      const data = frames.find((f) => f.flags === 0);
      return { trailers, data };
    };
    await postJson('PutClass', { namespace: 'root/cimv2', object: widgetJson('Ex_Web') });
    const ok = await call('Ex_Web');
    expect(ok.trailers['grpc-status']).toBe('0');
    expect(ok.trailers['wbem-status']).toBe('WBEM_S_NO_ERROR');
    expect(
      fromBinary(GetClassResponseSchema, ok.data?.payload ?? new Uint8Array()).object?.className,
    ).toBe('Ex_Web');

    const missing = await call('Ex_Missing');
    expect(missing.data).toBeUndefined();
    expect(missing.trailers['grpc-status']).toBe('5');
    expect(missing.trailers['wbem-status']).toBe('WBEM_E_NOT_FOUND');
    expect(missing.trailers['wbem-hresult']).toBe('0x80041002');
    expect(missing.trailers['grpc-status-details-bin']).toBeDefined();
  });

  test('tokens configured: a call without one is refused UNAUTHENTICATED (WBEM_E_ACCESS_DENIED); with one it is served', async () => {
    await start({ tokens: [{ sha256: sha256Hex('s3cret'), principal: 'alice', groups: [] }] });
    const refused = await postJson('GetClass', { namespace: 'root/cimv2', class_name: 'X' });
    expect(refused.status).toBe(401);
    expect(refused.json.code).toBe('unauthenticated');
    expect(refused.headers.get('wbem-status')).toBe('WBEM_E_ACCESS_DENIED');
    const wrong = await postJson(
      'GetClass',
      { namespace: 'root/cimv2', class_name: 'X' },
      { authorization: 'Bearer nope' },
    );
    expect(wrong.status).toBe(401);
    const served = await postJson(
      'GetClass',
      { namespace: 'root/cimv2', class_name: 'X' },
      { authorization: 'Bearer s3cret' },
    );
    expect(served.status).toBe(404); // authenticated; the class just does not exist
    expect(served.headers.get('wbem-status')).toBe('WBEM_E_NOT_FOUND');
  });

  test("the gRPC port's message size limit applies: a larger request is refused RESOURCE_EXHAUSTED", async () => {
    await start({ grpcOptions: { 'grpc.max_receive_message_length': 4096 } });
    const small = await postJson('GetClass', { namespace: 'root/cimv2', class_name: 'X' });
    expect(small.status).toBe(404);
    const big = await postJson('PutClass', {
      namespace: 'root/cimv2',
      object: {
        ...widgetJson('Ex_Big'),
        qualifiers: [{ name: 'Description', value: { string: 'x'.repeat(10_000) } }],
      },
    });
    expect(big.json.code).toBe('resource_exhausted');
    const absent = await postJson('GetClass', { namespace: 'root/cimv2', class_name: 'Ex_Big' });
    expect(absent.status).toBe(404);
  });

  test('health Check, the web page at /, and 404 for anything else', async () => {
    await start();
    const health = await fetch(`${base}/grpc.health.v1.Health/Check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: SERVICE }),
    });
    expect(await health.json()).toEqual({ status: 'SERVING' });
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<script type="module" src="app.js">');
    expect((await fetch(`${base}/nothing-here`)).status).toBe(404);
  });

  test("a body that is not the message's JSON is refused INVALID_ARGUMENT before any operation runs", async () => {
    await start();
    const response = await fetch(`${base}/${SERVICE}/GetClass`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"namespace": 5}',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('invalid_argument');
  });

  test('one cap on calls for both listeners, and one access log', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    await start({ maxConcurrentCalls: 1, logger: pino({ level: 'info' }, sink) });
    // A gRPC watch holds the one slot...
    const watch = t.client.watchClassEvents(
      { namespace: 'root/cimv2', className: '' },
      new Metadata(),
    );
    watch.on('error', () => undefined); // cancelled below
    await new Promise((resolve) => watch.once('metadata', resolve));
    // ...so an HTTP call is refused at once, as a second gRPC call would be.
    const refused = await postJson('GetClass', { namespace: 'root/cimv2', class_name: 'X' });
    expect(refused.json.code).toBe('resource_exhausted');
    expect(refused.headers.get('wbem-status')).toBe('WBEM_E_OUT_OF_MEMORY');
    watch.cancel();
    let served = refused;
    for (let attempt = 0; attempt < 50 && served.json.code === 'resource_exhausted'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      served = await postJson('GetClass', { namespace: 'root/cimv2', class_name: 'X' });
    }
    expect(served.status).toBe(404);
    const operationId = served.headers.get('wbem-operation-id');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.find((line) => line.operationId === operationId)).toMatchObject({
      msg: 'call ended',
      method: 'GetClass',
      code: 'NOT_FOUND',
      wbemStatus: 'WBEM_E_NOT_FOUND',
      peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) as unknown,
    });
    expect(lines.some((line) => line.method === 'WatchClassEvents')).toBe(true);
  });

  test('stop() ends an open HTTP watch with WBEM_E_SHUTTING_DOWN, then closes the listener', async () => {
    await start();
    const client = connectClient();
    const events: string[] = [];
    const ended = (async () => {
      try {
        for await (const event of client.watchClassEvents({ namespace: 'root/cimv2' }))
          events.push(event.targetClass?.className ?? '');
        return undefined;
      } catch (error) {
        return ConnectError.from(error);
      }
    })();
    // The first event proves the watch is running on the server.
    for (let attempt = 0; attempt < 50 && events.length === 0; attempt++) {
      await postJson('PutClass', { namespace: 'root/cimv2', object: widgetJson(`Ex_W${attempt}`) });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(events[0]).toBe('Ex_W0');
    await t.server.stop();
    const error = await ended;
    expect(error?.code).toBe(Code.Unavailable);
    expect(error?.metadata.get('wbem-status')).toBe('WBEM_E_SHUTTING_DOWN');
    await expect(fetch(`${base}/`)).rejects.toThrow();
  });

  test('a client that leaves an HTTP watch frees its slot under the call cap', async () => {
    await start({ maxConcurrentCalls: 1 });
    const client = connectClient();
    const controller = new AbortController();
    const events: string[] = [];
    const ended = (async () => {
      try {
        for await (const event of client.watchClassEvents(
          { namespace: 'root/cimv2' },
          { signal: controller.signal },
        ))
          events.push(event.eventClass);
      } catch {
        // cancelled below
      }
    })();
    // The server runs in this process: the watch is admitted well within this pause. A probe call
    // made earlier could itself hold the one slot when the watch arrives.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refused = await postJson('GetClass', { namespace: 'root/cimv2', class_name: 'X' });
    expect(refused.json.code).toBe('resource_exhausted');
    controller.abort();
    await ended;
    let served = refused;
    for (let attempt = 0; attempt < 50 && served.json.code === 'resource_exhausted'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      served = await postJson('GetClass', { namespace: 'root/cimv2', class_name: 'X' });
    }
    expect(served.headers.get('wbem-status')).toBe('WBEM_E_NOT_FOUND');
    expect(events).toEqual([]);
  });
});
