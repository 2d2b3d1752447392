/**
 * `wbemd mofcomp` and `wbemd mofgen` as users run them (child processes) against a real server:
 * the whole CIM Schema 2.41 in, out as MOF, and in again into another namespace, identical.
 */
import { Metadata } from '@grpc/grpc-js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClassObject } from '../../generated/wbem/v1/cim';
import { CIM_SCHEMA_ENTRY, CIM_SCHEMA_ROOT } from '../helpers/cim-schema';
import { runWbemd } from '../helpers/wbemd-cli';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline, unary } from '../helpers/transcript';

const SCHEMA = join(CIM_SCHEMA_ROOT, CIM_SCHEMA_ENTRY);

let t: TestServer;
let scratch: string;
beforeAll(async () => {
  t = await startTestServer();
  scratch = await mkdtemp(join(tmpdir(), 'wbemd-mof-'));
});
afterAll(async () => {
  await t.close();
  await rm(scratch, { recursive: true, force: true });
});

const wbemd = runWbemd;

function enumAll(namespace: string): Promise<ClassObject[]> {
  return new Promise((resolvePromise, reject) => {
    const objects: ClassObject[] = [];
    const call = t.client.enumClasses(
      { namespace, superclass: '', deep: true, localOnly: false },
      new Metadata(),
      deadline(60_000),
    );
    // User classes only: the built-in system classes are the same in every namespace.
    call.on('data', (object: ClassObject) => {
      if (!object.className.startsWith('__')) objects.push(object);
    });
    call.on('error', reject);
    call.on('end', () => resolvePromise(objects));
  });
}

test('mofcomp loads CIM Schema 2.41 (zero errors with --dmtf); mofgen exports it; the export loads into another namespace identical', async () => {
  const load = await wbemd([
    'mofcomp',
    '--server',
    t.server.address,
    '--dmtf',
    '--create-only',
    SCHEMA,
  ]);
  expect(load.stderr).toBe('');
  expect(load.code).toBe(0);
  expect(load.stdout).toContain('1438 of 1438 classes written to root/cimv2\n');
  expect(load.stdout).toContain('1438/1438 classes\n'); // not a TTY: plain progress lines

  // Resolved over gRPC as the MOF says: the chain, the keys and where each property comes from.
  const read = await unary((cb) =>
    t.client.getClass(
      { namespace: 'root/cimv2', className: 'CIM_ComputerSystem', localOnly: false, asMof: false },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
  const computerSystem = read.response?.object as ClassObject;
  expect(computerSystem.system?.derivation).toEqual([
    'CIM_System',
    'CIM_EnabledLogicalElement',
    'CIM_LogicalElement',
    'CIM_ManagedSystemElement',
    'CIM_ManagedElement',
  ]);
  const origin = (name: string) => computerSystem.properties.find((p) => p.name === name);
  expect(
    computerSystem.properties
      .filter((p) => p.qualifiers.some((q) => q.name === 'Key'))
      .map((p) => [p.name, p.classOrigin]),
  ).toEqual([
    ['Name', 'CIM_ManagedSystemElement'],
    ['CreationClassName', 'CIM_System'],
  ]);
  expect(origin('NameFormat')).toMatchObject({ classOrigin: 'CIM_System', propagated: false }); // overridden here
  expect(origin('Caption')).toMatchObject({ classOrigin: 'CIM_ManagedElement', propagated: true });

  const exported = join(scratch, 'export.mof');
  const gen = await wbemd([
    'mofgen',
    '--server',
    t.server.address,
    '-N',
    'root/cimv2',
    '-o',
    exported,
  ]);
  expect(gen.code).toBe(0);

  const created = await unary((cb) =>
    t.client.createNamespace({ parent: 'root', name: 'copy' }, new Metadata(), deadline(), cb),
  );
  expect(created.end).toBeUndefined();
  const again = await wbemd([
    'mofcomp',
    '--server',
    t.server.address,
    '-N',
    'root/copy',
    '--dmtf',
    '--create-only',
    exported,
  ]);
  expect(again.code).toBe(0);

  const strip = (o: ClassObject) => ({ ...o, system: { ...o.system, namespace: '', path: '' } });
  const original = (await enumAll('root/cimv2')).map(strip);
  const copy = (await enumAll('root/copy')).map(strip);
  expect(copy.length).toBe(1438);
  expect(copy).toEqual(original);
}, 120_000);

test('mofcomp: a syntax error sends nothing; a rule failure names the class and its position; exit code 1', async () => {
  const broken = join(scratch, 'broken.mof');
  await writeFile(broken, 'class Ex_Cli {\n  string P\n};\n');
  const syntax = await wbemd(['mofcomp', '--server', t.server.address, broken]);
  expect(syntax.code).toBe(1);
  expect(syntax.stderr).toBe(`${broken}:3:1: expected ";", found "}"\n`);

  const rules = join(scratch, 'rules.mof');
  await writeFile(
    rules,
    'class Ex_CliA { [Key] string Id; };\nclass Ex_CliB : Ex_CliA { [Key] string More; };\nclass Ex_CliC : Ex_CliB { };\n',
  );
  const failed = await wbemd(['mofcomp', '--server', t.server.address, rules]);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toContain(
    `${rules}:2:1: class Ex_CliB: WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE: `,
  );
  expect(failed.stdout).toContain('1 of 3 classes written to root/cimv2, 1 failed, 1 not sent');

  const usage = await wbemd(['mofcomp', '--window', '0', rules]);
  expect(usage.code).toBe(2);
});

test('mofcomp --atomic: one CompileMof, all or nothing; instances are refused before anything is sent', async () => {
  const rules = join(scratch, 'atomic.mof');
  await writeFile(
    rules,
    'class Ex_AtA { [Key] string Id; };\nclass Ex_AtB : Ex_AtA { [Key] string More; };\n',
  );
  const failed = await wbemd(['mofcomp', '--server', t.server.address, '--atomic', rules]);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toMatch(
    new RegExp(
      `^${rules.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:1: class Ex_AtB: .*\\(WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE\\)\n$`,
    ),
  );
  const read = await unary((cb) =>
    t.client.getClass(
      { namespace: 'root/cimv2', className: 'Ex_AtA', localOnly: true, asMof: false },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
  expect(read.end?.code).toBe(5); // NOT_FOUND: the first class was not written either

  const good = join(scratch, 'atomic-good.mof');
  await writeFile(good, 'class Ex_AtC { [Key] string Id; };\nclass Ex_AtD : Ex_AtC { };\n');
  const ok = await wbemd(['mofcomp', '--server', t.server.address, '--atomic', good]);
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain('2 of 2 classes written to root/cimv2 in one CompileMof');

  const instances = join(scratch, 'instances.mof');
  await writeFile(
    instances,
    'class Ex_AtI { [Key] string Id; };\ninstance of Ex_AtI { Id = "a"; };\n',
  );
  const refused = await wbemd(['mofcomp', '--server', t.server.address, instances]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toBe(
    `${instances}:2:1: instance of Ex_AtI: instances are compiled by the server; use --atomic; nothing sent\n`,
  );
  const compiled = await wbemd(['mofcomp', '--server', t.server.address, '--atomic', instances]);
  expect(compiled.code).toBe(0);
  expect(compiled.stdout).toContain(
    '1 of 1 classes and 1 instance written to root/cimv2 in one CompileMof',
  );
  const instance = await unary((cb) =>
    t.client.getInstance(
      { namespace: 'root/cimv2', path: 'Ex_AtI.Id="a"' },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
  expect(instance.end).toBeUndefined();
});

test("mofcomp --atomic sends the file uncompiled, yet a compile error reads as the command's own: its file, line and column, exit 1, nothing written", async () => {
  await mkdir(join(scratch, 'inc'));
  const main = join(scratch, 'atomic-main.mof');
  const included = join(scratch, 'inc', 'broken.mof');
  await writeFile(
    main,
    'class Ex_AtMain { [Key] string Id; };\n#pragma include ("inc/broken.mof")\n',
  );
  await writeFile(included, 'class Ex_AtInc {\n  string P\n};\n');
  for (const build of ['--atomic', '--check']) {
    const syntax = await wbemd(['mofcomp', '--server', t.server.address, build, main]);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toBe(`${included}:3:1: expected ";", found "}"\n`);
    expect(syntax.stdout).toBe('');
  }
  const read = await unary((cb) =>
    t.client.getClass(
      { namespace: 'root/cimv2', className: 'Ex_AtMain', localOnly: true, asMof: false },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
  expect(read.end?.code).toBe(5); // NOT_FOUND

  // A file included twice (here into two namespaces) is sent once: CompileMof refuses a source sent twice.
  const twice = join(scratch, 'atomic-twice.mof');
  await writeFile(
    twice,
    '#pragma include ("inc/twice.mof")\n#pragma namespace ("root/default")\n#pragma include ("inc/twice.mof")\n',
  );
  await writeFile(join(scratch, 'inc', 'twice.mof'), 'class Ex_AtTwice { [Key] string Id; };\n');
  const both = await wbemd(['mofcomp', '--server', t.server.address, '--atomic', twice]);
  expect(both.stderr).toBe('');
  expect(both.stdout).toContain('2 of 2 classes written to root/cimv2 in one CompileMof\n');
  const checked = await wbemd(['mofcomp', '--check', twice]);
  expect(checked.stderr).toBe('');
  expect(checked.stdout).toBe('2 classes compiled and checked; nothing sent (--check)\n');

  const missing = join(scratch, 'atomic-missing.mof');
  await writeFile(missing, 'class Ex_AtMiss { };\n#pragma include ("nowhere.mof")\n');
  const unreadable = await wbemd(['mofcomp', '--server', t.server.address, '--atomic', missing]);
  expect(unreadable.code).toBe(1);
  expect(unreadable.stderr).toMatch(
    /^.*atomic-missing\.mof:2:1: cannot read "nowhere\.mof": .*ENOENT.*\n$/,
  );
  expect(unreadable.stdout).toBe('');
});
