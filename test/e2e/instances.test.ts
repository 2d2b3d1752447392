/**
 * Static instances and the modification rules that depend on them, end to end over gRPC with the
 * generated client: whole responses, closing statuses with their trailers and ErrorInfo.
 */
import { Metadata, status as Code } from '@grpc/grpc-js';
import { CimType, type Instance, type Property, type Value } from '../../generated/wbem/v1/cim';
import type {
  GetInstanceResponse,
  PutClassResponse,
  PutInstanceResponse,
} from '../../generated/wbem/v1/services';
import { formatHresult, type WbemStatusName } from '../../src/domain/wbem-status';
import { GRPC_CODE } from '../../src/transport/grpc/status-map';
import { startTestServer, type TestServer } from '../helpers/test-server';
import {
  deadline,
  failureOf,
  responseOf,
  transcript,
  unary,
  type CallEnd,
} from '../helpers/transcript';
import { cls, keyed, p, q, SAFE } from './fixtures';

const FORCE = 0x40;
const str = (string: string): Value => ({ kind: { $case: 'string', string } });
const u32 = (uint: number): Value => ({ kind: { $case: 'uint', uint: BigInt(uint) } });
const value = (name: string, v: Value | undefined): Property =>
  p(name, CimType.CIM_EMPTY, v === undefined ? {} : { value: v });
const inst = (className: string, ...properties: Property[]): Instance => ({
  className,
  properties,
  qualifiers: [],
});

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

const putClass = (
  namespace: string,
  object: ReturnType<typeof cls>,
  flags = 0,
  validateOnly?: boolean,
) =>
  unary<PutClassResponse>((cb) =>
    t.client.putClass(
      { namespace, object, flags, ...(validateOnly === undefined ? {} : { validateOnly }) },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
const putInstance = (namespace: string, instance: Instance, flags = 0) =>
  unary<PutInstanceResponse>((cb) =>
    t.client.putInstance({ namespace, instance, flags }, new Metadata(), deadline(), cb),
  );
const getInstance = (namespace: string, path: string) =>
  unary<GetInstanceResponse>((cb) =>
    t.client.getInstance({ namespace, path }, new Metadata(), deadline(), cb),
  );

async function namespaceWithDisks(name: string): Promise<string> {
  responseOf(
    await unary((cb) =>
      t.client.createNamespace({ parent: 'root', name }, new Metadata(), deadline(), cb),
    ),
  );
  const namespace = `root\\${name}`;
  responseOf(
    await putClass(
      namespace,
      cls('Ex_Disk', '', [
        p('Id', CimType.CIM_STRING, { qualifiers: [q('Key')] }),
        p('Size', CimType.CIM_UINT32, { qualifiers: [q('Units', str('bytes'), 0x1)] }),
      ]),
    ),
  );
  responseOf(await putClass(namespace, cls('Ex_Ssd', 'Ex_Disk')));
  return namespace;
}

function expectStatus(end: ReturnType<typeof failureOf>, status: WbemStatusName): void {
  expect(end).toMatchObject({
    code: GRPC_CODE[status],
    trailers: { 'wbem-status': status, 'wbem-hresult': formatHresult(status) },
    errorInfo: { reason: status, domain: 'wbem.v1' },
  });
}

describe('instances over gRPC', () => {
  test('PutInstance, GetInstance with ToInstance qualifiers, EnumInstances deep and shallow, DeleteInstance', async () => {
    const ns = await namespaceWithDisks('inst1');
    expect(
      responseOf(
        await putInstance(ns, inst('Ex_Disk', value('Id', str('C:')), value('Size', u32(512)))),
      ),
    ).toEqual({ path: 'Ex_Disk.Id="C:"' });
    expect(responseOf(await putInstance(ns, inst('Ex_Ssd', value('Id', str('D:')))))).toEqual({
      path: 'Ex_Ssd.Id="D:"',
    });
    const got = responseOf(await getInstance(ns, '\\\\.\\root\\inst1:Ex_Disk.Id="c:"')).instance;
    expect(got?.system).toMatchObject({
      genus: 2,
      class: 'Ex_Disk',
      relpath: 'Ex_Disk.Id="C:"',
      path: '\\\\TESTHOST\\root\\inst1:Ex_Disk.Id="C:"',
      namespace: 'root\\inst1',
    });
    const size = got?.properties.find((x) => x.name === 'Size');
    expect(size).toMatchObject({
      type: CimType.CIM_UINT32,
      value: u32(512),
      classOrigin: 'Ex_Disk',
    });
    // Only ToInstance qualifiers reach an instance (Key has flavor 0 here; Units has ToInstance).
    expect(size?.qualifiers).toEqual([
      { name: 'Units', value: str('bytes'), flavor: 0x21, propagated: true },
    ]);
    expect(got?.properties.find((x) => x.name === 'Id')?.qualifiers).toEqual([]);

    const enumerate = async (deep: boolean) =>
      (
        await transcript(
          t.client.enumInstances(
            { namespace: ns, className: 'Ex_Disk', deep },
            new Metadata(),
            deadline(),
          ),
        )
      ).messages.map((m) => m.system?.relpath);
    expect(await enumerate(false)).toEqual(['Ex_Disk.Id="C:"']);
    expect(await enumerate(true)).toEqual(['Ex_Disk.Id="C:"', 'Ex_Ssd.Id="D:"']);
    responseOf(
      await unary((cb) =>
        t.client.deleteInstance(
          { namespace: ns, path: 'Ex_Disk="D:"', flags: 0 },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(await enumerate(true)).toEqual(['Ex_Disk.Id="C:"']);
  });

  test.each<[string, WbemStatusName, (ns: string) => Promise<{ end?: CallEnd }>]>([
    [
      'an unparseable path',
      'WBEM_E_INVALID_OBJECT_PATH',
      (ns) => getInstance(ns, 'Ex_Disk.Id="unterminated'),
    ],
    [
      'a path with a key the class lacks',
      'WBEM_E_INVALID_OBJECT_PATH',
      (ns) => getInstance(ns, 'Ex_Disk.Name="a"'),
    ],
    ['a path to no instance', 'WBEM_E_NOT_FOUND', (ns) => getInstance(ns, 'Ex_Disk.Id="nothing"')],
    [
      'a path of a missing class',
      'WBEM_E_INVALID_CLASS',
      (ns) => getInstance(ns, 'Ex_Nope.Id="a"'),
    ],
    [
      'a NULL key',
      'WBEM_E_ILLEGAL_NULL',
      (ns) => putInstance(ns, inst('Ex_Disk', value('Size', u32(1)))),
    ],
    [
      'a value of the wrong type',
      'WBEM_E_TYPE_MISMATCH',
      (ns) => putInstance(ns, inst('Ex_Disk', value('Id', str('a')), value('Size', str('big')))),
    ],
    [
      'an instance of a keyless class',
      'WBEM_E_NO_KEY',
      async (ns) => {
        responseOf(await putClass(ns, cls('Ex_Keyless', '', [p('P')])));
        return putInstance(ns, inst('Ex_Keyless', value('P', str('a'))));
      },
    ],
  ])('%s → %s', async (_what, status, call) => {
    const ns = await namespaceWithDisks(`e${Math.random().toString(36).slice(2, 8)}`);
    expectStatus(failureOf(await call(ns)), status);
  });

  test('update gate with instances: CLASS_HAS_INSTANCES in every mode; validate_only reports the counts; DeleteClass cascades', async () => {
    const ns = await namespaceWithDisks('gate');
    responseOf(await putInstance(ns, inst('Ex_Ssd', value('Id', str('D:')))));
    const withZ = cls('Ex_Disk', '', [
      p('Id', CimType.CIM_STRING, { qualifiers: [q('Key')] }),
      p('Size', CimType.CIM_UINT32, { qualifiers: [q('Units', str('bytes'), 0x1)] }),
      p('Z'),
    ]);
    for (const flags of [SAFE, FORCE])
      expectStatus(failureOf(await putClass(ns, withZ, flags)), 'WBEM_E_CLASS_HAS_INSTANCES');
    const dry = responseOf(
      await putClass(
        ns,
        cls('Ex_Disk', '', withZ.properties.slice(0, 2), {
          qualifiers: [q('Description', str('x'))],
        }),
        0,
        true,
      ),
    );
    expect(dry).toEqual({
      path: '\\\\TESTHOST\\root\\gate:Ex_Disk',
      revision: 0n,
      report: {
        kind: 'update',
        important: false,
        instanceCount: 0n,
        subclasses: [{ className: 'Ex_Ssd', instanceCount: 1n, rewritten: false }],
      },
    });
    // The same dry run through PutClassAsync: progress without commit stages, the report in the final SetStatus.
    const asyncDry = await transcript(
      t.client.putClassAsync(
        { namespace: ns, object: withZ, flags: SAFE | 0x80, validateOnly: true },
        new Metadata(),
        deadline(),
      ),
    );
    expect(asyncDry.end.trailers['wbem-status']).toBe('WBEM_E_CLASS_HAS_INSTANCES');
    const okDry = await transcript(
      t.client.putClassAsync(
        { namespace: ns, object: cls('Ex_Other'), flags: 0x80, validateOnly: true },
        new Metadata(),
        deadline(),
      ),
    );
    expect(
      okDry.messages.map((m) =>
        m.event?.$case === 'progress' ? m.event.progress.message : m.event?.$case,
      ),
    ).toEqual(['loaded the class and its superclass chain', 'checked the class rules', 'status']);
    const final = okDry.messages.at(-1)?.event;
    expect(final?.$case === 'status' ? final.status.report : undefined).toEqual({
      kind: 'create',
      important: true,
      instanceCount: 0n,
      subclasses: [],
    });
    expectStatus(failureOf(await getInstance(ns, 'Ex_Other.Id="x"')), 'WBEM_E_INVALID_CLASS'); // nothing was written
    expect(
      responseOf(
        await unary((cb) =>
          t.client.deleteClass(
            { namespace: ns, className: 'Ex_Disk', flags: 0 },
            new Metadata(),
            deadline(),
            cb,
          ),
        ),
      ),
    ).toEqual({ deletedClasses: ['Ex_Disk', 'Ex_Ssd'] });
    responseOf(await putClass(ns, keyed('Ex_Ssd')));
    expectStatus(failureOf(await getInstance(ns, 'Ex_Ssd.Id="D:"')), 'WBEM_E_NOT_FOUND');
  });

  test('a missing instance object is rejected at once with INVALID_PARAMETER', async () => {
    const end = failureOf(
      await unary((cb) =>
        t.client.putInstance({ namespace: 'root/cimv2', flags: 0 }, new Metadata(), deadline(), cb),
      ),
    );
    expect(end.code).toBe(Code.INVALID_ARGUMENT);
  });
});

describe('expected_revision over gRPC (D58)', () => {
  test('GetClass gives the etag; a write with it succeeds, a stale one is ABORTED with WBEM_E_RESERVED_001 and writes nothing', async () => {
    responseOf(
      await unary((cb) =>
        t.client.createNamespace({ parent: 'root', name: 'etag' }, new Metadata(), deadline(), cb),
      ),
    );
    const ns = 'root\\etag';
    const put = (object: ReturnType<typeof cls>, expectedRevision: bigint) =>
      unary<PutClassResponse>((cb) =>
        t.client.putClass(
          { namespace: ns, object, flags: 0, expectedRevision },
          new Metadata(),
          deadline(),
          cb,
        ),
      );
    const created = responseOf(await put(keyed('Ex_Etag'), 0n)); // 0 = must not exist
    const read = responseOf(
      await unary<{ revision: bigint }>((cb) =>
        t.client.getClass(
          { namespace: ns, className: 'Ex_Etag', localOnly: true, asMof: false },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(read.revision).toBe(created.revision);
    const updated = responseOf(
      await put(
        cls('Ex_Etag', '', [p('Id', CimType.CIM_STRING, { qualifiers: [q('Key')] }), p('P')]),
        read.revision,
      ),
    );
    expect(updated.revision).toBeGreaterThan(read.revision);
    const stale = failureOf(
      await put(
        cls('Ex_Etag', '', [p('Id', CimType.CIM_STRING, { qualifiers: [q('Key')] }), p('Q')]),
        read.revision,
      ),
    );
    expectStatus(stale, 'WBEM_E_RESERVED_001');
    expect(stale.code).toBe(Code.ABORTED);
    expect(stale.details).toContain(
      `expected at revision ${read.revision}, it is at revision ${updated.revision}`,
    );
    expectStatus(failureOf(await put(keyed('Ex_Etag'), 0n)), 'WBEM_E_RESERVED_001');
    // The async call reports it through the sink, like every state-dependent check.
    const tr = await transcript(
      t.client.putClassAsync(
        { namespace: ns, object: keyed('Ex_Etag'), flags: 0, expectedRevision: 1n },
        new Metadata(),
        deadline(),
      ),
    );
    expect(tr.end.trailers['wbem-status']).toBe('WBEM_E_RESERVED_001');
    expect(tr.messages).toHaveLength(1);
    const after = responseOf(
      await unary<{ object?: { properties: { name: string }[] } }>((cb) =>
        t.client.getClass(
          { namespace: ns, className: 'Ex_Etag', localOnly: true, asMof: false },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(after.object?.properties.map((x) => x.name)).toEqual(['Id', 'P']);
  });
});
