/**
 * The bench's transport floor for R2 and D2 (bench/scenarios/floor.ts) is only a floor if the
 * bare server sends exactly what wbemd sent: an enumeration of a real server is recorded
 * (bench/recorded-stream.ts), replayed by the built `bench/bare-server.js replay` (and `replay-built`,
 * D2's floor of a first call), and both answers are read by one client and compared message by
 * message, byte for byte. D2's first-call floor records its answers from a server of their own
 * that compiles the same chain under the same names: that server must answer the same bytes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startNodeServer, type ChildServer } from '../../bench/child-server';
import { readRecordedStream, readServerStream, recordStream } from '../../bench/recorded-stream';
import { chainMof, compileMofRequest, enumClassesRequest, WBEM } from '../../bench/requests';
import { startTestServer, type TestServer } from '../helpers/test-server';

const BARE_SERVER = resolve(__dirname, '../../dist/bench/bare-server.js');

describe('the bench replays an enumeration byte for byte', () => {
  let wbemd: TestServer;
  let bare: ChildServer | undefined;
  let dir: string;

  beforeAll(async () => {
    wbemd = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), 'wbemd-replay-'));
    const compiled = await readServerStream(
      wbemd.server.address,
      `${WBEM}CompileMof`,
      compileMofRequest(chainMof('Replay_C', 40)),
    );
    expect(compiled.length).toBeGreaterThan(0);
  });

  afterAll(async () => {
    await bare?.stop();
    await wbemd.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records every message and the bare server answers the same bytes', async () => {
    const request = enumClassesRequest('Replay_C0');
    const file = join(dir, 'stream.bin');
    const recorded = await recordStream(wbemd.server.address, `${WBEM}EnumClasses`, request, file);
    const direct = await readServerStream(wbemd.server.address, `${WBEM}EnumClasses`, request);
    expect(recorded.messages).toBe(39); // the subclasses of Replay_C0
    expect(direct).toHaveLength(39);
    expect(readRecordedStream(file)).toEqual(direct);
    expect(recorded.bytes).toBe(direct.reduce((sum, message) => sum + message.length, 0));

    bare = await startNodeServer(BARE_SERVER, ['replay', file]);
    const replayed = await readServerStream(bare.address, '/bench.Bare/Replay', request);
    expect(replayed).toEqual(direct);
    await bare.stop();

    // Built: each message copied into new memory (and kept) before it is written; twice, the
    // second call replacing the first's copies.
    bare = await startNodeServer(BARE_SERVER, ['replay-built', file]);
    for (let call = 0; call < 2; call++)
      expect(await readServerStream(bare.address, '/bench.Bare/Replay', request)).toEqual(direct);
  });

  it('another server compiling the same chain under the same names answers the same bytes', async () => {
    const other = await startTestServer();
    try {
      await readServerStream(
        other.server.address,
        `${WBEM}CompileMof`,
        compileMofRequest(chainMof('Replay_C', 40)),
      );
      const request = enumClassesRequest('Replay_C0');
      const direct = await readServerStream(wbemd.server.address, `${WBEM}EnumClasses`, request);
      const elsewhere = await readServerStream(other.server.address, `${WBEM}EnumClasses`, request);
      expect(direct).toHaveLength(39);
      expect(elsewhere).toEqual(direct);
    } finally {
      await other.close();
    }
  });

  it('reads back a recording whose messages and lengths straddle the chunks it is read by', async () => {
    // The reader takes the file by 1 MiB chunks: a message larger than a chunk, an empty one, and
    // lengths cut across a chunk's end must come back whole and in order.
    const sizes = [0, 3, (1 << 20) - 9, 2, 1, 2 * (1 << 20) + 5, 0, 700, (1 << 20) - 3, 1, 0];
    const messages = sizes.map((size, i) => Buffer.alloc(size, i + 1));
    const file = join(dir, 'straddling.bin');
    await writeFile(
      file,
      Buffer.concat(
        messages.flatMap((message) => {
          const length = Buffer.alloc(4);
          length.writeUInt32BE(message.length);
          return [length, message];
        }),
      ),
    );
    const read = readRecordedStream(file);
    // Lengths, then the bytes (jest's toEqual over megabytes of Buffers takes minutes).
    expect(read.map((message) => message.length)).toEqual(sizes);
    expect(read.every((message, i) => message.equals(messages[i] ?? Buffer.alloc(0)))).toBe(true);
    await writeFile(file, Buffer.concat([Buffer.from([0, 0, 0, 9]), Buffer.alloc(5)]));
    expect(() => readRecordedStream(file)).toThrow(/ends inside a message/);
  });
});
