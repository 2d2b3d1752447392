/**
 * GetClass and EnumClasses are answered from cached encoded bytes (src/transport/grpc/class-bytes.ts).
 * This suite is the proof that nothing changed on the wire: the bytes a real client receives, on a
 * cache miss and on a hit, over gRPC and over the HTTP listener, are exactly ts-proto's encoding of
 * the message built the way every read was built before (`classViewToProto` of the service's
 * view), over the whole CIM Schema 2.41 and over a deep chain whose __DERIVATION entries are made
 * from the parent's bytes; and a write is seen at once.
 */
import { Metadata, type Client } from '@grpc/grpc-js';
import { CimType, ClassObject, type Parameter, type Value } from '../../generated/wbem/v1/cim';
import {
  EnumClassesRequest,
  GetClassRequest,
  GetClassResponse,
  type PutClassResponse,
} from '../../generated/wbem/v1/services';
import { DMTF_RULES } from '../../src/domain/client-context';
import { storedDefinitionOf } from '../../src/domain/resolve-class';
import { writeMof } from '../../src/mof/writer';
import type { ClassView } from '../../src/service/views';
import { classViewToProto, valueToProto } from '../../src/transport/grpc/codec';
import { schemaSources } from '../helpers/cim-schema';
import { rawCall, rawClient, WBEM_METHODS, type RawMethod } from '../helpers/raw-client';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline, responseOf, transcript, unary } from '../helpers/transcript';
import { cls, p, q } from './fixtures';
import { ctx } from '../service/fixtures';
import { allClasses } from '../service/fixtures';

const NS = 'root/cimv2';
const CHAIN = 60;
/** WBEM_FLAG_UPDATE_FORCE_MODE: a class with subclasses may change. */
const FORCE = 0x40;

let server: TestServer;
let raw: Client;

const method = (key: RawMethod['key']): RawMethod => {
  const found = WBEM_METHODS.find((m) => m.key === key);
  if (found === undefined) throw new Error(`no method ${key}`);
  return found;
};

async function compile(text: string | undefined, dmtf = false, flags = 0): Promise<void> {
  const context = {
    values: { [DMTF_RULES]: valueToProto({ kind: 'boolean', value: true }) ?? {} },
  };
  const result = await transcript(
    server.client.compileMof(
      {
        namespace: NS,
        sources: text === undefined ? schemaSources() : [{ name: 'test.mof', text }],
        flags,
        continueOnError: false,
        ...(dmtf ? { context } : {}),
      },
      new Metadata(),
      deadline(120_000),
    ),
  );
  expect(result.end.code).toBe(0);
}

/** `Chain_C0 … Chain_C(n-1)`, each a subclass of the last, every level adding a property. */
function chain(n: number): string {
  const classes: string[] = [];
  for (let i = 0; i < n; i++) {
    const parent = i === 0 ? '' : ` : Chain_C${i - 1}`;
    classes.push(`class Chain_C${i}${parent} {\n  ${i === 0 ? '[Key] ' : ''}string P${i};\n};\n`);
  }
  return classes.join('\n');
}

const v = (kind: NonNullable<Value['kind']>): Value => ({ kind });
const str = (value: string): Value => v({ $case: 'string', string: value });
const array = (...values: Value[]): Value => v({ $case: 'array', array: { values } });
/** Longer than 127 bytes (a two-byte length), not ASCII (the UTF-8 path of the writer). */
const LONG_TEXT = `Grüße, ${'ünïcödé '.repeat(20)} 🚀 and a surrogate pair`;
/** Big enough for a three-byte length and a class larger than the writer's first buffer. */
const HUGE_TEXT = 'x'.repeat(40_000);
const TO_SUBCLASS = 0x2;

/** A method parameter with its ID qualifier (and a Description), in/out as `extra` says. */
const param = (id: number, name: string, type: CimType, extra: Partial<Parameter>): Parameter => ({
  name,
  type,
  array: false,
  referenceClass: '',
  embeddedClass: '',
  in: false,
  out: false,
  qualifiers: [q('ID', v({ $case: 'sint', sint: BigInt(id) })), q('Description', str(name))],
  ...extra,
});

/**
 * A class with every kind of member and value the encoders write: qualifier flavors, defaults of
 * every CIM type (0, negative, 64-bit extremes, -0, ±Infinity, NaN, empty strings, non-ASCII
 * text, arrays, an embedded object), references, embedded classes, methods with parameters.
 */
function everything(): ClassObject {
  const embedded = cls('Enc_Embedded', '', [
    p('Inner', CimType.CIM_UINT16, {
      value: v({ $case: 'uint', uint: 7n }),
      qualifiers: [q('Description', str('inner'), TO_SUBCLASS)],
    }),
  ]);
  return cls(
    'Enc_Everything',
    '',
    [
      p('Id', CimType.CIM_STRING, { qualifiers: [q('Key', undefined, 0x13)] }),
      p('S8', CimType.CIM_SINT8, { value: v({ $case: 'sint', sint: -5n }) }),
      p('S64', CimType.CIM_SINT64, { value: v({ $case: 'sint', sint: -(2n ** 63n) }) }),
      p('U64', CimType.CIM_UINT64, { value: v({ $case: 'uint', uint: 2n ** 64n - 1n }) }),
      p('U32', CimType.CIM_UINT32, { value: v({ $case: 'uint', uint: 0n }) }),
      p('R32', CimType.CIM_REAL32, { value: v({ $case: 'real', real: 1.5 }) }),
      p('R64', CimType.CIM_REAL64, { value: v({ $case: 'real', real: -0 }) }),
      p('Inf', CimType.CIM_REAL64, { value: v({ $case: 'real', real: -Infinity }) }),
      p('NaN', CimType.CIM_REAL64, { value: v({ $case: 'real', real: NaN }) }),
      p('Flag', CimType.CIM_BOOLEAN, { value: v({ $case: 'boolean', boolean: false }) }),
      p('Empty', CimType.CIM_STRING, { value: str('') }),
      p('Text', CimType.CIM_STRING, {
        value: str(LONG_TEXT),
        qualifiers: [q('Description', str(HUGE_TEXT), TO_SUBCLASS | 0x80)],
      }),
      p('When', CimType.CIM_DATETIME, {
        value: v({ $case: 'datetime', datetime: '20261202153000.000000+000' }),
      }),
      p('Letter', CimType.CIM_CHAR16, { value: v({ $case: 'char16', char16: 'é' }) }),
      p('Ref', CimType.CIM_REFERENCE, { referenceClass: 'Enc_Embedded' }),
      p('Obj', CimType.CIM_OBJECT, {
        embeddedClass: 'Enc_Embedded',
        value: v({ $case: 'object', object: embedded }),
      }),
      p('Bytes', CimType.CIM_UINT8, { array: true, value: array() }),
      p('Names', CimType.CIM_STRING, { array: true, value: array(str('a'), str(LONG_TEXT)) }),
      p('Numbers', CimType.CIM_SINT32, {
        array: true,
        value: array(v({ $case: 'sint', sint: -1n }), v({ $case: 'sint', sint: 2147483647n })),
      }),
    ],
    {
      qualifiers: [
        q('Description', str(LONG_TEXT), TO_SUBCLASS),
        q('Enc_Plain'),
        q('Enc_Sealed', str('kept'), TO_SUBCLASS | 0x10 | 0x01),
        q('Enc_List', array(str('x'), str('y')), TO_SUBCLASS),
      ],
      methods: [
        {
          name: 'Run',
          returnType: CimType.CIM_UINT32,
          parameters: [
            param(0, 'Input', CimType.CIM_STRING, { in: true }),
            param(1, 'Output', CimType.CIM_SINT64, { array: true, out: true }),
            param(2, 'Target', CimType.CIM_REFERENCE, {
              referenceClass: 'Enc_Embedded',
              in: true,
              out: true,
            }),
            param(3, 'Thing', CimType.CIM_OBJECT, { embeddedClass: 'Enc_Embedded', in: true }),
          ],
          qualifiers: [q('Description', str('runs'), TO_SUBCLASS)],
          classOrigin: '',
          propagated: false,
        },
        {
          name: 'Nothing',
          returnType: CimType.CIM_UINT32,
          parameters: [],
          qualifiers: [],
          classOrigin: '',
          propagated: false,
        },
      ],
    },
  );
}

/** A subclass overriding one property (its qualifiers merge) and adding a method. */
const everythingBelow = (): ClassObject =>
  cls(
    'Enc_Below',
    'Enc_Everything',
    [
      p('S8', CimType.CIM_SINT8, {
        value: v({ $case: 'sint', sint: 3n }),
        qualifiers: [q('Enc_Plain')],
      }),
    ],
    {
      qualifiers: [q('Description', str('below'))],
      methods: [
        {
          name: 'More',
          returnType: CimType.CIM_BOOLEAN,
          parameters: [],
          qualifiers: [],
          classOrigin: '',
          propagated: false,
        },
      ],
    },
  );

async function putClass(object: ClassObject): Promise<void> {
  const put = await unary<PutClassResponse>((cb) =>
    server.client.putClass({ namespace: NS, object, flags: 0 }, new Metadata(), deadline(), cb),
  );
  responseOf(put);
}

beforeAll(async () => {
  server = await startTestServer({ httpListen: '127.0.0.1:0' });
  raw = rawClient(server.server.address);
  await compile(undefined, true);
  await compile(chain(CHAIN));
  await putClass(cls('Enc_Embedded', '', [p('Inner', CimType.CIM_UINT16)]));
  await putClass(everything());
  await putClass(everythingBelow());
}, 180_000);

afterAll(async () => {
  raw.close();
  await server.close();
});

/** What GetClass sent before its bytes were cached: ts-proto's encoding of the built message. */
async function expectedGetClass(className: string, localOnly: boolean, asMof: boolean) {
  const view = await server.server.service.getClass(NS, className, localOnly, ctx());
  return Buffer.from(
    GetClassResponse.encode({
      object: classViewToProto(view),
      mof: asMof ? writeMof([storedDefinitionOf(view.class)]) : '',
      revision: view.revision,
    }).finish(),
  );
}

async function getClassBytes(className: string, localOnly: boolean, asMof: boolean) {
  const request = GetClassRequest.encode({ namespace: NS, className, localOnly, asMof }).finish();
  const result = await rawCall(raw, method('getClass'), Buffer.from(request));
  expect(result.end.code).toBe(0);
  expect(result.messages).toHaveLength(1);
  return result.messages[0] as Buffer;
}

const encodedViews = (views: readonly ClassView[]): Buffer[] =>
  views.map((view) => Buffer.from(ClassObject.encode(classViewToProto(view)).finish()));

async function enumBytes(superclass: string, localOnly: boolean): Promise<Buffer[]> {
  const request = EnumClassesRequest.encode({ namespace: NS, superclass, deep: true, localOnly });
  const result = await rawCall(raw, method('enumClasses'), Buffer.from(request.finish()));
  expect(result.end.code).toBe(0);
  return result.messages;
}

async function expectedEnum(superclass: string, localOnly: boolean): Promise<Buffer[]> {
  const input = { namespace: NS, superclass, deep: true, localOnly };
  return encodedViews(await allClasses(server.server.service.enumClasses(input, ctx())));
}

/** The names of the messages that differ (a short failure message for thousands of classes). */
function differing(received: readonly Buffer[], expected: readonly Buffer[]): string[] {
  expect(received.length).toBe(expected.length);
  return received
    .map((bytes, i) =>
      bytes.equals(expected[i] as Buffer) ? '' : ClassObject.decode(bytes).className,
    )
    .filter((name) => name !== '');
}

const GET_CASES = [
  'CIM_ComputerSystem',
  'CIM_ManagedElement',
  'CIM_Component',
  '__ClassCreationEvent',
];

test.each(GET_CASES)(
  'GetClass %s: the same bytes as before, on a miss and on a hit, every variant',
  async (className) => {
    for (const localOnly of [false, true]) {
      for (const asMof of [false, true]) {
        const expected = await expectedGetClass(className, localOnly, asMof);
        expect((await getClassBytes(className, localOnly, asMof)).equals(expected)).toBe(true);
        expect((await getClassBytes(className, localOnly, asMof)).equals(expected)).toBe(true);
      }
    }
    // The decoded answer is what the names say (so the comparison above compares real content).
    const decoded = GetClassResponse.decode(await getClassBytes(className, false, true));
    expect(decoded.object?.className).toBe(className);
    expect(decoded.object?.system?.path).toBe(`\\\\TESTHOST\\root\\cimv2:${className}`);
    expect(decoded.mof).toContain(`class ${className}`);
  },
);

test('EnumClasses deep over CIM Schema 2.41: every message the same bytes as before, cold and warm, both views', async () => {
  for (const localOnly of [false, true]) {
    const cold = await enumBytes('', localOnly);
    const expected = await expectedEnum('', localOnly);
    expect(expected.length).toBeGreaterThan(1_446);
    expect(differing(cold, expected)).toEqual([]);
    expect(differing(await enumBytes('', localOnly), expected)).toEqual([]);
  }
}, 60_000);

test('a class with every kind of member and value, and its subclass: the same bytes as before', async () => {
  for (const className of ['Enc_Everything', 'Enc_Below']) {
    for (const localOnly of [false, true]) {
      const expected = await expectedGetClass(className, localOnly, false);
      expect((await getClassBytes(className, localOnly, false)).equals(expected)).toBe(true);
    }
  }
  for (const localOnly of [false, true]) {
    const expected = await expectedEnum('Enc_Everything', localOnly);
    expect(expected).toHaveLength(1);
    expect(differing(await enumBytes('Enc_Everything', localOnly), expected)).toEqual([]);
  }
  // What was compared holds what was sent (so the comparison compares real content).
  const below = GetClassResponse.decode(await getClassBytes('Enc_Below', false, false)).object;
  expect(below?.properties.map((property) => property.name)).toEqual(
    everything().properties.map((property) => property.name),
  );
  const text = below?.properties.find((property) => property.name === 'Text');
  expect(text?.value?.kind).toEqual({ $case: 'string', string: LONG_TEXT });
  expect(text?.qualifiers[0]?.value?.kind).toEqual({ $case: 'string', string: HUGE_TEXT });
  expect(text?.propagated).toBe(true);
  const obj = below?.properties.find((property) => property.name === 'Obj')?.value?.kind;
  expect(obj?.$case === 'object' && obj.object.properties[0]?.name).toBe('Inner');
  expect(below?.methods.map((m) => [m.name, m.parameters.length, m.classOrigin])).toEqual([
    ['Run', 4, 'Enc_Everything'],
    ['Nothing', 0, 'Enc_Everything'],
    ['More', 0, 'Enc_Below'],
  ]);
});

test('a deep chain: __DERIVATION made from the parent bytes is the same as encoded whole, from any start', async () => {
  const expected = await expectedEnum('Chain_C0', false);
  expect(expected).toHaveLength(CHAIN - 1);
  const last = ClassObject.decode(expected[CHAIN - 2] as Buffer);
  expect(last.system?.derivation).toEqual(
    Array.from({ length: CHAIN - 1 }, (_, i) => `Chain_C${CHAIN - 2 - i}`),
  );
  expect(differing(await enumBytes('Chain_C0', false), expected)).toEqual([]);
  // From the middle: the first class's parent is not in the answer (its entries are encoded whole).
  expect(
    differing(await enumBytes('Chain_C30', true), await expectedEnum('Chain_C30', true)),
  ).toEqual([]);
  const get = await expectedGetClass(`Chain_C${CHAIN - 1}`, false, false);
  expect((await getClassBytes(`Chain_C${CHAIN - 1}`, false, false)).equals(get)).toBe(true);
});

test('a write is seen at once: the cached bytes of a class and of its subclasses are not served again', async () => {
  const before = await getClassBytes('Chain_C50', false, false);
  await enumBytes('Chain_C0', false); // every class of the chain encoded and cached
  await compile('class Chain_C10 : Chain_C9 {\n  string P10;\n  string Added;\n};\n', false, FORCE);
  const after = await getClassBytes('Chain_C50', false, false);
  expect(after.equals(before)).toBe(false);
  expect(after.equals(await expectedGetClass('Chain_C50', false, false))).toBe(true);
  const added = GetClassResponse.decode(after).object?.properties.find((p) => p.name === 'Added');
  expect(added?.classOrigin).toBe('Chain_C10');
  expect(
    differing(await enumBytes('Chain_C0', false), await expectedEnum('Chain_C0', false)),
  ).toEqual([]);
});

test('the HTTP listener answers GetClass with the same bytes (Connect, binary)', async () => {
  const request = GetClassRequest.encode({
    namespace: NS,
    className: 'CIM_ComputerSystem',
    localOnly: false,
    asMof: false,
  }).finish();
  const response = await fetch(
    `http://${server.server.httpAddress ?? ''}/wbem.v1.WbemServices/GetClass`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/proto', 'connect-protocol-version': '1' },
      body: request,
    },
  );
  expect(response.status).toBe(200);
  const body = Buffer.from(await response.arrayBuffer());
  expect(body.equals(await expectedGetClass('CIM_ComputerSystem', false, false))).toBe(true);
});
