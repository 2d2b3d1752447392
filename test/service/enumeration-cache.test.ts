/**
 * Kept EnumClasses answers (enumeration-cache.ts): a repeated enumeration replays what the last
 * one returned while the store revision has not moved, and never an answer a write, a partial
 * read, a scan or another namespace record would make wrong.
 */
import type { ClassDefinition } from '../../src/domain/class-model';
import type { ClassKey, NamespaceKey } from '../../src/domain/names';
import { WbemService } from '../../src/service/wbem-service';
import type { EnumClassesInput } from '../../src/service/wbem-service-api';
import type { ClassView } from '../../src/service/views';
import { CountingStore } from '../helpers/counting-store';
import { allClasses, cls, ctx, serviceFixture, str, type ServiceFixture } from './fixtures';

/** Counts listings too: a replayed answer lists no parent's children. */
class ListingStore extends CountingStore {
  listings = 0;

  override listSubclasses(
    namespace: NamespaceKey,
    parent: ClassKey | null,
  ): Promise<readonly ClassKey[]> {
    this.listings++;
    return super.listSubclasses(namespace, parent);
  }
}

const DEEP: EnumClassesInput = {
  namespace: 'root/cimv2',
  superclass: '',
  deep: true,
  localOnly: false,
};

function versioned(name: string, superclass: string, version: string): ClassDefinition {
  return cls(name, superclass, [], [{ name: 'Version', value: str(version), flavor: 0 }]);
}

/** Base → A, B; A → A1, A2. */
async function tree(store: ListingStore): Promise<ServiceFixture> {
  const f = await serviceFixture(store);
  for (const [name, superclass] of [
    ['Base', ''],
    ['A', 'Base'],
    ['B', 'Base'],
    ['A1', 'A'],
    ['A2', 'A'],
  ] as const) {
    const { outcome } = await f.put(versioned(name, superclass, 'v1'));
    expect(outcome.ok).toBe(true);
  }
  return f;
}

const names = (views: readonly ClassView[]): string[] => views.map((v) => v.class.name);
const versionOf = (views: readonly ClassView[], name: string): unknown =>
  views.find((v) => v.class.name === name)?.class.qualifiers.find((q) => q.name === 'Version')
    ?.value;

describe('kept EnumClasses answers', () => {
  test('a repeated enumeration replays the same views, listing and reading nothing', async () => {
    const store = new ListingStore();
    const f = await tree(store);
    const first = await allClasses(f.service.enumClasses(DEEP, ctx()));
    expect(names(first)).toEqual(expect.arrayContaining(['Base', 'A', 'B', 'A1', 'A2']));
    const { listings, reads } = store;
    const second = await allClasses(f.service.enumClasses(DEEP, ctx()));
    expect(store.listings).toBe(listings);
    expect(store.reads).toBe(reads);
    expect(second).toHaveLength(first.length);
    second.forEach((view, i) => expect(view).toBe(first[i]));
  });

  test('a class write moves the revision: the next enumeration lists again and sees it', async () => {
    const store = new ListingStore();
    const f = await tree(store);
    await allClasses(f.service.enumClasses(DEEP, ctx()));
    expect((await f.put(versioned('A3', 'A', 'v1'))).outcome.ok).toBe(true);
    expect((await f.put(versioned('B', 'Base', 'v2'))).outcome.ok).toBe(true);
    const listings = store.listings;
    const after = await allClasses(f.service.enumClasses(DEEP, ctx()));
    expect(store.listings).toBeGreaterThan(listings);
    expect(names(after)).toContain('A3');
    expect(versionOf(after, 'B')).toEqual(str('v2'));
    // And that answer is the one kept now.
    const again = await allClasses(f.service.enumClasses(DEEP, ctx()));
    expect(names(again)).toEqual(names(after));
    expect(versionOf(again, 'B')).toEqual(str('v2'));
  });

  test('each start, depth and view is its own answer', async () => {
    const store = new ListingStore();
    const f = await tree(store);
    const full = await allClasses(f.service.enumClasses(DEEP, ctx()));
    const local = await allClasses(f.service.enumClasses({ ...DEEP, localOnly: true }, ctx()));
    expect(names(local)).toEqual(names(full));
    expect(local[0]).not.toBe(full[0]);
    const shallow = await allClasses(f.service.enumClasses({ ...DEEP, superclass: 'A' }, ctx()));
    expect(names(shallow)).toEqual(['A1', 'A2']);
    const top = await allClasses(f.service.enumClasses({ ...DEEP, deep: false }, ctx()));
    expect(names(top)).not.toContain('A');
    expect(names(top)).toContain('Base');
  });

  test('an answer read only in part, or made across a write, is not kept', async () => {
    const store = new ListingStore();
    const f = await tree(store);
    const pages = await f.service.enumClasses(DEEP, ctx());
    for await (const page of pages) {
      expect(page.length).toBeGreaterThan(0);
      break; // the client went away after the first page
    }
    let listings = store.listings;
    await allClasses(f.service.enumClasses(DEEP, ctx())).then(async (views) => {
      expect(store.listings).toBeGreaterThan(listings);
      expect(names(views)).toContain('A2');
    });
    // A write while the next one runs: its answer is not replayed.
    expect((await f.put(versioned('C', 'Base', 'v1'))).outcome.ok).toBe(true);
    const during = await f.service.enumClasses(DEEP, ctx());
    let written = false;
    for await (const page of during) {
      expect(page.length).toBeGreaterThan(0);
      if (!written) expect((await f.put(versioned('B', 'Base', 'v3'))).outcome.ok).toBe(true);
      written = true;
    }
    listings = store.listings;
    const after = await allClasses(f.service.enumClasses(DEEP, ctx()));
    expect(store.listings).toBeGreaterThan(listings);
    expect(versionOf(after, 'B')).toEqual(str('v3'));
  });

  test('a namespace deleted and made again is not answered from the old one', async () => {
    const store = new ListingStore();
    const f = await tree(store);
    await f.service.createNamespace('root', 'other', ctx());
    expect(
      (await f.put(versioned('Gone', '', 'v1'), 0, { namespace: 'root/other' })).outcome.ok,
    ).toBe(true);
    const input = { ...DEEP, namespace: 'root/other' };
    expect(names(await allClasses(f.service.enumClasses(input, ctx())))).toContain('Gone');
    await f.service.deleteNamespace('root/other', ctx());
    await f.service.createNamespace('root', 'other', ctx());
    expect(names(await allClasses(f.service.enumClasses(input, ctx())))).not.toContain('Gone');
  });

  test('an enumeration bigger than the class cache (a scan) is not kept', async () => {
    const store = new ListingStore();
    await store.open();
    const service = new WbemService({ store, serverName: 'TESTHOST', classCacheLimit: 3 });
    await service.initialize();
    await store.commit(
      ['Base', 'A', 'B', 'A1', 'A2'].map((name, i) => ({
        op: 'putClass' as const,
        namespace: 'root\\cimv2' as NamespaceKey,
        definition: versioned(name, i === 0 ? '' : i < 3 ? 'Base' : 'A', 'v1'),
        previousSuperclass: undefined,
      })),
    );
    const first = await allClasses(service.enumClasses(DEEP, ctx()));
    expect(first.some((view) => view.transient === true)).toBe(true);
    const listings = store.listings;
    const second = await allClasses(service.enumClasses(DEEP, ctx()));
    expect(store.listings).toBeGreaterThan(listings);
    expect(names(second)).toEqual(names(first));
  });
});
