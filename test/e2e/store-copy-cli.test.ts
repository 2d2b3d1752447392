/**
 * `wbemd store copy` as a user runs it (the built CLI, a child process): a repository written
 * through a real server is copied from its LevelDB directory into another, and a server started
 * on the copy answers EnumClasses and EnumInstances exactly as the original did. Refusals: a
 * source a server still holds, a target that is not empty (unless --force), a missing source.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { WbemServicesClient } from '../../generated/wbem/v1/services';
import type { ClassObject, Instance } from '../../generated/wbem/v1/cim';
import { startServer, type RunningServer } from '../../src/server';
import { EtcdClassStore } from '../../src/store/etcd/etcd-class-store';
import { etcdTool, startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster';
import { describeWithTool } from '../helpers/external-tools';
import { deadline, responseOf, unary } from '../helpers/transcript';

const run = promisify(execFile);
const WBEMD = resolve(__dirname, '..', '..', 'bin', 'wbemd.js');

const wbemd = (args: string[]) =>
  run(process.execPath, [WBEMD, ...args]).then(
    (result) => ({ code: 0, ...result }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

const MOF = `
Qualifier Key : boolean = false, Scope(property, reference), Flavor(DisableOverride, ToSubclass);
Qualifier Units : string = null, Scope(property, method, parameter);
class Zz_Base { [Key] string Id; };
class Aa_Disk : Zz_Base { [Units("bytes")] uint64 Size; };
instance of Zz_Base { Id = "b"; };
instance of Aa_Disk { Id = "C:"; Size = 512; };
instance of Aa_Disk { Id = "D:"; Size = 1024; };
`;

let scratch: string;
/** The source repository the first test builds, and what a client saw of it (the etcd test copies it again). */
let built: { dir: string; view: unknown } | undefined;
const servers: { server: RunningServer; client: WbemServicesClient }[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'wbemd-store-copy-'));
});
afterAll(async () => {
  for (const { server, client } of servers) {
    client.close();
    await server.stop();
  }
  await rm(scratch, { recursive: true, force: true });
});

async function serve(
  dataDir: string,
  store?: EtcdClassStore,
): Promise<{ server: RunningServer; client: WbemServicesClient }> {
  const server = await startServer({
    listen: '127.0.0.1:0',
    dataDir,
    ...(store === undefined ? {} : { store }),
    serverName: 'TESTHOST',
    shutdownGraceMs: 2_000,
  });
  const client = new WbemServicesClient(server.address, credentials.createInsecure());
  const running = { server, client };
  servers.push(running);
  return running;
}

async function stop(running: { server: RunningServer; client: WbemServicesClient }): Promise<void> {
  running.client.close();
  await running.server.stop();
  servers.splice(servers.indexOf(running), 1);
}

function collect<T>(call: NodeJS.ReadableStream): Promise<T[]> {
  return new Promise((resolvePromise, reject) => {
    const items: T[] = [];
    call.on('data', (item: T) => items.push(item));
    call.on('error', reject);
    call.on('end', () => resolvePromise(items));
  });
}

/** What a client sees of a namespace: every user class (resolved) and every instance of Zz_Base (deep). */
async function view(client: WbemServicesClient, namespace: string): Promise<unknown> {
  const classes = await collect<ClassObject>(
    client.enumClasses(
      { namespace, superclass: '', deep: true, localOnly: false },
      new Metadata(),
      deadline(),
    ),
  );
  const instances = await collect<Instance>(
    client.enumInstances(
      { namespace, className: 'Zz_Base', deep: true },
      new Metadata(),
      deadline(),
    ),
  );
  return { classes: classes.filter((c) => !c.className.startsWith('__')), instances };
}

test('a LevelDB repository copied with `wbemd store copy` serves the same classes and instances', async () => {
  const source = join(scratch, 'source');
  const target = join(scratch, 'target');
  const mof = join(scratch, 'schema.mof');
  await writeFile(mof, MOF);

  const original = await serve(source);
  responseOf(
    await unary((cb) =>
      original.client.createNamespace(
        { parent: 'root', name: 'Extra' },
        new Metadata(),
        deadline(),
        cb,
      ),
    ),
  );
  for (const namespace of ['root/cimv2', 'root/Extra']) {
    const compiled = await wbemd([
      'mofcomp',
      '--server',
      original.server.address,
      '-N',
      namespace,
      '--atomic',
      mof,
    ]);
    expect(compiled.code).toBe(0);
  }
  const before = {
    cimv2: await view(original.client, 'root/cimv2'),
    extra: await view(original.client, 'root/Extra'),
  };
  expect((before.cimv2 as { instances: unknown[] }).instances).toHaveLength(3);
  built = { dir: source, view: before };

  // The running server holds the LevelDB lock: the copy is refused and creates nothing.
  const locked = await wbemd(['store', 'copy', '--from-data-dir', source, '--to-data-dir', target]);
  expect(locked.code).toBe(1);
  expect(locked.stderr).toMatch(/^wbemd store copy: STORE_LOCKED: /);
  await stop(original);

  const copied = await wbemd(['store', 'copy', '--from-data-dir', source, '--to-data-dir', target]);
  expect(copied.stderr).toBe('');
  expect(copied.code).toBe(0);
  expect(copied.stdout.split('\n').at(-2)).toBe(
    'copied 4 namespaces, 4 qualifier declarations, 4 classes, 6 instances (4 commits)',
  );

  const again = await wbemd(['store', 'copy', '--from-data-dir', source, '--to-data-dir', target]);
  expect(again.code).toBe(1);
  expect(again.stderr).toBe(
    'wbemd store copy: the target store is not empty (2 classes in root\\cimv2); nothing was copied (--force merges into it)\n',
  );
  const forced = await wbemd([
    'store',
    'copy',
    '--from-data-dir',
    source,
    '--to-data-dir',
    target,
    '--force',
  ]);
  expect(forced.code).toBe(0);

  const copy = await serve(target);
  expect({
    cimv2: await view(copy.client, 'root/cimv2'),
    extra: await view(copy.client, 'root/Extra'),
  }).toEqual(before);
  await stop(copy);
}, 60_000);

test('usage errors exit 2 and create nothing', async () => {
  const missing = join(scratch, 'no-such-dir');
  const target = join(scratch, 'unused-target');
  const result = await wbemd([
    'store',
    'copy',
    '--from-data-dir',
    missing,
    '--to-data-dir',
    target,
  ]);
  expect(result.code).toBe(2);
  expect(result.stderr.split('\n')[0]).toBe(
    `wbemd store: --from-data-dir ${missing} does not exist`,
  );
  expect(existsSync(missing)).toBe(false);
  expect(existsSync(target)).toBe(false);
  const noTarget = await wbemd(['store', 'copy', '--from-data-dir', scratch]);
  expect(noTarget.code).toBe(2);
  expect((await wbemd(['store', 'move'])).code).toBe(2);
});

describeWithTool(etcdTool, '`wbemd store copy` into etcd', () => {
  let etcd: EtcdCluster | undefined;
  beforeAll(async () => {
    etcd = await startEtcdCluster({ size: 1 });
  }, 60_000);
  afterAll(async () => {
    await etcd?.stop();
  });

  test('LevelDB → etcd: a server on the etcd store serves what the LevelDB one did', async () => {
    if (built === undefined) throw new Error('needs the LevelDB source of the first test');
    const endpoints = etcd!.endpoints.join(',');
    const copied = await wbemd([
      'store',
      'copy',
      '--from-data-dir',
      built.dir,
      '--to-etcd',
      endpoints,
      '--etcd-prefix',
      '/migrated/',
    ]);
    expect(copied.stderr).toBe('');
    expect(copied.code).toBe(0);
    expect(copied.stdout.split('\n')[0]).toBe(
      `copying LevelDB ${built.dir} into etcd ${endpoints} under /migrated/`,
    );
    expect(copied.stdout.split('\n').at(-2)).toMatch(
      /^copied 4 namespaces, 4 qualifier declarations, 4 classes, 6 instances \(\d+ commits\)$/,
    );
    const store = new EtcdClassStore({ endpoints: etcd!.endpoints, prefix: '/migrated/' });
    const migrated = await serve(join(scratch, 'unused'), store);
    expect({
      cimv2: await view(migrated.client, 'root/cimv2'),
      extra: await view(migrated.client, 'root/Extra'),
    }).toEqual(built.view);
    await stop(migrated);
    const again = await wbemd([
      'store',
      'copy',
      '--from-data-dir',
      built.dir,
      '--to-etcd',
      endpoints,
      '--etcd-prefix',
      '/migrated/',
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('the target store is not empty');
  }, 60_000);

  test('etcd that does not answer: exit 1 within the request timeout, with the store error', async () => {
    if (built === undefined) throw new Error('needs the LevelDB source of the first test');
    const started = Date.now();
    const result = await wbemd([
      'store',
      'copy',
      '--from-data-dir',
      built.dir,
      '--to-etcd',
      'http://127.0.0.1:1',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^wbemd store copy: STORE_UNAVAILABLE: /);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);
});
