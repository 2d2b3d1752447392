/**
 * EnumClasses as a stream (issue #13, class-enumeration.ts): pages read only when the consumer
 * asks, the same classes in the same order as a breadth-first walk, refusals before the first
 * page, cancellation, and what an enumeration returns across concurrent writes (D75).
 */
import type { ClassDefinition } from '../../src/domain/class-model';
import { classKey, type NamespaceKey } from '../../src/domain/names';
import { ENUM_PAGE } from '../../src/service/class-enumeration';
import type { ClassView } from '../../src/service/views';
import type { StoreWrite } from '../../src/store/class-store';
import { CountingStore } from '../helpers/counting-store';
import { WbemError } from '../../src/domain/wbem-status';
import { rejected } from '../helpers/expect-thrown';
import { allClasses, cls, ctx, serviceFixture, str, type ServiceFixture } from './fixtures';

const NS = 'root\\cimv2' as NamespaceKey;
const WIDE = ENUM_PAGE * 2 + 44;

const child = (i: number): string => `P${String(i).padStart(4, '0')}`;

/** A class with a version qualifier, so a test can tell which write of it was returned. */
function versioned(name: string, superclass: string, version: string): ClassDefinition {
  return cls(name, superclass, [], [{ name: 'Version', value: str(version), flavor: 0 }]);
}

/** A putClass write; `previousSuperclass`: the superclass it had (undefined: a new class). */
function put(definition: ClassDefinition, previousSuperclass?: string): StoreWrite {
  return {
    op: 'putClass',
    namespace: NS,
    definition,
    previousSuperclass: previousSuperclass === undefined ? undefined : classKey(previousSuperclass),
  };
}

/** Base → P, Q; P → P0000 … (WIDE of them); Q → Q1; P0003 → P0003a. */
async function wideTree(store = new CountingStore()): Promise<ServiceFixture> {
  const f = await serviceFixture(store);
  await f.store.commit([
    put(versioned('Base', '', 'v1')),
    put(versioned('P', 'Base', 'v1')),
    put(versioned('Q', 'Base', 'v1')),
    put(versioned('Q1', 'Q', 'v1')),
    ...Array.from({ length: WIDE }, (_, i) => put(versioned(child(i), 'P', 'v1'))),
    put(versioned('P0003a', child(3), 'v1')),
  ]);
  return f;
}

const names = (views: readonly ClassView[]): string[] => views.map((v) => v.class.name);
const versionOf = (view: ClassView): unknown =>
  view.class.qualifiers.find((q) => q.name === 'Version')?.value;

describe('EnumClasses as a stream of pages', () => {
  test('returns every class breadth-first, parents first, children in key order', async () => {
    const f = await wideTree();
    const deep = names(
      await allClasses(
        f.service.enumClasses(
          { namespace: 'root/cimv2', superclass: 'Base', deep: true, localOnly: false },
          ctx(),
        ),
      ),
    );
    const children = Array.from({ length: WIDE }, (_, i) => child(i));
    expect(deep).toEqual(['P', 'Q', ...children, 'Q1', 'P0003a']);
    const shallow = await allClasses(
      f.service.enumClasses(
        { namespace: 'root/cimv2', superclass: 'P', deep: false, localOnly: false },
        ctx(),
      ),
    );
    expect(names(shallow)).toEqual(children);
  });

  test('reads a page only when the consumer asks for it, and a page holds at most ENUM_PAGE classes', async () => {
    const store = new CountingStore();
    const f = await wideTree(store);
    const pages = await f.service.enumClasses(
      { namespace: 'root/cimv2', superclass: 'P', deep: false, localOnly: false },
      ctx(),
    );
    const iterator = pages[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    expect(first.value).toHaveLength(ENUM_PAGE);
    // Waiting does not make the enumeration read ahead: the next page is read on demand.
    await new Promise((resolve) => setImmediate(resolve));
    const readsAfterFirst = store.reads;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.reads).toBe(readsAfterFirst);
    expect(readsAfterFirst).toBeLessThan(ENUM_PAGE * 2);
    const sizes = [first.value.length];
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next())
      sizes.push(next.value.length);
    expect(sizes).toEqual([ENUM_PAGE, ENUM_PAGE, 44]);
  });

  test('an unknown superclass is refused before any page, as WBEM_E_INVALID_CLASS', async () => {
    const f = await wideTree();
    const failure = await rejected(
      WbemError,
      f.service.enumClasses(
        { namespace: 'root/cimv2', superclass: 'Nope', deep: true, localOnly: false },
        ctx(),
      ),
    );
    expect(failure).toMatchObject({ status: 'WBEM_E_INVALID_CLASS' });
  });

  test('a cancelled enumeration stops at the next page with WBEM_E_CALL_CANCELLED, reading nothing more', async () => {
    const store = new CountingStore();
    const f = await wideTree(store);
    const abort = new AbortController();
    const pages = await f.service.enumClasses(
      { namespace: 'root/cimv2', superclass: 'P', deep: true, localOnly: false },
      ctx(abort.signal),
    );
    const iterator = pages[Symbol.asyncIterator]();
    await iterator.next();
    abort.abort();
    const reads = store.reads;
    expect(await rejected(WbemError, iterator.next())).toMatchObject({
      status: 'WBEM_E_CALL_CANCELLED',
    });
    expect(store.reads).toBe(reads);
  });

  test('a store failure after the first page ends the enumeration with a WbemError, not an uncaught one', async () => {
    const f = await wideTree();
    const pages = await f.service.enumClasses(
      { namespace: 'root/cimv2', superclass: 'P', deep: false, localOnly: false },
      ctx(),
    );
    const iterator = pages[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    await f.store.close();
    const failure = await rejected(WbemError, iterator.next());
    expect(failure.status).toMatch(/^WBEM_E_/);
    expect(failure.subject).toMatchObject({ namespace: 'root/cimv2', className: 'P' });
  });
});

describe('an enumeration across concurrent writes (D75)', () => {
  test('no class twice, each superclass before its class, untouched classes all there, each class as one write left it', async () => {
    const f = await wideTree();
    const pages = await f.service.enumClasses(
      { namespace: 'root/cimv2', superclass: 'Base', deep: true, localOnly: false },
      ctx(),
    );
    const iterator = pages[Symbol.asyncIterator]();
    const returned: ClassView[] = [];
    const pull = async (): Promise<boolean> => {
      const next = await iterator.next();
      if (next.done === true) return false;
      returned.push(...next.value);
      return true;
    };
    await pull(); // P, Q
    await pull(); // P's first page: P's children were listed
    expect(names(returned)).toContain(child(0));
    const touched = new Set<string>();
    const writes: [string, StoreWrite][] = [
      // Listed under P, not returned yet: moved under Q (returned) — returned once, after Q.
      [child(200), put(versioned(child(200), 'Q', 'v2'), 'P')],
      // Returned already: moved under Q, whose children are listed later — not returned again.
      [child(1), put(versioned(child(1), 'Q', 'v2'), 'P')],
      // Listed, not returned yet: deleted — not returned.
      [
        child(210),
        {
          op: 'deleteClass',
          namespace: NS,
          className: classKey(child(210)),
          superclass: classKey('P'),
        },
      ],
      // Listed, not returned yet: moved under a class not returned yet — only after it.
      [child(220), put(versioned(child(220), 'Q1', 'v2'), 'P')],
      // Modified in place: either version, whole.
      [child(230), put(versioned(child(230), 'P', 'v2'), 'P')],
      // Created under a parent already listed, and under one not listed yet: may or may not be there.
      ['Pnew', put(versioned('Pnew', 'P', 'v1'))],
      ['Qnew', put(versioned('Qnew', 'Q', 'v1'))],
    ];
    for (const [name, write] of writes) {
      touched.add(name);
      await f.store.commit([write]);
    }
    while (await pull());

    const order = names(returned);
    expect(new Set(order).size).toBe(order.length);
    const seen = new Set<string>(['Base']);
    for (const view of returned) {
      expect(seen.has(view.class.superclass)).toBe(true);
      seen.add(view.class.name);
      expect(['v1', 'v2']).toContainEqual((versionOf(view) as { value: string }).value);
    }
    // Every class no write touched is there.
    const untouched = [
      'P',
      'Q',
      'Q1',
      'P0003a',
      ...Array.from({ length: WIDE }, (_, i) => child(i)),
    ];
    for (const name of untouched.filter((n) => !touched.has(n))) expect(order).toContain(name);
    expect(order).not.toContain(child(210));
    expect(order.filter((n) => n === child(1))).toHaveLength(1);
    // Moved under Q1, which came after: it comes after Q1 or not at all.
    if (order.includes(child(220)))
      expect(order.indexOf(child(220))).toBeGreaterThan(order.indexOf('Q1'));
    // Returned under its new superclass (Q was returned before the move).
    const moved = returned.find((v) => v.class.name === child(200));
    expect(moved?.class.superclass).toBe('Q');
  });
});
