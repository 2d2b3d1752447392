/**
 * `--atomic`'s floor (bench/scenarios/schema-command.ts) is only a floor if the command runs as it
 * does against wbemd: wbemd's answer to the command's CompileMof is recorded, the bare server
 * replays it under wbemd's method path, and the real `wbemd mofcomp --dmtf --atomic` against that
 * server reports every class written in one CompileMof. The bare server takes a request as large
 * as wbemd does (CIM 2.41's is 4 MB; grpc-js's default limit is 4 MiB).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startNodeServer, type ChildServer } from '../../bench/child-server';
import { readRecordedStream, readServerStream } from '../../bench/recorded-stream';
import { NAMESPACE } from '../../bench/requests';
import { COMPILE_MOF, recordCompileMofAnswer } from '../../bench/scenarios/schema-command';
import { startTestServer, type TestServer } from '../helpers/test-server';

const run = promisify(execFile);
const BARE_SERVER = resolve(__dirname, '../../dist/bench/bare-server.js');
const WBEMD = resolve(__dirname, '../../bin/wbemd.js');

let wbemd: TestServer;
let bare: ChildServer | undefined;
let dir: string;

beforeAll(async () => {
  wbemd = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'wbemd-p3-atomic-floor-'));
});

afterAll(async () => {
  await bare?.stop();
  await wbemd.close();
  await rm(dir, { recursive: true, force: true });
});

test("the command's --atomic against the bare server replaying wbemd's answer reports every class written", async () => {
  const classes = Array.from({ length: 25 }, (_, i) =>
    i === 0 ? 'class Atomic_C0 { [Key] string Id; };' : `class Atomic_C${i} : Atomic_C${i - 1} {};`,
  );
  await writeFile(join(dir, 'chain.mof'), `${classes.join('\n')}\n`);
  const entry = join(dir, 'entry.mof');
  await writeFile(entry, '#pragma include ("chain.mof")\n');

  const file = join(dir, 'answer.bin');
  const recorded = await recordCompileMofAnswer(wbemd.server.address, entry, file);
  expect(recorded.messages).toBe(26); // a progress event a class, then the final status

  bare = await startNodeServer(BARE_SERVER, ['replay', file, COMPILE_MOF]);
  const { stdout } = await run(process.execPath, [
    WBEMD,
    'mofcomp',
    '--server',
    bare.address,
    '--dmtf',
    '--atomic',
    entry,
  ]);
  expect(stdout).toContain(`25 of 25 classes written to ${NAMESPACE} in one CompileMof`);

  // A request over grpc-js's default 4 MiB is taken, and answered with the recorded messages.
  const replayed = await readServerStream(bare.address, COMPILE_MOF, Buffer.alloc(5 << 20, 1));
  expect(replayed).toEqual(readRecordedStream(file));
});
