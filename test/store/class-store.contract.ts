import type { ClassDefinition } from '../../src/domain/class-model';
import { CIM_TYPE } from '../../src/domain/class-model';
import { classKey, namespaceKeyOf } from '../../src/domain/names';
import {
  NAMESPACE_TREE,
  StoreError,
  type ChangeEventInfo,
  type ClassEventRecord,
  type ClassStore,
  type StoreWrite,
} from '../../src/store/class-store';
import { rejected } from '../helpers/expect-thrown';

export interface StoreFixture {
  readonly store: ClassStore;
  /**
   * A store shared by replicas (etcd): the commit point is when commit's promise resolves, and
   * one commit's class changes share its revision. Embedded adapters (not shared) reach the commit
   * point when commit() returns and give each class change the next revision.
   */
  readonly shared?: boolean;
  /** Persistent adapters only: close and open the same data again. */
  reopen?(): Promise<ClassStore>;
  cleanup(): Promise<void>;
}

const NS = namespaceKeyOf(['root', 'cimv2']);
const NS_A = namespaceKeyOf(['root', 'a']);
const NS_AB = namespaceKeyOf(['root', 'ab']);

export function cls(
  name: string,
  superclass = '',
  extra: Partial<ClassDefinition> = {},
): ClassDefinition {
  return { name, superclass, qualifiers: [], properties: [], methods: [], ...extra };
}

/** Every value shape that JSON alone would not keep exactly. */
export const tricky: ClassDefinition = cls('Ex_Tricky', '', {
  qualifiers: [
    {
      name: 'Description',
      value: { kind: 'string', value: 'ünïcode "quoted" \\ \n' },
      flavor: 0x12,
    },
  ],
  properties: [
    {
      name: 'U64',
      type: CIM_TYPE.UINT64,
      array: false,
      value: { kind: 'uint', value: 18446744073709551615n },
      qualifiers: [],
      referenceClass: '',
      embeddedClass: '',
    },
    {
      name: 'S64',
      type: CIM_TYPE.SINT64,
      array: false,
      value: { kind: 'sint', value: -9223372036854775808n },
      qualifiers: [],
      referenceClass: '',
      embeddedClass: '',
    },
    {
      name: 'R',
      type: CIM_TYPE.REAL64,
      array: true,
      value: {
        kind: 'array',
        value: [
          { kind: 'real', value: -0 },
          { kind: 'real', value: Infinity },
          { kind: 'real', value: NaN },
          { kind: 'real', value: 1.5 },
        ],
      },
      qualifiers: [],
      referenceClass: '',
      embeddedClass: '',
    },
    {
      name: 'Nothing',
      type: CIM_TYPE.STRING,
      array: false,
      value: null,
      qualifiers: [],
      referenceClass: '',
      embeddedClass: '',
    },
    {
      name: 'Ref',
      type: CIM_TYPE.REFERENCE,
      array: false,
      value: { kind: 'reference', value: 'CIM_X.Name="a"' },
      qualifiers: [],
      referenceClass: 'CIM_X',
      embeddedClass: '',
    },
    {
      name: 'Obj',
      type: CIM_TYPE.OBJECT,
      array: false,
      value: {
        kind: 'object',
        value: cls('Inner', '', {
          properties: [
            {
              name: 'N',
              type: CIM_TYPE.UINT8,
              array: false,
              value: { kind: 'uint', value: 255n },
              qualifiers: [],
              referenceClass: '',
              embeddedClass: '',
            },
          ],
        }),
      },
      qualifiers: [],
      referenceClass: '',
      embeddedClass: 'Inner',
    },
  ],
  methods: [
    {
      name: 'Go',
      returnType: CIM_TYPE.UINT32,
      parameters: [
        {
          name: 'X',
          type: CIM_TYPE.STRING,
          array: false,
          referenceClass: '',
          embeddedClass: '',
          in: true,
          out: false,
          qualifiers: [{ name: 'ID', value: { kind: 'sint', value: 0n }, flavor: 0 }],
        },
      ],
      qualifiers: [],
    },
  ],
});

const codeOf = async (promise: Promise<unknown>): Promise<string> =>
  (await rejected(StoreError, promise)).code;

/** What the service puts on a class write to have it logged. */
function info(operationId: string, derivation: string[] = []): ChangeEventInfo {
  return {
    derivation,
    context: new Map([
      ['__CorrelationId', { kind: 'string', value: `corr-${operationId}` }],
      ['Empty', null],
    ]),
    operationId,
    timeCreated: 133_000_000_000_000_000n,
  };
}

const created = (
  ns: typeof NS,
  definition: ClassDefinition,
  operationId: string,
  derivation: string[] = [],
): StoreWrite => ({
  op: 'putClass',
  namespace: ns,
  definition,
  previousSuperclass: undefined,
  event: { ...info(operationId, derivation), previous: undefined },
});

/** Commits (unfenced) and resolves with the commit's revision once durable. */
async function commitAt(store: ClassStore, writes: readonly StoreWrite[]): Promise<bigint> {
  const handle = store.commitIf(await store.beginRead([]), writes);
  await handle.durable;
  return handle.committed;
}

/**
 * The revisions of a commit's `count` class changes whose last is `last`: all `last` on a shared
 * store (one etcd Txn), consecutive up to `last` on an embedded one.
 */
function revisionsOf(shared: boolean, last: bigint, count: number): bigint[] {
  return Array.from({ length: count }, (_, i) => (shared ? last : last - BigInt(count - 1 - i)));
}

/** Collects what onDurableEvents publishes. */
function listen(store: ClassStore): {
  readonly batches: (readonly ClassEventRecord[])[];
  stop(): void;
} {
  const batches: (readonly ClassEventRecord[])[] = [];
  const stop = store.onDurableEvents((events) => batches.push(events));
  return { batches, stop };
}

export interface StoreOptions {
  readonly eventRetention?: number;
}

export function describeClassStoreContract(
  adapter: string,
  makeFixture: (options?: StoreOptions) => Promise<StoreFixture>,
): void {
  describe(`${adapter} meets the ClassStore contract`, () => {
    let fixture: StoreFixture;
    let store: ClassStore;
    beforeEach(async () => {
      fixture = await makeFixture();
      store = fixture.store;
      await store.commit([
        { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
        { op: 'putNamespace', namespace: NS_A, record: { elements: ['root', 'A'] } },
        { op: 'putNamespace', namespace: NS_AB, record: { elements: ['root', 'AB'] } },
      ]);
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    test('a class round-trips exactly, 64-bit bounds, -0, NaN, Infinity, nulls and embedded objects included', async () => {
      await store.commit([
        { op: 'putClass', namespace: NS, definition: tricky, previousSuperclass: undefined },
      ]);
      expect(await store.getClass(NS, classKey('EX_TRICKY'))).toEqual(tricky);
      if (fixture.reopen) {
        store = await fixture.reopen();
        const read = await store.getClass(NS, classKey('ex_tricky'));
        expect(read).toEqual(tricky);
        const reals = read?.properties[2]?.value;
        expect(reals?.kind === 'array' && Object.is(reals.value[0]?.value, -0)).toBe(true);
      }
    });

    test('writes are visible once commit resolves; on an embedded store as soon as it returns, before they are durable', async () => {
      const durable = store.commit([
        { op: 'putClass', namespace: NS, definition: cls('A'), previousSuperclass: undefined },
      ]);
      if (fixture.shared === true) await durable;
      const [read, children] = await Promise.all([
        store.getClass(NS, classKey('a')),
        store.listSubclasses(NS, null),
      ]);
      expect(read?.name).toBe('A');
      expect(children).toEqual(['a']);
      await durable;
    });

    test('getClasses reads what getClass reads for each class, in the order asked: durable, just written, deleted, missing, read again', async () => {
      await store.commit([
        { op: 'putClass', namespace: NS, definition: tricky, previousSuperclass: undefined },
        { op: 'putClass', namespace: NS, definition: cls('A'), previousSuperclass: undefined },
        { op: 'putClass', namespace: NS, definition: cls('B', 'A'), previousSuperclass: undefined },
      ]);
      if (fixture.reopen) store = await fixture.reopen(); // from disk, nothing cached
      const names = ['b', 'nope', 'ex_tricky', 'a', 'b'].map((name) => classKey(name));
      const first = await store.getClasses(NS, names, { scan: true });
      expect(first).toEqual([cls('B', 'A'), undefined, tricky, cls('A'), cls('B', 'A')]);
      // A write visible (not yet durable on an embedded store) and a delete, then a page again.
      const durable = store.commit([
        { op: 'putClass', namespace: NS, definition: cls('C', 'A'), previousSuperclass: undefined },
        { op: 'deleteClass', namespace: NS, className: classKey('B'), superclass: classKey('A') },
      ]);
      if (fixture.shared === true) await durable;
      const later = ['c', 'b', 'a'].map((name) => classKey(name));
      expect(await store.getClasses(NS, later)).toEqual([cls('C', 'A'), undefined, cls('A')]);
      expect(await store.getClasses(NS_A, later)).toEqual([undefined, undefined, undefined]);
      expect(await store.getClasses(NS, [])).toEqual([]);
      await durable;
      for (const name of ['c', 'b', 'a', 'ex_tricky'])
        expect(await store.getClasses(NS, [classKey(name)])).toEqual([
          await store.getClass(NS, classKey(name)),
        ]);
    });

    test('the display spelling is kept and replaced by a later put', async () => {
      await store.commit([
        {
          op: 'putClass',
          namespace: NS,
          definition: cls('Ex_Widget'),
          previousSuperclass: undefined,
        },
      ]);
      await store.commit([
        { op: 'putClass', namespace: NS, definition: cls('EX_widget'), previousSuperclass: null },
      ]);
      expect((await store.getClass(NS, classKey('ex_WIDGET')))?.name).toBe('EX_widget');
      expect(await store.listSubclasses(NS, null)).toEqual(['ex_widget']);
    });

    test('the child index follows the record, and moves when the superclass changes', async () => {
      await store.commit([
        { op: 'putClass', namespace: NS, definition: cls('A'), previousSuperclass: undefined },
        { op: 'putClass', namespace: NS, definition: cls('B'), previousSuperclass: undefined },
        { op: 'putClass', namespace: NS, definition: cls('C', 'A'), previousSuperclass: undefined },
      ]);
      expect(await store.listSubclasses(NS, classKey('A'))).toEqual(['c']);
      await store.commit([
        {
          op: 'putClass',
          namespace: NS,
          definition: cls('C', 'b'),
          previousSuperclass: classKey('A'),
        },
      ]);
      expect(await store.listSubclasses(NS, classKey('A'))).toEqual([]);
      expect(await store.listSubclasses(NS, classKey('B'))).toEqual(['c']);
      expect(await store.listSubclasses(NS, null)).toEqual(['a', 'b']);
    });

    test('deleteClass removes the record and its index entry', async () => {
      await store.commit([
        { op: 'putClass', namespace: NS, definition: cls('A'), previousSuperclass: undefined },
        { op: 'putClass', namespace: NS, definition: cls('B', 'A'), previousSuperclass: undefined },
      ]);
      await store.commit([
        { op: 'deleteClass', namespace: NS, className: classKey('B'), superclass: classKey('A') },
      ]);
      expect(await store.getClass(NS, classKey('B'))).toBeUndefined();
      expect(await store.listSubclasses(NS, classKey('A'))).toEqual([]);
      expect((await store.listClasses(NS)).map((c) => c.name)).toEqual(['A']);
    });

    test('subclass lists follow creates, superclass moves and deletes, and survive a reopen', async () => {
      await store.commit([
        { op: 'putClass', namespace: NS, definition: cls('A'), previousSuperclass: undefined },
        { op: 'putClass', namespace: NS, definition: cls('B', 'A'), previousSuperclass: undefined },
        { op: 'putClass', namespace: NS, definition: cls('C', 'A'), previousSuperclass: undefined },
        { op: 'putClass', namespace: NS, definition: cls('D', 'C'), previousSuperclass: undefined },
      ]);
      await store.commit([
        {
          op: 'putClass',
          namespace: NS,
          definition: cls('C', 'B'),
          previousSuperclass: classKey('A'),
        },
      ]);
      await store.commit([
        { op: 'deleteClass', namespace: NS, className: classKey('D'), superclass: classKey('C') },
      ]);
      const expectShape = async (s: ClassStore) => {
        expect(await s.listSubclasses(NS, null)).toEqual(['a']);
        expect(await s.listSubclasses(NS, classKey('A'))).toEqual(['b']);
        expect(await s.listSubclasses(NS, classKey('B'))).toEqual(['c']);
        expect(await s.listSubclasses(NS, classKey('C'))).toEqual([]);
        expect(await s.getClass(NS, classKey('D'))).toBeUndefined();
      };
      await expectShape(store);
      if (fixture.reopen) {
        store = await fixture.reopen();
        await expectShape(store);
      }
    });

    test('qualifier declarations: put, replaced by folded name, listed in name order, wiped with their namespace', async () => {
      const key = {
        name: 'Key',
        type: CIM_TYPE.BOOLEAN,
        array: false,
        defaultValue: { kind: 'boolean' as const, value: false },
        scopes: ['property', 'reference'],
        flavor: 0x12,
      };
      const valueMap = {
        name: 'ValueMap',
        type: CIM_TYPE.STRING,
        array: true,
        defaultValue: null,
        scopes: ['property', 'method', 'parameter'],
        flavor: 0x02,
      };
      await store.commit([
        { op: 'putQualifier', namespace: NS_A, declaration: valueMap },
        { op: 'putQualifier', namespace: NS_A, declaration: { ...key, flavor: 0 } },
      ]);
      await store.commit([
        { op: 'putQualifier', namespace: NS_A, declaration: { ...key, name: 'KEY' } },
      ]);
      expect(await store.listQualifiers(NS_A)).toEqual([{ ...key, name: 'KEY' }, valueMap]);
      expect(await store.listQualifiers(NS_AB)).toEqual([]);
      if (fixture.reopen) {
        store = await fixture.reopen();
        expect(await store.listQualifiers(NS_A)).toEqual([{ ...key, name: 'KEY' }, valueMap]);
      }
      await store.commit([{ op: 'deleteNamespace', namespace: NS_A }]);
      await store.commit([
        { op: 'putNamespace', namespace: NS_A, record: { elements: ['root', 'a'] } },
      ]);
      expect(await store.listQualifiers(NS_A)).toEqual([]);
    });

    test('deleteNamespace removes its classes and nothing of a namespace whose key it prefixes', async () => {
      await store.commit([
        { op: 'putClass', namespace: NS_A, definition: cls('X'), previousSuperclass: undefined },
        { op: 'putClass', namespace: NS_AB, definition: cls('X'), previousSuperclass: undefined },
      ]);
      await store.commit([{ op: 'deleteNamespace', namespace: NS_A }]);
      expect(await store.getNamespace(NS_A)).toBeUndefined();
      expect(await store.getClass(NS_A, classKey('X'))).toBeUndefined();
      expect(await store.listSubclasses(NS_A, null)).toEqual([]);
      expect((await store.getClass(NS_AB, classKey('X')))?.name).toBe('X');
      expect((await store.listNamespaces()).map((n) => n.elements.join('\\'))).toEqual([
        'root\\AB',
        'root\\cimv2',
      ]);
      // Re-created after the wipe, in the next commit: the new content is what reads see.
      await store.commit([
        { op: 'putNamespace', namespace: NS_A, record: { elements: ['root', 'a'] } },
        { op: 'putClass', namespace: NS_A, definition: cls('Y'), previousSuperclass: undefined },
      ]);
      expect((await store.listClasses(NS_A)).map((c) => c.name)).toEqual(['Y']);
    });

    test('instances: put, replaced, listed in key order per class, counted, deleted, kept across reopen', async () => {
      const disk = (id: string, size: bigint | null) => ({
        className: 'Ex_Disk',
        values: [
          { name: 'Id', value: { kind: 'string' as const, value: id } },
          { name: 'Size', value: size === null ? null : { kind: 'uint' as const, value: size } },
        ],
      });
      await store.commit([
        {
          op: 'putClass',
          namespace: NS,
          definition: cls('Ex_Disk'),
          previousSuperclass: undefined,
        },
        {
          op: 'putInstance',
          namespace: NS,
          className: classKey('Ex_Disk'),
          key: '"b"',
          instance: disk('B', 1n),
        },
        {
          op: 'putInstance',
          namespace: NS,
          className: classKey('Ex_Disk'),
          key: '"a"',
          instance: disk('A', 18446744073709551615n),
        },
        {
          op: 'putInstance',
          namespace: NS_AB,
          className: classKey('Ex_Disk'),
          key: '"a"',
          instance: disk('other namespace', null),
        },
      ]);
      await store.commit([
        {
          op: 'putInstance',
          namespace: NS,
          className: classKey('Ex_Disk'),
          key: '"b"',
          instance: disk('B', null),
        },
      ]);
      const expectShape = async (s: ClassStore) => {
        expect(await s.getInstance(NS, classKey('Ex_Disk'), '"a"')).toEqual(
          disk('A', 18446744073709551615n),
        );
        expect(await s.listInstances(NS, classKey('Ex_Disk'))).toEqual([
          { key: '"a"', instance: disk('A', 18446744073709551615n) },
          { key: '"b"', instance: disk('B', null) },
        ]);
        expect(await s.countInstances(NS, classKey('Ex_Disk'))).toBe(2);
        expect(await s.countInstances(NS, classKey('Ex_Other'))).toBe(0);
        expect(await s.getInstance(NS, classKey('Ex_Disk'), '"c"')).toBeUndefined();
      };
      await expectShape(store);
      if (fixture.reopen) {
        store = await fixture.reopen();
        await expectShape(store);
      }
      await store.commit([
        { op: 'deleteInstance', namespace: NS, className: classKey('Ex_Disk'), key: '"a"' },
      ]);
      expect(await store.getInstance(NS, classKey('Ex_Disk'), '"a"')).toBeUndefined();
      expect(await store.countInstances(NS, classKey('Ex_Disk'))).toBe(1);
      // A namespace wipe takes its instances and nothing of a namespace whose key it prefixes.
      await store.commit([
        { op: 'deleteNamespace', namespace: NS_A },
        { op: 'deleteNamespace', namespace: NS },
      ]);
      await store.commit([
        { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
      ]);
      expect(await store.listInstances(NS, classKey('Ex_Disk'))).toEqual([]);
      expect(await store.countInstances(NS_AB, classKey('Ex_Disk'))).toBe(1);
    });

    test('a commit with a write that cannot be applied leaves nothing behind', async () => {
      const bad = { op: 'explode', namespace: NS } as unknown as Parameters<
        ClassStore['commit']
      >[0][number];
      await expect(
        store.commit([
          { op: 'putClass', namespace: NS, definition: cls('Half'), previousSuperclass: undefined },
          bad,
        ]),
      ).rejects.toThrow();
      expect(await store.getClass(NS, classKey('Half'))).toBeUndefined();
      expect(await store.listSubclasses(NS, null)).toEqual([]);
    });

    test('concurrent commits all become durable and readable', async () => {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.commit([
            {
              op: 'putClass',
              namespace: NS,
              definition: cls(`C${i}`),
              previousSuperclass: undefined,
            },
          ]),
        ),
      );
      expect(await store.listClasses(NS)).toHaveLength(50);
      if (fixture.reopen) {
        store = await fixture.reopen();
        expect(await store.listClasses(NS)).toHaveLength(50);
      }
    });

    test('every method rejects with STORE_NOT_OPEN once closed', async () => {
      await store.close();
      expect(await codeOf(store.getClass(NS, classKey('A')))).toBe('STORE_NOT_OPEN');
      expect(await codeOf(store.getNamespace(NS))).toBe('STORE_NOT_OPEN');
      expect(await codeOf(store.listNamespaces())).toBe('STORE_NOT_OPEN');
      expect(await codeOf(store.listSubclasses(NS, null))).toBe('STORE_NOT_OPEN');
      expect(await codeOf(store.listClasses(NS))).toBe('STORE_NOT_OPEN');
      expect(await codeOf(store.getInstance(NS, classKey('A'), '"x"'))).toBe('STORE_NOT_OPEN');
      expect(await codeOf(store.listInstances(NS, classKey('A')))).toBe('STORE_NOT_OPEN');
      expect(await codeOf(store.countInstances(NS, classKey('A')))).toBe('STORE_NOT_OPEN');
      expect(await codeOf(store.commit([{ op: 'deleteNamespace', namespace: NS }]))).toBe(
        'STORE_NOT_OPEN',
      );
      expect(store.isOpen).toBe(false);
    });

    describe('revisions and the event log', () => {
      test('class changes take increasing revisions in commit order, and a class keeps its mod revision', async () => {
        const shared = fixture.shared === true;
        const start = store.revision;
        const handle = store.commitIf(await store.beginRead([NS]), [
          created(NS, cls('A'), 'op1'),
          created(NS, cls('B', 'A'), 'op1', ['A']),
        ]);
        // An embedded store assigns them at the commit point, before durability.
        if (!shared) expect(store.revision).toBe(start + 2n);
        const first = await handle.committed;
        await handle.durable;
        expect(first).toBeGreaterThan(start);
        if (!shared) expect(first).toBe(start + 2n);
        expect(store.revision).toBe(first);
        const [revA, revB] = revisionsOf(shared, first, 2);
        expect(await store.getClassRevision(NS, classKey('a'))).toBe(revA);
        expect(await store.getClassRevision(NS, classKey('B'))).toBe(revB);
        await store.commit([
          { op: 'putNamespace', namespace: NS_A, record: { elements: ['root', 'A'] } },
        ]);
        expect(store.revision).toBe(first); // not a class change
        const second = await commitAt(store, [
          {
            op: 'putClass',
            namespace: NS,
            definition: cls('A', '', {
              qualifiers: [
                { name: 'Abstract', value: { kind: 'boolean', value: true }, flavor: 0 },
              ],
            }),
            previousSuperclass: null,
          },
        ]);
        expect(second).toBeGreaterThan(first);
        if (!shared) expect(second).toBe(start + 3n);
        expect(store.revision).toBe(second);
        expect(await store.getClassRevision(NS, classKey('a'))).toBe(second);
        expect(await store.getClassRevision(NS, classKey('B'))).toBe(revB);
        expect(await store.getClassRevision(NS, classKey('Nope'))).toBeUndefined();
        const third = await commitAt(store, [
          { op: 'deleteClass', namespace: NS, className: classKey('B'), superclass: classKey('A') },
        ]);
        expect(third).toBeGreaterThan(second);
        expect(store.revision).toBe(third);
        expect(await store.getClassRevision(NS, classKey('B'))).toBeUndefined();
        if (fixture.reopen) {
          store = await fixture.reopen();
          expect(store.revision).toBe(third);
          expect(await store.getClassRevision(NS, classKey('A'))).toBe(second);
          const fourth = await commitAt(store, [created(NS, cls('C'), 'op9')]);
          expect(fourth).toBeGreaterThan(third);
          expect(store.revision).toBe(fourth);
        }
      });

      test('each logged change is one record: kind, namespace, target, previous, derivation, context, operation id, time', async () => {
        const base = store.revision;
        const shared = fixture.shared === true;
        const v1 = cls('Ex_Base');
        const v2 = cls('Ex_Base', '', {
          properties: [
            {
              name: 'P',
              type: CIM_TYPE.STRING,
              array: false,
              value: null,
              qualifiers: [],
              referenceClass: '',
              embeddedClass: '',
            },
          ],
        });
        const first = await commitAt(store, [
          created(NS, v1, 'op1'),
          created(NS, tricky, 'op1'),
          created(NS_A, cls('Elsewhere'), 'op1'),
        ]);
        const [r1, r2, r3] = revisionsOf(shared, first, 3).map((r) => r - base);
        const r4 =
          (await commitAt(store, [
            {
              op: 'putClass',
              namespace: NS,
              definition: v2,
              previousSuperclass: null,
              event: { ...info('op2'), previous: v1 },
            },
          ])) - base;
        const r5 =
          (await commitAt(store, [
            {
              op: 'deleteClass',
              namespace: NS,
              className: classKey('Ex_Base'),
              superclass: null,
              event: { ...info('op3', ['Gone_Parent']), target: v2 },
            },
          ])) - base;
        const check = async (s: ClassStore): Promise<void> => {
          const events = await s.readEvents(NS, base, 100);
          expect(
            events.map((e) => [
              e.revision - base,
              e.kind,
              e.target.name,
              e.previous?.name,
              e.operationId,
            ]),
          ).toEqual([
            [r1, 'created', 'Ex_Base', undefined, 'op1'],
            [r2, 'created', 'Ex_Tricky', undefined, 'op1'],
            [r4, 'modified', 'Ex_Base', 'Ex_Base', 'op2'],
            [r5, 'deleted', 'Ex_Base', undefined, 'op3'],
          ]);
          // Each target as it was at its revision, though the class record moved on and was deleted.
          expect(events[0]?.target).toEqual(v1);
          expect(events[1]?.target).toEqual(tricky);
          expect(events[2]).toEqual({
            ...info('op2'),
            revision: base + r4,
            kind: 'modified',
            namespace: NS,
            target: v2,
            previous: v1,
          });
          expect(events[3]).toEqual({
            ...info('op3', ['Gone_Parent']),
            revision: base + r5,
            kind: 'deleted',
            namespace: NS,
            target: v2,
          });
          expect(
            (await s.readEvents(NS_A, base, 100)).map((e) => [e.revision - base, e.target.name]),
          ).toEqual([[r3, 'Elsewhere']]);
          expect(await s.readEvents(NS_AB, base, 100)).toEqual([]);
        };
        await check(store);
        if (fixture.reopen) {
          store = await fixture.reopen();
          await check(store);
        }
      });

      test('targets survive their class being replaced in the same synced batch and its namespace being deleted', async () => {
        const base = store.revision;
        const v = (n: number) =>
          cls('Ex_Moving', '', {
            qualifiers: [{ name: 'Version', value: { kind: 'sint', value: BigInt(n) }, flavor: 0 }],
          });
        // Three commits issued in one turn: one synced batch, the class record replaced twice in it.
        await Promise.all([
          store.commit([created(NS_A, v(1), 'm1')]),
          store.commit([
            {
              op: 'putClass',
              namespace: NS_A,
              definition: v(2),
              previousSuperclass: null,
              event: { ...info('m2'), previous: v(1) },
            },
          ]),
          store.commit([
            {
              op: 'putClass',
              namespace: NS_A,
              definition: v(3),
              previousSuperclass: null,
              event: { ...info('m3'), previous: v(2) },
            },
          ]),
        ]);
        await store.commit([{ op: 'deleteNamespace', namespace: NS_A }]);
        const check = async (s: ClassStore): Promise<void> => {
          const events = await s.readEvents(NS_A, base, 100);
          if (fixture.shared === true) {
            // Three concurrent Txns: etcd orders them as it receives them, each at its own revision.
            const revisions = events.map((e) => e.revision);
            expect(new Set(revisions).size).toBe(3);
            expect([...revisions].sort((a, b) => (a < b ? -1 : 1))).toEqual(revisions);
            expect(events.map((e) => [e.target, e.previous])).toEqual(
              expect.arrayContaining([
                [v(1), undefined],
                [v(2), v(1)],
                [v(3), v(2)],
              ]),
            );
            return;
          }
          expect(events.map((e) => [e.revision - base, e.target, e.previous])).toEqual([
            [1n, v(1), undefined],
            [2n, v(2), v(1)],
            [3n, v(3), v(2)],
          ]);
        };
        await check(store);
        if (fixture.reopen) {
          store = await fixture.reopen();
          await check(store);
        }
      });

      test('readEvents pages: after a revision, at most limit records', async () => {
        const base = store.revision;
        const revisions: bigint[] = [];
        for (let i = 0; i < 5; i++)
          revisions.push(await commitAt(store, [created(NS, cls(`P${i}`), `op${i}`)]));
        const [, r1, , r3, r4] = revisions as [bigint, bigint, bigint, bigint, bigint];
        expect((await store.readEvents(NS, base, 2)).map((e) => e.target.name)).toEqual([
          'P0',
          'P1',
        ]);
        expect((await store.readEvents(NS, r1, 2)).map((e) => e.target.name)).toEqual(['P2', 'P3']);
        expect((await store.readEvents(NS, r3, 2)).map((e) => e.target.name)).toEqual(['P4']);
        expect(await store.readEvents(NS, r4, 2)).toEqual([]);
      });

      test('a page never splits the records of one revision, and paging finds every record once', async () => {
        const base = store.revision;
        await commitAt(
          store,
          Array.from({ length: 5 }, (_, i) => created(NS, cls(`Q${i}`), 'batch')),
        );
        await commitAt(store, [created(NS, cls('Q5'), 'single')]);
        const all = await store.readEvents(NS, base, 100);
        expect(all.map((e) => e.target.name)).toEqual(['Q0', 'Q1', 'Q2', 'Q3', 'Q4', 'Q5']);
        const paged: ClassEventRecord[] = [];
        let after = base;
        for (let pages = 0; pages < 10; pages++) {
          const page = await store.readEvents(NS, after, 2);
          if (page.length === 0) break;
          const last = (page[page.length - 1] as ClassEventRecord).revision;
          // The page holds every record of its last revision.
          expect(page.filter((e) => e.revision === last)).toEqual(
            all.filter((e) => e.revision === last),
          );
          paged.push(...page);
          after = last;
        }
        expect(paged).toEqual(all);
      });

      test('onDurableEvents publishes each durable batch in revision order, before its commit resolves', async () => {
        const heard = listen(store);
        let heardAtResolve = -1;
        await store
          .commit([created(NS, cls('L1'), 'a'), created(NS, cls('L2'), 'a')])
          .then(() => (heardAtResolve = heard.batches.flat().length));
        await store.commit([
          {
            op: 'putClass',
            namespace: NS,
            definition: cls('Silent'),
            previousSuperclass: undefined,
          },
        ]); // no event asked
        await store.commit([created(NS_A, cls('L3'), 'b')]);
        heard.stop();
        await store.commit([created(NS, cls('L4'), 'c')]);
        expect(heardAtResolve).toBe(2);
        const revisions = heard.batches.flat().map((e) => e.revision);
        expect(heard.batches.flat().map((e) => e.target.name)).toEqual(['L1', 'L2', 'L3']);
        expect([...revisions].sort((a, b) => (a < b ? -1 : 1))).toEqual(revisions);
      });

      test('a commit that cannot be applied takes no revision and logs nothing', async () => {
        const base = store.revision;
        const bad = { op: 'explode', namespace: NS } as unknown as StoreWrite;
        await expect(store.commit([created(NS, cls('Half'), 'x'), bad])).rejects.toThrow();
        expect(store.revision).toBe(base);
        expect(await store.readEvents(NS, 0n, 100)).toEqual([]);
      });

      test('the store opens at revision 0 with everything retained', () => {
        expect(store.revision).toBe(0n);
        expect(store.firstRetainedRevision).toBe(1n);
      });

      test('retention keeps the events of the newest N revisions', async () => {
        const small = await makeFixture({ eventRetention: 3 });
        let s = small.store;
        try {
          await s.commit([
            { op: 'putNamespace', namespace: NS, record: { elements: ['root', 'cimv2'] } },
          ]);
          const r2 = await commitAt(s, [created(NS, cls('R1'), 'a'), created(NS, cls('R2'), 'a')]);
          const written = revisionsOf(small.shared === true, r2, 2).map((revision, i) => ({
            name: `R${i + 1}`,
            revision,
          }));
          expect(s.firstRetainedRevision).toBe(r2 - 2n > 1n ? r2 - 2n : 1n);
          for (const name of ['R3', 'R4', 'R5'])
            written.push({ name, revision: await commitAt(s, [created(NS, cls(name), name)]) });
          const last = (written[written.length - 1] as { revision: bigint }).revision;
          expect(s.revision).toBe(last);
          expect(s.firstRetainedRevision).toBe(last - 2n);
          const kept = written.filter((w) => w.revision >= last - 2n);
          // Consecutive commits: R3, R4 and R5 on every adapter.
          expect(kept.map((w) => w.name)).toEqual(['R3', 'R4', 'R5']);
          expect((await s.readEvents(NS, 0n, 100)).map((e) => e.target.name)).toEqual(
            kept.map((w) => w.name),
          );
          if (small.reopen) {
            s = await small.reopen();
            expect(s.firstRetainedRevision).toBe(last - 2n);
            expect((await s.readEvents(NS, 0n, 100)).map((e) => e.revision)).toEqual(
              kept.map((w) => w.revision),
            );
          }
        } finally {
          await small.cleanup();
        }
      });
    });

    describe('write fences (commitIf)', () => {
      const put = (ns: typeof NS, name: string): StoreWrite => ({
        op: 'putClass',
        namespace: ns,
        definition: cls(name),
        previousSuperclass: undefined,
      });

      test('a fenced commit applies when nothing under its fence moved, whatever happened elsewhere', async () => {
        const fence = await store.beginRead([NS]);
        await store.commit([put(NS_A, 'Elsewhere')]);
        const revision = await commitAt(store, [put(NS_AB, 'Unfenced')]);
        const handle = store.commitIf(fence, [put(NS, 'Fenced')]);
        expect(await handle.committed).toBeGreaterThan(revision);
        await handle.durable;
        expect((await store.getClass(NS, classKey('Fenced')))?.name).toBe('Fenced');
      });

      test('a commit into a fenced namespace since beginRead makes commitIf fail with STORE_CONFLICT, writing nothing', async () => {
        const fence = await store.beginRead([NS_A, NS]);
        await store.commit([
          {
            op: 'putQualifier',
            namespace: NS,
            declaration: {
              name: 'Q',
              type: CIM_TYPE.BOOLEAN,
              array: false,
              defaultValue: null,
              scopes: [],
              flavor: 0,
            },
          },
        ]);
        const revision = store.revision;
        const heard = listen(store);
        const handle = store.commitIf(fence, [created(NS_A, cls('Lost'), 'lost')]);
        expect(await codeOf(handle.committed)).toBe('STORE_CONFLICT');
        expect(await codeOf(handle.durable)).toBe('STORE_CONFLICT');
        heard.stop();
        expect(await store.getClass(NS_A, classKey('Lost'))).toBeUndefined();
        expect(store.revision).toBe(revision);
        expect(heard.batches).toEqual([]);
        expect(await store.readEvents(NS_A, 0n, 10)).toEqual([]);
        // Read again: the new fence lets it through.
        const again = store.commitIf(await store.beginRead([NS_A, NS]), [put(NS_A, 'Kept')]);
        await again.durable;
        expect((await store.getClass(NS_A, classKey('Kept')))?.name).toBe('Kept');
      });

      test('the namespace tree fence moves with namespace creation and deletion, not with class writes', async () => {
        const tree = await store.beginRead([NAMESPACE_TREE]);
        await store.commit([put(NS, 'NotATreeChange')]);
        const ok = store.commitIf(tree, [
          {
            op: 'putNamespace',
            namespace: namespaceKeyOf(['root', 'new']),
            record: { elements: ['root', 'new'] },
          },
        ]);
        await ok.durable;
        const stale = store.commitIf(tree, [{ op: 'deleteNamespace', namespace: NS_AB }]);
        expect(await codeOf(stale.committed)).toBe('STORE_CONFLICT');
        expect(await store.getNamespace(NS_AB)).toBeDefined();
        const deleting = await store.beginRead([NAMESPACE_TREE]);
        await store.commit([{ op: 'deleteNamespace', namespace: NS_AB }]);
        const late = store.commitIf(deleting, [
          { op: 'putNamespace', namespace: NS_AB, record: { elements: ['root', 'AB'] } },
        ]);
        expect(await codeOf(late.committed)).toBe('STORE_CONFLICT');
        expect(await store.getNamespace(NS_AB)).toBeUndefined();
      });

      test('commitIf on a closed store fails both moments with STORE_NOT_OPEN', async () => {
        const fence = await store.beginRead([NS]);
        await store.close();
        const handle = store.commitIf(fence, [put(NS, 'Late')]);
        expect(await codeOf(handle.committed)).toBe('STORE_NOT_OPEN');
        expect(await codeOf(handle.durable)).toBe('STORE_NOT_OPEN');
        expect(await codeOf(store.beginRead([NS]))).toBe('STORE_NOT_OPEN');
      });
    });

    test('the STORE_NOT_OPEN assertion helper fails when nothing is thrown', async () => {
      await expect(codeOf(Promise.resolve())).rejects.toThrow('expected a StoreError');
    });
  });
}
