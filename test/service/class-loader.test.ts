/**
 * The class loader's caches are bounded (CLASS_CACHE_LIMIT): beyond the limit the oldest resolved
 * classes are read again from the store, the newest are still answered from memory. A scan (an
 * enumeration bigger than the bound) neither fills them nor pushes out what they hold.
 */
import { classKey, type NamespaceKey } from '../../src/domain/names';
import { derivationNames } from '../../src/domain/resolve-class';
import { ClassLoader } from '../../src/service/class-loader';
import { WbemService } from '../../src/service/wbem-service';
import { ClassObjectEncoder } from '../../src/transport/grpc/class-bytes';
import { classViewToProto } from '../../src/transport/grpc/codec';
import { ClassObject } from '../../generated/wbem/v1/cim';
import { CountingStore } from '../helpers/counting-store';
import { allClasses, cls, ctx, prop, serviceFixture } from './fixtures';

const NS = 'root\\cimv2' as NamespaceKey;

test('a bounded resolved-class cache reads the oldest classes again, answers the newest from memory, and still derives a child from its cached parent', async () => {
  const store = new CountingStore();
  await store.open();
  await store.commit([
    { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
    ...Array.from({ length: 30 }, (_, i) => ({
      op: 'putClass' as const,
      namespace: NS,
      definition: cls(`R${i}`),
      previousSuperclass: undefined,
    })),
    {
      op: 'putClass',
      namespace: NS,
      definition: cls('Child', 'R29'),
      previousSuperclass: undefined,
    },
  ]);
  const loader = new ClassLoader(store, 10);
  for (let i = 0; i < 30; i++)
    expect((await loader.resolve(NS, classKey(`R${i}`)))?.name).toBe(`R${i}`);
  expect(store.reads).toBe(30);

  await loader.resolve(NS, classKey('R29')); // among the newest ten: from memory
  expect(store.reads).toBe(30);
  const child = await loader.resolve(NS, classKey('Child')); // its parent is cached: one read
  expect(child?.name).toBe('Child');
  expect(store.reads).toBe(31);
  await loader.resolve(NS, classKey('R0')); // evicted long ago: read again
  expect(store.reads).toBe(32);
  await store.close();
});

test('a class resolved by a scan is not kept, the ancestors derived on its way are', async () => {
  const store = new CountingStore();
  await store.open();
  await store.commit([
    { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
    { op: 'putClass', namespace: NS, definition: cls('Base'), previousSuperclass: undefined },
    {
      op: 'putClass',
      namespace: NS,
      definition: cls('Mid', 'Base'),
      previousSuperclass: undefined,
    },
    {
      op: 'putClass',
      namespace: NS,
      definition: cls('Leaf', 'Mid'),
      previousSuperclass: undefined,
    },
  ]);
  const loader = new ClassLoader(store, 10);
  const leaf = await loader.resolve(NS, classKey('Leaf'), loader.reader, true);
  expect(leaf && derivationNames(leaf.derivation)).toEqual(['Mid', 'Base']);
  expect(store.reads).toBe(3);
  // Its ancestors were kept (one read for the leaf again); the leaf itself was not.
  const again = await loader.resolve(NS, classKey('Leaf'), loader.reader, true);
  expect(again).not.toBe(leaf);
  expect(again).toEqual(leaf);
  expect(store.reads).toBe(4);
  await loader.resolve(NS, classKey('Mid'));
  expect(store.reads).toBe(4);
  await store.close();
});

test('an enumeration bigger than the cache reads each class once (a parent twice) and leaves the cached classes in place', async () => {
  const store = new CountingStore();
  await store.open();
  const service = new WbemService({ store, serverName: 'TESTHOST', classCacheLimit: 10 });
  await service.initialize();
  // Hot → 40 roots R0 … R39; R0 → C0 … C4.
  await store.commit([
    { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
    { op: 'putClass', namespace: NS, definition: cls('Hot'), previousSuperclass: undefined },
    ...Array.from({ length: 40 }, (_, i) => ({
      op: 'putClass' as const,
      namespace: NS,
      definition: cls(`R${String(i).padStart(2, '0')}`),
      previousSuperclass: undefined,
    })),
    ...Array.from({ length: 5 }, (_, i) => ({
      op: 'putClass' as const,
      namespace: NS,
      definition: cls(`C${i}`, 'R00'),
      previousSuperclass: undefined,
    })),
  ]);
  const hot = await service.getClass('root/cimv2', 'Hot', false, ctx());
  const reads = store.reads;
  const listed = await allClasses(
    service.enumClasses(
      { namespace: 'root/cimv2', superclass: '', deep: true, localOnly: false },
      ctx(),
    ),
  );
  expect(listed.filter((view) => !view.class.name.startsWith('__'))).toHaveLength(46);
  // 45 classes read once (Hot is cached), R00 again when its first child is resolved (then kept
  // for the others).
  expect(store.reads - reads).toBe(46);
  const after = await service.getClass('root/cimv2', 'Hot', false, ctx());
  expect(after.class).toBe(hot.class); // still cached: the enumeration pushed nothing out
  // What a scan read is transient (nothing keeps it); its bytes are still ts-proto's, both views.
  expect(listed.filter((view) => view.transient === true).length).toBeGreaterThan(40);
  for (const localOnly of [false, true]) {
    const views = await allClasses(
      service.enumClasses(
        { namespace: 'root/cimv2', superclass: '', deep: true, localOnly },
        ctx(),
      ),
    );
    const encoder = new ClassObjectEncoder();
    for (const view of views) {
      const expected = Buffer.from(ClassObject.encode(classViewToProto(view)).finish());
      expect(encoder.encode(view).equals(expected)).toBe(true);
    }
  }
  await store.close();
});

test('a PutClass create keeps the resolved classes cached, an update drops them, and both are read correctly after', async () => {
  const store = new CountingStore();
  const f = await serviceFixture(store);
  expect((await f.put(cls('Base', '', [prop('A', 8)]))).outcome.ok).toBe(true);
  expect((await f.put(cls('Mid', 'Base', [prop('B', 8)]))).outcome.ok).toBe(true);
  await f.service.getClass('root/cimv2', 'Mid', false, ctx()); // Base and Mid resolved, cached
  const reads = store.reads;
  // A create of a subclass of Mid: its superclass comes from the cache, and stays there.
  expect((await f.put(cls('Leaf', 'Mid', [prop('C', 8)]))).outcome.ok).toBe(true);
  const afterCreate = store.reads;
  await f.service.getClass('root/cimv2', 'Mid', false, ctx());
  expect(store.reads).toBe(afterCreate); // still cached: nothing read
  const leaf = await f.service.getClass('root/cimv2', 'Leaf', false, ctx());
  expect(leaf.class.properties.map((p) => p.name)).toEqual(['A', 'B', 'C']);
  expect(afterCreate - reads).toBeGreaterThan(0); // the create itself looked for Leaf
  // An update of Base (a new property; FORCE, since it has subclasses) drops the caches: Mid and
  // Leaf are derived again with it.
  const FORCE = 0x40;
  expect((await f.put(cls('Base', '', [prop('A', 8), prop('Z', 8)]), FORCE)).outcome.ok).toBe(true);
  const updatedLeaf = await f.service.getClass('root/cimv2', 'Leaf', false, ctx());
  expect(updatedLeaf.class.properties.map((p) => p.name).sort()).toEqual(['A', 'B', 'C', 'Z']);
  await store.close();
});

test('a scanned enumeration reads each page of classes with one store read, derived from their cached parents', async () => {
  const store = new CountingStore();
  await store.open();
  const service = new WbemService({ store, serverName: 'TESTHOST', classCacheLimit: 10 });
  await service.initialize();
  // Top → 300 subclasses S000 … S299, each with its own property; S000 → two leaves.
  const many = 300;
  await store.commit([
    { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
    {
      op: 'putClass',
      namespace: NS,
      definition: cls('Top', '', [prop('T', 8)]),
      previousSuperclass: undefined,
    },
    ...Array.from({ length: many }, (_, i) => ({
      op: 'putClass' as const,
      namespace: NS,
      definition: cls(`S${String(i).padStart(3, '0')}`, 'Top', [prop(`P${i}`, 19)]),
      previousSuperclass: undefined,
    })),
    ...['L0', 'L1'].map((name) => ({
      op: 'putClass' as const,
      namespace: NS,
      definition: cls(name, 'S000'),
      previousSuperclass: undefined,
    })),
  ]);
  const calls = store.calls;
  const listed = await allClasses(
    service.enumClasses(
      { namespace: 'root/cimv2', superclass: 'Top', deep: true, localOnly: false },
      ctx(),
    ),
  );
  expect(listed.map((view) => view.class.name)).toHaveLength(many + 2);
  const s007 = listed.find((view) => view.class.name === 'S007');
  expect(s007?.class.properties.map((p) => p.name)).toEqual(['T', 'P7']);
  expect(listed.filter((view) => view.transient === true).length).toBe(many + 2);
  // Top checked by enumerationStart, then resolved (two reads); its 300 subclasses in pages of 128:
  // three reads; S000 resolved again before its children (a scan kept it not): one read; its two
  // leaves: one page. Not one read a class.
  expect(store.pages).toEqual([128, 128, many - 256, 2]);
  expect(store.calls - calls).toBe(2 + 3 + 1 + 1);
  await store.close();
});
