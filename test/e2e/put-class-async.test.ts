import { Metadata, status as Code } from '@grpc/grpc-js';
import { CimType, type Value } from '../../generated/wbem/v1/cim';
import type {
  DeleteClassResponse,
  GetClassResponse,
  ObjectSinkEvent,
  PutClassRequest,
} from '../../generated/wbem/v1/services';
import { WbemStatus } from '../../generated/wbem/v1/status';
import { startTestServer, type TestServer } from '../helpers/test-server';
import {
  deadline,
  failureOf,
  responseOf,
  transcript,
  unary,
  type Transcript,
} from '../helpers/transcript';
import { cls, CREATE_ONLY, keyed, p, q, SEND_STATUS, UPDATE_ONLY } from './fixtures';

let t: TestServer;
beforeEach(async () => {
  t = await startTestServer();
});
afterEach(async () => {
  await t.close();
});

/** A value no CIM property can hold: an array inside an array. */
const NESTED_ARRAY: Value = {
  kind: {
    $case: 'array',
    array: { values: [{ kind: { $case: 'array', array: { values: [] } } }] },
  },
};

function put(request: Partial<PutClassRequest>): Promise<Transcript<ObjectSinkEvent>> {
  return transcript(
    t.client.putClassAsync(
      { namespace: 'root/cimv2', flags: 0, ...request },
      new Metadata(),
      deadline(),
    ),
  );
}

/** The protocol invariants every accepted call must keep (api.md "The object sink"). */
function expectSinkProtocol(tr: Transcript<ObjectSinkEvent>): void {
  const statuses = tr.messages.filter((m) => m.event?.$case === 'status');
  expect(statuses).toHaveLength(1);
  expect(tr.messages.at(-1)?.event?.$case).toBe('status');
  let last = 0;
  for (const m of tr.messages) {
    if (m.event?.$case !== 'progress') continue;
    expect(m.event.progress.current).toBeLessThanOrEqual(m.event.progress.total);
    expect(m.event.progress.current).toBeGreaterThanOrEqual(last);
    last = m.event.progress.current;
  }
  expect(tr.headers['wbem-operation-id']).toMatch(/^[0-9a-f-]{36}$/);
}

describe('PutClassAsync over gRPC', () => {
  test('create with SEND_STATUS: headers, progress, one final status with the path, OK with trailers', async () => {
    const tr = await put({ object: keyed('Ex_Widget'), flags: SEND_STATUS });
    expectSinkProtocol(tr);
    expect(
      tr.messages.map((m) =>
        m.event?.$case === 'progress'
          ? `${m.event.progress.current}/${m.event.progress.total}`
          : 'status',
      ),
    ).toEqual(['1/4', '2/4', '3/4', '4/4', 'status']);
    expect(tr.messages.at(-1)).toEqual({
      event: {
        $case: 'status',
        status: {
          hresult: WbemStatus.WBEM_S_NO_ERROR,
          param: '\\\\TESTHOST\\root\\cimv2:Ex_Widget',
          revision: 1n,
        },
      },
    });
    expect(tr.end).toMatchObject({
      code: Code.OK,
      trailers: { 'wbem-hresult': '0x00000000', 'wbem-status': 'WBEM_S_NO_ERROR' },
    });
  });

  test('without SEND_STATUS: the final status is the only message', async () => {
    const tr = await put({ object: keyed('Ex_Widget') });
    expect(tr.messages).toHaveLength(1);
    expectSinkProtocol(tr);
  });

  test('CREATE_ONLY on an existing class: one status event, then ALREADY_EXISTS with the three encodings', async () => {
    await put({ object: keyed('Ex_Base') });
    const tr = await put({ object: keyed('EX_BASE'), flags: CREATE_ONLY | SEND_STATUS });
    expectSinkProtocol(tr);
    const last = tr.messages.at(-1)?.event;
    expect(last?.$case === 'status' && last.status.hresult).toBe(WbemStatus.WBEM_E_ALREADY_EXISTS);
    expect(last?.$case === 'status' && last.status.extendedStatus).toMatchObject({
      statusCode: WbemStatus.WBEM_E_ALREADY_EXISTS,
      parameterInfo: 'EX_BASE',
    });
    expect(tr.end).toMatchObject({
      code: Code.ALREADY_EXISTS,
      trailers: { 'wbem-hresult': '0x80041019', 'wbem-status': 'WBEM_E_ALREADY_EXISTS' },
      errorInfo: {
        reason: 'WBEM_E_ALREADY_EXISTS',
        domain: 'wbem.v1',
        metadata: { hresult: '0x80041019', namespace: 'root\\cimv2', class: 'EX_BASE' },
      },
    });
  });

  test('UPDATE_ONLY on a missing class reports WBEM_E_NOT_FOUND and writes nothing', async () => {
    const tr = await put({ object: keyed('Ex_Missing'), flags: UPDATE_ONLY });
    expectSinkProtocol(tr);
    expect(tr.end).toMatchObject({
      code: Code.NOT_FOUND,
      errorInfo: { reason: 'WBEM_E_NOT_FOUND' },
    });
    const get = await unary((cb) =>
      t.client.getClass(
        { namespace: 'root/cimv2', className: 'Ex_Missing', localOnly: false, asMof: false },
        new Metadata(),
        deadline(),
        cb,
      ),
    );
    expect(failureOf(get).errorInfo?.reason).toBe('WBEM_E_NOT_FOUND');
  });

  test.each([
    [
      'CREATE_ONLY | UPDATE_ONLY',
      { object: keyed('A'), flags: 0x3 },
      Code.INVALID_ARGUMENT,
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'SAFE | FORCE',
      { object: keyed('A'), flags: 0x60 },
      Code.INVALID_ARGUMENT,
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'an undefined flag bit',
      { object: keyed('A'), flags: 0x8 },
      Code.INVALID_ARGUMENT,
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'RETURN_IMMEDIATELY',
      { object: keyed('A'), flags: 0x10 },
      Code.INVALID_ARGUMENT,
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'bit 31',
      { object: keyed('A'), flags: 0x80000000 | 0 },
      Code.INVALID_ARGUMENT,
      'WBEM_E_INVALID_PARAMETER',
    ],
    ['a missing object', { flags: SEND_STATUS }, Code.INVALID_ARGUMENT, 'WBEM_E_INVALID_PARAMETER'],
    [
      'an unparseable namespace',
      { namespace: 'root\\', object: keyed('A'), flags: SEND_STATUS },
      Code.INVALID_ARGUMENT,
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'an absent namespace',
      { namespace: 'root/nosuch', object: keyed('A'), flags: SEND_STATUS },
      Code.NOT_FOUND,
      'WBEM_E_INVALID_NAMESPACE',
    ],
    [
      'another host',
      { namespace: '\\\\otherhost\\root\\cimv2', object: keyed('A') },
      Code.INVALID_ARGUMENT,
      'WBEM_E_INVALID_PARAMETER',
    ],
    // Refused while the request is decoded (from-proto.ts), before the handler runs: still at once, with every encoding.
    [
      'an array value whose element is an array',
      {
        object: cls('Ex_Nested', '', [
          p('A', CimType.CIM_STRING, { array: true, value: NESTED_ARRAY }),
        ]),
      },
      Code.INVALID_ARGUMENT,
      'WBEM_E_INVALID_PARAMETER',
    ],
  ])(
    '%s is rejected at once: zero events, no operation header',
    async (_label, request, code, reason) => {
      const tr = await put(request);
      expect(tr.messages).toEqual([]);
      expect(tr.headers['wbem-operation-id']).toBeUndefined();
      expect(tr.end).toMatchObject({
        code,
        trailers: { 'wbem-status': reason },
        errorInfo: { reason, domain: 'wbem.v1' },
      });
    },
  );

  test('every namespace spelling of docs/api.md reaches the same class', async () => {
    await put({ object: keyed('Ex_Spelled') });
    for (const namespace of [
      'root/cimv2',
      'root\\cimv2',
      '\\\\.\\root\\cimv2',
      '//./root/cimv2',
      '\\\\TESTHOST\\root\\cimv2',
      'ROOT/CIMV2',
    ]) {
      const got = await unary((cb) =>
        t.client.getClass(
          { namespace, className: 'ex_spelled', localOnly: false, asMof: false },
          new Metadata(),
          deadline(),
          cb,
        ),
      );
      expect(responseOf(got).object?.system?.path).toBe('\\\\TESTHOST\\root\\cimv2:Ex_Spelled');
    }
  });

  test('a class rule failure is reported through the sink, after the call was accepted', async () => {
    const tr = await put({ object: cls('Ex_Sub', 'Ex_NoSuchBase'), flags: SEND_STATUS });
    expectSinkProtocol(tr);
    expect(tr.end).toMatchObject({
      code: Code.FAILED_PRECONDITION,
      errorInfo: { reason: 'WBEM_E_INVALID_SUPERCLASS' },
    });
  });

  test('uint64 max and sint64 min round-trip exactly', async () => {
    await put({
      object: cls('Ex_Bounds', '', [
        p('U', CimType.CIM_UINT64, {
          value: { kind: { $case: 'uint', uint: 18446744073709551615n } },
        }),
        p('S', CimType.CIM_SINT64, {
          value: { kind: { $case: 'sint', sint: -9223372036854775808n } },
        }),
      ]),
    });
    const got = responseOf(
      await unary<GetClassResponse>((cb) =>
        t.client.getClass(
          { namespace: 'root/cimv2', className: 'Ex_Bounds', localOnly: false, asMof: false },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(got.object?.properties.map((prop) => prop.value?.kind)).toEqual([
      { $case: 'uint', uint: 18446744073709551615n },
      { $case: 'sint', sint: -9223372036854775808n },
    ]);
  });
});

describe('reads and writes besides PutClassAsync', () => {
  test('PutClass (unary) returns the path, or the failure with the three encodings', async () => {
    const ok = await unary((cb) =>
      t.client.putClass(
        { namespace: 'root/cimv2', object: keyed('Ex_Unary'), flags: 0 },
        new Metadata(),
        deadline(),
        cb,
      ),
    );
    expect(responseOf(ok)).toEqual({ path: '\\\\TESTHOST\\root\\cimv2:Ex_Unary', revision: 1n });
    const again = failureOf(
      await unary((cb) =>
        t.client.putClass(
          { namespace: 'root/cimv2', object: keyed('Ex_Unary'), flags: CREATE_ONLY },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(again).toMatchObject({
      code: Code.ALREADY_EXISTS,
      trailers: { 'wbem-hresult': '0x80041019' },
      errorInfo: { reason: 'WBEM_E_ALREADY_EXISTS' },
    });
    const sendStatus = failureOf(
      await unary((cb) =>
        t.client.putClass(
          { namespace: 'root/cimv2', object: keyed('Ex_U2'), flags: SEND_STATUS },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(sendStatus.errorInfo?.reason).toBe('WBEM_E_INVALID_PARAMETER');
  });

  test('GetClass returns the resolved class with origins and system properties; local_only the local members', async () => {
    await put({
      object: cls('Ex_Base', '', [
        p('Id', CimType.CIM_STRING, {
          qualifiers: [
            q('Key'),
            q('Description', { kind: { $case: 'string', string: 'the id' } }, 0x2),
          ],
        }),
        p('P', CimType.CIM_UINT32),
      ]),
    });
    await put({ object: cls('Ex_Sub', 'ex_base', [p('Q')]) });
    const got = responseOf(
      await unary<GetClassResponse>((cb) =>
        t.client.getClass(
          { namespace: 'root/cimv2', className: 'EX_SUB', localOnly: false, asMof: false },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    const object = got.object;
    expect(object?.superclass).toBe('Ex_Base');
    expect(
      object?.properties.map((prop) => [prop.name, prop.classOrigin, prop.propagated]),
    ).toEqual([
      ['Id', 'Ex_Base', true],
      ['P', 'Ex_Base', true],
      ['Q', 'Ex_Sub', false],
    ]);
    // Key is inherited whatever its flavor; a ToSubclass qualifier propagates with the 0x20 origin bit.
    expect(
      object?.properties[0]?.qualifiers.map((qual) => [
        qual.name,
        qual.propagated,
        qual.flavor & 0x20,
      ]),
    ).toEqual([
      ['Key', true, 0x20],
      ['Description', true, 0x20],
    ]);
    expect(object?.system).toEqual({
      genus: 1,
      class: 'Ex_Sub',
      superclass: 'Ex_Base',
      dynasty: 'Ex_Base',
      derivation: ['Ex_Base'],
      server: 'TESTHOST',
      namespace: 'root\\cimv2',
      path: '\\\\TESTHOST\\root\\cimv2:Ex_Sub',
      relpath: 'Ex_Sub',
      propertyCount: 3,
    });
    const local = responseOf(
      await unary<GetClassResponse>((cb) =>
        t.client.getClass(
          { namespace: 'root/cimv2', className: 'Ex_Sub', localOnly: true, asMof: false },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(local.object?.properties.map((prop) => prop.name)).toEqual(['Q']);
  });

  test('EnumClasses: shallow and deep, parents before children', async () => {
    for (const [name, superclass] of [
      ['A', ''],
      ['B', 'A'],
      ['C', 'B'],
      ['D', ''],
    ] as const)
      await put({ object: cls(name, superclass) });
    const names = async (superclass: string, deep: boolean): Promise<string[]> =>
      (
        await transcript(
          t.client.enumClasses(
            { namespace: 'root/cimv2', superclass, deep, localOnly: false },
            new Metadata(),
            deadline(),
          ),
        )
      ).messages.map((c) => c.className);
    expect(await names('', false)).toEqual(['__SystemClass', 'A', 'D']); // the built-in system classes are listed, as WMI lists them
    expect((await names('', true)).filter((name) => !name.startsWith('__'))).toEqual([
      'A',
      'D',
      'B',
      'C',
    ]);
    expect(await names('a', true)).toEqual(['B', 'C']);
  });

  test('DeleteClass removes the class and its subclasses', async () => {
    for (const [name, superclass] of [
      ['A', ''],
      ['B', 'A'],
      ['C', 'B'],
    ] as const)
      await put({ object: cls(name, superclass) });
    const deleted = responseOf(
      await unary<DeleteClassResponse>((cb) =>
        t.client.deleteClass(
          { namespace: 'root/cimv2', className: 'a', flags: 0 },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(deleted.deletedClasses).toEqual(['A', 'B', 'C']);
    const missing = failureOf(
      await unary((cb) =>
        t.client.deleteClass(
          { namespace: 'root/cimv2', className: 'a', flags: 0 },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(missing).toMatchObject({
      code: Code.NOT_FOUND,
      errorInfo: { reason: 'WBEM_E_NOT_FOUND' },
    });
  });

  test('namespaces: create, enumerate, put into, delete with children', async () => {
    expect(
      responseOf(
        await unary((cb) =>
          t.client.createNamespace(
            { parent: 'root', name: 'Test' },
            new Metadata(),
            deadline(),
            cb,
          ),
        ),
      ),
    ).toEqual({ path: 'root\\Test' });
    const list = await transcript(
      t.client.enumNamespaces({ parent: 'root', deep: false }, new Metadata(), deadline()),
    );
    expect(list.messages).toEqual([
      { name: 'cimv2', path: 'root\\cimv2' },
      { name: 'default', path: 'root\\default' },
      { name: 'Test', path: 'root\\Test' },
    ]);
    expect((await put({ namespace: 'ROOT\\TEST', object: keyed('InTest') })).end.code).toBe(
      Code.OK,
    );
    responseOf(
      await unary((cb) =>
        t.client.deleteNamespace({ namespace: 'root/test' }, new Metadata(), deadline(), cb),
      ),
    );
    expect(
      (await put({ namespace: 'root/test', object: keyed('InTest') })).end.errorInfo?.reason,
    ).toBe('WBEM_E_INVALID_NAMESPACE');
    const builtIn = failureOf(
      await unary((cb) =>
        t.client.deleteNamespace({ namespace: 'root/cimv2' }, new Metadata(), deadline(), cb),
      ),
    );
    expect(builtIn.errorInfo?.reason).toBe('WBEM_E_INVALID_OPERATION');
  });
});
