/**
 * The class loader's caches are bounded (CLASS_CACHE_LIMIT): beyond the limit the oldest resolved
 * classes are read again from the store, the newest are still answered from memory.
 */
import { classKey, type NamespaceKey } from '../../src/domain/names';
import { ClassLoader } from '../../src/service/class-loader';
import { CountingStore } from '../helpers/counting-store';
import { cls } from './fixtures';

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
