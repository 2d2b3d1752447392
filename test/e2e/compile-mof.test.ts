import { Metadata, status as Code } from '@grpc/grpc-js';
import { WbemStatus } from '../../generated/wbem/v1/status';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline, transcript, unary, invalidParameterEnd } from '../helpers/transcript';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const SEND_STATUS = 128;
const mof = (text: string, flags = SEND_STATUS, continueOnError = false) => ({
  namespace: 'root/cimv2',
  sources: [{ name: 'widgets.mof', text }],
  flags,
  continueOnError,
});

test('CompileMof streams one progress event per class, then SetStatus with the namespace path', async () => {
  const text =
    'class Ex_Mof { [Key] string Id; };\nclass Ex_MofChild : Ex_Mof { uint32 Size = 7; };\n';
  const call = await transcript(t.client.compileMof(mof(text), new Metadata(), deadline()));
  expect(call.headers['wbem-operation-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(call.messages.map((m) => m.event)).toEqual([
    { $case: 'progress', progress: { current: 1, total: 2, message: 'Ex_Mof' } },
    { $case: 'progress', progress: { current: 2, total: 2, message: 'Ex_MofChild' } },
    {
      $case: 'status',
      status: {
        hresult: WbemStatus.WBEM_S_NO_ERROR,
        param: '\\\\TESTHOST\\root\\cimv2',
        revision: 2n,
      },
    },
  ]);
  expect(call.end.code).toBe(Code.OK);
  const read = await unary((cb) =>
    t.client.getClass(
      { namespace: 'root/cimv2', className: 'Ex_MofChild', localOnly: false, asMof: false },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
  expect(read.response?.object?.properties.map((p: { name: string }) => p.name)).toEqual([
    'Id',
    'Size',
  ]);
});

test('a rule failure: nothing written, the final status and ErrorInfo name the class and its position', async () => {
  const text =
    'class Ex_Bad1 { [Key] string Id; };\nclass Ex_Bad2 : Ex_Bad1 { [Key] string More; };\n';
  const call = await transcript(t.client.compileMof(mof(text), new Metadata(), deadline()));
  const final = call.messages.at(-1)?.event;
  expect(
    final?.$case === 'status' ? [final.status.hresult, final.status.param] : undefined,
  ).toEqual([
    WbemStatus.WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE,
    expect.stringMatching(/^widgets\.mof:2:1: class Ex_Bad2: /),
  ]);
  expect(call.end.code).toBe(Code.FAILED_PRECONDITION);
  expect(call.end.errorInfo?.metadata.class).toBe('Ex_Bad2');
  const read = await unary((cb) =>
    t.client.getClass(
      { namespace: 'root/cimv2', className: 'Ex_Bad1', localOnly: false, asMof: false },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
  expect(read.end?.code).toBe(Code.NOT_FOUND);
});

test('a MOF syntax error is rejected at once: zero events, INVALID_ARGUMENT with file:line:column', async () => {
  const call = await transcript(
    t.client.compileMof(
      mof('class Ex_Syntax {\n  uint32 P = "x";\n};'),
      new Metadata(),
      deadline(),
    ),
  );
  expect(call.messages).toEqual([]);
  expect(call.headers['wbem-operation-id']).toBeUndefined();
  expect(call.end.code).toBe(Code.INVALID_ARGUMENT);
  expect(call.end.details).toBe(
    'widgets.mof:2:3: property P of Ex_Syntax: uint32 needs an integer',
  );
  expect(call.end.trailers['wbem-status']).toBe('WBEM_E_INVALID_PARAMETER');
});

describe('malformed MOF is a positioned syntax error, rejected at once with the three encodings, however deep it nests', () => {
  const DEEP = 100_000;
  const chain = (depth: number) =>
    Array.from({ length: depth + 1 }, (_, i) => ({
      name: i === 0 ? 'widgets.mof' : `f${i}.mof`,
      text: i < depth ? `#pragma include ("f${i + 1}.mof")` : 'class Ex_Deep { };',
    }));
  test.each([
    [
      'an array default nested 100,000 deep',
      [
        {
          name: 'widgets.mof',
          text: `class Ex_N { uint32 A[] = ${'{'.repeat(DEEP)}1${'}'.repeat(DEEP)}; };`,
        },
      ],
      'widgets.mof:1:28: an array cannot hold an array (CIM has no arrays of arrays)',
    ],
    [
      'an instance value nested 100,000 deep',
      [
        {
          name: 'widgets.mof',
          text: `instance of Ex_N { A = ${'{'.repeat(DEEP)}1${'}'.repeat(DEEP)}; };`,
        },
      ],
      'widgets.mof:1:25: an array cannot hold an array (CIM has no arrays of arrays)',
    ],
    [
      'embedded instances nested 100,000 deep',
      [
        {
          name: 'widgets.mof',
          text: `instance of Ex_N { A = ${'instance of Ex_N { A = '.repeat(DEEP)}1${'; }'.repeat(DEEP)}; };`,
        },
      ],
      'widgets.mof:1:24: embedded instance values (`instance of` as a value) are not supported in MOF here',
    ],
    [
      'a self-include',
      [{ name: 'widgets.mof', text: '#pragma include ("widgets.mof")' }],
      'widgets.mof:1:1: "widgets.mof" includes itself (widgets.mof → widgets.mof)',
    ],
    [
      'includes nested 100 deep',
      chain(100),
      'f64.mof:1:1: #pragma include nests more than 64 files deep',
    ],
    [
      'an alias declared twice',
      [
        {
          name: 'widgets.mof',
          text: 'instance of Ex_N as $A { Id = 1; };\ninstance of Ex_N as $A { Id = 2; };',
        },
      ],
      'widgets.mof:2:21: alias $A is already declared at widgets.mof:1:21',
    ],
  ])('%s', async (_label, sources, details) => {
    const call = await transcript(
      t.client.compileMof(
        { namespace: 'root/cimv2', sources, flags: SEND_STATUS, continueOnError: false },
        new Metadata(),
        deadline(),
      ),
    );
    expect(call.messages).toEqual([]);
    expect(call.headers['wbem-operation-id']).toBeUndefined();
    expect(call.end).toEqual(
      invalidParameterEnd(details, { hresult: '0x80041008', namespace: 'root/cimv2' }),
    );
  });
});

test('an alias that names its own instance, or one declared later, fails that instance at its position; nothing is written', async () => {
  const text = [
    'class Ex_Ring { [Key] string Id; Ex_Ring REF Next; };',
    'instance of Ex_Ring as $A { Id = "a"; Next = $B; };',
    'instance of Ex_Ring as $B { Id = "b"; Next = $A; };',
  ].join('\n');
  for (const mofText of [text, text.replace('Next = $B', 'Next = $A')]) {
    const call = await transcript(t.client.compileMof(mof(mofText), new Metadata(), deadline()));
    const final = call.messages.at(-1)?.event;
    expect(final?.$case === 'status' ? final.status.param : undefined).toMatch(
      /^widgets\.mof:2:1: instance of Ex_Ring: alias \$[AB] is not declared by an earlier instance$/,
    );
    expect(call.end).toMatchObject({
      code: Code.INVALID_ARGUMENT,
      trailers: { 'wbem-status': 'WBEM_E_INVALID_PARAMETER' },
      errorInfo: { reason: 'WBEM_E_INVALID_PARAMETER', metadata: { class: 'Ex_Ring' } },
    });
  }
  const read = await unary((cb) =>
    t.client.getClass(
      { namespace: 'root/cimv2', className: 'Ex_Ring', localOnly: false, asMof: false },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
  expect(read.end?.code).toBe(Code.NOT_FOUND);
});
