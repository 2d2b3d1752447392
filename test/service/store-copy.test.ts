/**
 * copyStore (src/service/store-copy.ts): a repository written through the service into LevelDB
 * is copied into another store, memory and LevelDB, through the port alone; the target then holds
 * the same namespaces, qualifier declarations, classes and instances, and a service opened on it
 * reads them. A non-empty target is refused unless forced; commits stay within their bounds and
 * every superclass is written before its subclasses.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classKey, namespaceKeyOf, superclassKeyOf } from '../../src/domain/names';
import { derivationNames } from '../../src/domain/resolve-class';
import {
  copyStore,
  parentsFirst,
  TargetNotEmptyError,
  type StoreCopyCounts,
} from '../../src/service/store-copy';
import type { ClassStore, StoreWrite } from '../../src/store/class-store';
import { EtcdClassStore } from '../../src/store/etcd/etcd-class-store';
import { LevelClassStore } from '../../src/store/level/level-class-store';
import { MemoryClassStore } from '../../src/store/memory/memory-class-store';
import { etcdTool, startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster';
import { describeWithTool } from '../helpers/external-tools';
import { cls, compileSource, ctx, serviceFixture } from './fixtures';

const QUALIFIERS =
  'Qualifier Key : boolean = false, Scope(property, reference), Flavor(DisableOverride, ToSubclass);\n' +
  'Qualifier Units : string = null, Scope(property, method, parameter);\n';
// Zz_Base sorts after its subclasses by key: the copy must still write it first.
const SCHEMA = [
  'class Zz_Base { [Key] string Id; };',
  'class Aa_Child : Zz_Base { [Units("bytes")] uint64 Size; };',
  'class Aa_Grandchild : Aa_Child { };',
  'class Mm_Other { [Key] uint32 N; };',
  'instance of Zz_Base { Id = "base-1"; };',
  'instance of Aa_Child { Id = "child-1"; Size = 512; };',
  'instance of Aa_Grandchild { Id = "gc-1"; Size = 7; };',
  'instance of Mm_Other { N = 1; };',
  'instance of Mm_Other { N = 2; };',
].join('\n');

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  dirs = [];
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wbemd-copy-'));
  dirs.push(dir);
  return dir;
}

/** A LevelDB repository written through the service: two namespaces, qualifiers, classes, instances (and `extra` MOF in root/Extra). Closed. */
async function writeSource(dir: string, extra = ''): Promise<void> {
  const fixture = await serviceFixture(new LevelClassStore(dir));
  await fixture.service.createNamespace('root', 'Extra', ctx());
  for (const namespace of ['root/cimv2', 'root/Extra']) {
    const text = QUALIFIERS + SCHEMA + (namespace === 'root/Extra' ? extra : '');
    expect((await compileSource(fixture, namespace, { name: 'a.mof', text })).ok).toBe(true);
  }
  await fixture.store.close();
}

/** Everything a store holds, through the port, in a comparable form (revisions excluded: the target has its own). */
async function contents(store: ClassStore): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const record of await store.listNamespaces()) {
    const ns = namespaceKeyOf(record.elements);
    const classes = await store.listClasses(ns);
    const instances: Record<string, unknown> = {};
    for (const c of classes) instances[c.name] = await store.listInstances(ns, classKey(c.name));
    out[ns] = {
      record,
      qualifiers: await store.listQualifiers(ns),
      classes,
      subclassesOfRoot: await store.listSubclasses(ns, null),
      subclassesOfBase: await store.listSubclasses(ns, classKey('Zz_Base')),
      instances,
    };
  }
  return out;
}

/** A target whose commits are recorded on their way to the real store. */
function recordingCommits(store: ClassStore): { store: ClassStore; commits: StoreWrite[][] } {
  const commits: StoreWrite[][] = [];
  const commit = store.commit.bind(store);
  store.commit = (writes) => {
    commits.push([...writes]);
    return commit(writes);
  };
  return { store, commits };
}

test('LevelDB → memory and LevelDB → LevelDB: the target holds exactly what the source holds', async () => {
  const sourceDir = await tempDir();
  await writeSource(sourceDir);
  const source = new LevelClassStore(sourceDir);
  await source.open();
  try {
    const expected = await contents(source);
    const memory = new MemoryClassStore();
    await memory.open();
    const toMemory = await copyStore(source, memory);
    expect(await contents(memory)).toEqual(expected);

    const level = new LevelClassStore(await tempDir());
    await level.open();
    const toLevel = await copyStore(source, level);
    expect(toLevel).toEqual(toMemory);
    // 4 namespaces (root, root\cimv2, root\default, root\extra), 2 × (2 qualifiers, 4 classes, 5 instances).
    expect(toLevel).toMatchObject({ namespaces: 4, qualifiers: 4, classes: 8, instances: 10 });
    await level.close();
    await level.open(); // durable: it is all there after a reopen
    expect(await contents(level)).toEqual(expected);
    await level.close();
  } finally {
    await source.close();
  }
});

test('a service opened on the copy reads the classes and instances', async () => {
  const sourceDir = await tempDir();
  await writeSource(sourceDir);
  const source = new LevelClassStore(sourceDir);
  await source.open();
  const target = new MemoryClassStore();
  await target.open();
  await copyStore(source, target);
  await source.close();
  const fixture = await serviceFixture(target);
  const child = await fixture.service.getClass('root/Extra', 'aa_child', false, ctx());
  expect(child.class.name).toBe('Aa_Child');
  expect(derivationNames(child.class.derivation)).toEqual(['Zz_Base']);
  const gc = await fixture.service.getInstance('root/cimv2', 'Zz_Base.Id="gc-1"', ctx());
  expect(gc.system.className).toBe('Aa_Grandchild');
  // Revisions are the target's own: one per class written.
  expect(target.revision).toBe(8n);
});

test('commits stay within maxWritesPerCommit and write every superclass before its subclasses', async () => {
  const sourceDir = await tempDir();
  await writeSource(sourceDir);
  const source = new LevelClassStore(sourceDir);
  await source.open();
  const memory = new MemoryClassStore();
  await memory.open();
  const { store, commits } = recordingCommits(memory);
  const progress: StoreCopyCounts[] = [];
  const counts = await copyStore(source, store, {
    maxWritesPerCommit: 3,
    onNamespace: (_record, soFar) => progress.push(soFar),
  });
  await source.close();
  expect(counts.commits).toBe(commits.length);
  expect(commits.length).toBeGreaterThan(8);
  expect(Math.max(...commits.map((c) => c.length))).toBe(3);
  expect(progress.map((p) => p.namespaces)).toEqual([1, 2, 3, 4]);
  const written = commits.flat();
  for (const write of written) {
    if (write.op !== 'putClass') continue;
    const parent = superclassKeyOf(write.definition);
    if (parent === null) continue;
    const parentAt = written.findIndex(
      (w) =>
        w.op === 'putClass' &&
        w.namespace === write.namespace &&
        classKey(w.definition.name) === parent,
    );
    expect(parentAt).toBeGreaterThanOrEqual(0);
    expect(parentAt).toBeLessThan(written.indexOf(write));
  }
});

test('maxBytesPerCommit splits commits by size; a write larger than the bound goes alone', async () => {
  const source = new MemoryClassStore();
  const fixture = await serviceFixture(source);
  const description = {
    name: 'Description',
    value: { kind: 'string' as const, value: 'x'.repeat(3000) },
    flavor: 0,
  };
  for (const name of ['Ex_A', 'Ex_B', 'Ex_C'])
    expect((await fixture.put(cls(name, '', [], [description]))).outcome.ok).toBe(true);
  const { store, commits } = recordingCommits(new MemoryClassStore());
  await store.open();
  await copyStore(source, store, { maxBytesPerCommit: 2000 });
  const classCommits = commits.filter((c) => c.some((w) => w.op === 'putClass'));
  expect(classCommits.map((c) => c.filter((w) => w.op === 'putClass').length)).toEqual([1, 1, 1]);
});

test('a target that is not empty is refused, nothing written; with force the copy merges', async () => {
  const sourceDir = await tempDir();
  await writeSource(sourceDir);
  const source = new LevelClassStore(sourceDir);
  await source.open();
  const target = new MemoryClassStore();
  const fixture = await serviceFixture(target); // creates the built-in namespaces: still "empty"
  expect((await fixture.put(cls('Mine', ''))).outcome.ok).toBe(true);
  // The target's Aa_Child is a root class: a forced copy must move it under Zz_Base.
  expect((await fixture.put(cls('Aa_Child', ''))).outcome.ok).toBe(true);
  const revision = target.revision;
  const refusal = await copyStore(source, target).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(refusal).toBeInstanceOf(TargetNotEmptyError);
  expect((refusal as TargetNotEmptyError).found).toBe('2 classes in root\\cimv2');
  expect(target.revision).toBe(revision);
  expect(await target.getClass(namespaceKeyOf(['root', 'extra']), classKey('Zz_Base'))).toBe(
    undefined,
  );

  const counts = await copyStore(source, target, { force: true });
  expect(counts.classes).toBe(8);
  await source.close();
  const cimv2 = namespaceKeyOf(['root', 'cimv2']);
  expect((await target.getClass(cimv2, classKey('Mine')))?.name).toBe('Mine');
  expect(await target.listSubclasses(cimv2, null)).toEqual(
    [classKey('Mine'), classKey('Mm_Other'), classKey('Zz_Base')].sort(),
  );
  expect(await target.listSubclasses(cimv2, classKey('Zz_Base'))).toEqual([classKey('Aa_Child')]);
});

test('parentsFirst keeps key order where it can and puts a chain in order whatever its spelling', () => {
  const ordered = parentsFirst([
    cls('A_Leaf', 'c_mid'),
    cls('B_Root', ''),
    cls('C_Mid', 'Z_Top'),
    cls('D_Sys', '__ExtrinsicEvent'),
    cls('Z_Top', ''),
  ]);
  expect(ordered.map((c) => c.name)).toEqual(['Z_Top', 'C_Mid', 'A_Leaf', 'B_Root', 'D_Sys']);
});

describeWithTool(etcdTool, 'copyStore into etcd', () => {
  let etcd: EtcdCluster | undefined;
  beforeAll(async () => {
    // One member with etcd's default limits (128 operations a Txn), as a cluster is shipped.
    etcd = await startEtcdCluster({ size: 1 });
  }, 60_000);
  afterAll(async () => {
    await etcd?.stop();
  });

  test('LevelDB → etcd: the same contents; a commit etcd refuses as too large is split, nothing lost', async () => {
    const sourceDir = await tempDir();
    const many = Array.from({ length: 150 }, (_, i) => `class Many_${i} : Zz_Base { };`).join('\n');
    await writeSource(sourceDir, many);
    const source = new LevelClassStore(sourceDir);
    await source.open();
    const target = new EtcdClassStore({ endpoints: etcd!.endpoints, prefix: '/copy-test/' });
    await target.open();
    try {
      const counts = await copyStore(source, target, { maxWritesPerCommit: 500 });
      expect(counts).toMatchObject({ namespaces: 4, qualifiers: 4, classes: 158, instances: 10 });
      // 500 writes a commit would fit in one Txn per namespace; etcd's 128-operation limit split them.
      expect(counts.commits).toBeGreaterThan(4);
      expect(await contents(target)).toEqual(await contents(source));
      const refusal = await copyStore(source, target).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(TargetNotEmptyError);
    } finally {
      await target.close();
      await source.close();
    }
  }, 60_000);
});
