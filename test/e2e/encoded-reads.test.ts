/**
 * GetClass and EnumClasses are answered from cached encoded bytes (src/transport/grpc/class-bytes.ts).
 * This suite is the proof that nothing changed on the wire: the bytes a real client receives, on a
 * cache miss and on a hit, over gRPC and over the HTTP listener, are exactly ts-proto's encoding of
 * the message built the way every read was built before (`classViewToProto` of the service's
 * view), over the whole CIM Schema 2.41 and over a deep chain whose __DERIVATION entries are made
 * from the parent's bytes; and a write is seen at once.
 */
import { Metadata, type Client } from '@grpc/grpc-js';
import { ClassObject } from '../../generated/wbem/v1/cim';
import {
  EnumClassesRequest,
  GetClassRequest,
  GetClassResponse,
} from '../../generated/wbem/v1/services';
import { DMTF_RULES } from '../../src/domain/client-context';
import { storedDefinitionOf } from '../../src/domain/resolve-class';
import { writeMof } from '../../src/mof/writer';
import type { ClassView } from '../../src/service/views';
import { classViewToProto, valueToProto } from '../../src/transport/grpc/codec';
import { schemaSources } from '../helpers/cim-schema';
import { rawCall, rawClient, WBEM_METHODS, type RawMethod } from '../helpers/raw-client';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline, transcript } from '../helpers/transcript';
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

beforeAll(async () => {
  server = await startTestServer({ httpListen: '127.0.0.1:0' });
  raw = rawClient(server.server.address);
  await compile(undefined, true);
  await compile(chain(CHAIN));
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
