/**
 * Embedded objects nested to WMI's limit and beyond, end to end (issue #12 item 2): 64 levels
 * round-trip through PutClass and GetClass; 65 and more are WBEM_E_INVALID_PARAMETER with the
 * three encodings, rejected at once, however deep.
 */
import { Metadata, status as Code, type Client } from '@grpc/grpc-js';
import { createFileRegistry, fromBinary, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GetClassRequest, type PutClassResponse } from '../../generated/wbem/v1/services';
import { nestedClass, nestedPutClassRequest } from '../helpers/nested-objects';
import { rawCall, rawClient, WBEM_METHODS, type RawMethod } from '../helpers/raw-client';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline, failureOf, responseOf, unary, invalidParameterEnd } from '../helpers/transcript';

const registry = createFileRegistry(
  fromBinary(
    FileDescriptorSetSchema,
    readFileSync(resolve(__dirname, '../../generated/descriptor_set.binpb')),
  ),
);
const GET_CLASS_RESPONSE = registry.getMessage('wbem.v1.GetClassResponse') as DescMessage;
const method = (key: RawMethod['key']): RawMethod =>
  WBEM_METHODS.find((m) => m.key === key) as RawMethod;

/** A decoded ClassObject as @bufbuild/protobuf's reflection-based decoder gives it. */
interface ReflectedClass {
  className: string;
  properties: { name: string; value?: { kind: { case?: string; value?: unknown } } }[];
}

/** The names of the classes down the chain of embedded objects of each class's first property. */
function chainOf(top: ReflectedClass): string[] {
  const names: string[] = [];
  for (let at: ReflectedClass | undefined = top; at !== undefined;) {
    const kind: { case?: string; value?: unknown } | undefined = at.properties[0]?.value?.kind;
    at = kind?.case === 'object' ? (kind.value as ReflectedClass) : undefined;
    if (at !== undefined) names.push(at.className);
  }
  return names;
}

let t: TestServer;
let client: Client;
beforeEach(async () => {
  t = await startTestServer();
  client = rawClient(t.server.address);
});
afterEach(async () => {
  client.close();
  await t.close();
});

test('a default value nested 64 deep round-trips through PutClass then GetClass', async () => {
  const put = await unary<PutClassResponse>((cb) =>
    t.client.putClass(
      { namespace: 'root/cimv2', object: nestedClass('Ex_Deep', 64), flags: 0 },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
  expect(responseOf(put).path).toBe('\\\\TESTHOST\\root\\cimv2:Ex_Deep');
  // The response nests 196 messages: past the 100 that ts-proto (and most protobuf runtimes) decode
  // by default, so it is read here with @bufbuild/protobuf's decoder and a higher limit.
  const request = Buffer.from(
    GetClassRequest.encode({
      namespace: 'root/cimv2',
      className: 'Ex_Deep',
      localOnly: true,
      asMof: false,
    }).finish(),
  );
  const got = await rawCall(client, method('getClass'), request, (bytes) =>
    fromBinary(GET_CLASS_RESPONSE, bytes, { recursionLimit: 1_000 }),
  );
  expect(got.end).toMatchObject({ code: Code.OK, trailers: { 'wbem-status': 'WBEM_S_NO_ERROR' } });
  const object = (got.messages[0] as unknown as { object: ReflectedClass }).object;
  expect(object.className).toBe('Ex_Deep');
  expect(chainOf(object)).toEqual([
    ...Array.from({ length: 63 }, (_, i) => `Ex_Level${63 - i}`),
    'Ex_Leaf',
  ]);
});

describe.each([65, 200, 10_000])('a default value nested %i deep', (depth) => {
  const refused = invalidParameterEnd(
    'the request (wbem.v1.PutClassRequest): embedded objects nest deeper than 64',
    { hresult: '0x80041008' },
  );

  test('PutClassAsync: rejected at once with the three encodings, zero events, nothing written', async () => {
    const tr = await rawCall(
      client,
      method('putClassAsync'),
      nestedPutClassRequest('Ex_TooDeep', depth),
    );
    expect(tr).toEqual({ headers: {}, messages: [], end: refused });
    const get = await unary((cb) =>
      t.client.getClass(
        { namespace: 'root/cimv2', className: 'Ex_TooDeep', localOnly: false, asMof: false },
        new Metadata(),
        deadline(),
        cb,
      ),
    );
    expect(failureOf(get).trailers['wbem-status']).toBe('WBEM_E_NOT_FOUND');
  });

  test('PutClass: the same refusal', async () => {
    const tr = await rawCall(
      client,
      method('putClass'),
      nestedPutClassRequest('Ex_TooDeep', depth),
    );
    expect(tr.messages).toEqual([]);
    expect(tr.end).toEqual(refused);
  });
});
