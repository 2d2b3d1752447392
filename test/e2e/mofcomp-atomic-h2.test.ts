/**
 * `wbemd mofcomp --atomic` sends its one CompileMof straight to an HTTP/2 session, as its
 * PutClassAsync calls are sent (src/cli/grpc-h2.ts, D81), and through grpc-js for any other target.
 * The request's bytes must be CompileMofRequest.encode's, the progress events must read as the
 * generated decoder reads them, and every outcome (written with its progress, a rule's failure in
 * the final status, a call refused at once, a syntax error) must read the same from both senders.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCompileMof, type CompileMofPut } from '../../src/cli/compile-mof-codec';
import { progressOf } from '../../src/cli/sink-event-codec';
import { H2Channel } from '../../src/cli/grpc-h2';
import { grpcJsCompiler } from '../../src/cli/mofcomp-grpc';
import { DMTF_CONTEXT, h2Compiler, type MofCompiler } from '../../src/cli/mofcomp-send';
import { CompileMofRequest, ObjectSinkEvent } from '../../generated/wbem/v1/services';
import { schemaSources } from '../helpers/cim-schema';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { runWbemd } from '../helpers/wbemd-cli';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

test("the request's bytes are CompileMofRequest.encode's: CIM 2.41, every optional field set or not, any text", () => {
  const cim = schemaSources();
  expect(cim.length).toBeGreaterThan(1400);
  const odd = [
    { name: 'ü/ä.mof', text: 'class Ex_Ü { string P = "€ 𝄞 \uD800 \uDC00"; };\n' },
    { name: '', text: 'class Ex_NoName { };' },
    { name: 'empty.mof', text: '' },
    { name: 'long.mof', text: 'x'.repeat(300_000) },
  ];
  const requests: CompileMofPut[] = [
    {
      namespace: 'root/cimv2',
      sources: cim,
      flags: 0x80,
      context: DMTF_CONTEXT,
      continueOnError: false,
    },
    { namespace: '', sources: odd, flags: 0, context: undefined, continueOnError: true },
    {
      namespace: 'root/ü',
      sources: [],
      flags: -1,
      context: { values: {} },
      continueOnError: false,
    },
    {
      namespace: 'root',
      sources: odd.slice(0, 1),
      flags: 0x42,
      context: DMTF_CONTEXT,
      continueOnError: true,
    },
  ];
  for (const request of requests) {
    const generated = CompileMofRequest.encode({
      ...request,
      sources: [...request.sources],
    }).finish();
    expect(Buffer.from(encodeCompileMof(request)).equals(Buffer.from(generated))).toBe(true);
  }
});

test('a progress event reads as ObjectSinkEvent.decode reads it; a status is not one', () => {
  const events: ObjectSinkEvent[] = [
    { event: { $case: 'progress', progress: { current: 3, total: 1438, message: 'CIM_Ü' } } },
    { event: { $case: 'progress', progress: { current: 0, total: 0, message: '' } } },
    { event: { $case: 'status', status: { hresult: 0, param: 'x', revision: 1n } } },
    { event: undefined },
  ];
  for (const event of events) {
    const bytes = ObjectSinkEvent.encode(event).finish();
    const decoded = ObjectSinkEvent.decode(bytes).event;
    expect(progressOf(bytes)).toEqual(decoded?.$case === 'progress' ? decoded.progress : undefined);
  }
  // A oneof's last field is its value.
  const [progress, , status] = events.map((e) => ObjectSinkEvent.encode(e).finish());
  expect(progressOf(Buffer.concat([progress!, status!]))).toBeUndefined();
  // A oneof field in another wire type is skipped, as the generated decoder skips it.
  const odd = Buffer.concat([progress!, Buffer.from([0x08, 0x01, 0x10, 0x02])]);
  expect(ObjectSinkEvent.decode(odd).event?.$case).toBe('progress');
  expect(progressOf(odd)).toEqual({ current: 3, total: 1438, message: 'CIM_Ü' });
  expect(progressOf(Buffer.concat([status!, progress!]))).toEqual({
    current: 3,
    total: 1438,
    message: 'CIM_Ü',
  });
});

/** WBEM_FLAG_SEND_STATUS, which `wbemd mofcomp --atomic` sets: a progress event a class. */
const SEND_STATUS = 0x80;

/** One CompileMof of `mof` through `compile`: its failure (or undefined) and its progress events. */
async function compileWith(
  compile: MofCompiler,
  mof: string,
  options: Partial<CompileMofPut> = {},
) {
  const progress: string[] = [];
  const failure = await compile(
    {
      namespace: 'root/cimv2',
      sources: [{ name: 'main.mof', text: mof }],
      flags: SEND_STATUS,
      context: undefined,
      continueOnError: false,
      ...options,
    },
    (event) => progress.push(`${event.current}/${event.total} ${event.message}`),
  );
  return { failure, progress };
}

/** The same MOF through both (each its own class names), results side by side. */
async function both(mof: (suffix: string) => string, options?: Partial<CompileMofPut>) {
  const grpcJs = await compileWith(grpcJsCompiler(t.client), mof('Js'), options);
  const channel = new H2Channel(t.server.address);
  const h2 = await compileWith(h2Compiler(channel), mof('H2'), options).finally(() =>
    channel.close(),
  );
  return { grpcJs, h2: JSON.parse(JSON.stringify(h2).replaceAll('H2', 'Js')) as typeof h2 };
}

test('written, with a progress event a class, reads the same', async () => {
  const { grpcJs, h2 } = await both(
    (s) => `class Ex_${s}A { [Key] string Id; };\nclass Ex_${s}B : Ex_${s}A { string P; };\n`,
  );
  expect(grpcJs.failure).toBeUndefined();
  expect(grpcJs.progress).toHaveLength(2);
  expect(h2).toEqual(grpcJs);
});

test("a rule's failure, a call refused at once and a syntax error read the same", async () => {
  const rule = await both(
    (s) =>
      `class Ex_${s}K { [Key] string Id; };\nclass Ex_${s}L : Ex_${s}K { [Key] string More; };\n`,
  );
  expect(rule.grpcJs.failure).toMatch(/\(WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE\)$/);
  expect(rule.h2).toEqual(rule.grpcJs);
  const nowhere = await both((s) => `class Ex_${s}N { };\n`, { namespace: 'root/nowhere' });
  expect(nowhere.grpcJs.failure).toMatch(/\(WBEM_E_INVALID_NAMESPACE\)$/);
  expect(nowhere.h2).toEqual(nowhere.grpcJs);
  const conflict = await both((s) => `class Ex_${s}F { };\n`, { flags: SEND_STATUS | 3 });
  expect(conflict.grpcJs.failure).toMatch(/\(WBEM_E_INVALID_PARAMETER\)$/);
  expect(conflict.h2).toEqual(conflict.grpcJs);
  const syntax = await both((s) => `class Ex_${s}S {\n  string P\n};\n`);
  expect(syntax.grpcJs.failure).toMatch(/main\.mof:3:1: .*\(WBEM_E_INVALID_PARAMETER\)$/);
  expect(syntax.h2).toEqual(syntax.grpcJs);
});

test('--atomic through a target only grpc-js dials (dns:///) writes the same classes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wbemd-atomic-'));
  try {
    const file = join(dir, 'pair.mof');
    await writeFile(file, 'class Ex_DnsA { [Key] string Id; };\nclass Ex_DnsB : Ex_DnsA { };\n');
    const address = `dns:///${t.server.address}`;
    const sent = await runWbemd(['mofcomp', '--server', address, '--atomic', file]);
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    expect(sent.stdout).toContain('2 of 2 classes written to root/cimv2 in one CompileMof\n');
    const again = await runWbemd([
      'mofcomp',
      '--server',
      address,
      '--atomic',
      '--create-only',
      file,
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/class Ex_DnsA: .*\(WBEM_E_ALREADY_EXISTS\)\n$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 60_000);
