/**
 * The `wbemd/client` package against a real server: every call family, the typed errors (status
 * name, hresult, ErrorInfo, the sink's final SetStatus), the sink helpers, watches, tokens, and an
 * unreachable server.
 */
import { startServer, type RunningServer } from '../../src/server';
import {
  WbemClient,
  WbemError,
  WbemTransportError,
  type SinkProgress,
  type ClassEvent,
} from '../../src/client';
import { sha256Hex } from '../../src/transport/grpc/authenticate';
import { CREATE_ONLY, SEND_STATUS, keyed } from '../e2e/fixtures';
import { startTestServer, type TestServer } from '../helpers/test-server';

let env: TestServer;
let client: WbemClient;
beforeAll(async () => {
  env = await startTestServer();
  client = new WbemClient({ address: env.server.address, deadlineMs: 10_000 });
});
afterAll(async () => {
  client.close();
  await env.close();
});

/** The error a promise rejects with; fails the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

test('putClassAsync: progress events with SEND_STATUS, then the final status as a typed result', async () => {
  const call = client.putClassAsync({
    namespace: 'root/cimv2',
    object: keyed('Cl_Widget'),
    flags: SEND_STATUS | CREATE_ONLY,
  });
  const progress: SinkProgress[] = [];
  for await (const event of call.events()) progress.push(event);
  expect(progress.length).toBeGreaterThan(0);
  for (const { current, total } of progress) expect(current).toBeLessThanOrEqual(total);
  const result = await call.result();
  expect(result.status).toBe('WBEM_S_NO_ERROR');
  expect(result.path).toBe('\\\\TESTHOST\\root\\cimv2:Cl_Widget');
  expect(result.revision).toBeGreaterThan(0n);
});

test('putClassAsync: a failed sink throws its WbemError where the loop ends, keeping the SetStatus', async () => {
  const call = client.putClassAsync({
    namespace: 'root/cimv2',
    object: keyed('Cl_Widget'),
    flags: SEND_STATUS | CREATE_ONLY,
  });
  const progress: SinkProgress[] = [];
  const thrown = await rejection(
    (async () => {
      for await (const event of call.events()) progress.push(event);
    })(),
  );
  expect(progress).toEqual([expect.objectContaining({ current: 1, total: 4 })]);
  expect(thrown).toBeInstanceOf(WbemError);
  const error = thrown as WbemError;
  expect(error.status).toBe('WBEM_E_ALREADY_EXISTS');
  expect(error.hresult).toBe('0x80041019');
  expect(error.setStatus?.param).toMatch(/Cl_Widget/);
  expect(error.details).toEqual([
    expect.objectContaining({
      reason: 'WBEM_E_ALREADY_EXISTS',
      domain: 'wbem.v1',
      metadata: expect.objectContaining({ hresult: '0x80041019' }),
    }),
  ]);
  expect(error.operationId).toEqual(expect.any(String));
  // result() reports the same final status.
  expect(await rejection(call.result())).toBe(error);
});

test('putClassAsync: result() alone, without reading events, still gets the final status', async () => {
  const error = (await rejection(
    client
      .putClassAsync({ namespace: 'root/cimv2', object: keyed('Cl_Widget'), flags: CREATE_ONLY })
      .result(),
  )) as WbemError;
  expect(error.status).toBe('WBEM_E_ALREADY_EXISTS');
});

test('putClassAsync refused at once (CREATE_ONLY|UPDATE_ONLY): WbemError without a SetStatus', async () => {
  const error = (await rejection(
    client.putClassAsync({ namespace: 'root/cimv2', object: keyed('Cl_X'), flags: 3 }).result(),
  )) as WbemError;
  expect(error).toBeInstanceOf(WbemError);
  expect(error.status).toBe('WBEM_E_INVALID_PARAMETER');
  expect(error.hresult).toBe('0x80041008');
  expect(error.setStatus).toBeUndefined();
  expect(error.code).toBe(3); // INVALID_ARGUMENT
});

test('unary calls: get, put, delete classes; namespaces; instances', async () => {
  const got = await client.getClass({ namespace: 'root/cimv2', className: 'cl_widget' });
  expect(got.object?.className).toBe('Cl_Widget');
  const put = await client.putClass({
    namespace: 'root/cimv2',
    object: keyed('Cl_Sub', 'Cl_Widget'),
  });
  expect(put.path).toBe('\\\\TESTHOST\\root\\cimv2:Cl_Sub');

  const names = (await client.enumClasses({ namespace: 'root/cimv2', deep: true }).toArray()).map(
    (c) => c.className,
  );
  expect(names).toEqual(expect.arrayContaining(['Cl_Widget', 'Cl_Sub']));

  expect(await client.createNamespace({ parent: 'root', name: 'cl_test' })).toEqual({
    path: 'root\\cl_test',
  });
  const children = await client.enumNamespaces({ parent: 'root' }).toArray();
  expect(children.map((n) => n.path)).toContain('root\\cl_test');
  await client.deleteNamespace({ namespace: 'root/cl_test' });

  const instance = await client.putInstance({
    namespace: 'root/cimv2',
    instance: {
      className: 'Cl_Widget',
      properties: [{ name: 'Id', value: { kind: { $case: 'string', string: 'a' } } }],
    },
  });
  expect(instance.path).toBe('Cl_Widget.Id="a"');
  const read = await client.getInstance({ namespace: 'root/cimv2', path: 'Cl_Widget.Id="a"' });
  expect(read.instance?.system?.relpath).toBe('Cl_Widget.Id="a"');
  expect(
    await client.enumInstances({ namespace: 'root/cimv2', className: 'Cl_Widget' }).toArray(),
  ).toHaveLength(1);
  await client.deleteInstance({ namespace: 'root/cimv2', path: 'Cl_Widget.Id="a"' });

  const deleted = await client.deleteClass({ namespace: 'root/cimv2', className: 'Cl_Sub' });
  expect(deleted.deletedClasses).toEqual(['Cl_Sub']);
});

test('a unary failure is a WbemError with the status, hresult and ErrorInfo', async () => {
  const error = (await rejection(
    client.getClass({ namespace: 'root/cimv2', className: 'Cl_Missing' }),
  )) as WbemError;
  expect(error).toBeInstanceOf(WbemError);
  expect(error.status).toBe('WBEM_E_NOT_FOUND');
  expect(error.hresult).toBe('0x80041002');
  expect(error.code).toBe(5);
  expect(error.message).toMatch(/^WBEM_E_NOT_FOUND \(0x80041002\): /);
  expect(error.details[0]?.metadata).toEqual(
    expect.objectContaining({ class: 'Cl_Missing', namespace: 'root/cimv2' }),
  );
});

test('a failed stream throws where the loop ends, after the messages it had', async () => {
  const error = await rejection(
    client.enumClasses({ namespace: 'root/nowhere', deep: true }).toArray(),
  );
  expect(error).toBeInstanceOf(WbemError);
  expect((error as WbemError).status).toBe('WBEM_E_INVALID_NAMESPACE');
});

test('watchClassEvents: live events until cancel(), which ends the loop quietly', async () => {
  let started!: () => void;
  const live = new Promise<void>((resolve) => (started = resolve));
  const watch = client.watchClassEvents({ namespace: 'root/cimv2' }, () => started());
  const seen: ClassEvent[] = [];
  const loop = (async () => {
    for await (const event of watch) {
      seen.push(event);
      watch.cancel();
    }
  })();
  await live;
  await client.putClass({ namespace: 'root/cimv2', object: keyed('Cl_Watched') });
  await loop;
  expect(seen.map((e) => [e.eventClass, e.targetClass?.className])).toEqual([
    ['__ClassCreationEvent', 'Cl_Watched'],
  ]);
});

test('an unreachable server is a WbemTransportError saying connection refused', async () => {
  const stopped = await startTestServer();
  const address = stopped.server.address;
  await stopped.close();
  const offline = new WbemClient({ address });
  try {
    const error = (await rejection(
      offline.getClass({ namespace: 'root/cimv2', className: 'X' }),
    )) as WbemTransportError;
    expect(error).toBeInstanceOf(WbemTransportError);
    expect(error.connectFailure).toBe('connection refused');
    expect(error.address).toBe(address);
    const streamError = (await rejection(
      offline.putClassAsync({ namespace: 'root/cimv2', object: keyed('X') }).result(),
    )) as WbemTransportError;
    expect(streamError.connectFailure).toBe('connection refused');
  } finally {
    offline.close();
  }
});

describe('bearer tokens', () => {
  let server: RunningServer;
  let dataDir: string;
  beforeAll(async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    dataDir = await mkdtemp(join(tmpdir(), 'wbemd-client-tok-'));
    server = await startServer({
      listen: '127.0.0.1:0',
      dataDir,
      serverName: 'TOKHOST',
      tokens: [{ sha256: sha256Hex('s3cret'), principal: 'ann', groups: [] }],
    });
  });
  afterAll(async () => {
    await server.stop();
    const { rm } = await import('node:fs/promises');
    await rm(dataDir, { recursive: true, force: true });
  });

  test('without the token: WBEM_E_ACCESS_DENIED; with it: served', async () => {
    const anonymous = new WbemClient({ address: server.address });
    const holder = new WbemClient({ address: server.address, token: 's3cret' });
    try {
      const error = (await rejection(
        anonymous.enumNamespaces({ parent: 'root' }).toArray(),
      )) as WbemError;
      expect(error.status).toBe('WBEM_E_ACCESS_DENIED');
      expect(error.code).toBe(16); // UNAUTHENTICATED
      const namespaces = await holder.enumNamespaces({ parent: 'root' }).toArray();
      expect(namespaces.map((n) => n.name)).toContain('cimv2');
    } finally {
      anonymous.close();
      holder.close();
    }
  });
});
