/**
 * A chain compiled in one CompileMof logs O(n) bytes over LevelDB (a class's derivation is its
 * parent's name and a reference to its parent's entry, event-codec.ts), and every event still
 * reads back with its whole __DERIVATION, whichever revision a watch starts after; a log record
 * in the old form (every list in full) still reads as before.
 */
import { Level } from 'level';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namespaceKeyOf } from '../../src/domain/names';
import type { WatchPort } from '../../src/service/class-watch';
import type { ClassEventView } from '../../src/service/views';
import { eventKey, REVISIONS_KEY } from '../../src/store/level/keys';
import { LevelClassStore } from '../../src/store/level/level-class-store';
import { encodeRevisions } from '../../src/store/level/record-codec';
import { compileSource, ctx, serviceFixture, type ServiceFixture } from './fixtures';

const CIMV2 = namespaceKeyOf(['root', 'cimv2']);
const PREFIX = 'Ex_EventLogChainLevel';

function chainMof(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++)
    lines.push(
      `class ${PREFIX}${i}${i === 0 ? '' : ` : ${PREFIX}${i - 1}`} {${i === 0 ? ' [Key] string Id;' : ''} };`,
    );
  return lines.join('\n');
}

/** Level i's __DERIVATION: level i-1 first, down to level 0. */
const derivationOf = (i: number): string[] =>
  Array.from({ length: i }, (_, j) => `${PREFIX}${i - 1 - j}`);

async function compileChain(fixture: ServiceFixture, n: number): Promise<void> {
  const outcome = await compileSource(fixture, 'root/cimv2', {
    name: 'chain.mof',
    text: chainMof(n),
  });
  expect(outcome.ok).toBe(true);
}

/** The bytes of every log record in a closed store's directory. */
async function logBytes(dir: string): Promise<number> {
  const raw = new Level<string, Buffer>(dir, { valueEncoding: 'buffer' });
  let bytes = 0;
  try {
    for await (const value of raw.values({ gte: 'e!', lt: 'e!\uffff' })) bytes += value.length;
  } finally {
    await raw.close();
  }
  return bytes;
}

/** The events a watch from `sinceRevision` replays, `count` of them. */
async function replay(
  fixture: ServiceFixture,
  sinceRevision: bigint,
  count: number,
): Promise<ClassEventView[]> {
  const events: ClassEventView[] = [];
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  const port: WatchPort<ClassEventView> = {
    send(event) {
      events.push(event);
      if (events.length >= count) done();
      return Promise.resolve();
    },
  };
  const abort = new AbortController();
  const accepted = fixture.service.watchClassEvents(
    { namespace: 'root/cimv2', className: '', sinceRevision },
    ctx(abort.signal),
  );
  const ended = accepted.run(port);
  await all;
  abort.abort();
  await ended;
  return events;
}

describe('the event log of a chain compiled at once (LevelDB)', () => {
  const dirs: string[] = [];
  const newDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'wbemd-chain-log-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  test('is linear in the chain: 400 levels log under 2.5× the bytes of 200', async () => {
    const sizes: number[] = [];
    for (const n of [200, 400]) {
      const dir = await newDir();
      const fixture = await serviceFixture(new LevelClassStore(dir));
      await compileChain(fixture, n);
      await fixture.store.close();
      sizes.push(await logBytes(dir));
    }
    const [at200, at400] = sizes as [number, number];
    // Every list in full (the old form) logs 4.0× here (2.2 MB against 0.54 MB); this form 2.0×.
    expect(at400 / at200).toBeLessThan(2.5);
    expect(at400).toBeLessThan(400 * 400);
  });

  test('replays every event with its whole __DERIVATION from any revision, after a reopen too', async () => {
    const dir = await newDir();
    const n = 300;
    let fixture = await serviceFixture(new LevelClassStore(dir));
    const before = fixture.store.revision;
    await compileChain(fixture, n);
    const expectReplay = async (from: number): Promise<void> => {
      const events = await replay(fixture, before + BigInt(from), n - from);
      expect(events.map((e) => e.target.definition.name)).toEqual(
        Array.from({ length: n - from }, (_, i) => `${PREFIX}${from + i}`),
      );
      expect(events.map((e) => e.target.system.derivation)).toEqual(
        Array.from({ length: n - from }, (_, i) => derivationOf(from + i)),
      );
    };
    for (const from of [0, 1, 150, 299]) await expectReplay(from);
    await fixture.store.close();
    fixture = await serviceFixture(new LevelClassStore(dir));
    for (const from of [0, 77, 298]) await expectReplay(from);
    const read = await fixture.store.readEvents(CIMV2, before + 200n, 1_000);
    expect(read.map((e) => e.derivation)).toEqual(
      Array.from({ length: 100 }, (_, i) => derivationOf(200 + i)),
    );
    await fixture.store.close();
  });

  test('reads a log record written in the old form (every list in full) as before', async () => {
    const dir = await newDir();
    const first = await serviceFixture(new LevelClassStore(dir));
    const revision = first.store.revision;
    await first.store.close();
    // Two entries as the previous version logged them: packed targets, whole derivations.
    const target = (name: string, parent: string): string => `["${name}","${parent}",[],[],[]]`;
    const old =
      '{"v":2,"events":[' +
      `["${revision + 1n}",["root\\\\cimv2","c",${target('Old_B', 'Old_A')},null,["Old_A"],null,"op1","11"]],` +
      `["${revision + 2n}",["root\\\\cimv2","c",${target('Old_C', 'Old_B')},null,["Old_B","Old_A"],null,"op2","12"]]]}`;
    const raw = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    await raw.put(eventKey(revision + 2n), old);
    await raw.put(REVISIONS_KEY, encodeRevisions(revision + 2n, 1n));
    await raw.close();
    const second = await serviceFixture(new LevelClassStore(dir));
    const events = await replay(second, revision, 2);
    expect(events.map((e) => [e.target.definition.name, e.target.system.derivation])).toEqual([
      ['Old_B', ['Old_A']],
      ['Old_C', ['Old_B', 'Old_A']],
    ]);
    const fromSecond = await second.store.readEvents(CIMV2, revision + 1n, 10);
    expect(fromSecond.map((e) => e.derivation)).toEqual([['Old_B', 'Old_A']]);
    await second.store.close();
  });
});
