/**
 * A Node program with its own copy of @grpc/grpc-js that imports `wbemd/client` (through the
 * package's `exports`, from the built dist/): the situation in which the generated client fails
 * with "Channel credentials must be a ChannelCredentials object". The program lives in a temp dir
 * whose node_modules holds a second, real copy of grpc-js and a link to this package.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../helpers/test-server';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');

const PROGRAM = `
const assert = require('node:assert');
const grpc = require('@grpc/grpc-js'); // the program's own copy
const { WbemClient, WbemError } = require('wbemd/client');
const address = process.argv[2];
const report = {};
(async () => {
  // Two copies really are there.
  report.ownCopy = require.resolve('@grpc/grpc-js');
  report.wbemdCopy = require.resolve('@grpc/grpc-js', { paths: [require.resolve('wbemd/client')] });
  // The generated client, built on wbemd's copy, refuses this program's credentials.
  const { WbemServicesClient } = require(${JSON.stringify(join(ROOT, 'dist/generated/wbem/v1/services.js'))});
  try { new WbemServicesClient(address, grpc.credentials.createInsecure()); report.generated = 'accepted'; }
  catch (error) { report.generated = error.message; }

  const get = (client) => client.getClass({ namespace: 'root/cimv2', className: 'CIM_Nothing' })
    .then(() => 'found', (error) => error instanceof WbemError ? error.status : String(error));
  // 1. Plain options: the client builds its own credentials.
  const plain = new WbemClient({ address });
  report.plain = await get(plain);
  plain.close();
  // 2. The program's credentials with the program's grpc-js module.
  const own = new WbemClient({ address, credentials: grpc.credentials.createInsecure(), grpc });
  report.ownModule = await get(own);
  own.close();
  // 3. The program's credentials alone: a clear error instead of grpc-js's.
  try { new WbemClient({ address, credentials: grpc.credentials.createInsecure() }); report.foreign = 'accepted'; }
  catch (error) { report.foreign = error.message; }
  console.log(JSON.stringify(report));
})().catch((error) => { console.error(error); process.exit(1); });
`;

let env: TestServer;
let dir: string;
beforeAll(async () => {
  env = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'wbemd-two-grpc-'));
  await mkdir(join(dir, 'node_modules/@grpc'), { recursive: true });
  await cp(join(ROOT, 'node_modules/@grpc/grpc-js'), join(dir, 'node_modules/@grpc/grpc-js'), {
    recursive: true,
  });
  await symlink(ROOT, join(dir, 'node_modules/wbemd'), 'dir');
  await writeFile(join(dir, 'program.js'), PROGRAM);
});
afterAll(async () => {
  await env.close();
  await rm(dir, { recursive: true, force: true });
});

test('wbemd/client works beside a second copy of @grpc/grpc-js', async () => {
  const { stdout } = await run(process.execPath, [join(dir, 'program.js'), env.server.address], {
    cwd: dir,
    // grpc-js's own dependencies (proto-loader, ordered-map) resolve from this checkout.
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
    timeout: 30_000,
  });
  const report = JSON.parse(stdout) as Record<string, string>;
  expect(report.ownCopy).toBe(join(dir, 'node_modules/@grpc/grpc-js/build/src/index.js'));
  expect(report.wbemdCopy).toBe(join(ROOT, 'node_modules/@grpc/grpc-js/build/src/index.js'));
  expect(report.generated).toBe('Channel credentials must be a ChannelCredentials object');
  expect(report.plain).toBe('WBEM_E_NOT_FOUND');
  expect(report.ownModule).toBe('WBEM_E_NOT_FOUND');
  expect(report.foreign).toMatch(/another copy of @grpc\/grpc-js.*pass that module as `grpc`/);
});

const CONSUMER = `
import * as grpc from '@grpc/grpc-js';
import { WbemClient, WbemError, type ClassObject, type SinkResult } from 'wbemd/client';

const client = new WbemClient({ address: '127.0.0.1:1', credentials: grpc.credentials.createInsecure(), grpc });
async function use(object: ClassObject): Promise<string> {
  const sink = client.putClassAsync({ namespace: 'root/cimv2', object, flags: 128 });
  for await (const step of sink.events()) console.log(step.current, step.total, step.message);
  const done: SinkResult = await sink.result();
  const wrong: number = done.path; // a type error the check must report
  return done.path + String(wrong);
}
export const failed = (error: unknown): string | undefined =>
  error instanceof WbemError ? error.status + error.hresult : undefined;
export { use };
`;

test('a TypeScript program type-checks against wbemd/client through the exports and .d.ts', async () => {
  await writeFile(join(dir, 'consumer.ts'), CONSUMER);
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const check = (file: string) =>
    run(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        // The copied grpc-js lacks its own dependencies' types here; the program's types are checked.
        '--skipLibCheck',
        '--module',
        'node16',
        '--moduleResolution',
        'node16',
        '--target',
        'es2022',
        '--types',
        'node',
        '--typeRoots',
        join(ROOT, 'node_modules/@types'),
        file,
      ],
      { cwd: dir, timeout: 120_000 },
    ).then(
      () => '',
      (error: Error & { stdout?: string }) => error.stdout ?? error.message,
    );
  // Exactly the planted error: everything else (the package's types, the generated ones, the
  // program's own grpc-js passed as \`grpc\`) resolves and fits.
  const errors = (await check('consumer.ts')).trim().split('\n');
  expect(errors).toEqual([
    expect.stringMatching(
      /^consumer\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'\.$/,
    ),
  ]);
}, 150_000);
