/**
 * Issue #13: a big commitIf (a CompileMof's one commit) is encoded in slices that let the event
 * loop turn before its commit point. Not timed: the tests check what was true while it was
 * prepared, and that the commit contract (all or nothing, fences, revision order) still holds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClassDefinition } from '../../src/domain/class-model';
import { classKey, namespaceKeyOf } from '../../src/domain/names';
import { StoreError, type StoreWrite } from '../../src/store/class-store';
import { Level } from 'level';
import { LevelClassStore } from '../../src/store/level/level-class-store';
import { Overlay } from '../../src/store/level/overlay';
import { assignRevisions, assignRevisionsInSlices } from '../../src/store/revisions';
import { TimeSlicer } from '../../src/store/time-slices';

const NS = namespaceKeyOf(['root', 'cimv2']);
const ELSEWHERE = namespaceKeyOf(['root', 'other']);
/** Enough to take well over one 10 ms slice to encode on any machine. */
const CLASSES = 3000;

function bigClass(i: number): ClassDefinition {
  return {
    name: `Ex_Big${i}`,
    superclass: '',
    qualifiers: [],
    properties: Array.from({ length: 20 }, (_, p) => ({
      name: `P${p}`,
      type: 8,
      array: false,
      value: { kind: 'string', value: `value ${p} of class ${i}` },
      qualifiers: [],
      referenceClass: '',
      embeddedClass: '',
    })),
    methods: [],
  };
}

const put = (namespace: typeof NS, definition: ClassDefinition): StoreWrite => ({
  op: 'putClass',
  namespace,
  definition,
  previousSuperclass: undefined,
  event: {
    derivation: [],
    context: undefined,
    operationId: 'op',
    timeCreated: 1n,
    previous: undefined,
  },
});

const bigWrites = (): StoreWrite[] =>
  Array.from({ length: CLASSES }, (_, i) => put(NS, bigClass(i)));

describe('a big commitIf on LevelDB', () => {
  let dir: string;
  let store: LevelClassStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wbemd-sliced-'));
    store = new LevelClassStore(dir);
    await store.open();
    await store.commit([
      { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
      { op: 'putNamespace', namespace: ELSEWHERE, record: { elements: ['root', 'other'] } },
    ]);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('lets a macrotask run before its commit point; then all of it is visible and durable', async () => {
    const base = store.revision;
    const handle = store.commitIf(await store.beginRead([NS]), bigWrites());
    let settled = false;
    void handle.committed.finally(() => (settled = true));
    const duringPrepare = await new Promise<{ settled: boolean; revision: bigint }>((resolve) =>
      setImmediate(() => resolve({ settled, revision: store.revision })),
    );
    expect(duringPrepare).toEqual({ settled: false, revision: base });
    expect(await handle.committed).toBe(base + BigInt(CLASSES));
    expect(await store.getClassRevision(NS, classKey('Ex_Big0'))).toBe(base + 1n);
    await handle.durable;
    await store.close();
    store = new LevelClassStore(dir);
    await store.open();
    expect((await store.listClasses(NS)).length).toBe(CLASSES);
    expect(await store.getClass(NS, classKey(`Ex_Big${CLASSES - 1}`))).toEqual(
      bigClass(CLASSES - 1),
    );
  }, 60_000);

  test('a commit into a fenced namespace meanwhile: STORE_CONFLICT, nothing of it written', async () => {
    const handle = store.commitIf(await store.beginRead([NS]), bigWrites());
    await store.commit([put(NS, { ...bigClass(0), name: 'Ex_Other' })]);
    const conflict = await handle.committed.catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(StoreError);
    expect((conflict as StoreError).code).toBe('STORE_CONFLICT');
    await expect(handle.durable).rejects.toBeInstanceOf(StoreError);
    expect((await store.listClasses(NS)).map((c) => c.name)).toEqual(['Ex_Other']);
  }, 60_000);

  test('a commit elsewhere meanwhile takes the next revision; the big commit follows it', async () => {
    const base = store.revision;
    const handle = store.commitIf(await store.beginRead([NS]), bigWrites());
    await store.commit([put(ELSEWHERE, bigClass(0))]);
    expect(await handle.committed).toBe(base + 1n + BigInt(CLASSES));
    expect(await store.getClassRevision(ELSEWHERE, classKey('Ex_Big0'))).toBe(base + 1n);
    expect(await store.getClassRevision(NS, classKey('Ex_Big0'))).toBe(base + 2n);
    await handle.durable;
    expect((await store.listClasses(NS)).length).toBe(CLASSES);
  }, 60_000);

  test('reaches its commit point in a turn of the event loop of its own, even when preparing took less than a slice', async () => {
    const base = store.revision;
    // Small classes, just enough to be prepared in slices: all of it fits in one slice.
    const small = Array.from({ length: 64 }, (_, i) =>
      put(NS, { ...bigClass(i), name: `Ex_Small${i}`, properties: [] }),
    );
    const handle = store.commitIf(await store.beginRead([NS]), small);
    const atMacrotask = await new Promise<bigint>((resolve) =>
      setImmediate(() => resolve(store.revision)),
    );
    expect(atMacrotask).toBe(base);
    expect(await handle.committed).toBe(base + 64n);
  });

  test('hands a put of megabytes to the batch at the start of a turn of its own', async () => {
    // A chained batch's put, wherever classic-level defines it: each put's size is logged with
    // the event loop's turns counted so far.
    const puts: { bytes: number; turn: number }[] = [];
    let turns = 0;
    let counting = true;
    const turn = (): void => {
      turns++;
      if (counting) setImmediate(turn);
    };
    const db = new Level<string, string>(`${dir}-batch`);
    await db.open();
    const batch = db.batch();
    let proto: object | null = Object.getPrototypeOf(batch) as object | null;
    while (proto !== null && !Object.prototype.hasOwnProperty.call(proto, 'put'))
      proto = Object.getPrototypeOf(proto) as object | null;
    await batch.close();
    await db.close();
    await rm(`${dir}-batch`, { recursive: true, force: true });
    if (proto === null) throw new Error('no put on the chained batch');
    const original = (proto as { put: (...args: unknown[]) => unknown }).put;
    const spy = jest.spyOn(proto as { put: (...args: unknown[]) => unknown }, 'put');
    spy.mockImplementation(function (this: unknown, ...args: unknown[]) {
      const value = args[1];
      puts.push({ bytes: Buffer.isBuffer(value) ? value.length : 0, turn: turns });
      return original.apply(this, args);
    });
    try {
      // 300 classes (a batch built in slices), the last one with a description of 2 MB.
      const huge = { ...bigClass(299), name: 'Ex_Huge' };
      const writes = [
        ...Array.from({ length: 299 }, (_, i) => put(NS, { ...bigClass(i), properties: [] })),
        put(NS, {
          ...huge,
          qualifiers: [
            {
              name: 'Description',
              value: { kind: 'string', value: 'x'.repeat(2 * 1024 * 1024) },
              flavor: 0,
            },
          ],
        }),
      ];
      setImmediate(turn);
      await store.commit(writes);
    } finally {
      counting = false;
      spy.mockRestore();
    }
    const big = puts.findIndex((p) => p.bytes >= 2 * 1024 * 1024);
    expect(big).toBeGreaterThan(0);
    expect(puts[big]?.turn).toBeGreaterThan(puts[big - 1]?.turn ?? Infinity);
  }, 60_000);

  test('makes a big commit visible at its commit point as one layer, not entry by entry', async () => {
    const one = jest.spyOn(Overlay.prototype, 'makeVisible');
    try {
      const handle = store.commitIf(await store.beginRead([NS]), bigWrites());
      const last = await handle.committed;
      expect(one).not.toHaveBeenCalled();
      // Visible before it is durable: read from the layer, listed with the disk's (nothing yet).
      expect(await store.getClass(NS, classKey('Ex_Big5'))).toEqual(bigClass(5));
      expect((await store.listClasses(NS)).length).toBe(CLASSES);
      // A later write over one of its records wins over the layer, pending and once durable.
      const changed = { ...bigClass(5), properties: [] };
      const later = store.commit([put(NS, changed)]);
      expect(await store.getClass(NS, classKey('Ex_Big5'))).toEqual(changed);
      expect(await store.getClassRevision(NS, classKey('Ex_Big5'))).toBe(last + 1n);
      await handle.durable;
      await later;
      expect(await store.getClass(NS, classKey('Ex_Big5'))).toEqual(changed);
      expect(await store.getClass(NS, classKey('Ex_Big6'))).toEqual(bigClass(6));
    } finally {
      one.mockRestore();
    }
    await store.close();
    store = new LevelClassStore(dir);
    await store.open();
    expect((await store.listClasses(NS)).length).toBe(CLASSES);
    expect((await store.getClass(NS, classKey('Ex_Big5')))?.properties).toEqual([]);
  }, 60_000);

  test('a layer prepared before something else became visible is not added: step by step then', async () => {
    // A write that takes no revision (a namespace record) elsewhere, made visible while the layer
    // was prepared: the big commit still commits, each of its records once.
    const original = Overlay.prototype.prepareLayer;
    const prepare = jest.spyOn(Overlay.prototype, 'prepareLayer');
    let meanwhile: Promise<void> | undefined;
    prepare.mockImplementation(function (this: Overlay, ...args) {
      const layer = original.apply(this, args);
      meanwhile = store.commit([
        { op: 'putNamespace', namespace: ELSEWHERE, record: { elements: ['root', 'other'] } },
      ]);
      return layer;
    });
    const one = jest.spyOn(Overlay.prototype, 'makeVisible');
    try {
      const base = store.revision;
      const handle = store.commitIf(await store.beginRead([NS]), bigWrites());
      expect(await handle.committed).toBe(base + BigInt(CLASSES));
      expect(one).toHaveBeenCalledTimes(1 + CLASSES);
      await handle.durable;
      await meanwhile;
    } finally {
      prepare.mockRestore();
      one.mockRestore();
    }
    expect((await store.listClasses(NS)).length).toBe(CLASSES);
    expect(await store.getClass(NS, classKey('Ex_Big9'))).toEqual(bigClass(9));
  }, 60_000);

  test("settles a big commit's records in slices once durable, then publishes and resolves", async () => {
    // Each settle of a part takes 2 ms here: a commit settled in parts spans more than one slice
    // (10 ms), so the event loop turns between its first part and its last; settled at once, not.
    let turns = 0;
    let counting = true;
    const turn = (): void => {
      turns++;
      if (counting) setImmediate(turn);
    };
    const parts: { turn: number; from: number; to: number; of: number }[] = [];
    const original = Overlay.prototype.settle;
    const spy = jest.spyOn(Overlay.prototype, 'settle');
    spy.mockImplementation(function (this: Overlay, steps, from = 0, to = steps.length) {
      if (steps.length >= CLASSES) {
        parts.push({ turn: turns, from, to, of: steps.length });
        const until = performance.now() + 2;
        while (performance.now() < until);
      }
      original.call(this, steps, from, to);
    });
    const heard: bigint[] = [];
    const unsubscribe = store.onDurableEvents((events) =>
      heard.push(...events.map((e) => e.revision)),
    );
    try {
      setImmediate(turn);
      const handle = store.commitIf(await store.beginRead([NS]), bigWrites());
      const last = await handle.committed;
      await handle.durable;
      expect(heard[heard.length - 1]).toBe(last);
    } finally {
      counting = false;
      spy.mockRestore();
      unsubscribe();
    }
    const first = parts[0];
    const final = parts[parts.length - 1];
    expect(first?.from).toBe(0);
    expect(final?.to).toBe(final?.of);
    expect(final?.turn).toBeGreaterThan(first?.turn ?? Infinity);
    // Every step settled exactly once, in order.
    parts.forEach((part, i) => expect(part.from).toBe(i === 0 ? 0 : parts[i - 1]?.to));
    // And the overlay let go of them: the records are read from disk (and cache) as written.
    expect(await store.getClass(NS, classKey('Ex_Big7'))).toEqual(bigClass(7));
  }, 60_000);
});

test("a big commit's revisions are given in slices, the same as at once", async () => {
  const writes = bigWrites();
  let settled = false;
  const sliced = assignRevisionsInSlices(writes, 7n, new TimeSlicer(0)).finally(
    () => (settled = true),
  );
  const atMacrotask = await new Promise<boolean>((resolve) => setImmediate(() => resolve(settled)));
  expect(atMacrotask).toBe(false);
  const { revised, last } = await sliced;
  const atOnce = assignRevisions(writes, 7n);
  expect(last).toBe(atOnce.last);
  expect(revised).toEqual(atOnce.revised);
});
