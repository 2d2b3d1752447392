/**
 * `wbemd mofgen` as a whole-namespace export (child processes against real servers): CIM Schema
 * 2.41 with its qualifier declarations, plus classes, instances (a reference, an array, a NULL
 * over a default) and a qualifier declaration of our own, exported from one server, compiled into
 * a fresh server with `mofcomp --atomic`, exported again: byte-identical. The export is laid out
 * within 80 columns (DMTF's own limit, kept where DMTF keeps it), and reads the classes with one
 * EnumClasses call, counted by the server's own metrics.
 */
import { Metadata } from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DMTF_RULES } from '../../src/domain/client-context';
import { MOF_LINE_WIDTH } from '../../src/mof/writer';
import { valueToProto } from '../../src/transport/grpc/codec';
import { schemaSources } from '../helpers/cim-schema';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline, transcript } from '../helpers/transcript';

const run = promisify(execFile);
const WBEMD = resolve(__dirname, '..', '..', 'bin', 'wbemd.js');

const wbemd = (args: string[]) =>
  run(process.execPath, [WBEMD, ...args], { maxBuffer: 256 * 1024 * 1024 }).then(
    (result) => ({ code: 0, ...result }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

function scrape(address: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    get(`http://${address}/metrics`, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolvePromise(body));
    }).on('error', reject);
  });
}

const startedCalls = (body: string, method: string): number => {
  const series = `grpc_server_started_total{grpc_type="${method === 'GetClass' ? 'unary' : 'server_stream'}",grpc_service="wbem.v1.WbemServices",grpc_method="${method}"} `;
  const line = body.split('\n').find((l) => l.startsWith(series));
  return line === undefined ? 0 : Number(line.slice(series.length));
};

const OURS = `
Qualifier Ex_Owner : string = "nobody", Scope(class, property), Flavor(EnableOverride, Restricted);

[Description("A disk. Its description is long enough that the export has to split it over several lines of at most eighty columns, as DMTF's files do."), Ex_Owner("ops")]
class Ex_Disk {
  [Key] string Id;
  uint64 Size = 10;
  string Tags[];
  string Label = "unnamed";
};

class Ex_Ssd : Ex_Disk {
  boolean Nvme;
};

[Association]
class Ex_Mirror {
  [Key] Ex_Disk REF Primary;
  [Key] Ex_Disk REF Secondary;
};

instance of Ex_Disk as $C { Id = "C:"; Size = 500; Tags = {"system", "boot"}; Label = NULL; };
instance of Ex_Ssd as $D { Id = "D:"; Nvme = TRUE; };
instance of Ex_Mirror { Primary = $C; Secondary = $D; };
`;

let source: TestServer;
let target: TestServer;
let scratch: string;

beforeAll(async () => {
  source = await startTestServer({ metricsListen: '127.0.0.1:0' });
  target = await startTestServer();
  scratch = source.dataDir;
  const dmtf = { values: { [DMTF_RULES]: valueToProto({ kind: 'boolean', value: true }) ?? {} } };
  const schema = await transcript(
    source.client.compileMof(
      {
        namespace: 'root/cimv2',
        sources: schemaSources(),
        flags: 0,
        context: dmtf,
        continueOnError: false,
      },
      new Metadata(),
      deadline(120_000),
    ),
  );
  expect(schema.end.code).toBe(0);
  const ours = await transcript(
    source.client.compileMof(
      {
        namespace: 'root/cimv2',
        sources: [{ name: 'ours.mof', text: OURS }],
        flags: 0,
        continueOnError: false,
      },
      new Metadata(),
      deadline(),
    ),
  );
  expect(ours.end).toMatchObject({ code: 0 });
}, 180_000);

afterAll(async () => {
  await source.close();
  await target.close();
});

test('mofgen → mofcomp --atomic into a fresh server → mofgen: byte-identical, qualifier declarations and instances included', async () => {
  const before = await scrape(source.server.metricsAddress ?? '');
  const first = join(scratch, 'first.mof');
  const exported = await wbemd(['mofgen', '--server', source.server.address, '-o', first]);
  expect(exported.stderr).toBe('');
  expect(exported.code).toBe(0);
  const after = await scrape(source.server.metricsAddress ?? '');
  // One EnumClasses for every class of the schema; no GetClass at all.
  expect(startedCalls(after, 'EnumClasses') - startedCalls(before, 'EnumClasses')).toBe(1);
  expect(startedCalls(after, 'GetClass') - startedCalls(before, 'GetClass')).toBe(0);
  expect(startedCalls(after, 'EnumQualifiers') - startedCalls(before, 'EnumQualifiers')).toBe(1);

  const text = await readFile(first, 'utf8');
  expect(text.split('\n').slice(0, 2)).toEqual([
    '// wbemd mofgen: root/cimv2',
    expect.stringMatching(/^\/\/ \d+ qualifier declarations, 1441 classes, 3 instances$/),
  ]);
  expect(text).toContain(
    'Qualifier Ex_Owner : string = "nobody",\n    Scope(class, property),\n    Flavor(EnableOverride, Restricted);\n',
  );
  expect(text).toContain('instance of Ex_Disk {\n   Id = "C:";\n   Size = 500;\n');
  expect(text).toContain('   Label = NULL;\n');

  const loaded = await wbemd([
    'mofcomp',
    '--server',
    target.server.address,
    '--atomic',
    '--dmtf',
    first,
  ]);
  expect(loaded.stderr).toBe('');
  expect(loaded.stdout).toContain('1441 of 1441 classes and 3 instances written to root/cimv2');

  const second = join(scratch, 'second.mof');
  const again = await wbemd(['mofgen', '--server', target.server.address, '-o', second]);
  expect(again.code).toBe(0);
  expect(await readFile(second, 'utf8')).toBe(text);
}, 180_000);

test('the export keeps to 80 columns wherever a line can be broken (only long class names go beyond, as in DMTF)', async () => {
  const out = join(scratch, 'width.mof');
  const exported = await wbemd(['mofgen', '--server', source.server.address, '-o', out]);
  expect(exported.code).toBe(0);
  const lines = (await readFile(out, 'utf8')).split('\n');
  const over = lines.filter((line) => line.length > MOF_LINE_WIDTH);
  // What cannot be broken: `class Name : Superclass {` of two long names.
  for (const line of over) expect(line).toMatch(/^class \w+ : \w+ \{$/);
  expect(over.length).toBeLessThan(30);
  expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(100);
  // Long strings are split into pieces, DMTF-style, on lines of their own.
  expect(lines).toContain('      [Description (');
}, 60_000);

test('an unbreakable value still cannot make a long line: a 5,000-character word is split', async () => {
  const word = 'x'.repeat(5000);
  const put = await transcript(
    source.client.compileMof(
      {
        namespace: 'root/default',
        sources: [{ name: 'long.mof', text: `[Description("${word}")] class Ex_Long { };` }],
        flags: 0,
        continueOnError: false,
      },
      new Metadata(),
      deadline(),
    ),
  );
  expect(put.end.code).toBe(0);
  const exported = await wbemd(['mofgen', '--server', source.server.address, '-N', 'root/default']);
  expect(exported.code).toBe(0);
  const lines = exported.stdout.split('\n');
  expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(MOF_LINE_WIDTH);
  await writeFile(join(scratch, 'long.mof'), exported.stdout);
  const check = await wbemd(['mofcomp', '--check', join(scratch, 'long.mof')]);
  expect(check.code).toBe(0);
});
