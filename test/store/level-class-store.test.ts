import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classKey, namespaceKeyOf } from '../../src/domain/names';
import { StoreError, type ClassStore, type StoreWrite } from '../../src/store/class-store';
import { Level } from 'level';
import { LevelClassStore } from '../../src/store/level/level-class-store';
import { failingWrites, patchBatchWrite } from '../helpers/level-faults';
import { decodeClass, encodeClass } from '../../src/store/level/record-codec';
import { describeClassStoreContract, cls, tricky } from './class-store.contract';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'wbemd-store-'));
}

describeClassStoreContract('LevelClassStore', async (options = {}) => {
  const dir = await tempDir();
  let store: ClassStore = new LevelClassStore(dir, options);
  await store.open();
  return {
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      store = new LevelClassStore(dir, options);
      await store.open();
      return store;
    },
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

const NS = namespaceKeyOf(['root', 'cimv2']);

/**
 * Watches the keys LevelDB is asked for: reads go out as `get` or, batched (read-batch.ts), as
 * `getMany`. `restore` puts both back.
 */
function watchLevelReads(): { read: string[]; classReads: () => string[]; restore: () => void } {
  const read: string[] = [];
  const prototype = Level.prototype as unknown as {
    get: (this: Level<string, string>, key: string) => Promise<string | undefined>;
    getMany: (this: Level<string, string>, keys: string[]) => Promise<(string | undefined)[]>;
  };
  const original = { get: prototype.get, getMany: prototype.getMany };
  prototype.get = function spied(this: Level<string, string>, key: string) {
    read.push(key);
    return original.get.call(this, key);
  };
  prototype.getMany = function spiedMany(this: Level<string, string>, keys: string[]) {
    read.push(...keys);
    return original.getMany.call(this, keys);
  };
  return {
    read,
    classReads: () => read.filter((key) => key.startsWith('c!')),
    restore: () => {
      prototype.get = original.get;
      prototype.getMany = original.getMany;
    },
  };
}

describe('LevelClassStore specifics', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the log is one record per synced batch; what falls out of retention is deleted from disk, history copies too', async () => {
    const store = new LevelClassStore(dir, { eventRetention: 10 });
    await store.open();
    const info = { derivation: [], context: undefined, operationId: 'op', timeCreated: 1n };
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
    ]);
    // 40 commits issued together: far fewer log records than entries.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        store.commit([
          {
            op: 'putClass',
            namespace: NS,
            definition: cls(`G${i}`),
            previousSuperclass: undefined,
            event: { ...info, previous: undefined },
          },
        ]),
      ),
    );
    // Then 1,100 one at a time, each replacing the same class (a history copy each): retention moves past the trim step.
    for (let i = 0; i < 1_100; i++) {
      const previous =
        i === 0
          ? undefined
          : cls('Moving', '', {
              qualifiers: [{ name: 'N', value: { kind: 'sint', value: BigInt(i - 1) }, flavor: 0 }],
            });
      const definition = cls('Moving', '', {
        qualifiers: [{ name: 'N', value: { kind: 'sint', value: BigInt(i) }, flavor: 0 }],
      });
      await store.commit([
        {
          op: 'putClass',
          namespace: NS,
          definition,
          previousSuperclass: i === 0 ? undefined : null,
          event: { ...info, previous },
        },
      ]);
    }
    const events = await store.readEvents(NS, 0n, 100);
    expect(events.map((e) => e.revision)).toEqual(
      Array.from({ length: 10 }, (_, i) => store.revision - 9n + BigInt(i)),
    );
    expect(events.map((e) => e.target.qualifiers[0]?.value)).toEqual(
      Array.from({ length: 10 }, (_, i) => ({ kind: 'sint', value: BigInt(1_090 + i) })),
    );
    await store.close();
    const raw = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    try {
      const count = async (prefix: string): Promise<number> => {
        let n = 0;
        for await (const _key of raw.keys({ gte: prefix, lt: `${prefix}\uffff` })) n++;
        return n;
      };
      // Trimmed every 1,024 revisions: what is left is at most what fell out since the last trim, plus the retained 10.
      expect(await count('e!')).toBeLessThan(1_024 + 10);
      expect(await count('e!')).toBeGreaterThanOrEqual(10);
      expect(await count('h!')).toBeLessThan(1_024 + 10);
    } finally {
      await raw.close();
    }
  });

  test('class records are canonical JSON and decode to exactly what was encoded', () => {
    for (const definition of [
      tricky,
      cls('Plain'),
      cls('Nested', 'Plain', {
        properties: [
          {
            name: 'A',
            type: 13,
            array: true,
            value: { kind: 'array', value: [{ kind: 'object', value: tricky }] },
            qualifiers: [],
            referenceClass: '',
            embeddedClass: '',
          },
        ],
      }),
    ]) {
      const text = encodeClass({ definition, revision: 42n });
      expect(JSON.stringify(JSON.parse(text))).toBe(text);
      expect(decodeClass(text, 'c!x')).toEqual({ definition, revision: 42n });
    }
  });

  test('the class records of a big commit are read without a LevelDB get once durable (write-through), unless a later wipe covers them', async () => {
    const store = new LevelClassStore(dir);
    await store.open();
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
    ]);
    // A chain of 70 classes in one commit (as a CompileMof writes it), and one class alone.
    const chain = (prefix: string): StoreWrite[] =>
      Array.from({ length: 70 }, (_, i) => ({
        op: 'putClass' as const,
        namespace: NS,
        definition: cls(`${prefix}${i}`, i === 0 ? '' : `${prefix}${i - 1}`),
        previousSuperclass: undefined,
      }));
    await store.commit(chain('A'));
    await store.commit([
      { op: 'putClass', namespace: NS, definition: cls('Lone'), previousSuperclass: undefined },
    ]);
    const { read, classReads, restore } = watchLevelReads();
    try {
      for (let i = 0; i < 70; i++)
        expect((await store.getClass(NS, classKey(`A${i}`)))?.name).toBe(`A${i}`);
      expect(classReads()).toEqual([]);
      // A small commit's record is read from disk (the first time).
      expect((await store.getClass(NS, classKey('Lone')))?.name).toBe('Lone');
      expect(classReads()).toEqual([`c!${NS}!lone`]);
      // Classes written, then their namespace wiped, both in one synced batch: gone, not cached.
      await Promise.all([
        store.commit(chain('B')),
        store.commit([{ op: 'deleteNamespace', namespace: NS }]),
      ]);
      expect(await store.getClass(NS, classKey('B0'))).toBeUndefined();
      expect(await store.getClass(NS, classKey('A0'))).toBeUndefined();
      // Written again after the wipe in one batch: that write is what reads see.
      await Promise.all([
        store.commit([{ op: 'deleteNamespace', namespace: NS }]),
        store.commit(chain('C')),
      ]);
      read.length = 0;
      expect((await store.getClass(NS, classKey('C69')))?.name).toBe('C69');
      expect(classReads()).toEqual([]);
    } finally {
      restore();
    }
    await store.close();
    // And on disk as read back after a reopen.
    const again = new LevelClassStore(dir);
    await again.open();
    expect((await again.getClass(NS, classKey('C69')))?.name).toBe('C69');
    expect(await again.getClass(NS, classKey('B0'))).toBeUndefined();
    await again.close();
  });

  test('a cached record is never read once written again: while the write is pending, nor once it is durable', async () => {
    const store = new LevelClassStore(dir);
    await store.open();
    const described = (text: string) =>
      cls('Kept', '', {
        qualifiers: [{ name: 'Description', value: { kind: 'string', value: text }, flavor: 0 }],
      });
    const putKept = (text: string): StoreWrite => ({
      op: 'putClass',
      namespace: NS,
      definition: described(text),
      previousSuperclass: undefined,
    });
    const instance = (value: string) => ({
      className: 'Kept',
      values: [{ name: 'K', value: { kind: 'string' as const, value } }],
    });
    const putInstance = (value: string): StoreWrite => ({
      op: 'putInstance',
      namespace: NS,
      className: classKey('Kept'),
      key: '"k"',
      instance: instance(value),
    });
    const bigChain: StoreWrite[] = Array.from({ length: 70 }, (_, i) => ({
      op: 'putClass' as const,
      namespace: NS,
      definition: cls(`Big${i}`),
      previousSuperclass: undefined,
    }));
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
      putKept('one'),
      putInstance('one'),
    ]);
    // Read, so both are cached; then written again, small commits and a big one (write-through).
    expect(await store.getClass(NS, classKey('Kept'))).toEqual(described('one'));
    expect(await store.getInstance(NS, classKey('Kept'), '"k"')).toEqual(instance('one'));
    for (const [text, writes] of [
      ['two', [putKept('two'), putInstance('two')]],
      ['three', [putKept('three'), putInstance('three'), ...bigChain]],
    ] as const) {
      const durable = store.commit(writes);
      expect(await store.getClass(NS, classKey('Kept'))).toEqual(described(text));
      expect(await store.getInstance(NS, classKey('Kept'), '"k"')).toEqual(instance(text));
      await durable;
      expect(await store.getClass(NS, classKey('Kept'))).toEqual(described(text));
      expect(await store.getInstance(NS, classKey('Kept'), '"k"')).toEqual(instance(text));
    }
    const deleted = store.commit([
      { op: 'deleteInstance', namespace: NS, className: classKey('Kept'), key: '"k"' },
      { op: 'deleteClass', namespace: NS, className: classKey('Kept'), superclass: null },
    ]);
    expect(await store.getClass(NS, classKey('Kept'))).toBeUndefined();
    await deleted;
    expect(await store.getClass(NS, classKey('Kept'))).toBeUndefined();
    expect(await store.getInstance(NS, classKey('Kept'), '"k"')).toBeUndefined();
    await store.close();
  });

  test('a small commit replaces the cached record of its key once durable (no LevelDB get after an update); a key not cached stays uncached', async () => {
    const store = new LevelClassStore(dir);
    await store.open();
    const described = (name: string, text: string) =>
      cls(name, '', {
        qualifiers: [{ name: 'Description', value: { kind: 'string', value: text }, flavor: 0 }],
      });
    const put = (name: string, text: string): StoreWrite => ({
      op: 'putClass',
      namespace: NS,
      definition: described(name, text),
      previousSuperclass: undefined,
    });
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
      put('Hot', 'one'),
      put('Cold', 'one'),
    ]);
    expect(await store.getClass(NS, classKey('Hot'))).toEqual(described('Hot', 'one'));
    const { read, classReads, restore } = watchLevelReads();
    try {
      // Updated in two small commits, one after the other: each read after it is durable is
      // answered from the record the write left, not from disk. (Only the reads: the commit reads
      // the record it replaces for its history copy, group-commit.ts.)
      for (const text of ['two', 'three']) {
        await store.commit([put('Hot', text)]);
        read.length = 0;
        expect(await store.getClass(NS, classKey('Hot'))).toEqual(described('Hot', text));
        expect(classReads()).toEqual([]);
      }
      // Never read, then updated: not kept by the write, so its first read is a get.
      await store.commit([put('Cold', 'two')]);
      read.length = 0;
      expect(await store.getClass(NS, classKey('Cold'))).toEqual(described('Cold', 'two'));
      expect(classReads()).toEqual([`c!${NS}!cold`]);
      // Deleted once cached: gone, and not read back from a cache.
      await store.commit([
        { op: 'deleteClass', namespace: NS, className: classKey('Hot'), superclass: null },
      ]);
      expect(await store.getClass(NS, classKey('Hot'))).toBeUndefined();
    } finally {
      restore();
    }
    await store.close();
    // What the cache answered is what is on disk.
    const again = new LevelClassStore(dir);
    await again.open();
    expect(await again.getClass(NS, classKey('Hot'))).toBeUndefined();
    expect(await again.getClass(NS, classKey('Cold'))).toEqual(described('Cold', 'two'));
    await again.close();
  });

  test('a read hinted as a scan is decoded from disk and not kept; other reads are decoded once', async () => {
    const writer = new LevelClassStore(dir);
    await writer.open();
    await writer.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
      { op: 'putClass', namespace: NS, definition: cls('Hot'), previousSuperclass: undefined },
      { op: 'putClass', namespace: NS, definition: cls('Once'), previousSuperclass: undefined },
    ]);
    await writer.close();
    const store = new LevelClassStore(dir); // reads from disk, nothing in its overlay
    await store.open();
    const scan = { scan: true };
    const once = await store.getClass(NS, classKey('Once'), scan);
    expect(once).toEqual(cls('Once'));
    // Not kept: each read decodes anew, and a plain read after it is not answered from a cache.
    expect(await store.getClass(NS, classKey('Once'), scan)).not.toBe(once);
    const plain = await store.getClass(NS, classKey('Once'));
    expect(plain).not.toBe(once);
    // A plain read is kept, and a scan is answered from what is kept.
    expect(await store.getClass(NS, classKey('Once'))).toBe(plain);
    const hot = await store.getClass(NS, classKey('Hot'));
    expect(await store.getClass(NS, classKey('Hot'), scan)).toBe(hot);
    await store.close();
  });

  test('a second store on the same directory fails with STORE_LOCKED', async () => {
    const first = new LevelClassStore(dir);
    await first.open();
    const second = new LevelClassStore(dir);
    await expect(second.open()).rejects.toMatchObject({ code: 'STORE_LOCKED' });
    await first.close();
  });

  test('a class is one LevelDB write: the child index is derived from the records (legacy i! keys are ignored)', async () => {
    const batches: { commits: number; ops: number }[] = [];
    const store = new LevelClassStore(dir, { onBatch: (b) => batches.push(b) });
    await store.open();
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
    ]);
    batches.length = 0;
    await store.commit([
      { op: 'putClass', namespace: NS, definition: cls('Parent'), previousSuperclass: undefined },
    ]);
    await store.commit([
      {
        op: 'putClass',
        namespace: NS,
        definition: cls('Child', 'Parent'),
        previousSuperclass: undefined,
      },
    ]);
    // The class record and the store's revisions record; no index entry.
    expect(batches.map((b) => b.ops)).toEqual([2, 2]);
    await store.close();
    // A store written by an earlier version also holds index keys; a stale one must not matter.
    const { Level } = await import('level');
    const raw = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    await raw.put(`i!${NS}!parent!ghost`, '');
    await raw.close();
    const again = new LevelClassStore(dir);
    await again.open();
    expect(await again.listSubclasses(NS, classKey('Parent'))).toEqual(['child']);
    await again.close();
  });

  test('the instance index is derived from disk, takes commits made while it loads, and is wiped with its namespace', async () => {
    const instance = (id: string) => ({
      className: 'Ex_Disk',
      values: [{ name: 'Id', value: { kind: 'string' as const, value: id } }],
    });
    const put = (key: string, className = 'Ex_Disk') =>
      ({
        op: 'putInstance',
        namespace: NS,
        className: classKey(className),
        key,
        instance: instance(key),
      }) as const;
    let store = new LevelClassStore(dir);
    await store.open();
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
      { op: 'putClass', namespace: NS, definition: cls('Ex_Disk'), previousSuperclass: undefined },
      { op: 'putClass', namespace: NS, definition: cls('Ex_Bare'), previousSuperclass: undefined },
      put('"a!b"'), // an instance key may hold the separator
    ]);
    await store.close();
    store = new LevelClassStore(dir);
    await store.open();
    // The first read starts deriving the index from disk; a commit in the same turn lands meanwhile.
    const listing = store.listInstances(NS, classKey('Ex_Disk'));
    const raced = store.commit([put('"c"')]); // visible once commit returns
    await raced;
    // The listing may see the raced commit or not; the index must have taken it (journaled).
    expect((await listing).map((e) => e.key)).toContain('"a!b"');
    expect((await store.listInstances(NS, classKey('Ex_Disk'))).map((e) => e.key)).toEqual([
      '"a!b"',
      '"c"',
    ]);
    expect(await store.countInstances(NS, classKey('Ex_Disk'))).toBe(2);
    expect(await store.countInstances(NS, classKey('Ex_Bare'))).toBe(0);
    expect(await store.getInstance(NS, classKey('Ex_Disk'), '"a!b"')).toEqual(instance('"a!b"'));
    expect(await store.getInstance(NS, classKey('Ex_Disk'), '"zz"')).toBeUndefined();
    await store.commit([
      { op: 'deleteInstance', namespace: NS, className: classKey('Ex_Disk'), key: '"a!b"' },
    ]);
    expect(await store.getInstance(NS, classKey('Ex_Disk'), '"a!b"')).toBeUndefined();
    expect(await store.countInstances(NS, classKey('Ex_Disk'))).toBe(1);
    await store.commit([{ op: 'deleteNamespace', namespace: NS }]);
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
      { op: 'putClass', namespace: NS, definition: cls('Ex_Disk'), previousSuperclass: undefined },
    ]);
    expect(await store.listInstances(NS, classKey('Ex_Disk'))).toEqual([]);
    expect(await store.countInstances(NS, classKey('Ex_Disk'))).toBe(0);
    await store.close();
  });

  test('concurrent commits are grouped into fewer synced batches than commits', async () => {
    const batches: { commits: number; syncMs: number }[] = [];
    const store = new LevelClassStore(dir, { onBatch: (b) => batches.push(b) });
    await store.open();
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
    ]);
    await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        store.commit([
          {
            op: 'putClass',
            namespace: NS,
            definition: cls(`G${i}`),
            previousSuperclass: undefined,
          },
        ]),
      ),
    );
    expect(store.stats.commits).toBe(65);
    expect(store.stats.batches).toBeLessThan(65);
    expect(batches.reduce((sum, b) => sum + b.commits, 0)).toBe(65);
    await store.close();
  });

  test('commits made in one turn of the event loop share one synced batch', async () => {
    const batches: { commits: number; syncMs: number }[] = [];
    const store = new LevelClassStore(dir, { onBatch: (b) => batches.push(b) });
    await store.open();
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
    ]);
    batches.length = 0;
    // As when one socket read carries many requests: all 16 commits are made before any I/O.
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        store.commit([
          {
            op: 'putClass',
            namespace: NS,
            definition: cls(`T${i}`),
            previousSuperclass: undefined,
          },
        ]),
      ),
    );
    expect(batches.map((b) => b.commits)).toEqual([16]);
    await store.close();
  });

  test('a failed trim of the log neither holds back acknowledgements nor stops the store; the next one deletes', async () => {
    const store = new LevelClassStore(dir, { eventRetention: 1 });
    await store.open();
    const info = {
      derivation: [],
      context: undefined,
      operationId: 'op',
      timeCreated: 1n,
      previous: undefined,
    };
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
    ]);
    const original = Level.prototype.clear;
    let refused = 0;
    (Level.prototype as unknown as { clear: () => Promise<void> }).clear = () => {
      refused++;
      return Promise.reject(new Error('IO error: simulated'));
    };
    try {
      // Enough revisions in one go for retention to pass the trim step (every 1,024 revisions).
      await Promise.all(
        Array.from({ length: 1_100 }, (_, i) =>
          store.commit([
            {
              op: 'putClass',
              namespace: NS,
              definition: cls(`T${i}`),
              previousSuperclass: undefined,
              event: info,
            },
          ]),
        ),
      );
    } finally {
      Level.prototype.clear = original;
    }
    expect(refused).toBeGreaterThan(0);
    // Still serving, and the trim that failed is done by the next flush.
    await store.commit([
      {
        op: 'putClass',
        namespace: NS,
        definition: cls('After'),
        previousSuperclass: undefined,
        event: info,
      },
    ]);
    expect((await store.getClass(NS, classKey('after')))?.name).toBe('After');
    await store.close();
    const raw = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    try {
      let records = 0;
      for await (const _key of raw.keys({ gte: 'e!', lt: 'e!\uffff' })) records++;
      expect(records).toBeLessThan(1_024);
    } finally {
      await raw.close();
    }
  });

  test('commit resolves only after a synced batch that holds its writes completed', async () => {
    // Spy on classic-level's batch write: the commit must resolve after a batch with sync: true finished.
    const order: string[] = [];
    const spy = await patchBatchWrite(
      (original) =>
        async function spied(this: unknown, options) {
          order.push(`batch sync=${String(options?.sync)}`);
          await original.call(this, options);
          order.push('batch done');
        },
    );
    const store = new LevelClassStore(dir);
    try {
      await store.open();
      await store
        .commit([{ op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } }])
        .then(() => order.push('commit resolved'));
    } finally {
      spy.restore();
    }
    expect(order).toEqual(['batch sync=true', 'batch done', 'commit resolved']);
    await store.close();
  });

  test('close waits for pending commits to become durable', async () => {
    const store = new LevelClassStore(dir);
    await store.open();
    const pending = store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
      { op: 'putClass', namespace: NS, definition: cls('Late'), previousSuperclass: undefined },
    ]);
    await store.close();
    await pending;
    const again = new LevelClassStore(dir);
    await again.open();
    expect((await again.getClass(NS, classKey('late')))?.name).toBe('Late');
    await again.close();
  });

  test('a failed synced batch fails the commit with STORE_FAILED and every later call', async () => {
    const store = new LevelClassStore(dir);
    await store.open();
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
    ]);
    // Fault injection: make classic-level's batch write fail, as a full or broken disk would.
    const fault = await failingWrites();
    try {
      const failure = await store
        .commit([
          {
            op: 'putClass',
            namespace: NS,
            definition: cls('Doomed'),
            previousSuperclass: undefined,
          },
        ])
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failure).toBeInstanceOf(StoreError);
      expect((failure as StoreError).code).toBe('STORE_FAILED');
    } finally {
      fault.restore();
    }
    await expect(store.getClass(NS, classKey('Doomed'))).rejects.toMatchObject({
      code: 'STORE_FAILED',
    });
    await expect(store.commit([{ op: 'deleteNamespace', namespace: NS }])).rejects.toMatchObject({
      code: 'STORE_FAILED',
    });
    await store.close();
    const reopened = new LevelClassStore(dir);
    await reopened.open();
    expect(await reopened.getClass(NS, classKey('Doomed'))).toBeUndefined();
    expect(await reopened.getNamespace(NS)).toEqual({ elements: ['root', 'cimv2'] });
    await reopened.close();
  });

  test('a failed synced batch leaves neither the class, nor its event, nor its revision', async () => {
    const store = new LevelClassStore(dir);
    await store.open();
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
    ]);
    const heard: bigint[] = [];
    store.onDurableEvents((events) => heard.push(...events.map((e) => e.revision)));
    const event = {
      derivation: [],
      context: undefined,
      operationId: 'op',
      timeCreated: 1n,
      previous: undefined,
    };
    await store.commit([
      {
        op: 'putClass',
        namespace: NS,
        definition: cls('Kept'),
        previousSuperclass: undefined,
        event,
      },
    ]);
    const fault = await failingWrites();
    try {
      await expect(
        store.commit([
          {
            op: 'putClass',
            namespace: NS,
            definition: cls('Doomed'),
            previousSuperclass: undefined,
            event,
          },
        ]),
      ).rejects.toMatchObject({ code: 'STORE_FAILED' });
    } finally {
      fault.restore();
    }
    expect(heard).toEqual([1n]); // the failed batch published nothing
    await store.close();
    const reopened = new LevelClassStore(dir);
    await reopened.open();
    expect(reopened.revision).toBe(1n);
    expect((await reopened.readEvents(NS, 0n, 10)).map((e) => e.target.name)).toEqual(['Kept']);
    expect(await reopened.getClass(NS, classKey('Doomed'))).toBeUndefined();
    await reopened.close();
  });

  test('records of schema version 1 are still read: their classes report revision 1, and the store opens at 1', async () => {
    const { Level } = await import('level');
    const raw = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    await raw.put(`n!${NS}`, JSON.stringify({ v: 1, body: { elements: ['root', 'cimv2'] } }));
    await raw.put(`c!${NS}!old`, JSON.stringify({ v: 1, body: ['Old', '', [], [], []] }));
    await raw.put(`c!${NS}!older`, JSON.stringify({ v: 1, body: ['Older', 'Old', [], [], []] }));
    await raw.close();
    const store = new LevelClassStore(dir);
    await store.open();
    expect(store.revision).toBe(1n);
    expect(store.firstRetainedRevision).toBe(2n); // nothing before the upgrade was ever logged
    expect(await store.getClass(NS, classKey('Old'))).toEqual(cls('Old'));
    expect(await store.getClassRevision(NS, classKey('Old'))).toBe(1n);
    expect(await store.listSubclasses(NS, classKey('Old'))).toEqual(['older']);
    await store.commit([
      { op: 'putClass', namespace: NS, definition: cls('Old'), previousSuperclass: null },
    ]);
    expect(await store.getClassRevision(NS, classKey('Old'))).toBe(2n);
    await store.close();
  });
});
