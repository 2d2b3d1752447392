import { CIM_TYPE } from '../../src/domain/class-model';
import { classKey, namespaceKeyOf } from '../../src/domain/names';
import { SUBCLASS_PROGRESS_GROUP } from '../../src/service/class-writes';
import { cls, failureOf, key, prop, serviceFixture, str } from './fixtures';

const CIMV2 = namespaceKeyOf(['root', 'cimv2']);
const SEND_STATUS = 0x80;
const SAFE = 0x20;
const FORCE = 0x40;

const A = cls('A', '', [prop('Id', CIM_TYPE.STRING, { qualifiers: [key] })]);
const A_WITH_Z = cls('A', '', [
  prop('Id', CIM_TYPE.STRING, { qualifiers: [key] }),
  prop('Z', CIM_TYPE.UINT32),
]);

/** Files one instance of `className` straight into the store (the instance RPCs have their own tests). */
async function storeInstance(
  store: Awaited<ReturnType<typeof serviceFixture>>['store'],
  className: string,
  id: string,
): Promise<void> {
  await store.commit([
    {
      op: 'putInstance',
      namespace: CIMV2,
      className: classKey(className),
      key: `"${id}"`,
      instance: { className, values: [{ name: 'Id', value: str(id) }] },
    },
  ]);
}

describe('update modes with subclasses and instances, through the service (§6.4)', () => {
  test('83/95: an important change is refused while the class or a subclass has instances, in every mode', async () => {
    const f = await serviceFixture();
    await f.put(A);
    await f.put(cls('B', 'A'));
    await storeInstance(f.store, 'B', 'b1');
    for (const mode of [0, SAFE, FORCE]) {
      const { outcome } = await f.put(A_WITH_Z, mode);
      expect(failureOf(outcome)).toBe(
        mode === 0 ? 'WBEM_E_CLASS_HAS_CHILDREN' : 'WBEM_E_CLASS_HAS_INSTANCES',
      );
    }
    expect((await f.store.getClass(CIMV2, classKey('A')))?.properties.map((p) => p.name)).toEqual([
      'Id',
    ]);
    // 86: a non-important change (Description) is allowed whatever the instances.
    const described = cls('A', '', A.properties.slice(), [
      { name: 'Description', value: str('disks'), flavor: 0 },
    ]);
    expect((await f.put(described)).outcome.ok).toBe(true);
  });

  test('79: FORCE rewrites the conflicting subclass in the same write; the rewrite is in the store', async () => {
    const f = await serviceFixture();
    await f.put(A);
    await f.put(cls('B', 'A', [prop('Z', CIM_TYPE.STRING)]));
    expect(failureOf((await f.put(A_WITH_Z, SAFE)).outcome)).toBe('WBEM_E_UPDATE_TYPE_MISMATCH');
    expect((await f.put(A_WITH_Z, FORCE)).outcome.ok).toBe(true);
    expect((await f.store.getClass(CIMV2, classKey('B')))?.properties).toEqual([]);
  });

  test('progress with SEND_STATUS: one event per group of subclasses, then committed and synced', async () => {
    const f = await serviceFixture();
    await f.put(A);
    const count = SUBCLASS_PROGRESS_GROUP * 2 + 10;
    const children = Array.from({ length: count }, (_, i) =>
      cls(
        `Sub${String(i).padStart(4, '0')}`,
        'A',
        i % 100 === 0 ? [prop('Z', CIM_TYPE.STRING)] : [],
      ),
    );
    await f.store.commit(
      children.map((definition) => ({
        op: 'putClass' as const,
        namespace: CIMV2,
        definition,
        previousSuperclass: undefined,
      })),
    );
    const { outcome, port } = await f.put(A_WITH_Z, FORCE | SEND_STATUS);
    expect(outcome.ok).toBe(true);
    const progress = port.events.flatMap((e) =>
      e.kind === 'progress' ? [`${e.current}/${e.total} ${e.message}`] : [],
    );
    expect(progress).toEqual([
      '1/7 loaded the class and its superclass chain',
      '2/7 checked the class rules',
      `3/7 checked subclasses 1-256 of ${count} (3 rewritten)`,
      `4/7 checked subclasses 257-512 of ${count} (3 rewritten)`,
      `5/7 checked subclasses 513-${count} of ${count}`,
      '6/7 committed',
      '7/7 synced to disk',
    ]);
    expect(port.events.at(-1)?.kind).toBe('status');
    // Every rewritten child lost its conflicting Z (parent wins), in the one atomic write.
    const rewritten = await Promise.all(
      children
        .filter((_, i) => i % 100 === 0)
        .map((c) => f.store.getClass(CIMV2, classKey(c.name))),
    );
    expect(rewritten.map((c) => c?.properties.length)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('validate_only (dry run)', () => {
  test('reports the outcome, the subclasses and instance counts, and writes nothing', async () => {
    const f = await serviceFixture();
    await f.put(A);
    await f.put(cls('B', 'A', [prop('Z', CIM_TYPE.STRING)]));
    await f.put(cls('C', 'B'));
    await storeInstance(f.store, 'A', 'a1');
    const changesBefore = f.changes.length;
    const described = cls('A', '', A.properties.slice(), [
      { name: 'Description', value: str('x'), flavor: 0 },
    ]);
    const { outcome, port } = await f.put(described, SEND_STATUS, { validateOnly: true });
    expect(outcome).toEqual({
      ok: true,
      path: '\\\\TESTHOST\\root\\cimv2:A',
      revision: 0n,
      report: {
        kind: 'update',
        important: false,
        instanceCount: 1,
        subclasses: [
          { className: 'B', instanceCount: 0, rewritten: false },
          { className: 'C', instanceCount: 0, rewritten: false },
        ],
      },
    });
    // No commit stages: nothing is committed.
    expect(
      port.events.flatMap((e) => (e.kind === 'progress' ? [`${e.current}/${e.total}`] : [])),
    ).toEqual(['1/3', '2/3', '3/3']);
    expect((await f.store.getClass(CIMV2, classKey('A')))?.qualifiers).toEqual([]);
    expect(f.changes).toHaveLength(changesBefore);
  });

  test('a FORCE dry run names the subclasses it would rewrite; a failing one reports the rule', async () => {
    const f = await serviceFixture();
    await f.put(A);
    await f.put(cls('B', 'A', [prop('Z', CIM_TYPE.STRING)]));
    const forced = await f.put(A_WITH_Z, FORCE, { validateOnly: true });
    expect(forced.outcome.ok && forced.outcome.report).toEqual({
      kind: 'update',
      important: true,
      instanceCount: 0,
      subclasses: [{ className: 'B', instanceCount: 0, rewritten: true }],
    });
    expect((await f.store.getClass(CIMV2, classKey('B')))?.properties.map((p) => p.name)).toEqual([
      'Z',
    ]);
    expect(failureOf((await f.put(A_WITH_Z, SAFE, { validateOnly: true })).outcome)).toBe(
      'WBEM_E_UPDATE_TYPE_MISMATCH',
    );
    const created = await f.put(cls('New'), 0, { validateOnly: true });
    expect(created.outcome.ok && created.outcome.report?.kind).toBe('create');
    expect(await f.store.getClass(CIMV2, classKey('New'))).toBeUndefined();
    // A_WITH_Z was never written: re-putting A as stored is an unchanged update (M8), allowed with children.
    const same = await f.put(A, 0, { validateOnly: true });
    expect(same.outcome.ok && same.outcome.report?.kind).toBe('unchanged');
  });
});
