/**
 * The `store` section, its flags and environment, and `wbemd serve` refusing to start on etcd:
 * an endpoint that does not answer exits 1, TLS files that cannot be read exit 2, each with one
 * JSON fatal line. No etcd is needed: nothing listens on the endpoint.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { ConfigError, resolveServeConfig, type ConfigSources } from '../../src/cli/config';
import { freePort } from '../helpers/etcd';

const WBEMD = resolve(__dirname, '..', '..', 'bin', 'wbemd.js');

const resolveConfig = (sources: Partial<ConfigSources>) =>
  resolveServeConfig({ flags: {}, env: {}, ...sources });

function problemsOf(sources: Partial<ConfigSources>): readonly string[] {
  try {
    resolveConfig(sources);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const file = (content: unknown) => ({ path: 'wbemd.json', text: JSON.stringify(content) });

test('no store section: LevelDB', () => {
  expect(resolveConfig({}).etcd).toBeUndefined();
});

test('the file chooses etcd; environment and flags override it field by field', () => {
  const fromFile = resolveConfig({
    file: file({
      store: {
        etcd: {
          endpoints: ['https://e1:2379', 'https://e2:2379'],
          prefix: '/a/',
          tls: { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem' },
          requestTimeoutMs: 2000,
        },
      },
    }),
  });
  expect(fromFile.etcd).toEqual({
    endpoints: ['https://e1:2379', 'https://e2:2379'],
    prefix: '/a/',
    tls: { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem' },
    requestTimeoutMs: 2000,
  });
  const overridden = resolveConfig({
    file: file({ store: { etcd: { endpoints: ['http://e1:2379'], prefix: '/a/' } } }),
    env: { WBEMD_ETCD_ENDPOINTS: 'http://x:1, http://y:2', WBEMD_ETCD_PREFIX: '/env/' },
    flags: { 'etcd-prefix': '/flag/' },
  });
  expect(overridden.etcd).toEqual({
    endpoints: ['http://x:1', 'http://y:2'],
    prefix: '/flag/',
    tls: undefined,
    requestTimeoutMs: 5000,
  });
  expect(resolveConfig({ flags: { 'etcd-endpoints': 'http://127.0.0.1:2379' } }).etcd?.prefix).toBe(
    '/wbemd/',
  );
});

test('every problem of the section is reported, naming where it came from', () => {
  expect(problemsOf({ file: file({ store: { leveldb: {} } }) })).toEqual([
    'wbemd.json: "store" must be {} or {"etcd": {...}}',
  ]);
  expect(problemsOf({ file: file({ store: { etcd: { prefix: '/p/' } } }) })).toEqual([
    'wbemd.json: "store.etcd" needs "endpoints"',
  ]);
  expect(
    problemsOf({
      flags: { 'etcd-endpoints': 'etcd:2379', 'etcd-cert': 'c.pem' },
      file: file({ store: { etcd: { requestTimeoutMs: 5 } } }),
    }),
  ).toEqual([
    '--etcd-endpoints: must be etcd client URLs (http://HOST:PORT or https://HOST:PORT), got "etcd:2379"',
    'etcd TLS: a client certificate and its key go together (tls.cert and tls.key)',
    "etcd TLS: a client certificate needs the CA of etcd's server certificate (tls.ca)",
    'wbemd.json: "store.etcd.requestTimeoutMs" must be an integer from 100 to 600000',
  ]);
  expect(
    problemsOf({ env: { WBEMD_ETCD_ENDPOINTS: 'http://e:2379', WBEMD_ETCD_CA: 'ca.pem' } }),
  ).toEqual(['etcd TLS: the endpoints must be https:// URLs when tls is configured']);
});

function serve(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [WBEMD, 'serve', '--listen', '127.0.0.1:0', ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) =>
        done({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
    );
  });
}

test('an etcd that does not answer at start: exit 1 and one JSON fatal line naming it', async () => {
  const endpoint = `http://127.0.0.1:${await freePort()}`;
  const run = await serve(['--etcd-endpoints', endpoint]);
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
  expect(line.level).toBe(60);
  expect(line.msg).toContain(`cannot reach etcd at ${endpoint}`);
  expect(line.code).toBe('STORE_UNAVAILABLE');
}, 40_000);

test('etcd TLS files that cannot be read: exit 2', async () => {
  const endpoint = `https://127.0.0.1:${await freePort()}`;
  const run = await serve(['--etcd-endpoints', endpoint, '--etcd-ca', '/nonexistent/ca.pem']);
  expect(run.code).toBe(2);
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  expect((JSON.parse(lines[0] as string) as { msg: string }).msg).toContain(
    'cannot use the etcd TLS files',
  );
}, 40_000);
