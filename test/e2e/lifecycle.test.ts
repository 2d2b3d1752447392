import { credentials, Metadata, status as Code, type ClientReadableStream } from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import {
  type HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
  HealthClient,
} from '../../generated/grpc/health/v1/health';
import { WbemServicesClient, type ObjectSinkEvent } from '../../generated/wbem/v1/services';
import { WbemStatus } from '../../generated/wbem/v1/status';
import { startServer } from '../../src/server';
import { LevelClassStore } from '../../src/store/level/level-class-store';
import { GatedStore } from '../helpers/gated-store';
import { spawnServe } from '../helpers/wbemd-process';
import { failingWrites } from '../helpers/level-faults';
import { deadline, failureOf, transcript, unary } from '../helpers/transcript';
import { keyed, SEND_STATUS } from './fixtures';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');

async function gatedServer(at: 'getClass' | 'commitDurable') {
  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-life-'));
  const store = new GatedStore(new LevelClassStore(dataDir), at);
  const server = await startServer({
    listen: '127.0.0.1:0',
    store,
    serverName: 'TESTHOST',
    shutdownGraceMs: 5_000,
  });
  const client = new WbemServicesClient(server.address, credentials.createInsecure());
  return { dataDir, store, server, client };
}

describe('server lifecycle', () => {
  test('health is SERVING while open; stop() turns it NOT_SERVING, lets an in-flight stream finish, then closes the store', async () => {
    const { dataDir, store, server, client } = await gatedServer('commitDurable');
    const health = new HealthClient(server.address, credentials.createInsecure());
    const check = await unary<HealthCheckResponse>((cb) =>
      health.check({ service: 'wbem.v1.WbemServices' }, new Metadata(), deadline(), cb),
    );
    expect(check.response?.status).toBe(HealthCheckResponse_ServingStatus.SERVING);

    const watch = health.watch({ service: '' }, new Metadata(), deadline());
    const seen: HealthCheckResponse_ServingStatus[] = [];
    const notServing = new Promise<void>((done) =>
      watch.on('data', (r: HealthCheckResponse) => {
        seen.push(r.status);
        if (r.status === HealthCheckResponse_ServingStatus.NOT_SERVING) done();
      }),
    );
    watch.on('error', () => undefined);

    store.arm();
    const inFlight = transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Ex_Drained'), flags: SEND_STATUS },
        new Metadata(),
        deadline(),
      ),
    );
    await store.reached; // committed, held before durable
    const stopping = server.stop();
    await notServing;
    expect(seen).toEqual([
      HealthCheckResponse_ServingStatus.SERVING,
      HealthCheckResponse_ServingStatus.NOT_SERVING,
    ]);
    watch.cancel(); // a Watch never ends by itself and would hold the drain to its deadline

    const late = await unary((cb) =>
      client.getClass(
        { namespace: 'root/cimv2', className: 'Ex_Drained', localOnly: false, asMof: false },
        new Metadata(),
        deadline(),
        cb,
      ),
    );
    expect(failureOf(late).code).toBe(Code.UNAVAILABLE);

    store.release();
    const drained = await inFlight;
    expect(drained.end.code).toBe(Code.OK);
    expect(drained.messages.at(-1)?.event?.$case).toBe('status');
    await stopping;
    expect(store.isOpen).toBe(false);
    client.close();
    health.close();
    const reopened = new LevelClassStore(dataDir);
    await reopened.open();
    expect((await reopened.listClasses('root\\cimv2' as never)).map((c) => c.name)).toEqual([
      'Ex_Drained',
    ]);
    await reopened.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('a client cancel before the commit point writes nothing', async () => {
    const { dataDir, store, server, client } = await gatedServer('getClass');
    store.arm();
    const call: ClientReadableStream<ObjectSinkEvent> = client.putClassAsync(
      { namespace: 'root/cimv2', object: keyed('Ex_Cancelled'), flags: SEND_STATUS },
      new Metadata(),
      deadline(),
    );
    const ended = transcript(call);
    await store.reached; // the operation is loading, before any write
    call.cancel();
    // A later call on the same connection is handled after the server saw the cancel (HTTP/2 frames are ordered).
    await transcript(
      client.enumNamespaces({ parent: 'root', deep: false }, new Metadata(), deadline()),
    );
    store.release();
    expect((await ended).end.code).toBe(Code.CANCELLED);
    const get = await unary((cb) =>
      client.getClass(
        { namespace: 'root/cimv2', className: 'Ex_Cancelled', localOnly: false, asMof: false },
        new Metadata(),
        deadline(),
        cb,
      ),
    );
    expect(failureOf(get).errorInfo?.reason).toBe('WBEM_E_NOT_FOUND');
    client.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('a deadline that passes before the commit point writes nothing; the server sees it through its own timer', async () => {
    const { dataDir, store, server, client } = await gatedServer('getClass');
    store.arm();
    const call = client.putClassAsync(
      { namespace: 'root/cimv2', object: keyed('Ex_Late'), flags: SEND_STATUS },
      new Metadata(),
      { deadline: new Date(Date.now() + 300) },
    );
    const ended = transcript(call);
    await store.reached; // held while loading, before any write
    expect((await ended).end.code).toBe(Code.DEADLINE_EXCEEDED);
    // Released after the deadline: the operation must notice and write nothing.
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
    store.release();
    // Give a (wrongly) continuing operation time to write before looking.
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    const get = await unary((cb) =>
      client.getClass(
        { namespace: 'root/cimv2', className: 'Ex_Late', localOnly: false, asMof: false },
        new Metadata(),
        deadline(),
        cb,
      ),
    );
    expect(failureOf(get).errorInfo?.reason).toBe('WBEM_E_NOT_FOUND');
    client.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('a second server on the same data directory fails to start with a clear message', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-lock-'));
    const first = await startServer({ listen: '127.0.0.1:0', dataDir });
    await expect(startServer({ listen: '127.0.0.1:0', dataDir })).rejects.toMatchObject({
      code: 'STORE_LOCKED',
    });
    await first.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
});

describe('a failed durable write', () => {
  test('fails the call with WBEM_E_FAILED (nothing acknowledged) and turns health NOT_SERVING', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-fail-'));
    const server = await startServer({ listen: '127.0.0.1:0', dataDir, serverName: 'TESTHOST' });
    const client = new WbemServicesClient(server.address, credentials.createInsecure());
    const health = new HealthClient(server.address, credentials.createInsecure());
    // Fault injection: classic-level's batch write fails, as a full or broken disk would.
    let restarted: Awaited<ReturnType<typeof startServer>> | undefined;
    const fault = await failingWrites();
    try {
      const result = await transcript(
        client.putClassAsync(
          { namespace: 'root/cimv2', object: keyed('Ex_Doomed'), flags: SEND_STATUS },
          new Metadata(),
          deadline(),
        ),
      );
      const final = result.messages.at(-1)?.event;
      expect(final?.$case).toBe('status');
      expect(final?.$case === 'status' ? final.status.hresult : undefined).toBe(
        WbemStatus.WBEM_E_FAILED,
      );
      // Stages 1–3 happened; "synced to disk" never did.
      expect(
        result.messages
          .filter((m) => m.event?.$case === 'progress')
          .map((m) => (m.event?.$case === 'progress' ? m.event.progress.current : 0)),
      ).toEqual([1, 2, 3]);
      expect(result.end.code).toBe(Code.INTERNAL);
      expect(result.end.trailers['wbem-status']).toBe('WBEM_E_FAILED');
      expect(result.end.details).toMatch(/internal error \(operation [0-9a-f-]+\)/);
      expect(result.end.details).not.toContain('simulated');
      fault.restore();
      const check = await unary<HealthCheckResponse>((cb) =>
        health.check({ service: '' }, new Metadata(), deadline(), cb),
      );
      expect(check.response?.status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
      const read = await unary((cb) =>
        client.getClass(
          { namespace: 'root/cimv2', className: 'Ex_Doomed', localOnly: false, asMof: false },
          new Metadata(),
          deadline(),
          cb,
        ),
      );
      expect(failureOf(read).code).toBe(Code.INTERNAL);
      await server.stop();
      // After a restart the class that was never acknowledged is not there.
      restarted = await startServer({ listen: '127.0.0.1:0', dataDir, serverName: 'TESTHOST' });
      const reader = new WbemServicesClient(restarted.address, credentials.createInsecure());
      const missing = await unary((cb) =>
        reader.getClass(
          { namespace: 'root/cimv2', className: 'Ex_Doomed', localOnly: false, asMof: false },
          new Metadata(),
          deadline(),
          cb,
        ),
      );
      expect(failureOf(missing).code).toBe(Code.NOT_FOUND);
      reader.close();
    } finally {
      fault.restore();
      client.close();
      health.close();
      await server.stop();
      await restarted?.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('external clients and the command line', () => {
  test('buf curl, through reflection alone, lists the services, creates a class and reports a failure', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-buf-'));
    const server = await startServer({ listen: '127.0.0.1:0', dataDir, serverName: 'BUFHOST' });
    const buf = join(ROOT, 'node_modules', '.bin', 'buf');
    const url = `http://${server.address}`;
    try {
      const methods = await run(buf, [
        'curl',
        '--protocol',
        'grpc',
        '--http2-prior-knowledge',
        '--list-methods',
        url,
      ]);
      expect(methods.stdout).toContain('wbem.v1.WbemServices/PutClassAsync');
      const body = JSON.stringify({
        namespace: 'root/cimv2',
        flags: 130,
        object: {
          class_name: 'Buf_Widget',
          properties: [
            {
              name: 'Id',
              type: 'CIM_STRING',
              qualifiers: [{ name: 'Key', value: { boolean: true } }],
            },
          ],
        },
      });
      const created = await run(buf, [
        'curl',
        '--protocol',
        'grpc',
        '--http2-prior-knowledge',
        '-d',
        body,
        `${url}/wbem.v1.WbemServices/PutClassAsync`,
      ]);
      const events = created.stdout
        .trim()
        .split(/\n(?=\{)/)
        .map((chunk) => JSON.parse(chunk) as Record<string, unknown>);
      expect(events.at(-1)).toEqual({
        status: { param: '\\\\BUFHOST\\root\\cimv2:Buf_Widget', revision: '1' },
      });
      expect(events.filter((e) => 'progress' in e)).toHaveLength(4);
      const again = await run(buf, [
        'curl',
        '--protocol',
        'grpc',
        '--http2-prior-knowledge',
        '-d',
        body,
        `${url}/wbem.v1.WbemServices/PutClassAsync`,
      ]).then(
        () => undefined,
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      // buf curl exits with the gRPC code × 8: ALREADY_EXISTS (6) → 48.
      expect(again?.code).toBe(48);
      expect(again?.stdout).toContain('WBEM_E_ALREADY_EXISTS');
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('wbemd serve prints one listening line, serves, and exits 0 on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-cli-'));
    const child = spawnServe(dataDir);
    child.stderr.resume();
    const lines = createInterface({ input: child.stdout });
    const [first] = (await once(lines, 'line')) as [string];
    const match = /^listening on (127\.0\.0\.1:\d+)$/.exec(first);
    expect(match).not.toBeNull();
    const client = new WbemServicesClient(match?.[1] ?? '', credentials.createInsecure());
    const tr = await transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Cli_Widget'), flags: 0 },
        new Metadata(),
        deadline(),
      ),
    );
    expect(tr.end.code).toBe(Code.OK);
    client.close();
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    lines.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  // A supervisor may signal the moment it reads the listening line. Without a handler by then,
  // SIGTERM kills the process (exit code null): 14 of 20 such starts did before the fix, so five
  // in a row all pass by chance less than once in 400.
  test('a SIGTERM sent as the listening line is read still stops gracefully: exit 0, "stopped" logged', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-cli-'));
    try {
      for (let start = 0; start < 5; start++) {
        const child = spawnServe(dataDir);
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        const exited = once(child, 'exit');
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          if (chunk.startsWith('listening on ')) child.kill('SIGTERM');
        });
        const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
        expect({ start, code, signal }).toEqual({ start, code: 0, signal: null });
        expect(stderr).toContain('"msg":"stopped"');
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  // `--log-level debug` writes `starting` at once, when the start-up handlers are in, before the
  // store opens and the ports bind; the signal is sent as that line is read. Without those
  // handlers SIGTERM's default action killed the process then.
  test('a SIGTERM while the server starts stops it once it is up: exit 0, no listening line, "stopped" logged', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-cli-'));
    let unannounced = 0;
    try {
      for (let start = 0; start < 5; start++) {
        const child = spawnServe(dataDir, ['--log-level', 'debug']);
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          if (!stderr.includes('"msg":"starting"') && chunk.includes('"msg":"starting"'))
            child.kill('SIGTERM');
          stderr += chunk;
        });
        const exited = once(child, 'exit');
        const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
        expect({ start, code, signal }).toEqual({ start, code: 0, signal: null });
        expect(stderr).toContain('"msg":"stopped"');
        if (!stdout.includes('listening on')) {
          unannounced++;
          expect(stderr).toContain('"msg":"shutting down: signalled while starting"');
        }
      }
      // A start may finish before the signal lands (it then prints the line); most do not.
      expect(unannounced).toBeGreaterThanOrEqual(3);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
