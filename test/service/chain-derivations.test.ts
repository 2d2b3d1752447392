/**
 * A chain compiled in one CompileMof holds O(n) derivation data, not O(n²): each class's
 * __DERIVATION is a link to its resolved parent (domain/resolve-class.ts, derivationBelow), made
 * into a list of names only when read. The resolved classes the compile hands to the class loader
 * and the change events it raises share those links; a list per class, each copying its parent's,
 * kept n²/2 names of a chain alive through the compile and after it (docs/performance.md, D1).
 * Untimed: it counts what is held, at 200 and at 400 levels.
 */
import type { Derivation } from '../../src/domain/class-model';
import { derivationNames } from '../../src/domain/resolve-class';
import type { ClassView } from '../../src/service/views';
import { allClasses, compileSource, ctx, serviceFixture } from './fixtures';

const PREFIX = 'Ex_DerivationChain';

const chainMof = (n: number): string =>
  Array.from(
    { length: n },
    (_, i) => `class ${PREFIX}${i}${i === 0 ? '' : ` : ${PREFIX}${i - 1}`} { uint32 P${i}; };`,
  ).join('\n');

/**
 * The derivation entries reachable from `derivations`, each list and each link counted once: a
 * list holds its length, a link one (its parent), and leads on to its parent's derivation.
 */
function heldEntries(derivations: Iterable<Derivation>): number {
  const seen = new Set<Derivation>();
  const pending = [...derivations];
  let held = 0;
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    if ('below' in next) {
      held += 1;
      pending.push(next.below.derivation);
    } else held += next.length;
  }
  return held;
}

/** A fresh service, the chain compiled; what its classes and its events hold, and its classes. */
async function compiled(n: number): Promise<{ held: number; views: ClassView[] }> {
  const fixture = await serviceFixture();
  const outcome = await compileSource(fixture, 'root/cimv2', {
    name: 'chain.mof',
    text: chainMof(n),
  });
  expect(outcome.ok).toBe(true);
  expect(fixture.changes).toHaveLength(n);
  // After the compile the loader holds the classes it resolved: the enumeration hands them out.
  const views = await allClasses(
    fixture.service.enumClasses(
      { namespace: 'root/cimv2', superclass: `${PREFIX}0`, deep: true, localOnly: false },
      ctx(),
    ),
  );
  expect(views).toHaveLength(n - 1);
  const held = heldEntries([
    ...views.map((view) => view.class.derivation),
    ...views.map((view) => view.system.derivation),
    ...fixture.changes.map((change) => change.derivation),
  ]);
  await fixture.store.close();
  return { held, views };
}

test('a chain of 400 holds twice the derivation entries of a chain of 200, and reads every name', async () => {
  const small = await compiled(200);
  const large = await compiled(400);
  // One entry a class (its link) plus the root's empty list: 2×. Lists copied per class: 4×.
  expect(large.held / small.held).toBeLessThanOrEqual(2.2);
  expect(large.held).toBeLessThanOrEqual(2 * 400);
  // Read as names, every class's __DERIVATION is whole, nearest first.
  for (const view of [large.views[0], large.views[199], large.views[398]]) {
    const level = Number(view?.class.name.slice(PREFIX.length));
    expect(derivationNames(view?.system.derivation ?? [])).toEqual(
      Array.from({ length: level }, (_, j) => `${PREFIX}${level - 1 - j}`),
    );
  }
});
