/**
 * The LevelDB store's read batch (src/store/level/read-batch.ts): reads issued in one turn of
 * microtasks are one getMany, each caller gets its own value, and a failure reaches every caller.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { ReadBatch } from '../../src/store/level/read-batch';

describe('ReadBatch', () => {
  let dir: string;
  let db: Level<string, string>;
  let batches: string[][];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wbemd-read-batch-'));
    db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    await db.open();
    await db.batch([
      { type: 'put', key: 'a', value: 'A' },
      { type: 'put', key: 'b', value: 'B' },
    ]);
    batches = [];
    const getMany = db.getMany.bind(db);
    db.getMany = (keys: string[]) => {
      batches.push(keys);
      return getMany(keys);
    };
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('reads of one turn are one getMany; a missing key is undefined; a later read is another batch', async () => {
    const reads = new ReadBatch();
    const values = await Promise.all([reads.get(db, 'b'), reads.get(db, 'x'), reads.get(db, 'a')]);
    expect(values).toEqual(['B', undefined, 'A']);
    expect(batches).toEqual([['b', 'x', 'a']]);
    expect(await reads.get(db, 'a')).toBe('A');
    expect(batches).toHaveLength(2);
  });

  test('a failed getMany rejects every read of its batch, and the next batch reads again', async () => {
    const reads = new ReadBatch();
    const failure = new Error('disk gone');
    const getMany = db.getMany;
    db.getMany = () => Promise.reject(failure);
    const results = await Promise.allSettled([reads.get(db, 'a'), reads.get(db, 'b')]);
    expect(results).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
    db.getMany = getMany;
    expect(await reads.get(db, 'b')).toBe('B');
  });
});
