/**
 * `wbemd serve` refusing to start, run as the real executable: every configuration problem exits
 * 2 and every other refusal 1, each with exactly one JSON log line on stderr and nothing on
 * stdout, and none of them creates the data directory. grpc-js's own lines are JSON lines too.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServer } from '../../src/server';

const WBEMD = resolve(__dirname, '..', '..', 'bin', 'wbemd.js');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function wbemd(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [WBEMD, 'serve', ...args],
      { env: { ...process.env, ...env }, timeout: 20_000 },
      (error, stdout, stderr) =>
        done({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
    );
  });
}

/** Every line of a stream, parsed; a line that is not a JSON object fails the test, naming it. */
function jsonLines(text: string): Record<string, unknown>[] {
  const lines = text.split('\n').filter((line) => line !== '');
  const parsed = lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  });
  expect(lines.filter((_line, i) => parsed[i] === undefined)).toEqual([]);
  return parsed as Record<string, unknown>[];
}

/** A TCP port something already listens on. */
async function busyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return { port: (server.address() as AddressInfo).port, server };
}

let dir: string;
let data: string;
let busy: { port: number; server: Server };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wbemd-start-'));
  data = join(dir, 'data');
  busy = await busyPort();
  await writeFile(
    join(dir, 'bad.json'),
    JSON.stringify({ listen: 'nowhere', grpc: { keepaliveTimeMs: 'soon' } }),
  );
  await writeFile(join(dir, 'not-pem.txt'), 'this is not a certificate\n');
  await writeFile(
    join(dir, 'tls.json'),
    JSON.stringify({ tls: { cert: join(dir, 'not-pem.txt'), key: join(dir, 'not-pem.txt') } }),
  );
  await writeFile(
    join(dir, 'tls-missing.json'),
    JSON.stringify({ tls: { cert: join(dir, 'absent.pem'), key: join(dir, 'absent.pem') } }),
  );
});
afterAll(async () => {
  busy.server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a refused start: the exit status, one JSON line on stderr, nothing on stdout, no data directory', () => {
  test.each<[string, number, () => string[], RegExp]>([
    [
      'a non-loopback --listen without TLS and an ACL',
      2,
      () => ['--listen', '0.0.0.0:0'],
      /^invalid configuration: --listen: refusing to listen on 0\.0\.0\.0:0: it is not a loopback address/,
    ],
    [
      'a config file that does not validate',
      2,
      () => ['--config', join(dir, 'bad.json')],
      /^invalid configuration: .*bad\.json: "listen": "nowhere" is not HOST:PORT; .*"grpc\.keepaliveTimeMs": must be an integer/,
    ],
    [
      'a config file that cannot be read',
      2,
      () => ['--config', join(dir, 'absent.json')],
      /^invalid configuration: cannot read config file .*absent\.json/,
    ],
    [
      'a flag value that is not a number',
      2,
      () => ['--listen', '127.0.0.1:0', '--shutdown-grace-ms', 'soon'],
      /^invalid configuration: --shutdown-grace-ms: must be an integer/,
    ],
    [
      'a TLS file that cannot be read',
      2,
      () => ['--listen', '127.0.0.1:0', '--config', join(dir, 'tls-missing.json')],
      /^invalid configuration: cannot read TLS certificate .*absent\.pem/,
    ],
    [
      'a TLS certificate that is not PEM',
      2,
      () => ['--listen', '127.0.0.1:0', '--config', join(dir, 'tls.json')],
      /^cannot load the TLS certificate, key or client CA: /,
    ],
    [
      'a --listen port something else listens on',
      1,
      () => ['--listen', `127.0.0.1:${busy.port}`],
      /^cannot listen on 127\.0\.0\.1:\d+ \(listen\): the address is already in use$/,
    ],
    [
      'a --metrics-listen port something else listens on',
      1,
      () => ['--listen', '127.0.0.1:0', '--metrics-listen', `127.0.0.1:${busy.port}`],
      /^cannot listen on 127\.0\.0\.1:\d+ \(metricsListen\): the address is already in use$/,
    ],
  ])('%s: exit %i', async (_label, code, args, message) => {
    const run = await wbemd(['--data', data, ...args()]);
    expect(run.code).toBe(code);
    expect(run.stdout).toBe('');
    const lines = jsonLines(run.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 60, msg: expect.stringMatching(message) });
    expect(existsSync(data)).toBe(false);
  });

  test('the busy address is named in the line, with the system error code', async () => {
    const run = await wbemd(['--listen', `127.0.0.1:${busy.port}`, '--data', data]);
    expect(jsonLines(run.stderr)[0]).toMatchObject({
      address: `127.0.0.1:${busy.port}`,
      code: 'EADDRINUSE',
    });
  });

  test('a data directory another server holds: exit 1, one line naming STORE_LOCKED', async () => {
    const held = join(dir, 'held');
    const other = await startServer({ listen: '127.0.0.1:0', dataDir: held });
    try {
      const run = await wbemd(['--listen', '127.0.0.1:0', '--data', held]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      const lines = jsonLines(run.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: 60,
        code: 'STORE_LOCKED',
        msg: expect.stringContaining('is in use by another process'),
      });
    } finally {
      await other.stop();
    }
  });
});

test("grpc-js's own log lines (GRPC_TRACE) are JSON lines of the server's log; SIGTERM still exits 0", async () => {
  const child = spawn(
    process.execPath,
    [
      WBEMD,
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--data',
      join(dir, 'traced'),
      '--log-level',
      'debug',
    ],
    { env: { ...process.env, GRPC_TRACE: 'server', GRPC_VERBOSITY: 'DEBUG' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  for (let tries = 0; !stdout.includes('listening on') && tries < 200; tries++)
    await new Promise((wait) => setTimeout(wait, 50));
  expect(stdout).toMatch(/^listening on 127\.0\.0\.1:\d+\n$/);
  child.kill('SIGTERM');
  const [code] = (await exited) as [number];
  expect(code).toBe(0);
  const lines = jsonLines(stderr);
  expect(lines.filter((line) => line.component === 'grpc-js').length).toBeGreaterThan(0);
  expect(lines.at(-1)).toMatchObject({ msg: 'stopped' });
});
