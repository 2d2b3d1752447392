/**
 * docs/wmi-semantics.md §11.3–§11.6 end to end: each scenario in a fresh namespace over gRPC,
 * PutClassAsync's final status (with its trailers), and what the repository holds afterwards.
 */
import { Metadata, status as Code } from '@grpc/grpc-js';
import {
  CimType,
  type ClassObject,
  type Instance,
  type Property,
  type Value,
} from '../../generated/wbem/v1/cim';
import type { GetClassResponse } from '../../generated/wbem/v1/services';
import { formatHresult, type WbemStatusName } from '../../src/domain/wbem-status';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline, responseOf, transcript, unary } from '../helpers/transcript';
import { cls, p, q, SAFE } from './fixtures';

const FORCE = 0x40;
const OWNER_UPDATE = 0x10000;
const USE_AMENDED = 0x20000;
const str = (string: string): Value => ({ kind: { $case: 'string', string } });
const sint = (value: number): Value => ({ kind: { $case: 'sint', sint: BigInt(value) } });
const KEY = q('Key');
const id = (extra: Partial<Property> = {}): Property =>
  p('Id', CimType.CIM_STRING, { qualifiers: [KEY], ...extra });
const param = (name: string, at: number, type = CimType.CIM_SINT32) => ({
  name,
  type,
  array: false,
  referenceClass: '',
  embeddedClass: '',
  in: true,
  out: false,
  qualifiers: [q('ID', sint(at))],
});
const method = (name: string, parameters: ReturnType<typeof param>[] = []) => ({
  name,
  returnType: CimType.CIM_UINT32,
  parameters,
  qualifiers: [],
  classOrigin: '',
  propagated: false,
});
const instanceOf = (className: string, key: string): Instance => ({
  className,
  properties: [p('Id', CimType.CIM_EMPTY, { value: str(key) })],
  qualifiers: [],
});

interface Scenario {
  readonly given: readonly ClassObject[];
  readonly instances?: readonly Instance[];
  readonly put: ClassObject;
  readonly flags?: number;
  readonly expect: WbemStatusName;
  /** Checked with GetClass afterwards: class name → property names (local_only = false). */
  readonly after?: Record<string, string[]>;
  /** Checked with GetClass afterwards: class name → its class qualifiers' names (resolved). */
  readonly qualifiersAfter?: Record<string, string[]>;
}

const A_P = cls('A', '', [p('P', CimType.CIM_UINT32)]);
const A_ID = cls('A', '', [id()]);
const A_ID_Z = cls('A', '', [id(), p('Z', CimType.CIM_UINT32)]);

const SCENARIOS: Record<string, Scenario> = {
  '38 a put of the system class __SystemClass': {
    given: [],
    put: cls('__SystemClass'),
    expect: 'WBEM_E_INVALID_OPERATION',
  },
  '43 derive from the system class __ExtrinsicEvent': {
    given: [],
    put: cls('MyEvt', '__ExtrinsicEvent', [p('Msg')]),
    expect: 'WBEM_S_NO_ERROR',
    after: { MyEvt: ['SECURITY_DESCRIPTOR', 'TIME_CREATED', 'Msg'] },
  },
  '62 a flavor-0 qualifier is not propagated; ToSubClass is': {
    given: [cls('A', '', [], { qualifiers: [q('Q', str('a')), q('R', str('r'), 0x2)] })],
    put: cls('B', 'A'),
    expect: 'WBEM_S_NO_ERROR',
    qualifiersAfter: { B: ['R'] },
  },
  '41 superclass named in another case': {
    given: [A_ID],
    put: cls('B', 'a'),
    expect: 'WBEM_S_NO_ERROR',
    after: { B: ['Id'] },
  },
  '42 inherits the keyed superclass': {
    given: [cls('A', '', [id(), p('P', CimType.CIM_UINT32)])],
    put: cls('B', 'A', [p('Q')]),
    expect: 'WBEM_S_NO_ERROR',
    after: { B: ['Id', 'P', 'Q'] },
  },
  '44 Abstract under a concrete superclass': {
    given: [A_ID],
    put: cls('B', 'A', [], { qualifiers: [q('Abstract')] }),
    expect: 'WBEM_E_CANNOT_BE_ABSTRACT',
  },
  '45 Abstract under Abstract': {
    given: [cls('X', '', [], { qualifiers: [q('Abstract')] })],
    put: cls('Y', 'X', [], { qualifiers: [q('Abstract')] }),
    expect: 'WBEM_S_NO_ERROR',
  },
  '46 a key below a keyless abstract class': {
    given: [cls('X', '', [], { qualifiers: [q('Abstract')] })],
    put: cls('Y', 'X', [p('K', CimType.CIM_STRING, { qualifiers: [KEY] })]),
    expect: 'WBEM_S_NO_ERROR',
  },
  '47 a new key under a keyed class': {
    given: [A_ID],
    put: cls('B', 'A', [p('K2', CimType.CIM_STRING, { qualifiers: [KEY] })]),
    expect: 'WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE',
  },
  '48 dropping an inherited key': {
    given: [A_ID],
    put: cls('B', 'A', [
      id({ qualifiers: [q('Key', { kind: { $case: 'boolean', boolean: false } })] }),
    ]),
    expect: 'WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE',
  },
  '49 Singleton with a key': {
    given: [],
    put: cls('S', '', [id()], { qualifiers: [q('Singleton')] }),
    expect: 'WBEM_E_CANNOT_BE_SINGLETON',
  },
  '50 Singleton under a non-singleton': {
    given: [cls('A')],
    put: cls('S', 'A', [], { qualifiers: [q('Singleton')] }),
    expect: 'WBEM_E_CANNOT_BE_SINGLETON',
  },
  '51 keyless Singleton': {
    given: [],
    put: cls('S', '', [p('V', CimType.CIM_UINT32)], { qualifiers: [q('Singleton')] }),
    expect: 'WBEM_S_NO_ERROR',
  },
  '53 array key': {
    given: [],
    put: cls('A', '', [p('L', CimType.CIM_STRING, { array: true, qualifiers: [KEY] })]),
    expect: 'WBEM_E_CANNOT_BE_KEY',
  },
  '56 Terminal superclass': {
    given: [cls('T', '', [], { qualifiers: [q('Terminal')] })],
    put: cls('U', 'T'),
    expect: 'WBEM_E_INVALID_SUPERCLASS',
  },
  '58 override without Override qualifier': {
    given: [A_P],
    put: cls('B', 'A', [
      p('P', CimType.CIM_UINT32, { value: { kind: { $case: 'uint', uint: 7n } } }),
    ]),
    expect: 'WBEM_S_NO_ERROR',
    after: { B: ['P'] },
  },
  '60 same value of a DisableOverride qualifier': {
    given: [
      cls('A', '', [
        p('P', CimType.CIM_UINT32, { qualifiers: [q('Description', str('x'), 0x12)] }),
      ]),
    ],
    put: cls('B', 'A', [p('P', CimType.CIM_UINT32, { qualifiers: [q('Description', str('x'))] })]),
    expect: 'WBEM_S_NO_ERROR',
  },
  '61 overriding an overridable ToSubClass qualifier': {
    given: [cls('A', '', [], { qualifiers: [q('Q', str('a'), 0x2)] })],
    put: cls('B', 'A', [], { qualifiers: [q('Q', str('b'))] }),
    expect: 'WBEM_S_NO_ERROR',
  },
  '68 inherited method with another signature': {
    given: [cls('A', '', [], { methods: [method('m', [param('x', 0)])] })],
    put: cls('B', 'A', [], { methods: [method('m', [param('x', 0, CimType.CIM_STRING)])] }),
    expect: 'WBEM_E_PROPAGATED_METHOD',
  },
  '72 reference to a missing class': {
    given: [],
    put: cls('A', '', [p('R', CimType.CIM_REFERENCE, { referenceClass: 'Missing' })]),
    expect: 'WBEM_S_NO_ERROR',
  },
  '76 Description only, children, COMPATIBLE': {
    given: [A_ID, cls('B', 'A')],
    put: cls('A', '', [id()], { qualifiers: [q('Description', str('d'))] }),
    expect: 'WBEM_S_NO_ERROR',
  },
  '77 add a property, children, SAFE': {
    given: [A_ID, cls('B', 'A')],
    put: A_ID_Z,
    flags: SAFE,
    expect: 'WBEM_S_NO_ERROR',
    after: { B: ['Id', 'Z'] },
  },
  '78 SAFE: a child declares Z with another type': {
    given: [A_ID, cls('B', 'A', [p('Z')])],
    put: A_ID_Z,
    flags: SAFE,
    expect: 'WBEM_E_UPDATE_TYPE_MISMATCH',
    after: { A: ['Id'] },
  },
  '79 FORCE: the child loses its Z and inherits the new one': {
    given: [A_ID, cls('B', 'A', [p('Z')])],
    put: A_ID_Z,
    flags: FORCE,
    expect: 'WBEM_S_NO_ERROR',
    after: { B: ['Id', 'Z'] },
  },
  '80 SAFE: a child overrides a new DisableOverride qualifier': {
    given: [cls('A'), cls('B', 'A', [], { qualifiers: [q('Q', str('child'))] })],
    put: cls('A', '', [], { qualifiers: [q('Q', str('base'), 0x12)] }),
    flags: SAFE,
    expect: 'WBEM_E_UPDATE_OVERRIDE_NOT_ALLOWED',
  },
  '81 FORCE: the child qualifier is deleted': {
    given: [cls('A'), cls('B', 'A', [], { qualifiers: [q('Q', str('child'))] })],
    put: cls('A', '', [], { qualifiers: [q('Q', str('base'), 0x12)] }),
    flags: FORCE,
    expect: 'WBEM_S_NO_ERROR',
  },
  '82 SAFE: a child redeclares the changed method': {
    // B is created while A has no m (C11 would refuse it otherwise); the update then adds m.
    given: [cls('A'), cls('B', 'A', [], { methods: [method('m', [param('x', 0)])] })],
    put: cls('A', '', [], { methods: [method('m', [param('x', 0, CimType.CIM_STRING)])] }),
    flags: SAFE,
    expect: 'WBEM_E_UPDATE_PROPAGATED_METHOD',
  },
  '83 add Z with an instance, COMPATIBLE': {
    given: [A_ID],
    instances: [instanceOf('A', 'a1')],
    put: A_ID_Z,
    expect: 'WBEM_E_CLASS_HAS_INSTANCES',
  },
  '84 add Z with an instance, SAFE': {
    given: [A_ID],
    instances: [instanceOf('A', 'a1')],
    put: A_ID_Z,
    flags: SAFE,
    expect: 'WBEM_E_CLASS_HAS_INSTANCES',
  },
  '85 add Z with an instance, FORCE (K4)': {
    given: [A_ID],
    instances: [instanceOf('A', 'a1')],
    put: A_ID_Z,
    flags: FORCE,
    expect: 'WBEM_E_CLASS_HAS_INSTANCES',
    after: { A: ['Id'] },
  },
  '86 Description only with an instance': {
    given: [A_ID],
    instances: [instanceOf('A', 'a1')],
    put: cls('A', '', [id()], { qualifiers: [q('Description', str('d'))] }),
    expect: 'WBEM_S_NO_ERROR',
  },
  '87 remove a property with an instance': {
    given: [cls('A', '', [id(), p('P')])],
    instances: [instanceOf('A', 'a1')],
    put: A_ID,
    expect: 'WBEM_E_CLASS_HAS_INSTANCES',
  },
  '88 make a property Indexed with an instance': {
    given: [cls('A', '', [id(), p('P')])],
    instances: [instanceOf('A', 'a1')],
    put: cls('A', '', [id(), p('P', CimType.CIM_STRING, { qualifiers: [q('Indexed')] })]),
    expect: 'WBEM_E_CLASS_HAS_INSTANCES',
  },
  '89 rename a property of a leaf': {
    given: [A_P],
    put: cls('A', '', [p('P2', CimType.CIM_UINT32)]),
    expect: 'WBEM_S_NO_ERROR',
    after: { A: ['P2'] },
  },
  '90 SAFE: add Key with children': {
    given: [cls('A', '', [p('P')]), cls('B', 'A')],
    put: cls('A', '', [p('P', CimType.CIM_STRING, { qualifiers: [KEY] })]),
    flags: SAFE,
    expect: 'WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE',
  },
  '91 identical re-put with children and instances': {
    given: [A_ID, cls('B', 'A')],
    instances: [instanceOf('A', 'a1'), instanceOf('A', 'a2')],
    put: A_ID,
    expect: 'WBEM_S_NO_ERROR',
  },
  '92 change the superclass': {
    given: [cls('X', '', [p('FromX')]), cls('Y', '', [p('FromY')]), cls('C', 'X')],
    put: cls('C', 'Y'),
    expect: 'WBEM_S_NO_ERROR',
    after: { C: ['FromY'] },
  },
  '93 change the superclass with an instance': {
    given: [cls('X'), cls('Y'), cls('C', 'X', [id()])],
    instances: [instanceOf('C', 'c1')],
    put: cls('C', 'Y', [id()]),
    expect: 'WBEM_E_CLASS_HAS_INSTANCES',
  },
  '94 derive from a descendant': {
    given: [cls('A'), cls('B', 'A')],
    put: cls('A', 'B'),
    expect: 'WBEM_E_CIRCULAR_REFERENCE',
  },
  '95 SAFE with instances only in the child (M10)': {
    given: [A_ID, cls('B', 'A')],
    instances: [instanceOf('B', 'b1')],
    put: A_ID_Z,
    flags: SAFE,
    expect: 'WBEM_E_CLASS_HAS_INSTANCES',
  },
  '96 create with an amended qualifier': {
    given: [],
    put: cls('A', '', [], { qualifiers: [q('Description', str('x'), 0x80)] }),
    expect: 'WBEM_S_NO_ERROR',
  },
  '97 create with USE_AMENDED_QUALIFIERS strips it': {
    given: [],
    put: cls('A', '', [p('P')], { qualifiers: [q('Description', str('x'), 0x80)] }),
    flags: USE_AMENDED,
    expect: 'WBEM_S_NO_ERROR',
  },
  '98 update with an amended qualifier, no flag': {
    given: [cls('A')],
    put: cls('A', '', [], { qualifiers: [q('Description', str('x'), 0x80)] }),
    expect: 'WBEM_E_AMENDED_OBJECT',
  },
  '99 update with USE_AMENDED_QUALIFIERS': {
    given: [cls('A')],
    put: cls('A', '', [p('P')], { qualifiers: [q('Description', str('x'), 0x80)] }),
    flags: USE_AMENDED,
    expect: 'WBEM_S_NO_ERROR',
    after: { A: ['P'] },
  },
  'an Association without two references (D41)': {
    given: [],
    put: cls('L', '', [p('R', CimType.CIM_REFERENCE, { referenceClass: 'X' })], {
      qualifiers: [q('Association')],
    }),
    expect: 'WBEM_E_INVALID_QUALIFIER',
  },
  'an Association with two references': {
    given: [],
    put: cls(
      'L',
      '',
      [p('R', CimType.CIM_REFERENCE, { referenceClass: 'X' }), p('S', CimType.CIM_REFERENCE)],
      { qualifiers: [q('Association')] },
    ),
    expect: 'WBEM_S_NO_ERROR',
  },
  '11 OWNER_UPDATE is accepted and changes nothing': {
    given: [],
    put: A_ID,
    flags: OWNER_UPDATE,
    expect: 'WBEM_S_NO_ERROR',
    after: { A: ['Id'] },
  },
};

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

let serial = 0;
const getClass = (namespace: string, className: string) =>
  unary<GetClassResponse>((cb) =>
    t.client.getClass(
      { namespace, className, localOnly: false, asMof: false },
      new Metadata(),
      deadline(),
      cb,
    ),
  );

describe('§11 class creation and modification rules over gRPC', () => {
  test.each(Object.entries(SCENARIOS))('%s', async (_name, scenario) => {
    const name = `r${++serial}`;
    responseOf(
      await unary((cb) =>
        t.client.createNamespace({ parent: 'root', name }, new Metadata(), deadline(), cb),
      ),
    );
    const namespace = `root\\${name}`;
    for (const object of scenario.given)
      responseOf(
        await unary((cb) =>
          t.client.putClass({ namespace, object, flags: 0 }, new Metadata(), deadline(), cb),
        ),
      );
    for (const instance of scenario.instances ?? [])
      responseOf(
        await unary((cb) =>
          t.client.putInstance({ namespace, instance, flags: 0 }, new Metadata(), deadline(), cb),
        ),
      );
    const tr = await transcript(
      t.client.putClassAsync(
        { namespace, object: scenario.put, flags: scenario.flags ?? 0 },
        new Metadata(),
        deadline(),
      ),
    );
    const final = tr.messages.at(-1)?.event;
    expect(final?.$case === 'status' ? final.status.hresult >>> 0 : undefined).toBe(
      Number(formatHresult(scenario.expect)),
    );
    expect(tr.end.trailers['wbem-status']).toBe(scenario.expect);
    expect(tr.end.code === Code.OK).toBe(scenario.expect === 'WBEM_S_NO_ERROR');
    for (const [className, properties] of Object.entries(scenario.after ?? {})) {
      const object = responseOf(await getClass(namespace, className)).object;
      expect(object?.properties.map((x) => x.name)).toEqual(properties);
    }
    for (const [className, qualifiers] of Object.entries(scenario.qualifiersAfter ?? {})) {
      const object = responseOf(await getClass(namespace, className)).object;
      expect(object?.qualifiers.map((x) => x.name)).toEqual(qualifiers);
    }
  });

  test('97/99: amended qualifiers are not stored with USE_AMENDED_QUALIFIERS; 96: stored without it', async () => {
    responseOf(
      await unary((cb) =>
        t.client.createNamespace(
          { parent: 'root', name: 'amended' },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    const amended = (className: string) =>
      cls(className, '', [], {
        qualifiers: [q('Description', str('x'), 0x80), q('Plain', str('y'))],
      });
    responseOf(
      await unary((cb) =>
        t.client.putClass(
          { namespace: 'root\\amended', object: amended('Kept'), flags: 0 },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    responseOf(
      await unary((cb) =>
        t.client.putClass(
          { namespace: 'root\\amended', object: amended('Stripped'), flags: USE_AMENDED },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(
      responseOf(await getClass('root\\amended', 'Kept')).object?.qualifiers.map((x) => [
        x.name,
        x.flavor,
      ]),
    ).toEqual([
      ['Description', 0x80],
      ['Plain', 0],
    ]);
    expect(
      responseOf(await getClass('root\\amended', 'Stripped')).object?.qualifiers.map((x) => x.name),
    ).toEqual(['Plain']);
  });

  test('81: after FORCE the child shows the base qualifier as propagated', async () => {
    responseOf(
      await unary((cb) =>
        t.client.createNamespace(
          { parent: 'root', name: 'force81' },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    const ns = 'root\\force81';
    for (const object of [cls('A'), cls('B', 'A', [], { qualifiers: [q('Q', str('child'))] })])
      responseOf(
        await unary((cb) =>
          t.client.putClass({ namespace: ns, object, flags: 0 }, new Metadata(), deadline(), cb),
        ),
      );
    responseOf(
      await unary((cb) =>
        t.client.putClass(
          {
            namespace: ns,
            object: cls('A', '', [], { qualifiers: [q('Q', str('base'), 0x12)] }),
            flags: FORCE,
          },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(responseOf(await getClass(ns, 'B')).object?.qualifiers).toEqual([
      { name: 'Q', value: str('base'), flavor: 0x12 | 0x20, propagated: true },
    ]);
  });
});
