import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namespaceKeyOf } from '../../src/domain/names';
import { derivationNames } from '../../src/domain/resolve-class';
import { LevelClassStore } from '../../src/store/level/level-class-store';
import type { CompileMofInput } from '../../src/service/wbem-service-api';
import { WbemError } from '../../src/domain/wbem-status';
import { thrown } from '../helpers/expect-thrown';
import { schemaSources } from '../helpers/cim-schema';
import { StagedClasses, type ReaderCaches } from '../../src/service/class-reader';
import { RecordingPort } from '../helpers/recording-port';
import { ctx, failureOf, serviceFixture, type ServiceFixture, allClasses } from './fixtures';

const SEND_STATUS = 128;
const CREATE_ONLY = 2;

function input(
  sources: Record<string, string>,
  extra: Partial<CompileMofInput> = {},
): CompileMofInput {
  return {
    namespace: 'root/cimv2',
    sources: Object.entries(sources).map(([name, text]) => ({ name, text })),
    flags: SEND_STATUS,
    context: undefined,
    continueOnError: false,
    ...extra,
  };
}

async function compile(fixture: ServiceFixture, request: CompileMofInput) {
  const port = new RecordingPort();
  const accepted = fixture.service.beginCompileMof(request, ctx(), port);
  const outcome = await accepted.run();
  return { outcome, port };
}

const exists = async (fixture: ServiceFixture, name: string): Promise<boolean> =>
  fixture.service.getClass('root/cimv2', name, true, ctx()).then(
    () => true,
    () => false,
  );

const THREE =
  'class Ex_A { [Key] string Id; };\nclass Ex_B : Ex_A { uint32 Size; };\nclass Ex_C : Ex_B { };\n';

test('every class of the MOF is written, with one progress event per class', async () => {
  const fixture = await serviceFixture();
  const { outcome, port } = await compile(fixture, input({ 'a.mof': THREE }));
  expect(outcome).toEqual({ ok: true, path: '\\\\TESTHOST\\root\\cimv2', revision: 3n });
  expect(
    port.events
      .filter((e) => e.kind === 'progress')
      .map((e) => (e.kind === 'progress' ? [e.current, e.total, e.message] : [])),
  ).toEqual([
    [1, 3, 'Ex_A'],
    [2, 3, 'Ex_B'],
    [3, 3, 'Ex_C'],
  ]);
  expect(await exists(fixture, 'Ex_C')).toBe(true);
  expect(fixture.changes.map((c) => c.target.name)).toEqual(['Ex_A', 'Ex_B', 'Ex_C']);
});

test('a class that breaks a rule writes nothing, and the final status names it and its position', async () => {
  const fixture = await serviceFixture();
  const bad =
    'class Ex_A { [Key] string Id; };\nclass Ex_B : Ex_A { [Key] string Other; };\nclass Ex_C { };\n';
  const { outcome, port } = await compile(fixture, input({ 'a.mof': bad }));
  expect(failureOf(outcome)).toBe('WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE');
  expect(outcome.ok ? '' : outcome.error.param).toMatch(/^a\.mof:2:1: class Ex_B: /);
  expect(outcome.ok ? {} : outcome.error.subject).toEqual({
    namespace: 'root\\cimv2',
    className: 'Ex_B',
  });
  expect(port.events.filter((e) => e.kind === 'progress')).toHaveLength(1);
  expect(await exists(fixture, 'Ex_A')).toBe(false);
  expect(await exists(fixture, 'Ex_C')).toBe(false);
  expect(fixture.changes).toEqual([]);
});

test('continue_on_error writes the classes that pass and still reports the first failure', async () => {
  const fixture = await serviceFixture();
  const bad =
    'class Ex_A { [Key] string Id; };\nclass Ex_B : Ex_A { [Key] string Other; };\nclass Ex_D : Ex_B { };\nclass Ex_C { };\n';
  const { outcome } = await compile(fixture, input({ 'a.mof': bad }, { continueOnError: true }));
  expect(failureOf(outcome)).toBe('WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE');
  expect([
    await exists(fixture, 'Ex_A'),
    await exists(fixture, 'Ex_B'),
    await exists(fixture, 'Ex_D'),
    await exists(fixture, 'Ex_C'),
  ]).toEqual([true, false, false, true]);
});

test('flags apply to every class: CREATE_ONLY against an existing class fails, UPDATE with the compile works', async () => {
  const fixture = await serviceFixture();
  await compile(fixture, input({ 'a.mof': THREE }));
  const again = await compile(fixture, input({ 'a.mof': THREE }, { flags: CREATE_ONLY }));
  expect(failureOf(again.outcome)).toBe('WBEM_E_ALREADY_EXISTS');
  const update = await compile(fixture, input({ 'a.mof': 'class Ex_C : Ex_B { string Note; };' }));
  expect(update.outcome.ok).toBe(true);
  const view = await fixture.service.getClass('root/cimv2', 'Ex_C', false, ctx());
  expect(view.class.properties.map((p) => p.name)).toEqual(['Id', 'Size', 'Note']);
});

test('a class defined twice in one compile, and a later class that derives from an earlier one, see the staged state', async () => {
  const fixture = await serviceFixture();
  const text =
    'class Ex_A { [Key] string Id; };\nclass Ex_A { [Key] string Id; string More; };\nclass Ex_B : Ex_A { };\n';
  const { outcome } = await compile(fixture, input({ 'a.mof': text }));
  expect(outcome.ok).toBe(true);
  const view = await fixture.service.getClass('root/cimv2', 'Ex_B', false, ctx());
  expect(view.class.properties.map((p) => p.name)).toEqual(['Id', 'More']);
});

test('rejected at once: MOF syntax errors (with position), missing includes, unknown pragma namespaces, bad flags', async () => {
  const fixture = await serviceFixture();
  const syntax = thrown(WbemError, () =>
    fixture.service.beginCompileMof(
      input({ 'a.mof': 'class Ex_A {\n  strin P;\n};' }),
      ctx(),
      new RecordingPort(),
    ),
  );
  expect(syntax.status).toBe('WBEM_E_INVALID_PARAMETER');
  expect(syntax.param).toBe('a.mof:2:3: "strin" is not a data type (a class name needs REF)');
  const include = thrown(WbemError, () =>
    fixture.service.beginCompileMof(
      input({ 'a.mof': '#pragma include ("b.mof")' }),
      ctx(),
      new RecordingPort(),
    ),
  );
  expect(include.param).toContain('cannot read "b.mof"');
  const namespace = thrown(WbemError, () =>
    fixture.service.beginCompileMof(
      input({ 'a.mof': '#pragma namespace ("root/absent")\nclass Ex_A { };' }),
      ctx(),
      new RecordingPort(),
    ),
  );
  expect(namespace.status).toBe('WBEM_E_INVALID_NAMESPACE');
  expect(
    thrown(WbemError, () =>
      fixture.service.beginCompileMof(
        input({ 'a.mof': THREE }, { flags: 3 }),
        ctx(),
        new RecordingPort(),
      ),
    ).status,
  ).toBe('WBEM_E_INVALID_PARAMETER');
  expect(
    thrown(WbemError, () => fixture.service.beginCompileMof(input({}), ctx(), new RecordingPort()))
      .param,
  ).toBe('the MOF source (sources) is missing');
  expect(await exists(fixture, 'Ex_A')).toBe(false);
});

test('includes resolve among the sources sent; #pragma namespace sends classes to another namespace', async () => {
  const fixture = await serviceFixture();
  await fixture.service.createNamespace('root', 'other', ctx());
  const { outcome } = await compile(
    fixture,
    input({
      'main.mof':
        '#pragma include ("sub/a.mof")\n#pragma namespace ("root/other")\nclass Ex_Other { };',
      'sub/a.mof': 'class Ex_A { };',
    }),
  );
  expect(outcome.ok).toBe(true);
  expect(await exists(fixture, 'Ex_A')).toBe(true);
  expect(await exists(fixture, 'Ex_Other')).toBe(false);
  await expect(
    fixture.service.getClass('root/other', 'Ex_Other', true, ctx()),
  ).resolves.toBeDefined();
});

test('CIM Schema 2.41 in one CompileMof is one atomic write: the C6 conflict (D25) writes nothing; continue_on_error writes the rest', async () => {
  const fixture = await serviceFixture();
  const sources = schemaSources();
  const strict = await compile(fixture, {
    namespace: 'root/cimv2',
    sources,
    flags: 0,
    context: undefined,
    continueOnError: false,
  });
  expect(failureOf(strict.outcome)).toBe('WBEM_E_CANNOT_BE_ABSTRACT');
  expect(strict.outcome.ok ? '' : strict.outcome.error.param).toMatch(
    /^Policy\/CIM_PolicyInSystem\.mof:\d+:\d+: class CIM_PolicyInSystem: /,
  );
  expect(await exists(fixture, 'CIM_ManagedElement')).toBe(false);
  const lenient = await compile(fixture, {
    namespace: 'root/cimv2',
    sources,
    flags: 0,
    context: undefined,
    continueOnError: true,
  });
  expect(failureOf(lenient.outcome)).toBe('WBEM_E_CANNOT_BE_ABSTRACT');
  const all = (
    await allClasses(
      fixture.service.enumClasses(
        { namespace: 'root/cimv2', superclass: '', deep: true, localOnly: true },
        ctx(),
      ),
    )
  ).filter((view) => !view.class.name.startsWith('__'));
  expect(all.length).toBe(1438 - 7);
});

describe('qualifier declarations are stored per namespace and applied to later MOF', () => {
  const DECLS =
    'Qualifier Key : boolean = false, Scope(property, reference), Flavor(DisableOverride, ToSubclass);\nQualifier Units : string = null, Scope(property, method, parameter);\n';

  test('a later compile is checked against the stored declarations: scope, type, default flavor', async () => {
    const fixture = await serviceFixture();
    expect((await compile(fixture, input({ 'qualifiers.mof': DECLS }))).outcome.ok).toBe(true);
    expect(
      (await fixture.store.listQualifiers(namespaceKeyOf(['root', 'cimv2']))).map((d) => d.name),
    ).toEqual(['Key', 'Units']);

    const scope = thrown(WbemError, () =>
      fixture.service.beginCompileMof(
        input({ 'a.mof': 'class Ex_Q {\n  [Key] uint32 Go();\n};' }),
        ctx(),
        new RecordingPort(),
      ),
    );
    expect(scope.param).toBe(
      'a.mof:2:4: qualifier Key is not allowed on method Go of Ex_Q (a method; its scope is property, reference)',
    );
    const type = thrown(WbemError, () =>
      fixture.service.beginCompileMof(
        input({ 'a.mof': 'class Ex_Q {\n  [Units(5)] uint32 P;\n};' }),
        ctx(),
        new RecordingPort(),
      ),
    );
    expect(type.param).toBe(
      'a.mof:2:4: qualifier Units on property P of Ex_Q: string needs a string',
    );

    const good = await compile(
      fixture,
      input({ 'a.mof': 'class Ex_Q { [Key, Units("Bytes")] string Id; };' }),
    );
    expect(good.outcome.ok).toBe(true);
    const view = await fixture.service.getClass('root/cimv2', 'Ex_Q', true, ctx());
    expect(view.class.properties[0]?.qualifiers.map((q) => [q.name, q.flavor & 0x1f])).toEqual([
      ['Key', 0x12], // DisableOverride | ToSubclass, from the stored declaration
      ['Units', 0x02],
    ]);
  });

  test('declarations of another namespace do not apply; deleting the namespace drops them', async () => {
    const fixture = await serviceFixture();
    await fixture.service.createNamespace('root', 'decl', ctx());
    expect(
      (await compile(fixture, input({ 'q.mof': DECLS }, { namespace: 'root/decl' }))).outcome.ok,
    ).toBe(true);
    const unitsOnClass = { 'a.mof': '[Units("Widgets")] class Ex_Free { };' };
    expect(
      thrown(WbemError, () =>
        fixture.service.beginCompileMof(
          input(unitsOnClass, { namespace: 'root/decl' }),
          ctx(),
          new RecordingPort(),
        ),
      ).param,
    ).toContain('qualifier Units is not allowed on class Ex_Free');
    expect((await compile(fixture, input(unitsOnClass))).outcome.ok).toBe(true);
    await fixture.service.deleteNamespace('root/decl', ctx());
    await fixture.service.createNamespace('root', 'decl', ctx());
    expect(
      (await compile(fixture, input(unitsOnClass, { namespace: 'root/decl' }))).outcome.ok,
    ).toBe(true);
  });

  test('they survive a restart (LevelDB) and are loaded again by a new service', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wbemd-decl-'));
    try {
      const first = await serviceFixture(new LevelClassStore(dir));
      expect((await compile(first, input({ 'q.mof': DECLS }))).outcome.ok).toBe(true);
      await first.store.close();
      const second = await serviceFixture(new LevelClassStore(dir));
      expect(
        thrown(WbemError, () =>
          second.service.beginCompileMof(
            input({ 'a.mof': 'class Ex_Q { [Key] uint32 Go(); };' }),
            ctx(),
            new RecordingPort(),
          ),
        ).status,
      ).toBe('WBEM_E_INVALID_PARAMETER');
      await second.store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test('instance declarations: typed by their class, checked as PutInstance, written in the same batch; aliases become paths (D30)', async () => {
  const fixture = await serviceFixture();
  const mof = [
    'class Ex_Disk { [Key] string Id; uint64 Size; };',
    '[Association] class Ex_Link { [Key] Ex_Disk REF A; [Key] Ex_Disk REF B; };',
    'instance of Ex_Disk as $C { Id = "C:"; Size = 512; };',
    'instance of Ex_Disk as $D { Id = "D:"; };',
    'instance of Ex_Link { A = $C; B = $D; };',
  ].join('\n');
  const { outcome, port } = await compile(fixture, input({ 'a.mof': mof }));
  expect(outcome.ok).toBe(true);
  expect(
    port.events.flatMap((e) =>
      e.kind === 'progress' ? [`${e.current}/${e.total} ${e.message}`] : [],
    ),
  ).toEqual([
    '1/5 Ex_Disk',
    '2/5 Ex_Link',
    '3/5 instance of Ex_Disk',
    '4/5 instance of Ex_Disk',
    '5/5 instance of Ex_Link',
  ]);
  const c = await fixture.service.getInstance('root/cimv2', 'Ex_Disk.Id="C:"', ctx());
  expect(c.instance.properties.map((p) => p.value)).toEqual([
    { kind: 'string', value: 'C:' },
    { kind: 'uint', value: 512n },
  ]);
  const link = await fixture.service.getInstance(
    'root/cimv2',
    'Ex_Link.A="Ex_Disk.Id=\\"C:\\"",B="Ex_Disk.Id=\\"D:\\""',
    ctx(),
  );
  expect(link.instance.properties.map((p) => p.value)).toEqual([
    { kind: 'reference', value: 'Ex_Disk.Id="C:"' },
    { kind: 'reference', value: 'Ex_Disk.Id="D:"' },
  ]);
});

test('a failing instance names its position and, without continue_on_error, nothing of the MOF is written', async () => {
  const fixture = await serviceFixture();
  const mof =
    'class Ex_I { [Key] string Id; uint8 Small; };\ninstance of Ex_I { Id = "x"; Small = 300; };\n';
  const { outcome } = await compile(fixture, input({ 'a.mof': mof }));
  expect(failureOf(outcome)).toBe('WBEM_E_TYPE_MISMATCH');
  expect(!outcome.ok && outcome.error.param).toMatch(/^a\.mof:2:1: instance of Ex_I: /);
  expect(await exists(fixture, 'Ex_I')).toBe(false);
  const missing = await compile(fixture, input({ 'a.mof': 'instance of Ex_Nope { Id = "x"; };' }));
  expect(failureOf(missing.outcome)).toBe('WBEM_E_INVALID_CLASS');
  const alias = await compile(
    fixture,
    input({
      'a.mof':
        '[Association] class Ex_L { [Key] Ex_L REF A; [Key] Ex_L REF B; };\ninstance of Ex_L { A = $Nobody; B = $Nobody; };',
    }),
  );
  expect(failureOf(alias.outcome)).toBe('WBEM_E_INVALID_PARAMETER');
  expect(!alias.outcome.ok && alias.outcome.error.param).toContain(
    'alias $Nobody is not declared by an earlier instance',
  );
});

test('a FORCE-mode compile that rewrites subclasses leaves no stale superclass chain behind', async () => {
  const fixture = await serviceFixture();
  expect(
    (
      await compile(
        fixture,
        input({
          'a.mof': 'class Ex_A { };\nclass Ex_B : Ex_A { uint32 P; };\nclass Ex_C : Ex_B { };',
        }),
      )
    ).outcome.ok,
  ).toBe(true);
  // Read C once so its chain [C, B, A] is cached.
  expect(
    (await fixture.service.getClass('root/cimv2', 'Ex_C', false, ctx())).class.properties.map(
      (p) => [p.name, p.type],
    ),
  ).toEqual([['P', 19]]);
  // A gains a string P; FORCE (0x40) removes B's conflicting uint32 P.
  const force = await compile(
    fixture,
    input({ 'a.mof': 'class Ex_A { string P; };' }, { flags: 0x40 }),
  );
  expect(force.outcome.ok).toBe(true);
  expect(
    (await fixture.service.getClass('root/cimv2', 'Ex_C', false, ctx())).class.properties.map(
      (p) => [p.name, p.type, p.classOrigin],
    ),
  ).toEqual([['P', 8, 'Ex_A']]);
});

describe('a chain compiled in one MOF', () => {
  const chain = (prefix: string, n: number): string =>
    Array.from(
      { length: n },
      (_, i) => `class ${prefix}${i}${i === 0 ? '' : ` : ${prefix}${i - 1}`} { uint32 P${i}; };`,
    ).join('\n');

  /** Reads through the compile's view (store plus staged classes) while compiling an n-level chain. */
  async function readsPerClass(n: number): Promise<number> {
    const fixture = await serviceFixture();
    const reads = jest.spyOn(StagedClasses.prototype, 'getClass');
    try {
      const { outcome } = await compile(fixture, input({ 'a.mof': chain('Ex_L', n) }));
      expect(outcome.ok).toBe(true);
      return reads.mock.calls.length / n;
    } finally {
      reads.mockRestore();
    }
  }

  test('each class is judged from its parent as cached: reads per class do not grow with the depth', async () => {
    const shallow = await readsPerClass(20);
    const deep = await readsPerClass(300);
    // A walk to the root per class made it about n / 2 (150 at 300 levels).
    expect(deep).toBeLessThanOrEqual(4);
    expect(deep).toBeLessThanOrEqual(shallow + 0.5);
  });

  test('a chain compiled at once holds no chain per class: O(n) classes cached, not O(n²)', async () => {
    const fixture = await serviceFixture();
    const chains = new Set<ReaderCaches['chains']>();
    const cachesOf = StagedClasses.prototype.cachesOf;
    const spy = jest.spyOn(StagedClasses.prototype, 'cachesOf').mockImplementation(function (
      this: StagedClasses,
      namespace,
    ) {
      const caches = cachesOf.call(this, namespace);
      chains.add(caches.chains);
      return caches;
    });
    try {
      const { outcome } = await compile(fixture, input({ 'a.mof': chain('Ex_M', 300) }));
      expect(outcome.ok).toBe(true);
    } finally {
      spy.mockRestore();
    }
    expect(chains.size).toBeGreaterThan(0);
    // Each class's chain copied from its parent's held 300 × 299 / 2 = 44,850 entries.
    let held = 0;
    for (const cache of chains) for (const list of cache.values()) held += list.length;
    expect(held).toBeLessThan(4 * 300);
  });

  test('the deepest class resolves with every level of the chain', async () => {
    const fixture = await serviceFixture();
    expect((await compile(fixture, input({ 'a.mof': chain('Ex_D', 60) }))).outcome.ok).toBe(true);
    const read = await fixture.service.getClass('root/cimv2', 'Ex_D59', false, ctx());
    expect(read.class.properties.map((p) => p.name)).toEqual(
      Array.from({ length: 60 }, (_, i) => `P${i}`),
    );
    expect(derivationNames(read.system.derivation)).toEqual(
      Array.from({ length: 59 }, (_, i) => `Ex_D${58 - i}`),
    );
  });

  test('a class redefined later in the same MOF is what the classes after it are judged against', async () => {
    const fixture = await serviceFixture();
    const mof = (last: string): string =>
      [
        'class Ex_R0 { [Key] string Id; };',
        'class Ex_R1 : Ex_R0 { };',
        'class Ex_R0 { [Key] string Id; string Extra; };',
        last,
      ].join('\n');
    // FORCE: Ex_R0 changes while it has a subclass. Ex_R2 redeclares the new string Extra as uint32.
    const clash = await compile(
      fixture,
      input({ 'a.mof': mof('class Ex_R2 : Ex_R1 { uint32 Extra; };') }, { flags: 0x40 }),
    );
    expect(failureOf(clash.outcome)).toBe('WBEM_E_TYPE_MISMATCH');
    const fits = await compile(
      fixture,
      input({ 'a.mof': mof('class Ex_R2 : Ex_R1 { };') }, { flags: 0x40 }),
    );
    expect(fits.outcome.ok).toBe(true);
    const { class: r2 } = await fixture.service.getClass('root/cimv2', 'Ex_R2', false, ctx());
    expect(r2.properties.map((p) => p.name)).toEqual(['Id', 'Extra']);
  });
});
