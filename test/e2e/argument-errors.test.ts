/**
 * Argument errors are argument errors on every call (issue #12 item 4): a required argument that
 * is empty or absent is WBEM_E_INVALID_PARAMETER with the three encodings, refused at once, and
 * named the same way whichever RPC it is sent to (src/domain/arguments.ts). One row per required
 * argument of every WbemServices RPC, through the generated client.
 */
import { Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { WbemServicesService } from '../../generated/wbem/v1/services';
import { WBEM_METHODS, type RawMethod } from '../helpers/raw-client';
import { startTestServer, type TestServer } from '../helpers/test-server';
import {
  deadline,
  failureOf,
  transcript,
  unary,
  type Transcript,
  invalidParameterEnd,
} from '../helpers/transcript';
import { keyed } from './fixtures';

type MethodKey = RawMethod['key'];

const NS = 'root/cimv2';
const EMPTY_NAMESPACE = 'namespace "" could not be parsed: it is empty';
const MOF = [{ name: 'a.mof', text: 'class Ex_Mof { };' }];

/** [RPC, argument left out, the request without it, the message that names it]. */
const MISSING: readonly [MethodKey, string, Record<string, unknown>, string][] = [
  [
    'putClassAsync',
    'namespace',
    { namespace: '', object: keyed('Ex_A'), flags: 0 },
    EMPTY_NAMESPACE,
  ],
  ['putClassAsync', 'object', { namespace: NS, flags: 0 }, 'the class object (pObject) is missing'],
  ['putClass', 'namespace', { namespace: '', object: keyed('Ex_A'), flags: 0 }, EMPTY_NAMESPACE],
  ['putClass', 'object', { namespace: NS, flags: 0 }, 'the class object (pObject) is missing'],
  [
    'getClass',
    'namespace',
    { namespace: '', className: 'Ex_A', localOnly: false, asMof: false },
    EMPTY_NAMESPACE,
  ],
  [
    'getClass',
    'class_name',
    { namespace: NS, className: '', localOnly: false, asMof: false },
    'the class name (class_name) is missing',
  ],
  ['deleteClass', 'namespace', { namespace: '', className: 'Ex_A', flags: 0 }, EMPTY_NAMESPACE],
  [
    'deleteClass',
    'class_name',
    { namespace: NS, className: '', flags: 0 },
    'the class name (class_name) is missing',
  ],
  [
    'enumClasses',
    'namespace',
    { namespace: '', superclass: '', deep: true, localOnly: false },
    EMPTY_NAMESPACE,
  ],
  ['createNamespace', 'parent', { parent: '', name: 'ex' }, EMPTY_NAMESPACE],
  ['createNamespace', 'name', { parent: 'root', name: '' }, 'the namespace name (name) is missing'],
  ['deleteNamespace', 'namespace', { namespace: '' }, EMPTY_NAMESPACE],
  ['enumNamespaces', 'parent', { parent: '', deep: true }, EMPTY_NAMESPACE],
  [
    'compileMof',
    'namespace',
    { namespace: '', sources: MOF, flags: 0, continueOnError: false },
    EMPTY_NAMESPACE,
  ],
  [
    'compileMof',
    'sources',
    { namespace: NS, sources: [], flags: 0, continueOnError: false },
    'the MOF source (sources) is missing',
  ],
  [
    'putInstance',
    'namespace',
    { namespace: '', instance: { className: 'Ex_A', properties: [], qualifiers: [] }, flags: 0 },
    EMPTY_NAMESPACE,
  ],
  [
    'putInstance',
    'instance',
    { namespace: NS, flags: 0 },
    'the instance object (pInst) is missing',
  ],
  [
    'putInstance',
    'instance.class_name',
    { namespace: NS, instance: { className: '', properties: [], qualifiers: [] }, flags: 0 },
    'the class name of the instance (instance.class_name) is missing',
  ],
  ['getInstance', 'namespace', { namespace: '', path: 'Ex_A.Id="1"' }, EMPTY_NAMESPACE],
  ['getInstance', 'path', { namespace: NS, path: '' }, 'the instance path (path) is missing'],
  [
    'deleteInstance',
    'namespace',
    { namespace: '', path: 'Ex_A.Id="1"', flags: 0 },
    EMPTY_NAMESPACE,
  ],
  [
    'deleteInstance',
    'path',
    { namespace: NS, path: '', flags: 0 },
    'the instance path (path) is missing',
  ],
  ['enumInstances', 'namespace', { namespace: '', className: 'Ex_A', deep: true }, EMPTY_NAMESPACE],
  [
    'enumInstances',
    'class_name',
    { namespace: NS, className: '', deep: true },
    'the class name (class_name) is missing',
  ],
  ['watchClassEvents', 'namespace', { namespace: '', className: '' }, EMPTY_NAMESPACE],
  ['enumQualifiers', 'namespace', { namespace: '' }, EMPTY_NAMESPACE],
];

let t: TestServer;
beforeEach(async () => {
  t = await startTestServer();
  // Something for each call to find, so only the missing argument can be what is wrong.
  await unary((cb) =>
    t.client.putClass(
      { namespace: NS, object: keyed('Ex_A'), flags: 0 },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
});
afterEach(async () => {
  await t.close();
});

/** The whole call through the generated client: headers and messages of a stream, and the end. */
async function call(
  key: MethodKey,
  request: Record<string, unknown>,
): Promise<Transcript<unknown>> {
  const method = WBEM_METHODS.find((m) => m.key === key) as RawMethod;
  // The generated client's methods, reached by the definition's key (each takes its own request type).
  const client = t.client as unknown as Record<MethodKey, (...args: unknown[]) => unknown>;
  if (method.responseStream)
    return transcript(
      client[key].call(
        t.client,
        request,
        new Metadata(),
        deadline(),
      ) as ClientReadableStream<unknown>,
    );
  const result = await unary((cb) =>
    client[key].call(t.client, request, new Metadata(), deadline(), cb),
  );
  return { headers: {}, messages: [], end: failureOf(result) };
}

test('the table has rows for every RPC', () => {
  expect(new Set(MISSING.map(([key]) => key))).toEqual(new Set(Object.keys(WbemServicesService)));
});

test.each(MISSING)(
  '%s without %s: WBEM_E_INVALID_PARAMETER at once',
  async (key, _argument, request, details) => {
    const tr = await call(key, request);
    // ErrorInfo names the namespace as sent, when the call has one to name.
    expect(tr.end).toEqual(
      invalidParameterEnd(details, expect.objectContaining({ hresult: '0x80041008' })),
    );
    // Refused at once: a stream is never accepted (no headers, no message).
    expect(tr.messages).toEqual([]);
    expect(tr.headers['wbem-operation-id']).toBeUndefined();
  },
);
