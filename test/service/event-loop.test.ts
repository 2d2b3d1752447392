/**
 * Issue #13: a heavy call never holds the event loop to its end. Not timed: each test checks that
 * a macrotask (what a health Check or another call's I/O needs) ran while the heavy call was still
 * running.
 */
import { CIM_TYPE, type ClassDefinition } from '../../src/domain/class-model';
import { DMTF_RULES } from '../../src/domain/client-context';
import { allClasses, cls, ctx, key, prop, serviceFixture, type ServiceFixture } from './fixtures';
import { schemaSources } from '../helpers/cim-schema';
import { RecordingPort } from '../helpers/recording-port';
import { classKey, type NamespaceKey } from '../../src/domain/names';
import type { AcceptedPutClass } from '../../src/service/wbem-service-api';
import type { ClassStore } from '../../src/store/class-store';
import { MemoryClassStore } from '../../src/store/memory/memory-class-store';

const CHAIN = 2000;

function chain(length: number): ClassDefinition[] {
  return Array.from({ length }, (_, i) => ({
    name: `C${i}`,
    superclass: i === 0 ? '' : `C${i - 1}`,
    qualifiers: [],
    properties: [],
    methods: [],
  }));
}

/** Resolves with whether `heavy` had settled when the first setImmediate after its start ran. */
async function macrotaskRanDuring(heavy: () => Promise<unknown>): Promise<boolean> {
  let settled = false;
  const running = heavy().finally(() => (settled = true));
  const duringHeavy = await new Promise<boolean>((resolve) =>
    setImmediate(() => resolve(!settled)),
  );
  await running;
  return duringHeavy;
}

async function chainFixture(): Promise<ServiceFixture> {
  const fixture = await serviceFixture();
  // Straight into the store: 2,000 PutClass calls would only slow the test down.
  const namespace = 'root\\cimv2' as NamespaceKey;
  await fixture.store.commit(
    chain(CHAIN).map((definition) => ({
      op: 'putClass',
      namespace,
      definition,
      previousSuperclass: undefined,
    })),
  );
  return fixture;
}

test('EnumClasses deep over a 2,000-level chain lets the event loop turn before it ends', async () => {
  const fixture = await chainFixture();
  let count = 0;
  const ran = await macrotaskRanDuring(async () => {
    count = (
      await allClasses(
        fixture.service.enumClasses(
          { namespace: 'root/cimv2', superclass: 'C0', deep: true, localOnly: false },
          ctx(),
        ),
      )
    ).length;
  });
  expect(count).toBe(CHAIN - 1);
  expect(ran).toBe(true);
}, 120_000);

test('CompileMof of the CIM schema lets the event loop turn before it ends', async () => {
  const fixture = await serviceFixture();
  const ran = await macrotaskRanDuring(async () => {
    const outcome = await fixture.service
      .beginCompileMof(
        {
          namespace: 'root/cimv2',
          sources: schemaSources(),
          flags: 2,
          context: new Map([[DMTF_RULES, { kind: 'boolean', value: true }]]),
          continueOnError: false,
        },
        ctx(),
        new RecordingPort(),
      )
      .run();
    expect(outcome.ok).toBe(true);
  });
  expect(ran).toBe(true);
}, 120_000);

const SUBCLASSES = 10_000;
const FORCE = 0x40;

/**
 * Counts the event loop's turns (a setImmediate that schedules itself) and notes the count at each
 * read of the store and at the commit: a turn between the last read and the commit happened while
 * the update was being decided and its writes built.
 */
function turnCountingStore(inner: ClassStore): {
  store: ClassStore;
  start(): void;
  stop(): void;
  readonly atLastRead: number;
  readonly atCommit: number | undefined;
  /** The turns counted at each listing of a class other than the root's subclasses. */
  readonly atLeafListings: readonly number[];
} {
  let turns = 0;
  let counting = false;
  let atLastRead = 0;
  let atCommit: number | undefined;
  const atLeafListings: number[] = [];
  const turn = (): void => {
    turns++;
    if (counting) setImmediate(turn);
  };
  const noted = new Set(['getClass', 'listSubclasses', 'countInstances']);
  const store = new Proxy(inner, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        if (counting && typeof name === 'string' && noted.has(name)) atLastRead = turns;
        if (counting && name === 'commitIf') atCommit = turns;
        if (counting && name === 'listSubclasses' && args[1] !== classKey('Force_Base'))
          atLeafListings.push(turns);
        return method.apply(target, args);
      };
    },
  });
  return {
    store,
    start() {
      counting = true;
      setImmediate(turn);
    },
    stop() {
      counting = false;
    },
    get atLastRead() {
      return atLastRead;
    },
    get atCommit() {
      return atCommit;
    },
    get atLeafListings() {
      return atLeafListings;
    },
  };
}

test('a FORCE update over 10,000 subclasses lets the event loop turn while it loads them, lists theirs, and decides', async () => {
  const counting = turnCountingStore(new MemoryClassStore());
  const fixture = await serviceFixture(counting.store);
  const namespace = 'root\\cimv2' as NamespaceKey;
  const root = cls('Force_Base', '', [prop('Id', CIM_TYPE.STRING, { qualifiers: [key] })]);
  // Straight into the store: each subclass declares Z as a string, which the update makes uint32.
  await fixture.store.commit(
    [
      root,
      ...Array.from({ length: SUBCLASSES }, (_, i) =>
        cls(`Force_Sub${i}`, 'Force_Base', [prop('Z'), prop(`Q${i}`, CIM_TYPE.UINT32)]),
      ),
    ].map((definition) => ({
      op: 'putClass',
      namespace,
      definition,
      previousSuperclass: undefined,
    })),
  );
  const updated = cls('Force_Base', '', [...root.properties, prop('Z', CIM_TYPE.UINT32)]);
  counting.start();
  const { outcome } = await fixture.put(updated, FORCE);
  counting.stop();
  expect(outcome.ok).toBe(true);
  // All rewritten in the one commit: the string Z is gone from every subclass.
  const last = await fixture.store.getClass(namespace, classKey(`Force_Sub${SUBCLASSES - 1}`));
  expect(last?.properties.map((p) => p.name)).toEqual([`Q${SUBCLASSES - 1}`]);
  expect(counting.atLastRead).toBeGreaterThan(0); // turned while loading the subclasses
  // and while listing the subclasses' own subclasses (none: 10,000 listings, no read between)
  const leaves = counting.atLeafListings;
  expect(leaves.length).toBeGreaterThanOrEqual(SUBCLASSES);
  expect(leaves[leaves.length - 1]).toBeGreaterThan(leaves[0] ?? Infinity);
  expect(counting.atCommit).toBeGreaterThan(counting.atLastRead); // and while deciding
}, 120_000);

const WIDE = 2000;

/** A keyed root class with WIDE subclasses, each holding five static instances. */
async function wideFixture(): Promise<ServiceFixture> {
  const fixture = await serviceFixture();
  const namespace = 'root\\cimv2' as NamespaceKey;
  const keyProperty = prop('K', CIM_TYPE.STRING, { qualifiers: [key] });
  await fixture.store.commit([
    {
      op: 'putClass',
      namespace,
      definition: cls('Root', '', [keyProperty]),
      previousSuperclass: undefined,
    },
    ...Array.from({ length: WIDE }, (_, i) => ({
      op: 'putClass' as const,
      namespace,
      definition: cls(`S${i}`, 'Root'),
      previousSuperclass: undefined,
    })),
    ...Array.from({ length: WIDE * 5 }, (_, n) => ({
      op: 'putInstance' as const,
      namespace,
      className: classKey(`S${n % WIDE}`),
      key: `"k${n}"`,
      instance: {
        className: `S${n % WIDE}`,
        values: [{ name: 'K', value: { kind: 'string' as const, value: `k${n}` } }],
      },
    })),
  ]);
  return fixture;
}

test('EnumInstances deep over 2,000 subclasses and 10,000 instances lets the event loop turn before it ends', async () => {
  const fixture = await wideFixture();
  let count = 0;
  const ran = await macrotaskRanDuring(async () => {
    count = (
      await fixture.service.enumInstances(
        { namespace: 'root/cimv2', className: 'Root', deep: true },
        ctx(),
      )
    ).length;
  });
  expect(count).toBe(WIDE * 5);
  expect(ran).toBe(true);
}, 120_000);

test('DeleteClass of a root with 2,000 subclasses and their instances lets the event loop turn before it ends', async () => {
  const fixture = await wideFixture();
  let deleted = 0;
  const ran = await macrotaskRanDuring(async () => {
    deleted = (
      await fixture.service.deleteClass(
        { namespace: 'root/cimv2', className: 'Root', flags: 0, context: undefined },
        ctx(),
      )
    ).deletedClasses.length;
  });
  expect(deleted).toBe(WIDE + 1);
  expect(await fixture.store.listInstances('root\\cimv2' as NamespaceKey, classKey('S0'))).toEqual(
    [],
  );
  expect(ran).toBe(true);
}, 120_000);

test("CompileMof's compile starts in a turn of the event loop after the one its request came in", async () => {
  const fixture = await serviceFixture();
  // Rejected by its first step (a syntax error): settled in the request's turn if compiled there,
  // before a macrotask queued before the call.
  let settled = false;
  const atNextTurn = new Promise<boolean>((resolve) => setImmediate(() => resolve(settled)));
  const outcome = fixture.service
    .acceptCompileMof(
      {
        namespace: 'root/cimv2',
        sources: [{ name: 'bad.mof', text: 'class {' }],
        flags: 2,
        context: undefined,
        continueOnError: false,
      },
      ctx(),
      new RecordingPort(),
    )
    .then(
      () => 'accepted',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    )
    .finally(() => (settled = true));
  expect(await atNextTurn).toBe(false);
  expect(await outcome).toMatch(/bad\.mof:1/);
});

test("CompileMof's compile of the MOF itself (acceptCompileMof, before the call is accepted) lets the event loop turn", async () => {
  const fixture = await serviceFixture();
  let accepted: AcceptedPutClass | undefined;
  const ran = await macrotaskRanDuring(async () => {
    accepted = await fixture.service.acceptCompileMof(
      {
        namespace: 'root/cimv2',
        sources: schemaSources(),
        flags: 2,
        context: new Map([[DMTF_RULES, { kind: 'boolean', value: true }]]),
        continueOnError: false,
      },
      ctx(),
      new RecordingPort(),
    );
  });
  expect(ran).toBe(true);
  if (accepted === undefined) throw new Error('not accepted');
  expect((await accepted.run()).ok).toBe(true);
  const classes = await allClasses(
    fixture.service.enumClasses(
      { namespace: 'root/cimv2', superclass: '', deep: true, localOnly: true },
      ctx(),
    ),
  );
  expect(classes.length).toBeGreaterThan(1400);
}, 120_000);
