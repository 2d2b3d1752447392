/**
 * The examples of docs/clients.md run against a real server: Node (the wbemd/client package, from
 * dist/), buf curl, Python (Debian's python3-grpcio) and Go (Debian's grpc-go, GOPATH mode,
 * offline). Each prints what a user would see; the assertions check the sink transcript, the
 * final SetStatus of the failing call, and its WBEM status.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describeWithTool, runsCleanly } from '../helpers/external-tools';
import { startTestServer, type TestServer } from '../helpers/test-server';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const DESCRIPTORS = join(ROOT, 'generated/descriptor_set.binpb');
const GOPATH = '/usr/share/gocode';
jest.setTimeout(180_000);

let env: TestServer;
beforeAll(async () => {
  env = await startTestServer();
});
afterAll(() => env.close());

const lines = (stdout: string): Record<string, any>[] =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, any>);

test('Node: examples/node/put-class.ts on wbemd/client', async () => {
  const { stdout } = await run(
    process.execPath,
    [join(ROOT, 'dist/examples/node/put-class.js'), env.server.address, 'Node_Example'],
    { timeout: 60_000 },
  );
  const [create, again, get] = lines(stdout);
  expect(create).toEqual({
    call: 'create',
    progress: [
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ],
    status: 'WBEM_S_NO_ERROR',
    path: '\\\\TESTHOST\\root\\cimv2:Node_Example',
    revision: expect.any(String),
  });
  expect(again).toEqual({
    call: 'create-again',
    progress: [[1, 4]],
    status: 'WBEM_E_ALREADY_EXISTS',
    hresult: '0x80041019',
    param: 'class Node_Example already exists (WBEM_FLAG_CREATE_ONLY)',
    reason: 'WBEM_E_ALREADY_EXISTS',
  });
  expect(get).toEqual({ call: 'get', className: 'Node_Example', revision: create?.revision });
});

test('buf curl: examples/buf-curl/calls.sh', async () => {
  const { stdout, stderr } = await run(
    'bash',
    [join(ROOT, 'examples/buf-curl/calls.sh'), env.server.address],
    {
      timeout: 60_000,
    },
  );
  expect(stdout).toContain('"path": "root\\\\curl_example"');
  expect(stdout).toContain('"param": "\\\\\\\\TESTHOST\\\\root\\\\curl_example:Curl_Widget"');
  expect(stdout).toContain('"className": "Curl_Widget"');
  expect(stdout).toContain('exit status 40'); // NOT_FOUND × 8
  expect(stderr).toMatch(/wbem-status: WBEM_E_NOT_FOUND/i);
});

const PYTHON_GRPC = {
  name: "Debian's python3-grpcio and python3-grpc-tools",
  available: runsCleanly('/usr/bin/python3', ['-c', 'import grpc, grpc_tools']),
  install: 'apt-get install python3-grpcio python3-grpc-tools',
};

describeWithTool(PYTHON_GRPC, 'Python: examples/python/put_class.py', () => {
  test('the final SetStatus of a failing stream is kept, the WBEM status read from the trailers', async () => {
    const { stdout } = await run(
      '/usr/bin/python3',
      [join(ROOT, 'examples/python/put_class.py'), env.server.address, DESCRIPTORS, 'Py_Example'],
      { timeout: 60_000 },
    );
    const [create, again] = lines(stdout);
    expect(create).toMatchObject({
      code: 'OK',
      setStatus: { hresult: 'WBEM_S_NO_ERROR', param: '\\\\TESTHOST\\root\\cimv2:Py_Example' },
    });
    expect(again).toEqual({
      call: 'create-again',
      code: 'ALREADY_EXISTS',
      events: [{ progress: [1, 4] }],
      'wbem-status': 'WBEM_E_ALREADY_EXISTS',
      'wbem-hresult': '0x80041019',
      setStatus: {
        hresult: 'WBEM_E_ALREADY_EXISTS',
        param: 'class Py_Example already exists (WBEM_FLAG_CREATE_ONLY)',
      },
      errorInfo: {
        reason: 'WBEM_E_ALREADY_EXISTS',
        metadata: { namespace: 'root\\cimv2', class: 'Py_Example', hresult: '0x80041019' },
      },
    });
  });
});

const GO = {
  name: "Go with Debian's grpc-go and protobuf-go",
  available:
    runsCleanly('go', ['version']) && existsSync(join(GOPATH, 'src/google.golang.org/grpc')),
  install: 'apt-get install golang-go golang-google-grpc-dev golang-google-protobuf-dev',
};

describeWithTool(GO, 'Go: examples/go (dynamicpb over the descriptor set)', () => {
  let bin: string;
  beforeAll(async () => {
    bin = await mkdtemp(join(tmpdir(), 'wbemd-go-example-'));
  });
  afterAll(() => rm(bin, { recursive: true, force: true }));

  test('builds offline and reads the failing stream to its final SetStatus', async () => {
    const binary = join(bin, 'example');
    await run('go', ['build', '-o', binary, '.'], {
      cwd: join(ROOT, 'examples/go'),
      env: { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '', GOPROXY: 'off' },
      timeout: 150_000,
    });
    const { stdout } = await run(
      binary,
      ['-addr', env.server.address, '-descriptors', DESCRIPTORS, '-class', 'Go_Example'],
      { timeout: 60_000 },
    );
    const [create, again] = lines(stdout);
    expect(create).toMatchObject({ code: 'OK', 'wbem-status': 'WBEM_S_NO_ERROR' });
    expect(create?.events.at(-1)).toEqual({
      status: { param: '\\\\TESTHOST\\root\\cimv2:Go_Example', revision: expect.any(String) },
    });
    expect(again).toMatchObject({
      code: 'AlreadyExists',
      'wbem-status': 'WBEM_E_ALREADY_EXISTS',
      'wbem-hresult': '0x80041019',
    });
    expect(again?.events).toEqual([
      { progress: expect.objectContaining({ current: 1, total: 4 }) },
      {
        status: expect.objectContaining({
          hresult: 'WBEM_E_ALREADY_EXISTS',
          param: 'class Go_Example already exists (WBEM_FLAG_CREATE_ONLY)',
        }),
      },
    ]);
  });
});
