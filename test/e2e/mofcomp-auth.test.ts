/**
 * `wbemd mofcomp` and `wbemd mofgen` against a server that wants a token or mutual TLS, with the
 * connection options the client subcommands take (docs/cli.md): `--token` (env WBEMD_TOKEN),
 * `--ca`, `--cert`/`--key`, `--tls`. mofcomp's own HTTP/2 sender (its PutClassAsync calls and
 * `--atomic`'s CompileMof) and mofgen's grpc-js reads.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '../../src/transport/grpc/authenticate';
import { describeWithTool } from '../helpers/external-tools';
import { makeTestPki, OPENSSL, type TestPki } from '../helpers/test-pki';
import { runWbemd } from '../helpers/wbemd-cli';
import { startTestServer, type TestServer } from '../helpers/test-server';

// Each run starts a Node process (~1 s on a busy machine).
jest.setTimeout(120_000);

const wbemd = runWbemd;

let dir: string;
let mof: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wbemd-mofcomp-auth-'));
  mof = join(dir, 'widgets.mof');
  await writeFile(
    mof,
    'class Auth_Widget { [Key] string Id; };\nclass Auth_Gadget : Auth_Widget { string Color; };\n',
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a server that wants a bearer token', () => {
  let guarded: TestServer;
  let at: string[];
  beforeAll(async () => {
    guarded = await startTestServer({
      tokens: [{ sha256: sha256Hex('mof-secret'), principal: 'ann', groups: [] }],
    });
    at = ['--server', guarded.server.address];
  });
  afterAll(() => guarded.close());

  test('mofcomp without --token: refused, each class a failure line, exit 1', async () => {
    const refused = await wbemd(['mofcomp', ...at, '--continue', mof]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^0 of 2 classes written to root\/cimv2, 2 failed$/m);
    expect(refused.stderr).toMatch(/class Auth_Widget: WBEM_E_ACCESS_DENIED: /);
    // Its subclass was not sent: the class it depends on failed.
    expect(refused.stderr).toMatch(/class Auth_Gadget: not sent, a class it depends on failed/);
  });

  test('mofcomp --token, mofgen with WBEMD_TOKEN and WBEMD_ADDRESS: written and read back', async () => {
    const sent = await wbemd(['mofcomp', ...at, '--token', 'mof-secret', mof]);
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    // The address as the client subcommands take it too: WBEMD_ADDRESS (or --address).
    const back = await wbemd(['mofgen', 'Auth_Widget', 'Auth_Gadget'], {
      WBEMD_TOKEN: 'mof-secret',
      WBEMD_ADDRESS: guarded.server.address,
    });
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/class Auth_Widget\b/);
    expect(back.stdout).toMatch(/class Auth_Gadget : Auth_Widget\b/);
    // The token is what let it in: mofgen without it is refused.
    const anonymous = await wbemd(['mofgen', ...at, 'Auth_Widget']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/^wbemd mofgen: WBEM_E_ACCESS_DENIED: /);
  });

  test('mofcomp --atomic with WBEMD_TOKEN, into another namespace', async () => {
    const made = await wbemd(['mofcomp', ...at, '-N', 'root/default', '--atomic', mof], {
      WBEMD_TOKEN: 'mof-secret',
    });
    expect(made).toMatchObject({ code: 0, stderr: expect.not.stringMatching(/WBEM_E/) as unknown });
    const back = await wbemd([
      'mofgen',
      '--address',
      guarded.server.address,
      '--token',
      'mof-secret',
      '-N',
      'root/default',
      'Auth_Gadget',
    ]);
    expect(back.stdout).toMatch(/class Auth_Gadget : Auth_Widget\b/);
    const refused = await wbemd(['mofcomp', ...at, '-N', 'root/default', '--atomic', mof]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/WBEM_E_ACCESS_DENIED/);
  });
});

describeWithTool(OPENSSL, 'a server that wants mutual TLS', () => {
  let pki: TestPki;
  let secure: TestServer;
  let at: string[];
  const file = (name: string): string => join(pki.dir, name);
  beforeAll(async () => {
    pki = await makeTestPki(await mkdtemp(join(dir, 'pki-')));
    secure = await startTestServer({
      tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca, requireClientCert: true },
    });
    const port = secure.server.address.split(':').pop() ?? '';
    at = ['--server', `localhost:${port}`];
  }, 60_000);
  afterAll(() => secure.close());

  test('mofcomp (its HTTP/2 sender and --atomic) and mofgen with --ca, --cert and --key', async () => {
    const mtls = () => [
      '--ca',
      file('ca.pem'),
      '--cert',
      file('client.pem'),
      '--key',
      file('client.key'),
    ];
    expect(await wbemd(['mofcomp', ...at, ...mtls(), mof])).toMatchObject({ code: 0, stderr: '' });
    const atomic = await wbemd([
      'mofcomp',
      ...at,
      ...mtls(),
      '-N',
      'root/default',
      '--atomic',
      mof,
    ]);
    expect(atomic.code).toBe(0);
    for (const namespace of ['root/cimv2', 'root/default']) {
      const back = await wbemd(['mofgen', ...at, ...mtls(), '-N', namespace, 'Auth_Gadget']);
      expect(back).toMatchObject({ code: 0, stderr: '' });
      expect(back.stdout).toMatch(/class Auth_Gadget : Auth_Widget\b/);
    }
  });

  test('without a client certificate, or in plaintext: nothing sent, exit 1', async () => {
    for (const connection of [['--ca', file('ca.pem')], []]) {
      const failed = await wbemd(['mofcomp', ...at, ...connection, '--create-only', mof]);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/class Auth_Widget: /);
      expect(failed.stderr).not.toMatch(/WBEM_E_ALREADY_EXISTS/);
    }
  });

  test('--cert without --key is a usage error (2); an unreadable --ca names the file (1)', async () => {
    const half = await wbemd(['mofcomp', ...at, '--cert', file('client.pem'), mof]);
    expect(half).toMatchObject({
      code: 2,
      stderr: 'wbemd mofcomp: --cert and --key go together\n',
    });
    const missing = join(dir, 'no-such-ca.pem');
    const unread = await wbemd(['mofgen', ...at, '--ca', missing]);
    expect(unread.code).toBe(1);
    expect(unread.stderr).toMatch(
      new RegExp(`^wbemd mofgen: cannot read the CA certificate ${missing}: ENOENT`),
    );
  });
});
