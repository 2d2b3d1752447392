/**
 * A sliced batch's log entries go into several log records of about 512 KB each (a deep chain's
 * one record of 30 MB was one 35-46 ms copy into LevelDB's batch, in one stretch of the event
 * loop), and the log reads back exactly as from one record: every event, in revision order,
 * before and after a reopen.
 */
import { Level } from 'level';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namespaceKeyOf } from '../../src/domain/names';
import type { StoreWrite } from '../../src/store/class-store';
import { LevelClassStore } from '../../src/store/level/level-class-store';
import { cls } from './class-store.contract';

const NS = namespaceKeyOf(['root', 'cimv2']);

describe('a big commit logs several records and reads back whole', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wbemd-log-records-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('600 classes with long derivations: several e! records, 600 events in order', async () => {
    const store = new LevelClassStore(dir);
    await store.open();
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
    ]);
    const derivation = (i: number): string[] =>
      Array.from({ length: 300 }, (_, j) => `Ancestor_${i}_${j}`);
    const writes: StoreWrite[] = Array.from({ length: 600 }, (_, i) => ({
      op: 'putClass',
      namespace: NS,
      definition: cls(`Log${i}`),
      previousSuperclass: undefined,
      event: {
        derivation: derivation(i),
        context: undefined,
        operationId: 'op',
        timeCreated: 1n,
        previous: undefined,
      },
    }));
    const before = store.revision;
    await store.commit(writes);
    const expectEvents = async (reader: LevelClassStore): Promise<void> => {
      const events = await reader.readEvents(NS, before, 1_000);
      expect(events.map((e) => e.target.name)).toEqual(writes.map((_, i) => `Log${i}`));
      expect(events.map((e) => e.derivation)).toEqual(writes.map((_, i) => derivation(i)));
      const revisions = events.map((e) => e.revision);
      expect(revisions).toEqual([...revisions].sort((a, b) => (a < b ? -1 : 1)));
    };
    await expectEvents(store);
    await store.close();

    const raw = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    try {
      let records = 0;
      for await (const value of raw.values({ gte: 'e!', lt: 'e!\uffff' })) {
        records++;
        expect(value.length).toBeLessThan(1024 * 1024);
      }
      // ≈ 600 × 4 KB of entries: at least four records besides the namespace's own.
      expect(records).toBeGreaterThan(4);
    } finally {
      await raw.close();
    }

    const reopened = new LevelClassStore(dir);
    await reopened.open();
    await expectEvents(reopened);
    await reopened.close();
  });
});
