/**
 * `wbemd mofcomp --check` (the class rules applied in the CLI's own process, through the service
 * over the in-memory store: no server) and `-I DIR` include paths, as users run them (child
 * processes). A rule failure is reported at the failing member's own file:line:column.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CIM_SCHEMA_ENTRY, CIM_SCHEMA_ROOT } from '../helpers/cim-schema';
import { startTestServer } from '../helpers/test-server';

const run = promisify(execFile);
const WBEMD = resolve(__dirname, '..', '..', 'bin', 'wbemd.js');

const wbemd = (args: string[]) =>
  run(process.execPath, [WBEMD, ...args], { maxBuffer: 64 * 1024 * 1024 }).then(
    (result) => ({ code: 0, ...result }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wbemd-check-'));
  await mkdir(join(dir, 'lib'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function mof(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

test('a duplicate property fails the check at its second declaration, with the WBEM status; exit 1', async () => {
  const file = await mof(
    'dup.mof',
    'class Ex_A {\n  [Key] string Id;\n};\n\nclass Ex_B : Ex_A {\n  uint32 Size;\n  uint32 size;\n};\n',
  );
  const checked = await wbemd(['mofcomp', '--check', file]);
  expect(checked.code).toBe(1);
  expect(checked.stderr).toBe(
    `${file}:7:10: class Ex_B: property size appears twice on Ex_B (WBEM_E_INVALID_PARAMETER)\n`,
  );
  expect(checked.stdout).toBe('1 of 1 files failed the class rules; nothing sent (--check)\n');
});

test('uint8 = 300 fails the check at its own line (a value rule, not syntax)', async () => {
  const file = await mof(
    'range.mof',
    'class Ex_C {\n  [Key] string Id;\n  uint8 Small = 300;\n};\n',
  );
  const checked = await wbemd(['mofcomp', '--check', file]);
  expect(checked.code).toBe(1);
  expect(checked.stderr).toBe(
    `${file}:3:9: class Ex_C: property Small of Ex_C: the value does not fit uint8 (WBEM_E_TYPE_MISMATCH)\n`,
  );
});

test('other class rules run too: a key on a subclass of a keyed class, an abstract class without --dmtf', async () => {
  const file = await mof(
    'rules.mof',
    '[Abstract] class Ex_Root { [Key] string Id; };\nclass Ex_Leaf : Ex_Root { [Key] string Other; };\n',
  );
  const checked = await wbemd(['mofcomp', '--check', file]);
  expect(checked.code).toBe(1);
  expect(checked.stderr).toMatch(
    new RegExp(`^${file}:2:\\d+: class Ex_Leaf: .*\\(WBEM_E_\\w+\\)\\n$`),
  );
});

test('a file that passes: classes, a qualifier declaration and instances are checked; nothing is sent (no server is running)', async () => {
  const file = await mof(
    'good.mof',
    'Qualifier Ex_Tag : string, Scope(class);\n[Ex_Tag("x")] class Ex_Disk { [Key] string Id; uint8 Small = 3; };\ninstance of Ex_Disk { Id = "C:"; };\n',
  );
  const checked = await wbemd(['mofcomp', '--server', '127.0.0.1:1', '--check', file]);
  expect(checked.stderr).toBe('');
  expect(checked.stdout).toBe(
    '1 classes and 1 instances compiled and checked; nothing sent (--check)\n',
  );
  expect(checked.code).toBe(0);
  // An instance value is checked against its class too.
  const bad = await mof(
    'bad-instance.mof',
    'class Ex_E { [Key] uint8 Id; };\ninstance of Ex_E { Id = 256; };\n',
  );
  const refused = await wbemd(['mofcomp', '--check', bad]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/^.*bad-instance\.mof:2:1: .*\(WBEM_E_TYPE_MISMATCH\)\n$/);
});

test('CIM Schema 2.41 passes the check with --dmtf, and fails it without (WMI refuses CIM_PolicyInSystem)', async () => {
  const schema = join(CIM_SCHEMA_ROOT, CIM_SCHEMA_ENTRY);
  const dmtf = await wbemd(['mofcomp', '--check', '--dmtf', schema]);
  expect(dmtf.stderr).toBe('');
  expect(dmtf.stdout).toBe('1438 classes compiled and checked; nothing sent (--check)\n');
  const wmi = await wbemd(['mofcomp', '--check', schema]);
  expect(wmi.code).toBe(1);
  expect(wmi.stderr).toMatch(/CIM_PolicyInSystem\.mof:\d+:\d+: class CIM_PolicyInSystem: /);
}, 120_000);

describe('-I DIR', () => {
  test('an include not next to the including file is found in -I directories, in order; an error in it names its real path', async () => {
    const main = await mof(
      'main.mof',
      '#pragma include ("base.mof")\nclass Ex_D : Ex_Base { string More; };\n',
    );
    await writeFile(join(dir, 'lib', 'base.mof'), 'class Ex_Base {\n  [Key] string Id;\n};\n');
    const missing = await wbemd(['mofcomp', '--check', main]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/main\.mof:1:1: cannot read "base\.mof"/);

    const found = await wbemd([
      'mofcomp',
      '--check',
      '-I',
      join(dir, 'nowhere'),
      '-I',
      join(dir, 'lib'),
      main,
    ]);
    expect(found.stderr).toBe('');
    expect(found.stdout).toBe('2 classes compiled and checked; nothing sent (--check)\n');

    await mkdir(join(dir, 'broken'));
    await writeFile(
      join(dir, 'broken', 'base.mof'),
      'class Ex_Base {\n  [Key] string Id;\n  string Id;\n};\n',
    );
    const broken = await wbemd(['mofcomp', '--check', '--include', join(dir, 'broken'), main]);
    expect(broken.stderr).toBe(
      `${join(dir, 'broken', 'base.mof')}:3:10: class Ex_Base: property Id appears twice on Ex_Base (WBEM_E_INVALID_PARAMETER)\n`,
    );
  });

  test('--atomic sends what -I found; the server compiles it', async () => {
    const t = await startTestServer();
    try {
      const main = join(dir, 'main.mof');
      const sent = await wbemd([
        'mofcomp',
        '--server',
        t.server.address,
        '--atomic',
        '-I',
        join(dir, 'lib'),
        main,
      ]);
      expect(sent.stderr).toBe('');
      expect(sent.stdout).toContain('2 of 2 classes written to root/cimv2 in one CompileMof\n');
    } finally {
      await t.close();
    }
  });
});
