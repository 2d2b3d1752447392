/**
 * The built `wbemd` client subcommands (bin/wbemd.js → dist/) against a real server: each
 * subcommand, JSON output parsed, errors shown once with their status, hresult and hint, the exit
 * codes of docs/cli.md, and an unreachable server as exactly one line.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '../../src/transport/grpc/authenticate';
import { describeWithTool } from '../helpers/external-tools';
import { makeTestPki, OPENSSL, type TestPki } from '../helpers/test-pki';
import { runWbemd, WBEMD_BIN } from '../helpers/wbemd-cli';
import { startTestServer, type TestServer } from '../helpers/test-server';

// Each run starts a Node process (~1 s on a busy machine); a test makes up to a dozen.
jest.setTimeout(120_000);

const wbemd = runWbemd;

let env: TestServer;
let dir: string;
let at: string[];
beforeAll(async () => {
  env = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'wbemd-cli-'));
  at = ['--address', env.server.address];
  await writeFile(
    join(dir, 'widgets.mof'),
    'class Cli_Widget { [Key] string Id; uint32 Size = 3; };\nclass Cli_Gadget : Cli_Widget { string Color; };\n',
  );
  await writeFile(join(dir, 'broken.mof'), 'class Cli_Broken { string };\n');
});
afterAll(async () => {
  await env.close();
  await rm(dir, { recursive: true, force: true });
});

test('--version on the CLI and on serve: the version of package.json', async () => {
  const { version } = require('../../package.json') as { version: string };
  expect(await wbemd(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  expect(await wbemd(['serve', '--version'])).toEqual({
    code: 0,
    stdout: `${version}\n`,
    stderr: '',
  });
});

test('class put (MOF, --send-status), get, enum, tree, delete', async () => {
  const put = await wbemd(['class', 'put', join(dir, 'widgets.mof'), '--send-status', ...at]);
  expect(put.code).toBe(0);
  expect(put.stdout).toBe(
    'WBEM_S_NO_ERROR \\\\TESTHOST\\root\\cimv2:Cli_Widget (revision 1)\n' +
      'WBEM_S_NO_ERROR \\\\TESTHOST\\root\\cimv2:Cli_Gadget (revision 2)\n',
  );
  expect(put.stderr).toMatch(/^Cli_Widget: \[1\/4\] /m);
  expect(put.stderr).toMatch(/^Cli_Gadget: \[4\/4\] /m);

  const get = await wbemd(['class', 'get', 'cli_gadget', '-o', 'json', ...at]);
  expect(get.code).toBe(0);
  const read = JSON.parse(get.stdout);
  expect(read.object.className).toBe('Cli_Gadget');
  expect(read.revision).toBe('2'); // uint64 as a string: the proto JSON mapping
  expect(read.object.properties.map((p: { name: string }) => p.name)).toEqual([
    'Id',
    'Size',
    'Color',
  ]);

  const table = await wbemd(['class', 'get', 'Cli_Gadget', ...at]);
  expect(table.stdout).toMatch(/^Size\s+uint32\s+3\s+Cli_Widget/m);
  const mof = await wbemd(['class', 'get', 'Cli_Gadget', '-o', 'mof', ...at]);
  expect(mof.stdout).toMatch(/^class Cli_Gadget : Cli_Widget \{\n\s+string Color;\n\};/);

  const listed = JSON.parse((await wbemd(['class', 'enum', '--deep', '-o', 'json', ...at])).stdout);
  expect(listed.map((c: { className: string }) => c.className)).toEqual(
    expect.arrayContaining(['Cli_Widget', 'Cli_Gadget', '__SystemClass']),
  );
  const tree = await wbemd(['class', 'tree', ...at]);
  expect(tree.stdout).toMatch(/^Cli_Widget\n└── Cli_Gadget$/m);
  const subtree = JSON.parse(
    (await wbemd(['class', 'tree', 'Cli_Widget', '-o', 'json', ...at])).stdout,
  );
  expect(subtree).toEqual({ name: 'Cli_Widget', children: [{ name: 'Cli_Gadget', children: [] }] });

  // The JSON of `class get` goes back in as it came out.
  await writeFile(join(dir, 'gadget.json'), get.stdout);
  const again = await wbemd(['class', 'put', join(dir, 'gadget.json'), '-o', 'json', ...at]);
  expect(JSON.parse(again.stdout)).toEqual([
    // WBEM_S_NO_ERROR is 0, which the JSON mapping leaves out.
    { param: '\\\\TESTHOST\\root\\cimv2:Cli_Gadget', revision: expect.any(String) },
  ]);

  await writeFile(
    join(dir, 'doomed.mof'),
    'class Cli_Doomed { };\nclass Cli_DoomedSub : Cli_Doomed { };\n',
  );
  expect((await wbemd(['class', 'put', join(dir, 'doomed.mof'), ...at])).code).toBe(0);
  expect(await wbemd(['class', 'delete', 'Cli_Doomed', ...at])).toEqual({
    code: 0,
    stdout: 'deleted Cli_Doomed\ndeleted Cli_DoomedSub\n',
    stderr: '',
  });
});

test('a WBEM error: shown once with status, hresult and a hint; exit 1', async () => {
  const missing = await wbemd(['class', 'get', 'Cli_Missing', ...at]);
  expect(missing).toEqual({
    code: 1,
    stdout: '',
    stderr:
      'wbemd: WBEM_E_NOT_FOUND (0x80041002): class Cli_Missing does not exist in root\\cimv2\n' +
      '  hint: check the name: `wbemd class enum` lists the classes of a namespace\n',
  });
  const exists = await wbemd(['class', 'put', join(dir, 'widgets.mof'), '--create-only', ...at]);
  expect(exists.code).toBe(1);
  expect(exists.stderr.split('\n')[0]).toMatch(/^wbemd: WBEM_E_ALREADY_EXISTS \(0x80041019\): /);
  expect(exists.stderr.match(/WBEM_E_ALREADY_EXISTS/g)).toHaveLength(1);

  // The flags reach the server as lFlags: UPDATE_ONLY of a new class, and a conflict it refuses.
  await writeFile(join(dir, 'fresh.mof'), 'class Cli_Fresh { };\n');
  const updateOnly = await wbemd(['class', 'put', join(dir, 'fresh.mof'), '--update-only', ...at]);
  expect(updateOnly.code).toBe(1);
  expect(updateOnly.stderr).toMatch(/^wbemd: WBEM_E_NOT_FOUND \(0x80041002\)/);
  const conflict = await wbemd([
    'class',
    'put',
    join(dir, 'fresh.mof'),
    '--safe',
    '--force',
    ...at,
  ]);
  expect(conflict.code).toBe(1);
  expect(conflict.stderr).toMatch(/^wbemd: WBEM_E_INVALID_PARAMETER \(0x80041008\)/);
});

test('usage errors exit 2, unreadable input 4', async () => {
  expect((await wbemd(['class', 'get', '--bogus', ...at])).code).toBe(2);
  expect((await wbemd(['class'])).code).toBe(2);
  expect((await wbemd(['class', 'get', 'X', '-o', 'yaml', ...at])).code).toBe(2);
  const broken = await wbemd(['class', 'put', join(dir, 'broken.mof'), ...at]);
  expect(broken.code).toBe(4);
  expect(broken.stderr).toMatch(/broken\.mof:1:\d+: /);
  expect((await wbemd(['class', 'put', join(dir, 'absent.mof'), ...at])).code).toBe(4);
});

test('an unreachable server: exactly one line, exit 3', async () => {
  const gone = await startTestServer();
  const address = gone.server.address;
  await gone.close();
  for (const args of [
    ['class', 'put', join(dir, 'widgets.mof')],
    ['class', 'enum'],
    ['namespace', 'list'],
  ]) {
    // The address from the environment, as a user would set it.
    expect(await wbemd(args, { WBEMD_ADDRESS: address })).toEqual({
      code: 3,
      stdout: '',
      stderr: `cannot reach wbemd at ${address}: connection refused\n`,
    });
  }
  // The shared options may come before the subcommand, as pywbemcli users write them.
  expect(await wbemd(['--address', address, '-o', 'json', 'namespace', 'list'])).toEqual({
    code: 3,
    stdout: '',
    stderr: `cannot reach wbemd at ${address}: connection refused\n`,
  });
});

test('namespace create, list, delete', async () => {
  const created = await wbemd(['namespace', 'create', 'root/cli_ns', ...at]);
  expect(created).toEqual({ code: 0, stdout: 'created root\\cli_ns\n', stderr: '' });
  const listed = JSON.parse((await wbemd(['namespace', 'list', '-o', 'json', ...at])).stdout);
  expect(listed).toEqual(expect.arrayContaining([{ name: 'cli_ns', path: 'root\\cli_ns' }]));
  expect((await wbemd(['namespace', 'delete', 'root/cli_ns', ...at])).code).toBe(0);
  const after = await wbemd(['namespace', 'list', ...at]);
  expect(after.stdout.split('\n')).not.toContain('root\\cli_ns');
  const missing = await wbemd(['namespace', 'delete', 'root/cli_none', ...at]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^wbemd: WBEM_E_INVALID_NAMESPACE \(0x8004100E\)/);
});

test('instance put (NAME=VALUE typed by the class), get, enum, delete', async () => {
  const put = await wbemd(['instance', 'put', 'Cli_Widget', 'Id=w1', 'Size=7', ...at]);
  expect(put).toEqual({ code: 0, stdout: 'put Cli_Widget.Id="w1"\n', stderr: '' });
  const got = JSON.parse(
    (await wbemd(['instance', 'get', 'Cli_Widget.Id="w1"', '-o', 'json', ...at])).stdout,
  );
  expect(got.properties).toEqual(
    expect.arrayContaining([expect.objectContaining({ name: 'Size', value: { uint: '7' } })]),
  );
  const listed = await wbemd(['instance', 'enum', 'Cli_Widget', ...at]);
  expect(listed.stdout).toMatch(/^Id\s+Size\n"w1"\s+7\n$/);
  expect((await wbemd(['instance', 'put', 'Cli_Widget', 'Size=big', ...at])).code).toBe(2);
  // --file: an Instance in the proto JSON mapping.
  await writeFile(
    join(dir, 'w2.json'),
    JSON.stringify({
      className: 'Cli_Widget',
      properties: [{ name: 'Id', value: { string: 'w2' } }],
    }),
  );
  expect(
    await wbemd(['instance', 'put', '--file', join(dir, 'w2.json'), '-o', 'json', ...at]),
  ).toEqual({ code: 0, stdout: '{\n  "path": "Cli_Widget.Id=\\"w2\\""\n}\n', stderr: '' });
  expect((await wbemd(['instance', 'delete', 'Cli_Widget.Id="w2"', ...at])).code).toBe(0);
  expect((await wbemd(['instance', 'delete', 'Cli_Widget.Id="w1"', ...at])).code).toBe(0);
  expect((await wbemd(['instance', 'get', 'Cli_Widget.Id="w1"', ...at])).code).toBe(1);
});

test('watch: streams class events as JSON lines until SIGINT, then exits 0', async () => {
  const child = spawn(process.execPath, [WBEMD_BIN, 'watch', '-o', 'json', ...at], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  await new Promise<void>((ready) =>
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('Ctrl-C stops')) ready();
    }),
  );
  await writeFile(join(dir, 'watched.mof'), 'class Cli_Watched { [Key] string Id; };\n');
  expect((await wbemd(['class', 'put', join(dir, 'watched.mof'), ...at])).code).toBe(0);
  while (!stdout.includes('\n')) await new Promise((tick) => setTimeout(tick, 20));
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  const events = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(events).toEqual([
    expect.objectContaining({
      eventClass: '__ClassCreationEvent',
      targetClass: expect.objectContaining({ className: 'Cli_Watched' }),
    }),
  ]);
  // --since-revision replays the retained events after that revision.
  const revision = Number(events[0].revision);
  const replay = spawn(
    process.execPath,
    [WBEMD_BIN, 'watch', '--since-revision', String(revision - 1), ...at],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let replayed = '';
  replay.stdout.on('data', (chunk: Buffer) => (replayed += chunk.toString()));
  const replayExit = new Promise<number | null>((done) => replay.on('exit', (code) => done(code)));
  while (!replayed.includes('\n')) await new Promise((tick) => setTimeout(tick, 20));
  replay.kill('SIGINT');
  expect(await replayExit).toBe(0);
  expect(replayed).toBe(`${revision}  __ClassCreationEvent  Cli_Watched\n`);
});

describe('auth options, shared by every subcommand', () => {
  test('--token (and WBEMD_TOKEN): refused without it (exit 1, the hint names --token), served with it', async () => {
    const guarded = await startTestServer({
      tokens: [{ sha256: sha256Hex('cli-secret'), principal: 'ann', groups: [] }],
    });
    try {
      const address = ['--address', guarded.server.address];
      const refused = await wbemd(['namespace', 'list', ...address]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^wbemd: WBEM_E_ACCESS_DENIED \(0x80041003\): .*\n {2}hint: pass --token/,
      );
      expect(await wbemd(['namespace', 'list', '--token', 'cli-secret', ...address])).toEqual({
        code: 0,
        stdout: 'root\\cimv2\nroot\\default\n',
        stderr: '',
      });
      const fromEnv = await wbemd(['class', 'enum', ...address], { WBEMD_TOKEN: 'cli-secret' });
      expect(fromEnv.code).toBe(0);
    } finally {
      await guarded.close();
    }
  });

  describeWithTool(OPENSSL, 'TLS', () => {
    let pki: TestPki;
    beforeAll(async () => {
      pki = await makeTestPki(await mkdtemp(join(dir, 'pki-')));
    }, 60_000);

    test('--ca/--cert/--key: mutual TLS works; without a client certificate or CA it does not', async () => {
      const secure = await startTestServer({
        tls: {
          cert: pki.serverCert,
          key: pki.serverKey,
          clientCa: pki.ca,
          requireClientCert: true,
        },
      });
      try {
        const port = secure.server.address.split(':').pop() ?? '';
        const address = ['--address', `localhost:${port}`];
        const files = (name: string): string => join(pki.dir, name);
        const ok = await wbemd([
          'namespace',
          'list',
          ...address,
          '--ca',
          files('ca.pem'),
          '--cert',
          files('client.pem'),
          '--key',
          files('client.key'),
        ]);
        expect(ok).toEqual({ code: 0, stdout: 'root\\cimv2\nroot\\default\n', stderr: '' });
        // No client certificate: the handshake fails; one line, exit 3.
        const noCert = await wbemd(['namespace', 'list', ...address, '--ca', files('ca.pem')]);
        expect(noCert.code).toBe(3);
        expect(noCert.stderr).toMatch(/^cannot reach wbemd at localhost:\d+: [^\n]+\n$/);
        // Plaintext against a TLS port: not a WBEM answer either.
        const plain = await wbemd(['namespace', 'list', ...address]);
        expect(plain.code).toBe(3);
        expect(plain.stderr).toMatch(/^cannot reach wbemd at localhost:\d+: [^\n]+\n$/);
        // --cert without --key is a usage error.
        expect(
          (await wbemd(['class', 'enum', ...address, '--cert', files('client.pem')])).code,
        ).toBe(2);
      } finally {
        await secure.close();
      }
    });
  });
});
