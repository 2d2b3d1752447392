/**
 * A real third-language client: Debian's python3-grpcio (installed by .ci/run) against a real
 * server, with stubs generated from the committed descriptor set. Asserts what a Python user
 * sees: the sink transcript, the trailers, the decoded ErrorInfo, uint64 max exact.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServer, type RunningServer } from '../../src/server';
import { describeWithTool, runsCleanly } from '../helpers/external-tools';

const run = promisify(execFile);

const PYTHON_GRPC = {
  name: "Debian's python3-grpcio and python3-grpc-tools",
  available: runsCleanly('/usr/bin/python3', ['-c', 'import grpc, grpc_tools']),
  install: 'apt-get install python3-grpcio python3-grpc-tools',
};

describeWithTool(PYTHON_GRPC, 'Python grpcio client', () => {
  let server: RunningServer;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wbemd-py-e2e-'));
    server = await startServer({ listen: '127.0.0.1:0', dataDir, serverName: 'PYHOST' });
  });

  afterAll(async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('creates a class with progress, fails CREATE_ONLY with trailers and ErrorInfo, reads uint64 max back', async () => {
    const { stdout } = await run(
      '/usr/bin/python3',
      [join(__dirname, 'python', 'wbem_client.py'), server.address],
      { timeout: 60_000 },
    );
    const calls = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const byName = Object.fromEntries(calls.map((c) => [c.call as string, c]));

    const create = byName.create as { code: string; events: Record<string, unknown>[] };
    expect(create.code).toBe('OK');
    const progress = create.events
      .filter((e) => 'progress' in e)
      .map((e) => e.progress as [number, number]);
    expect(progress.length).toBeGreaterThan(0);
    for (const [current, total] of progress) expect(current).toBeLessThanOrEqual(total);
    expect(create.events.at(-1)).toEqual({
      status: 'WBEM_S_NO_ERROR',
      param: '\\\\PYHOST\\root\\cimv2:Py_Widget',
    });

    // SEND_STATUS: the stage done before the rule failed (loading), then the one final status.
    expect(byName['create-again']).toMatchObject({
      code: 'ALREADY_EXISTS',
      events: [{ progress: [1, 4] }, { status: 'WBEM_E_ALREADY_EXISTS' }],
      'wbem-status': 'WBEM_E_ALREADY_EXISTS',
      'wbem-hresult': '0x80041019',
      errorInfo: {
        reason: 'WBEM_E_ALREADY_EXISTS',
        domain: 'wbem.v1',
        metadata: expect.objectContaining({ hresult: '0x80041019' }),
      },
    });

    expect(byName.get).toEqual({
      call: 'get',
      class: 'Py_Widget',
      path: '\\\\PYHOST\\root\\cimv2:Py_Widget',
      big: '18446744073709551615',
    });

    expect(byName['bad-flags']).toMatchObject({
      code: 'INVALID_ARGUMENT',
      events: [],
      'wbem-status': 'WBEM_E_INVALID_PARAMETER',
      errorInfo: { reason: 'WBEM_E_INVALID_PARAMETER' },
    });
  });
});
