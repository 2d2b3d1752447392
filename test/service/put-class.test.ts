import { failedCommit } from '../../src/store/abstract-class-store';
import { classKey, namespaceKeyOf } from '../../src/domain/names';
import { derivationNames } from '../../src/domain/resolve-class';
import { SYSTEM_CLASSES } from '../../src/domain/system-classes';
import { WbemError } from '../../src/domain/wbem-status';
import { MemoryClassStore } from '../../src/store/memory/memory-class-store';
import { GatedStore } from '../helpers/gated-store';
import { RecordingPort } from '../helpers/recording-port';
import {
  cls,
  ctx,
  failureOf,
  key,
  prop,
  putClassAsync,
  serviceFixture,
  str,
  allClasses,
} from './fixtures';
import { thrown } from '../helpers/expect-thrown';

const CIMV2 = namespaceKeyOf(['root', 'cimv2']);

/** Breadth-first order of the system classes (parents first, siblings by folded name), as deep EnumClasses lists them. */
function byLevelThenName(a: string, b: string): number {
  const depth = (name: string): number => {
    let level = 0;
    for (
      let at = SYSTEM_CLASSES.find((c) => c.name === name);
      at !== undefined && at.superclass !== '';
      at = SYSTEM_CLASSES.find((c) => c.name === at?.superclass)
    )
      level++;
    return level;
  };
  return depth(a) - depth(b) || (a.toLowerCase() < b.toLowerCase() ? -1 : 1);
}
const SEND_STATUS = 0x80;
const CREATE_ONLY = 0x2;
const UPDATE_ONLY = 0x1;

const thrownStatus = (run: () => unknown): string => thrown(WbemError, run).status;

describe('PutClassAsync in the service', () => {
  test('with SEND_STATUS: progress 1..4 of 4, then exactly one status as the last event', async () => {
    const f = await serviceFixture();
    const { outcome, port } = await f.put(
      cls('Ex_Widget', '', [prop('Id', undefined, { qualifiers: [key] })]),
      SEND_STATUS,
    );
    expect(outcome).toEqual({
      ok: true,
      path: '\\\\TESTHOST\\root\\cimv2:Ex_Widget',
      revision: 1n,
    });
    expect(
      port.events.map((e) => (e.kind === 'progress' ? `${e.current}/${e.total}` : e.kind)),
    ).toEqual(['1/4', '2/4', '3/4', '4/4', 'status']);
    expect(port.events.at(-1)).toEqual({ kind: 'status', outcome });
  });

  test('without SEND_STATUS: exactly one event, the final status', async () => {
    const f = await serviceFixture();
    const { port } = await f.put(cls('Ex_Widget'));
    expect(port.events).toHaveLength(1);
    expect(port.events[0]?.kind).toBe('status');
  });

  test('CREATE_ONLY on an existing class reports WBEM_E_ALREADY_EXISTS and changes nothing', async () => {
    const f = await serviceFixture();
    await f.put(cls('Ex_Widget', '', [prop('P')]));
    const { outcome, port } = await f.put(
      cls('EX_WIDGET', '', [prop('Q')]),
      CREATE_ONLY | SEND_STATUS,
    );
    expect(failureOf(outcome)).toBe('WBEM_E_ALREADY_EXISTS');
    expect(port.statusEvents).toHaveLength(1);
    expect(port.events.at(-1)?.kind).toBe('status');
    const stored = await f.store.getClass(CIMV2, classKey('ex_widget'));
    expect(stored?.name).toBe('Ex_Widget');
    expect(stored?.properties.map((p) => p.name)).toEqual(['P']);
    expect(f.changes.map((c) => c.kind)).toEqual(['created']);
  });

  test('UPDATE_ONLY on a missing class reports WBEM_E_NOT_FOUND and writes nothing', async () => {
    const f = await serviceFixture();
    const { outcome } = await f.put(cls('Ex_Widget'), UPDATE_ONLY);
    expect(failureOf(outcome)).toBe('WBEM_E_NOT_FOUND');
    expect(await f.store.getClass(CIMV2, classKey('Ex_Widget'))).toBeUndefined();
    expect(f.changes).toEqual([]);
  });

  test('CREATE_OR_UPDATE updates an existing class; the stored spelling is the latest', async () => {
    const f = await serviceFixture();
    await f.put(cls('Ex_Widget', '', [prop('P')]));
    const { outcome } = await f.put(cls('ex_widget', '', [prop('Q')]));
    expect(outcome.ok).toBe(true);
    const stored = await f.store.getClass(CIMV2, classKey('Ex_Widget'));
    expect(stored?.name).toBe('ex_widget');
    expect(f.changes.map((c) => [c.kind, c.previous?.properties.map((p) => p.name)])).toEqual([
      ['created', undefined],
      ['modified', ['P']],
    ]);
  });

  test.each([
    ['CREATE_ONLY | UPDATE_ONLY', 0x3],
    ['SAFE | FORCE', 0x60],
    ['an undefined bit', 0x8],
    ['RETURN_IMMEDIATELY', 0x10],
    ['bit 31', 0x80000000 | 0],
  ])('flags %s are rejected at once with WBEM_E_INVALID_PARAMETER', async (_label, flags) => {
    const f = await serviceFixture();
    expect(
      thrownStatus(() =>
        f.service.beginPutClass(
          { namespace: 'root/cimv2', definition: cls('A'), flags, context: undefined },
          ctx(),
          putClassAsync(),
        ),
      ),
    ).toBe('WBEM_E_INVALID_PARAMETER');
  });

  test.each([
    [
      'a missing object',
      { namespace: 'root/cimv2', definition: undefined },
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'an unparseable namespace',
      { namespace: 'root\\\\cimv2', definition: cls('A') },
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'an absent namespace',
      { namespace: 'root/nosuch', definition: cls('A') },
      'WBEM_E_INVALID_NAMESPACE',
    ],
    [
      'another host',
      { namespace: '\\\\otherhost\\root\\cimv2', definition: cls('A') },
      'WBEM_E_INVALID_PARAMETER',
    ],
  ])('%s is rejected at once', async (_label, request, expected) => {
    const f = await serviceFixture();
    expect(
      thrownStatus(() =>
        f.service.beginPutClass(
          { ...request, flags: 0, context: undefined },
          ctx(),
          putClassAsync(),
        ),
      ),
    ).toBe(expected);
  });

  test.each([
    'root/cimv2',
    'root\\cimv2',
    '\\\\.\\root\\cimv2',
    '//./root/cimv2',
    '\\\\TESTHOST\\ROOT\\CIMV2',
    'ROOT/CimV2',
  ])('namespace spelling %s reaches root\\cimv2', async (namespace) => {
    const f = await serviceFixture();
    const { outcome } = await f.put(cls('Ex_Widget'), 0, { namespace });
    expect(outcome).toEqual({
      ok: true,
      path: '\\\\TESTHOST\\root\\cimv2:Ex_Widget',
      revision: 1n,
    });
  });

  test('SEND_STATUS on synchronous PutClass is rejected at once', async () => {
    const f = await serviceFixture();
    expect(
      thrownStatus(() =>
        f.service.beginPutClass(
          { namespace: 'root/cimv2', definition: cls('A'), flags: SEND_STATUS, context: undefined },
          ctx(),
          { method: 'PutClass' },
        ),
      ),
    ).toBe('WBEM_E_INVALID_PARAMETER');
  });

  test('after beginShutdown every new call is rejected at once with WBEM_E_SHUTTING_DOWN', async () => {
    const f = await serviceFixture();
    f.service.beginShutdown();
    expect(
      thrownStatus(() =>
        f.service.beginPutClass(
          { namespace: 'root/cimv2', definition: cls('A'), flags: 0, context: undefined },
          ctx(),
          putClassAsync(),
        ),
      ),
    ).toBe('WBEM_E_SHUTTING_DOWN');
  });

  test('the context reaches the committed change unchanged', async () => {
    const f = await serviceFixture();
    const context = new Map([
      ['__CorrelationId', str('6f1c0b1e-0000-4000-8000-000000000001')],
      ['Foo', { kind: 'sint', value: 1n } as const],
    ]);
    await f.put(cls('Ex_Widget'), 0, { context });
    expect(f.changes).toHaveLength(1);
    expect(f.changes[0]?.context).toBe(context);
  });

  test('a context value name that is empty is rejected at once', async () => {
    const f = await serviceFixture();
    expect(
      thrownStatus(() =>
        f.service.beginPutClass(
          {
            namespace: 'root/cimv2',
            definition: cls('A'),
            flags: 0,
            context: new Map([['', str('x')]]),
          },
          ctx(),
          putClassAsync(),
        ),
      ),
    ).toBe('WBEM_E_INVALID_PARAMETER');
  });

  test('a cancel while loading writes nothing and ends with WBEM_E_CALL_CANCELLED', async () => {
    const gated = new GatedStore(new MemoryClassStore(), 'getClass');
    const f = await serviceFixture(gated);
    gated.arm();
    const abort = new AbortController();
    const running = f.put(cls('Ex_Widget'), SEND_STATUS, { signal: abort.signal });
    await gated.reached;
    abort.abort();
    gated.release();
    const { outcome, port } = await running;
    expect(failureOf(outcome)).toBe('WBEM_E_CALL_CANCELLED');
    expect(port.statusEvents).toHaveLength(1);
    expect(await gated.inner.getClass(CIMV2, classKey('Ex_Widget'))).toBeUndefined();
    expect(f.changes).toEqual([]);
  });

  test('a cancel after the commit point keeps the write and reports success', async () => {
    const gated = new GatedStore(new MemoryClassStore(), 'commitDurable');
    const f = await serviceFixture(gated);
    gated.arm();
    const abort = new AbortController();
    const running = f.put(cls('Ex_Widget'), 0, { signal: abort.signal });
    await gated.reached;
    abort.abort();
    gated.release();
    const { outcome } = await running;
    expect(outcome.ok).toBe(true);
    expect((await gated.inner.getClass(CIMV2, classKey('Ex_Widget')))?.name).toBe('Ex_Widget');
    expect(f.changes.map((c) => c.kind)).toEqual(['created']);
  });

  test('the final success is held back until the write is durable', async () => {
    const gated = new GatedStore(new MemoryClassStore(), 'commitDurable');
    const f = await serviceFixture(gated);
    gated.arm();
    const port = new RecordingPort();
    const accepted = f.service.beginPutClass(
      {
        namespace: 'root/cimv2',
        definition: cls('Ex_Widget'),
        flags: SEND_STATUS,
        context: undefined,
      },
      ctx(),
      putClassAsync(port),
    );
    const running = accepted.run();
    await gated.reached;
    await port.waitForEvents(3);
    // Visible (committed) but not durable: progress up to "committed", and no final status while
    // the gate holds durability back.
    expect(port.events.map((e) => e.kind)).toEqual(['progress', 'progress', 'progress']);
    gated.release();
    await running;
    expect(port.events.map((e) => e.kind)).toEqual([
      'progress',
      'progress',
      'progress',
      'progress',
      'status',
    ]);
  });

  test('concurrent CREATE_ONLY puts of one class: exactly one wins', async () => {
    const f = await serviceFixture();
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        f.put(cls('Ex_Race', '', [prop(`P${i}`)]), CREATE_ONLY).then((r) => r.outcome),
      ),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok).map(failureOf)).toEqual(
      Array(11).fill('WBEM_E_ALREADY_EXISTS'),
    );
    expect(f.changes.map((c) => c.kind)).toEqual(['created']);
  });

  test('concurrent CREATE_OR_UPDATE puts: all succeed in one order; each modification names its predecessor', async () => {
    const f = await serviceFixture();
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => f.put(cls('Ex_Race', '', [prop(`P${i}`)]))),
    );
    expect(f.changes[0]?.kind).toBe('created');
    for (let i = 1; i < f.changes.length; i++) {
      expect(f.changes[i]?.kind).toBe('modified');
      expect(f.changes[i]?.previous).toEqual(f.changes[i - 1]?.target);
    }
    expect(f.changes).toHaveLength(6);
  });

  test('an unexpected store failure becomes WBEM_E_FAILED without leaking the cause', async () => {
    const store = new MemoryClassStore();
    const f = await serviceFixture(store);
    store.commitIf = () => failedCommit(new Error('disk on fire at /secret/path'));
    const { outcome } = await f.put(cls('Ex_Widget'));
    expect(failureOf(outcome)).toBe('WBEM_E_FAILED');
    if (!outcome.ok) expect(outcome.error.param).not.toContain('/secret/path');
  });
});

describe('reads, deletion and namespaces in the service', () => {
  test('GetClass resolves inherited members; local_only returns the local ones', async () => {
    const f = await serviceFixture();
    await f.put(cls('Ex_Base', '', [prop('Id', undefined, { qualifiers: [key] }), prop('P', 19)]));
    await f.put(cls('Ex_Sub', 'ex_base', [prop('Q')]));
    const view = await f.service.getClass('root\\cimv2', 'EX_SUB', false, ctx());
    expect(view.class.properties.map((p) => [p.name, p.classOrigin, p.propagated])).toEqual([
      ['Id', 'Ex_Base', true],
      ['P', 'Ex_Base', true],
      ['Q', 'Ex_Sub', false],
    ]);
    expect(derivationNames(view.system.derivation)).toEqual(['Ex_Base']);
    expect(view.system).toMatchObject({
      genus: 1,
      className: 'Ex_Sub',
      superclass: 'Ex_Base',
      dynasty: 'Ex_Base',
      namespace: 'root\\cimv2',
      path: '\\\\TESTHOST\\root\\cimv2:Ex_Sub',
      relpath: 'Ex_Sub',
      propertyCount: 3,
    });
    const local = await f.service.getClass('root/cimv2', 'Ex_Sub', true, ctx());
    expect(local.class.properties.map((p) => p.name)).toEqual(['Q']);
  });

  test('GetClass of a missing class is WBEM_E_NOT_FOUND', async () => {
    const f = await serviceFixture();
    await expect(f.service.getClass('root/cimv2', 'Nope', false, ctx())).rejects.toMatchObject({
      status: 'WBEM_E_NOT_FOUND',
    });
  });

  test('a read after an update sees the new superclass chain (no stale cache)', async () => {
    const f = await serviceFixture();
    await f.put(cls('Ex_Base', '', [prop('P')]));
    await f.put(cls('Ex_Sub', 'Ex_Base'));
    expect(
      (await f.service.getClass('root/cimv2', 'Ex_Sub', false, ctx())).class.properties.map(
        (p) => p.name,
      ),
    ).toEqual(['P']);
    await f.put(cls('Ex_Base', '', [prop('P'), prop('Z')]), 0x20); // SAFE: children re-derived
    expect(
      (await f.service.getClass('root/cimv2', 'Ex_Sub', false, ctx())).class.properties.map(
        (p) => p.name,
      ),
    ).toEqual(['P', 'Z']);
  });

  test('DeleteClass removes the class and all its subclasses, class first, one event each', async () => {
    const f = await serviceFixture();
    await f.put(cls('A'));
    await f.put(cls('B', 'A'));
    await f.put(cls('C', 'B'));
    await f.put(cls('Other'));
    const result = await f.service.deleteClass(
      { namespace: 'root/cimv2', className: 'a', flags: 0, context: undefined },
      ctx(),
    );
    expect(result.deletedClasses).toEqual(['A', 'B', 'C']);
    for (const name of ['A', 'B', 'C'])
      expect(await f.store.getClass(CIMV2, classKey(name))).toBeUndefined();
    expect(await f.store.getClass(CIMV2, classKey('Other'))).toBeDefined();
    expect(f.changes.filter((c) => c.kind === 'deleted').map((c) => c.target.name)).toEqual([
      'A',
      'B',
      'C',
    ]);
  });

  test('system classes: built in, resolvable as superclasses (scenario 43), readable, not writable (38)', async () => {
    const f = await serviceFixture();
    const { outcome } = await f.put(cls('MyEvt', '__ExtrinsicEvent', [prop('Msg')]));
    expect(outcome.ok).toBe(true);
    const view = await f.service.getClass('root/cimv2', 'myevt', false, ctx());
    expect(derivationNames(view.system.derivation)).toEqual([
      '__ExtrinsicEvent',
      '__Event',
      '__IndicationRelated',
      '__SystemClass',
    ]);
    expect(view.class.properties.map((p) => p.name)).toEqual([
      'SECURITY_DESCRIPTOR',
      'TIME_CREATED',
      'Msg',
    ]);
    expect(
      (
        await f.service.getClass('root/default', '__ClassModificationEvent', true, ctx())
      ).class.properties.map((p) => p.name),
    ).toEqual(['PreviousClass']);
    expect(failureOf((await f.put(cls('__SystemClass'))).outcome)).toBe('WBEM_E_INVALID_OPERATION');
    await expect(
      f.service.deleteClass(
        { namespace: 'root/cimv2', className: '__Event', flags: 0, context: undefined },
        ctx(),
      ),
    ).rejects.toMatchObject({ status: 'WBEM_E_INVALID_OPERATION' });
    expect(
      (
        await allClasses(
          f.service.enumClasses(
            {
              namespace: 'root/cimv2',
              superclass: '__ExtrinsicEvent',
              deep: true,
              localOnly: true,
            },
            ctx(),
          ),
        )
      ).map((v) => v.class.name),
    ).toEqual(['MyEvt']);
  });

  test('EnumClasses: shallow lists top-level classes, deep lists every descendant parents first', async () => {
    const f = await serviceFixture();
    await f.put(cls('A'));
    await f.put(cls('B', 'A'));
    await f.put(cls('C', 'B'));
    await f.put(cls('D'));
    const names = async (superclass: string, deep: boolean): Promise<string[]> =>
      (
        await allClasses(
          f.service.enumClasses(
            { namespace: 'root/cimv2', superclass, deep, localOnly: false },
            ctx(),
          ),
        )
      ).map((v) => v.class.name);
    // The built-in system classes are listed as WMI lists them: __SystemClass at the top.
    expect(await names('', false)).toEqual(['__SystemClass', 'A', 'D']);
    expect((await names('', true)).filter((name) => !name.startsWith('__'))).toEqual([
      'A',
      'D',
      'B',
      'C',
    ]);
    expect((await names('', true)).filter((name) => name.startsWith('__'))).toEqual(
      SYSTEM_CLASSES.map((c) => c.name).sort(byLevelThenName),
    );
    expect(await names('A', false)).toEqual(['B']);
    expect(await names('A', true)).toEqual(['B', 'C']);
    await expect(names('Nope', true)).rejects.toMatchObject({ status: 'WBEM_E_INVALID_CLASS' });
  });

  test('namespaces: create, enumerate, delete with children; built-ins refuse deletion', async () => {
    const f = await serviceFixture();
    expect(await f.service.createNamespace('root', 'Test', ctx())).toEqual({ path: 'root\\Test' });
    await f.service.createNamespace('root/test', 'Child', ctx());
    await expect(f.service.createNamespace('ROOT', 'test', ctx())).rejects.toMatchObject({
      status: 'WBEM_E_ALREADY_EXISTS',
    });
    await expect(f.service.createNamespace('root', 'bad name', ctx())).rejects.toMatchObject({
      status: 'WBEM_E_INVALID_PARAMETER',
    });
    expect((await f.service.enumNamespaces('root', false, ctx())).map((n) => n.path)).toEqual([
      'root\\cimv2',
      'root\\default',
      'root\\Test',
    ]);
    expect((await f.service.enumNamespaces('root', true, ctx())).map((n) => n.path)).toEqual([
      'root\\cimv2',
      'root\\default',
      'root\\Test',
      'root\\Test\\Child',
    ]);
    await f.put(cls('InTest'), 0, { namespace: 'root/test/child' });
    await f.service.deleteNamespace('root\\TEST', ctx());
    expect((await f.service.enumNamespaces('root', true, ctx())).map((n) => n.path)).toEqual([
      'root\\cimv2',
      'root\\default',
    ]);
    expect(
      await f.store.getClass(namespaceKeyOf(['root', 'test', 'child']), classKey('InTest')),
    ).toBeUndefined();
    expect(
      thrownStatus(() =>
        f.service.beginPutClass(
          { namespace: 'root/test', definition: cls('A'), flags: 0, context: undefined },
          ctx(),
          putClassAsync(),
        ),
      ),
    ).toBe('WBEM_E_INVALID_NAMESPACE');
    for (const builtIn of ['root', 'root/cimv2', 'root/default']) {
      await expect(f.service.deleteNamespace(builtIn, ctx())).rejects.toMatchObject({
        status: 'WBEM_E_INVALID_OPERATION',
      });
    }
  });

  test('a new store has root, root\\cimv2 and root\\default, and initialize is idempotent', async () => {
    const f = await serviceFixture();
    await f.service.initialize();
    expect((await f.store.listNamespaces()).map((n) => n.elements.join('\\'))).toEqual([
      'root',
      'root\\cimv2',
      'root\\default',
    ]);
  });
});
