import { Metadata, status as Code } from '@grpc/grpc-js';
import { WbemStatus } from '../../generated/wbem/v1/status';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline, transcript, unary } from '../helpers/transcript';

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
