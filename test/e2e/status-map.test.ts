/**
 * The two tables against the generated enum and the spec, in both directions, and each
 * reachable status provoked once end to end (docs/style.md §2.3, §2.8).
 */
import { Metadata, status as Code } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CimType, type ClassObject } from '../../generated/wbem/v1/cim';
import { WbemStatus } from '../../generated/wbem/v1/status';
import {
  formatHresult,
  toSignedHresult,
  WBEM_STATUS,
  WBEM_STATUS_NAMES,
  type WbemStatusName,
} from '../../src/domain/wbem-status';
import { renderErrorsDoc } from '../../scripts/errors-doc';
import { GRPC_CODE } from '../../src/transport/grpc/status-map';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline, failureOf, transcript } from '../helpers/transcript';
import { cls, keyed, p, q, SAFE } from './fixtures';

/** WMI codes (wbemcli.h) the spec does not list, added for instances and class events (docs/decisions.md). */
const BEYOND_THE_SPEC: readonly WbemStatusName[] = [
  'WBEM_E_INVALID_OBJECT_PATH',
  'WBEM_E_QUEUE_OVERFLOW',
  'WBEM_E_NO_KEY',
];

const generatedNames = Object.keys(WbemStatus).filter(
  (k) => Number.isNaN(Number(k)) && k !== 'UNRECOGNIZED' && k !== 'WBEM_S_SAME',
);

describe('status tables', () => {
  test('every generated WbemStatus has a domain row with the same signed value, and the reverse', () => {
    for (const name of generatedNames) {
      expect(WBEM_STATUS_NAMES).toContain(name);
      expect(toSignedHresult(name as WbemStatusName)).toBe(
        WbemStatus[name as keyof typeof WbemStatus],
      );
    }
    expect([...WBEM_STATUS_NAMES].sort()).toEqual([...generatedNames].sort());
  });

  test('every row has a gRPC code, and every value appears in docs/wmi-semantics.md (or is one of the WMI codes instances and events added)', () => {
    const spec = readFileSync(
      resolve(process.cwd(), 'docs/wmi-semantics.md'),
      'utf8',
    ).toLowerCase();
    const absent: string[] = [];
    for (const name of WBEM_STATUS_NAMES) {
      expect(GRPC_CODE[name]).toBeDefined();
      const hex = WBEM_STATUS[name].hresult.toString(16);
      // The spec abbreviates runs of names (`WBEM_E_MISSING_PARAMETER_ID / _INVALID_PARAMETER_ID`), so
      // a name counts as listed when its hex value or its name without the WBEM_E prefix is there.
      const listed =
        (name === 'WBEM_E_RESERVED_002' && spec.includes('reserved_001/002')) ||
        spec.includes(`0x${hex}`) ||
        spec.includes(`0x${hex.padStart(8, '0')}`) ||
        spec.includes(name.toLowerCase().replace(/^wbem_[es]/, ''));
      if (!listed && !BEYOND_THE_SPEC.includes(name)) absent.push(name);
    }
    expect(absent).toEqual([]);
  });

  test('docs/errors.md is the rendering of both tables: the malformed-input table, then one heading per status (run `npm run docs:errors` when this fails)', () => {
    const page = readFileSync(resolve(process.cwd(), 'docs/errors.md'), 'utf8');
    const headings = page
      .split('\n')
      .filter((line) => line.startsWith('## '))
      .map((line) => line.slice(3));
    expect(headings).toEqual(['Malformed input', ...WBEM_STATUS_NAMES]);
    expect(page).toContain(`## WBEM_E_ALREADY_EXISTS\n\n\`0x80041019\` · gRPC \`ALREADY_EXISTS\``);
    expect(page).toBe(renderErrorsDoc());
  });

  test('docs/api.md fixes these codes', () => {
    expect(GRPC_CODE).toMatchObject({
      WBEM_S_NO_ERROR: Code.OK,
      WBEM_E_FAILED: Code.INTERNAL,
      WBEM_E_NOT_FOUND: Code.NOT_FOUND,
      WBEM_E_ACCESS_DENIED: Code.PERMISSION_DENIED,
      WBEM_E_OUT_OF_MEMORY: Code.RESOURCE_EXHAUSTED,
      WBEM_E_INVALID_PARAMETER: Code.INVALID_ARGUMENT,
      WBEM_E_INVALID_CLASS: Code.INVALID_ARGUMENT,
      WBEM_E_ALREADY_EXISTS: Code.ALREADY_EXISTS,
      WBEM_E_INVALID_NAMESPACE: Code.NOT_FOUND,
      WBEM_E_INVALID_SUPERCLASS: Code.FAILED_PRECONDITION,
      WBEM_E_CLASS_HAS_CHILDREN: Code.FAILED_PRECONDITION,
      WBEM_E_CLASS_HAS_INSTANCES: Code.FAILED_PRECONDITION,
      WBEM_E_CALL_CANCELLED: Code.CANCELLED,
      WBEM_E_SHUTTING_DOWN: Code.UNAVAILABLE,
    });
    for (const name of WBEM_STATUS_NAMES)
      if (name.startsWith('WBEM_E_') || name.startsWith('CO_E_'))
        expect(GRPC_CODE[name]).not.toBe(Code.OK);
  });
});

const str = (string: string) => ({ kind: { $case: 'string' as const, string } });
const sint = (value: number) => ({ kind: { $case: 'sint' as const, sint: BigInt(value) } });
const param = (name: string, id: number | undefined, type = CimType.CIM_SINT32) => ({
  name,
  type,
  array: false,
  referenceClass: '',
  embeddedClass: '',
  in: true,
  out: false,
  qualifiers: id === undefined ? [] : [q('ID', sint(id))],
});
const method = (name: string, params: ReturnType<typeof param>[]) => ({
  name,
  returnType: CimType.CIM_UINT32,
  parameters: params,
  qualifiers: [],
  classOrigin: '',
  propagated: false,
});

/** [status, setup classes, the put that provokes it, flags]. */
const ROWS: [WbemStatusName, ClassObject[], ClassObject, number][] = [
  ['WBEM_E_INVALID_PARAMETER', [], cls('My Class'), 0],
  ['WBEM_E_INVALID_OPERATION', [], cls('_Foo'), 0],
  ['WBEM_E_INVALID_OBJECT', [], cls('Foo_'), 0],
  ['WBEM_E_QUOTA_VIOLATION', [], cls('A'.repeat(4097)), 0],
  [
    'WBEM_E_INVALID_CLASS',
    [],
    cls('Ex_Inst', '', [], {
      system: {
        genus: 2,
        class: '',
        superclass: '',
        dynasty: '',
        derivation: [],
        server: '',
        namespace: '',
        path: '',
        relpath: '',
        propertyCount: 0,
      },
    }),
    0,
  ],
  ['WBEM_E_INVALID_SUPERCLASS', [], cls('B', 'Missing'), 0],
  ['WBEM_E_INVALID_PROPERTY_TYPE', [], cls('A', '', [p('P', 7 as CimType)]), 0],
  [
    'WBEM_E_INVALID_QUALIFIER_TYPE',
    [],
    cls('A', '', [], { qualifiers: [q('Q', { kind: { $case: 'uint', uint: 1n } })] }),
    0,
  ],
  ['WBEM_E_INVALID_QUALIFIER', [], cls('A', '', [], { qualifiers: [q('Key')] }), 0],
  [
    'WBEM_E_TYPE_MISMATCH',
    [cls('A', '', [p('P', CimType.CIM_UINT32)])],
    cls('B', 'A', [p('P', CimType.CIM_STRING)]),
    0,
  ],
  [
    'WBEM_E_OVERRIDE_NOT_ALLOWED',
    [
      cls('A', '', [
        p('P', CimType.CIM_UINT32, { qualifiers: [q('Description', str('x'), 0x12)] }),
      ]),
    ],
    cls('B', 'A', [p('P', CimType.CIM_UINT32, { qualifiers: [q('Description', str('y'))] })]),
    0,
  ],
  ['WBEM_E_CANNOT_BE_ABSTRACT', [cls('A')], cls('B', 'A', [], { qualifiers: [q('Abstract')] }), 0],
  [
    'WBEM_E_CANNOT_BE_SINGLETON',
    [],
    cls('S', '', [p('Id', CimType.CIM_STRING, { qualifiers: [q('Key')] })], {
      qualifiers: [q('Singleton')],
    }),
    0,
  ],
  [
    'WBEM_E_CANNOT_BE_KEY',
    [],
    cls('A', '', [p('R', CimType.CIM_REAL64, { qualifiers: [q('Key')] })]),
    0,
  ],
  [
    'WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE',
    [keyed('A')],
    cls('B', 'A', [p('K2', CimType.CIM_STRING, { qualifiers: [q('Key')] })]),
    0,
  ],
  [
    'WBEM_E_TOO_MANY_PROPERTIES',
    [],
    cls(
      'A',
      '',
      Array.from({ length: 1025 }, (_, i) => p(`P${i}`)),
    ),
    0,
  ],
  [
    'WBEM_E_MISSING_PARAMETER_ID',
    [],
    cls('A', '', [], { methods: [method('M', [param('x', undefined)])] }),
    0,
  ],
  [
    'WBEM_E_NONCONSECUTIVE_PARAMETER_IDS',
    [],
    cls('A', '', [], { methods: [method('M', [param('x', 0), param('y', 2)])] }),
    0,
  ],
  [
    'WBEM_E_INVALID_DUPLICATE_PARAMETER',
    [],
    cls('A', '', [], { methods: [method('M', [param('x', 0), param('x', 1)])] }),
    0,
  ],
  [
    'WBEM_E_PROPAGATED_METHOD',
    [cls('A', '', [], { methods: [method('M', [param('x', 0)])] })],
    cls('B', 'A', [], { methods: [method('M', [param('x', 0, CimType.CIM_STRING)])] }),
    0,
  ],
  [
    'WBEM_E_CLASS_HAS_CHILDREN',
    [keyed('A'), cls('B', 'A')],
    cls('A', '', [
      p('Id', CimType.CIM_STRING, { qualifiers: [q('Key')] }),
      p('Z', CimType.CIM_UINT32),
    ]),
    0,
  ],
  [
    'WBEM_E_UPDATE_TYPE_MISMATCH',
    [keyed('A'), cls('B', 'A', [p('Z')])],
    cls('A', '', [
      p('Id', CimType.CIM_STRING, { qualifiers: [q('Key')] }),
      p('Z', CimType.CIM_UINT32),
    ]),
    SAFE,
  ],
  ['WBEM_E_CIRCULAR_REFERENCE', [cls('A'), cls('B', 'A')], cls('A', 'B'), 0],
];

describe('each reachable status, end to end', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  test.each(ROWS)('%s', async (status, setup, object, flags) => {
    const namespace = `root\\s${ROWS.findIndex((r) => r[0] === status)}`;
    await new Promise<void>((done, fail) =>
      t.client.createNamespace(
        { parent: 'root', name: namespace.slice(5) },
        new Metadata(),
        deadline(),
        (e) => (e ? fail(e) : done()),
      ),
    );
    for (const definition of setup) {
      const ok = await transcript(
        t.client.putClassAsync(
          { namespace, object: definition, flags: 0 },
          new Metadata(),
          deadline(),
        ),
      );
      expect(ok.end.code).toBe(Code.OK);
    }
    const tr = await transcript(
      t.client.putClassAsync({ namespace, object, flags }, new Metadata(), deadline()),
    );
    expect(tr.messages).toHaveLength(1);
    expect(tr.end).toMatchObject({
      code: GRPC_CODE[status],
      trailers: { 'wbem-status': status, 'wbem-hresult': formatHresult(status) },
      errorInfo: {
        reason: status,
        domain: 'wbem.v1',
        metadata: expect.objectContaining({ hresult: formatHresult(status) }),
      },
    });
  });

  test('the failure helper fails a test when the call succeeded', () => {
    expect(() => failureOf({ response: { path: 'x' } })).toThrow('expected the call to fail');
  });
});
