/**
 * P3's floors (bench/scenarios/schema-floor.ts) are only floors if their client sends what the
 * command sends and their servers answer as wbemd answers: the built `bench/bare-mofcomp.js` loads
 * a small MOF into a real wbemd (every class written, subclasses after their superclasses), the
 * bare server replaying a recorded PutClassAsync answer under wbemd's method path answers the same
 * bytes wbemd answered, and the skeleton (the floor with wbemd's contract) makes every class the
 * client sends durable before it answers.
 */
import { Metadata } from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Level } from 'level';
import { WbemServicesService } from '../../generated/wbem/v1/services';
import { startNodeServer, type ChildServer } from '../../bench/child-server';
import { readRecordedStream, readServerStream, recordStream } from '../../bench/recorded-stream';
import { DMTF_CONTEXT, NAMESPACE, WBEM } from '../../bench/requests';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { deadline, unary } from '../helpers/transcript';

const run = promisify(execFile);
const BARE_SERVER = resolve(__dirname, '../../dist/bench/bare-server.js');
const BARE_MOFCOMP = resolve(__dirname, '../../dist/bench/bare-mofcomp.js');
const SKELETON = resolve(__dirname, '../../dist/bench/skeleton-server.js');
const PUT_CLASS_ASYNC = `${WBEM}PutClassAsync`;

let wbemd: TestServer;
let bare: ChildServer | undefined;
let skeleton: ChildServer | undefined;
let dir: string;

beforeAll(async () => {
  wbemd = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'wbemd-p3-floor-'));
});

afterAll(async () => {
  await bare?.stop();
  await skeleton?.stop();
  await wbemd.close();
  await rm(dir, { recursive: true, force: true });
});

/** A chain of `depth` classes, each a subclass of the last, in an included file. */
async function chainMof(prefix: string, depth: number): Promise<string> {
  const classes = Array.from({ length: depth }, (_, i) =>
    i === 0
      ? `class ${prefix}0 { [Key] string Id; };`
      : `class ${prefix}${i} : ${prefix}${i - 1} { string P${i}; };`,
  );
  await writeFile(join(dir, `${prefix}.mof`), `${classes.join('\n')}\n`);
  const entry = join(dir, `${prefix}-entry.mof`);
  await writeFile(entry, `#pragma include ("${prefix}.mof")\n`);
  return entry;
}

const floorRun = async (address: string, entry: string, window = 16) =>
  JSON.parse(
    (
      await run(process.execPath, [
        BARE_MOFCOMP,
        address,
        PUT_CLASS_ASYNC,
        entry,
        '--window',
        String(window),
      ])
    ).stdout,
  ) as { classes: number; answered: number };

test('the floor client loads a MOF into wbemd: every class written, each after its superclass', async () => {
  const entry = await chainMof('Floor_C', 40);
  const result = await floorRun(wbemd.server.address, entry);
  expect(result).toMatchObject({ classes: 40, answered: 40 });
  // Written in dependency order (a subclass sent before its superclass is WBEM_E_INVALID_SUPERCLASS,
  // which fails the run), with the DMTF context: the deepest class has the whole chain.
  const read = await unary((cb) =>
    wbemd.client.getClass(
      { namespace: NAMESPACE, className: 'Floor_C39', localOnly: false, asMof: false },
      new Metadata(),
      deadline(),
      cb,
    ),
  );
  expect(read.response?.object?.system?.derivation).toHaveLength(39);
});

test('the bare server answers PutClassAsync with the bytes wbemd answered', async () => {
  const request = WbemServicesService.putClassAsync.requestSerialize({
    namespace: NAMESPACE,
    object: {
      className: 'Floor_Recorded',
      superclass: '',
      qualifiers: [],
      properties: [],
      methods: [],
    },
    flags: 0,
    context: DMTF_CONTEXT,
  });
  const file = join(dir, 'answer.bin');
  const recorded = await recordStream(wbemd.server.address, PUT_CLASS_ASYNC, request, file);
  expect(recorded.messages).toBe(1); // the final SetStatus

  bare = await startNodeServer(BARE_SERVER, ['replay', file, PUT_CLASS_ASYNC]);
  const replayed = await readServerStream(bare.address, PUT_CLASS_ASYNC, request);
  expect(replayed).toEqual(readRecordedStream(file));
  expect(replayed[0]?.length).toBe(recorded.bytes);

  const entry = await chainMof('Floor_D', 20);
  expect(await floorRun(bare.address, entry, 4)).toMatchObject({ classes: 20, answered: 20 });
});

test('the floor with the contract: the skeleton answers every class the floor client sends, each durable', async () => {
  const data = join(dir, 'skeleton');
  await mkdir(data);
  skeleton = await startNodeServer(SKELETON, [data]);
  const entry = await chainMof('Floor_S', 30);
  expect(await floorRun(skeleton.address, entry, 8)).toMatchObject({ classes: 30, answered: 30 });

  await skeleton.stop();
  skeleton = undefined;
  const db = new Level<string, Buffer>(join(data, 'db'), { valueEncoding: 'buffer' });
  try {
    const keys = await db.keys({ gte: 'c!root/cimv2!floor_s', lt: 'c!root/cimv2!floor_t' }).all();
    expect(keys).toHaveLength(30);
    expect(keys).toContain('c!root/cimv2!floor_s29');
  } finally {
    await db.close();
  }
});
