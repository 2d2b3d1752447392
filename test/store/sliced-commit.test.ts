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
import { LevelClassStore } from '../../src/store/level/level-class-store';

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
});
