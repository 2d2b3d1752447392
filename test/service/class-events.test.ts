import { CIM_TYPE } from '../../src/domain/class-model';
import type { ClientContext } from '../../src/domain/client-context';
import { classKey, namespaceKeyOf } from '../../src/domain/names';
import { derivationNames as names } from '../../src/domain/resolve-class';
import { WbemError } from '../../src/domain/wbem-status';
import type { WatchPort } from '../../src/service/class-watch';
import { WbemService } from '../../src/service/wbem-service';
import type { OperationContext } from '../../src/service/operation-context';
import type { WatchClassEventsInput } from '../../src/service/wbem-service-api';
import type { ClassEventView } from '../../src/service/views';
import { MemoryClassStore } from '../../src/store/memory/memory-class-store';
import { thrown } from '../helpers/expect-thrown';
import { defer } from '../helpers/gated-store';
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
  type ServiceFixture,
} from './fixtures';

const FORCE = 0x40;
const CIMV2 = namespaceKeyOf(['root', 'cimv2']);

/** A WatchPort that records every event; `waitFor` is a gate, not a sleep. */
class RecordingWatchPort implements WatchPort<ClassEventView> {
  readonly events: ClassEventView[] = [];
  readonly #waiters: { count: number; resolve: () => void }[] = [];

  async send(event: ClassEventView): Promise<void> {
    this.events.push(event);
    for (const waiter of this.#waiters.filter((w) => this.events.length >= w.count))
      waiter.resolve();
  }

  waitFor(count: number): Promise<void> {
    if (this.events.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  get summary(): [string, string, bigint][] {
    return this.events.map((e) => [e.eventClass, e.target.definition.name, e.revision]);
  }
}

interface Watch {
  readonly port: RecordingWatchPort;
  readonly ended: Promise<WbemError>;
  readonly revision: bigint;
  readonly abort: AbortController;
}

function watch(
  f: ServiceFixture,
  input: Partial<WatchClassEventsInput> = {},
  port = new RecordingWatchPort(),
): Watch {
  const abort = new AbortController();
  const accepted = f.service.watchClassEvents(
    { namespace: 'root/cimv2', className: '', sinceRevision: undefined, ...input },
    ctx(abort.signal),
  );
  return { port, ended: accepted.run(port), revision: accepted.revision, abort };
}

async function deleteClass(
  f: ServiceFixture,
  className: string,
  context?: ClientContext,
  operation: OperationContext = ctx(),
) {
  return f.service.deleteClass(
    { namespace: 'root/cimv2', className, flags: 0, context },
    operation,
  );
}

describe('class events (§9)', () => {
  test('create, modify and delete: one event each, with revisions, PreviousClass, derivation, context and operation id', async () => {
    const f = await serviceFixture();
    const context: ClientContext = new Map([['__CorrelationId', str('corr-1')]]);
    await f.put(cls('Ex_Base', '', [prop('Id', CIM_TYPE.STRING, { qualifiers: [key] })]));
    const v1 = cls('Ex_Sub', 'Ex_Base', [prop('P')]);
    const created = await f.put(v1, 0, { context });
    const modified = await f.put(cls('Ex_Sub', 'Ex_Base', [prop('P'), prop('Q')]));
    const operation = ctx();
    await deleteClass(f, 'Ex_Sub', context, operation);
    const changes = f.changes.map((c) => [c.kind, c.target.name, c.revision, names(c.derivation)]);
    expect(changes).toEqual([
      ['created', 'Ex_Base', 1n, []],
      ['created', 'Ex_Sub', 2n, ['Ex_Base']],
      ['modified', 'Ex_Sub', 3n, ['Ex_Base']],
      ['deleted', 'Ex_Sub', 4n, ['Ex_Base']],
    ]);
    expect(created.outcome).toMatchObject({ ok: true, revision: 2n });
    expect(modified.outcome).toMatchObject({ ok: true, revision: 3n });
    expect(f.changes[1]?.context).toBe(context);
    expect(f.changes[2]?.previous).toEqual(v1);
    expect(f.changes[3]?.context).toBe(context);
    expect(f.changes[3]?.operationId).toBe(operation.operationId);
    expect(f.changes[3]?.target.properties.map((p) => p.name)).toEqual(['P', 'Q']);
    // TIME_CREATED is a FILETIME of now: after 2020-01-01 (132223104000000000).
    expect(f.changes.every((c) => c.timeCreated > 132_223_104_000_000_000n)).toBe(true);
    expect(f.store.revision).toBe(4n);
  });

  test('a FORCE update raises a modification for the class and for each rewritten child, with its previous definition', async () => {
    const f = await serviceFixture();
    await f.put(cls('A', '', [prop('Id', CIM_TYPE.STRING, { qualifiers: [key] })]));
    const b = cls('B', 'A', [prop('Z', CIM_TYPE.STRING)]);
    await f.put(b);
    const { outcome } = await f.put(
      cls('A', '', [
        prop('Id', CIM_TYPE.STRING, { qualifiers: [key] }),
        prop('Z', CIM_TYPE.UINT32),
      ]),
      FORCE,
    );
    expect(outcome).toMatchObject({ ok: true, revision: 4n });
    const modifications = f.changes.filter((c) => c.kind === 'modified');
    expect(modifications.map((c) => [c.target.name, c.revision, c.derivation])).toEqual([
      ['A', 3n, []],
      ['B', 4n, ['A']],
    ]);
    expect(modifications[1]?.previous).toEqual(b);
    expect(modifications[1]?.target.properties).toEqual([]); // the conflicting local Z is gone
  });

  test('77: an important SAFE update re-derives every subclass: ME(A), ME(B), ME(C); a non-important one raises ME(A) only', async () => {
    const f = await serviceFixture();
    await f.put(cls('A', '', [prop('Id', CIM_TYPE.STRING, { qualifiers: [key] })]));
    await f.put(cls('B', 'A'));
    await f.put(cls('C', 'B', [prop('Q')]));
    const revisionOfC = await f.store.getClassRevision(CIMV2, classKey('C'));
    const { outcome } = await f.put(
      cls('A', '', [
        prop('Id', CIM_TYPE.STRING, { qualifiers: [key] }),
        prop('Z', CIM_TYPE.UINT32),
      ]),
      0x20,
    );
    expect(outcome.ok).toBe(true);
    const modified = () =>
      f.changes.filter((c) => c.kind === 'modified').map((c) => [c.target.name, c.derivation]);
    expect(modified()).toEqual([
      ['A', []],
      ['B', ['A']],
      ['C', ['B', 'A']],
    ]);
    // C's definition is unchanged (it is written again as stored), but its revision moved with what it inherits.
    expect(f.changes.at(-1)?.previous).toEqual(f.changes.at(-1)?.target);
    expect(await f.store.getClassRevision(CIMV2, classKey('C'))).not.toBe(revisionOfC);
    await f.put(
      cls(
        'A',
        '',
        [prop('Id', CIM_TYPE.STRING, { qualifiers: [key] }), prop('Z', CIM_TYPE.UINT32)],
        [{ name: 'Description', value: str('x'), flavor: 0 }],
      ),
    );
    expect(modified()).toHaveLength(4);
  });

  test('a recursive DeleteClass raises one deletion per class, the class first, each with its derivation', async () => {
    const f = await serviceFixture();
    await f.put(cls('A'));
    await f.put(cls('B', 'A'));
    await f.put(cls('C', 'B'));
    await deleteClass(f, 'a');
    expect(
      f.changes.filter((c) => c.kind === 'deleted').map((c) => [c.target.name, c.derivation]),
    ).toEqual([
      ['A', []],
      ['B', ['A']],
      ['C', ['B', 'A']],
    ]);
  });

  test('a failing put raises nothing and takes no revision (scenario 126)', async () => {
    const f = await serviceFixture();
    await f.put(cls('A'));
    const { outcome } = await f.put(cls('Orphan', 'Missing'));
    expect(failureOf(outcome)).toBe('WBEM_E_INVALID_SUPERCLASS');
    expect(f.changes.map((c) => c.target.name)).toEqual(['A']);
    expect(f.store.revision).toBe(1n);
  });

  test('CompileMof raises one creation per class with the MOF context', async () => {
    const f = await serviceFixture();
    const context: ClientContext = new Map([['__CorrelationId', str('mof')]]);
    const accepted = f.service.beginCompileMof(
      {
        namespace: 'root/cimv2',
        sources: [
          { name: 'a.mof', text: 'class Ex_A { [Key] string Id; };\nclass Ex_B : Ex_A { };\n' },
        ],
        flags: 0,
        context,
        continueOnError: false,
      },
      ctx(),
      new RecordingPort(),
    );
    const outcome = await accepted.run();
    expect(outcome).toMatchObject({ ok: true, revision: 2n });
    expect(f.changes.map((c) => [c.kind, c.target.name, names(c.derivation), c.context])).toEqual([
      ['created', 'Ex_A', [], context],
      ['created', 'Ex_B', ['Ex_A'], context],
    ]);
  });

  test('GetClass reports the class mod revision', async () => {
    const f = await serviceFixture();
    await f.put(cls('A'));
    await f.put(cls('B'));
    await f.put(cls('A', '', [prop('P')]));
    expect((await f.service.getClass('root/cimv2', 'a', false, ctx())).revision).toBe(3n);
    expect((await f.service.getClass('root/cimv2', 'B', false, ctx())).revision).toBe(2n);
  });
});

describe('WatchClassEvents in the service', () => {
  test('live events with system properties, TargetClass as written and PreviousClass', async () => {
    const f = await serviceFixture();
    const w = watch(f);
    expect(w.revision).toBe(0n);
    await f.put(cls('Ex_Base'));
    await f.put(cls('Ex_Sub', 'Ex_Base', [prop('P')]));
    await f.put(cls('Ex_Sub', 'Ex_Base', [prop('P'), prop('Q')]));
    await w.port.waitFor(3);
    expect(w.port.summary).toEqual([
      ['__ClassCreationEvent', 'Ex_Base', 1n],
      ['__ClassCreationEvent', 'Ex_Sub', 2n],
      ['__ClassModificationEvent', 'Ex_Sub', 3n],
    ]);
    const modification = w.port.events[2];
    expect(modification?.target.definition).toEqual(
      cls('Ex_Sub', 'Ex_Base', [prop('P'), prop('Q')]),
    );
    expect(modification?.previous?.definition.properties.map((p) => p.name)).toEqual(['P']);
    const system = modification?.target.system;
    expect(system && { ...system, derivation: names(system.derivation) }).toEqual({
      genus: 1,
      className: 'Ex_Sub',
      superclass: 'Ex_Base',
      dynasty: 'Ex_Base',
      derivation: ['Ex_Base'],
      server: 'TESTHOST',
      namespace: 'root\\cimv2',
      path: '\\\\TESTHOST\\root\\cimv2:Ex_Sub',
      relpath: 'Ex_Sub',
      propertyCount: 0,
    });
    w.abort.abort();
    expect((await w.ended).status).toBe('WBEM_E_CALL_CANCELLED');
  });

  test('the ISA filter keeps X and its subclasses, judged by the recorded derivation (also after deletion); X need not exist', async () => {
    const f = await serviceFixture();
    const w = watch(f, { className: 'ex_base' });
    await f.put(cls('Other'));
    await f.put(cls('Ex_Base'));
    await f.put(cls('Ex_Sub', 'Ex_Base'));
    await f.put(cls('Ex_SubSub', 'Ex_Sub'));
    await deleteClass(f, 'Ex_Base');
    await f.put(cls('Last'));
    await w.port.waitFor(6);
    expect(w.port.summary.map(([kind, name]) => [kind, name])).toEqual([
      ['__ClassCreationEvent', 'Ex_Base'],
      ['__ClassCreationEvent', 'Ex_Sub'],
      ['__ClassCreationEvent', 'Ex_SubSub'],
      ['__ClassDeletionEvent', 'Ex_Base'],
      ['__ClassDeletionEvent', 'Ex_Sub'],
      ['__ClassDeletionEvent', 'Ex_SubSub'],
    ]);
    w.abort.abort();
    await w.ended;
  });

  test('since_revision replays exactly the events after it, then goes live, none twice', async () => {
    const f = await serviceFixture();
    for (const name of ['A', 'B', 'C', 'D']) await f.put(cls(name));
    await f.put(cls('X'), 0, { namespace: 'root/default' }); // another namespace: never seen here
    const w = watch(f, { sinceRevision: 2n });
    expect(w.revision).toBe(5n);
    await f.put(cls('E'));
    await w.port.waitFor(3);
    expect(w.port.summary.map(([, name, revision]) => [name, revision])).toEqual([
      ['C', 3n],
      ['D', 4n],
      ['E', 6n],
    ]);
    w.abort.abort();
    await w.ended;
  });

  test('since older than the log retains, or ahead of the store, is WBEM_E_QUEUE_OVERFLOW at once', async () => {
    const f = await serviceFixture(new MemoryClassStore({ eventRetention: 2 }));
    for (const name of ['A', 'B', 'C', 'D']) await f.put(cls(name));
    expect(f.store.firstRetainedRevision).toBe(3n);
    const tooOld = thrown(WbemError, () =>
      f.service.watchClassEvents(
        { namespace: 'root/cimv2', className: '', sinceRevision: 1n },
        ctx(),
      ),
    );
    expect(tooOld.status).toBe('WBEM_E_QUEUE_OVERFLOW');
    const ahead = thrown(WbemError, () =>
      f.service.watchClassEvents(
        { namespace: 'root/cimv2', className: '', sinceRevision: 5n },
        ctx(),
      ),
    );
    expect(ahead.status).toBe('WBEM_E_QUEUE_OVERFLOW');
    const w = watch(f, { sinceRevision: 2n }); // the oldest since the log can still serve
    await w.port.waitFor(2);
    expect(w.port.summary.map(([, name]) => name)).toEqual(['C', 'D']);
    w.abort.abort();
    await w.ended;
  });

  test('immediate checks: unparseable namespace, absent namespace, bad filter', async () => {
    const f = await serviceFixture();
    const run = (input: Partial<WatchClassEventsInput>) =>
      thrown(WbemError, () =>
        f.service.watchClassEvents(
          { namespace: 'root/cimv2', className: '', sinceRevision: undefined, ...input },
          ctx(),
        ),
      ).status;
    expect(run({ namespace: 'root\\\\cimv2' })).toBe('WBEM_E_INVALID_PARAMETER');
    expect(run({ namespace: 'root/nowhere' })).toBe('WBEM_E_INVALID_NAMESPACE');
    expect(run({ className: 'not a class' })).toBe('WBEM_E_INVALID_PARAMETER');
  });

  test('a consumer that falls more than the limit behind ends with WBEM_E_QUEUE_OVERFLOW; writers never wait', async () => {
    const store = new MemoryClassStore();
    await store.open();
    const service = new WbemService({ store, serverName: 'TESTHOST', watchQueueLimit: 2 });
    await service.initialize();
    const stuck = defer();
    const sent: string[] = [];
    const port: WatchPort<ClassEventView> = {
      send: async (event) => {
        sent.push(event.target.definition.name);
        await stuck.promise; // never drains
      },
    };
    const abort = new AbortController();
    const accepted = service.watchClassEvents(
      { namespace: 'root/cimv2', className: '', sinceRevision: undefined },
      ctx(abort.signal),
    );
    const ended = accepted.run(port);
    const put = (name: string) =>
      service
        .beginPutClass(
          { namespace: 'root/cimv2', definition: cls(name), flags: 0, context: undefined },
          ctx(),
          putClassAsync(),
        )
        .run();
    for (const name of ['A', 'B', 'C', 'D', 'E']) expect((await put(name)).ok).toBe(true);
    const error = await ended;
    expect(error.status).toBe('WBEM_E_QUEUE_OVERFLOW');
    expect(sent).toEqual(['A']);
    expect(service.watchCount).toBe(0);
    stuck.resolve();
  });

  test('beginShutdown ends every watch with WBEM_E_SHUTTING_DOWN; new watches are refused', async () => {
    const f = await serviceFixture();
    const a = watch(f);
    const b = watch(f, { namespace: 'root/default', sinceRevision: 0n });
    f.service.beginShutdown();
    expect((await a.ended).status).toBe('WBEM_E_SHUTTING_DOWN');
    expect((await b.ended).status).toBe('WBEM_E_SHUTTING_DOWN');
    expect(
      thrown(WbemError, () =>
        f.service.watchClassEvents(
          { namespace: 'root/cimv2', className: '', sinceRevision: undefined },
          ctx(),
        ),
      ).status,
    ).toBe('WBEM_E_SHUTTING_DOWN');
  });

  test('DeleteNamespace ends the watches of that namespace and its children with WBEM_E_INVALID_NAMESPACE, no other', async () => {
    const f = await serviceFixture();
    await f.service.createNamespace('root', 'Doomed', ctx());
    await f.service.createNamespace('root/Doomed', 'Child', ctx());
    const doomed = watch(f, { namespace: 'root/doomed' });
    const child = watch(f, { namespace: 'root/doomed/child' });
    const kept = watch(f);
    await f.service.deleteNamespace('root/Doomed', ctx());
    expect((await doomed.ended).status).toBe('WBEM_E_INVALID_NAMESPACE');
    expect((await child.ended).status).toBe('WBEM_E_INVALID_NAMESPACE');
    await f.put(cls('StillWatched'));
    await kept.port.waitFor(1);
    expect(kept.port.summary.map(([, name]) => name)).toEqual(['StillWatched']);
    kept.abort.abort();
    await kept.ended;
  });

  test('a cancelled watch is freed: later events are not delivered to it', async () => {
    const f = await serviceFixture();
    const w = watch(f);
    w.abort.abort();
    expect((await w.ended).status).toBe('WBEM_E_CALL_CANCELLED');
    expect(f.service.watchCount).toBe(0);
    await f.put(cls('After'));
    expect(w.port.events).toEqual([]);
  });
});
