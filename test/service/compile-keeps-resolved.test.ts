/**
 * A CompileMof hands the classes it resolved to the class loader's cache (D2: the enumeration that
 * follows a schema load does not derive every class again); a compile that only creates classes
 * keeps what the namespace had cached; one that updates a class does not, and what is read after
 * it is the updated class.
 */
import { WbemService } from '../../src/service/wbem-service';
import type { CompileMofInput } from '../../src/service/wbem-service-api';
import { CountingStore } from '../helpers/counting-store';
import { RecordingPort } from '../helpers/recording-port';
import { allClasses, cls, ctx, prop, serviceFixture, type ServiceFixture } from './fixtures';

const FORCE = 0x40;

function input(text: string, flags = 0): CompileMofInput {
  return {
    namespace: 'root/cimv2',
    sources: [{ name: 'a.mof', text }],
    flags,
    context: undefined,
    continueOnError: false,
  };
}

async function compile(fixture: ServiceFixture, request: CompileMofInput): Promise<void> {
  const outcome = await fixture.service.beginCompileMof(request, ctx(), new RecordingPort()).run();
  if (!outcome.ok) throw new Error(`compile failed: ${outcome.error.param}`);
}

const chain = (prefix: string, n: number): string =>
  Array.from(
    { length: n },
    (_, i) => `class ${prefix}${i}${i === 0 ? '' : ` : ${prefix}${i - 1}`} { uint32 P${i}; };`,
  ).join('\n');

const enumerate = (service: WbemService, superclass: string) =>
  allClasses(
    service.enumClasses(
      { namespace: 'root/cimv2', superclass, deep: true, localOnly: false },
      ctx(),
    ),
  );

test('the enumeration after a CompileMof reads no class the compile resolved, and returns what a cold server returns', async () => {
  const store = new CountingStore();
  const fixture = await serviceFixture(store);
  await compile(fixture, input(chain('Ex_K', 40)));
  const reads = store.reads;
  const listed = await enumerate(fixture.service, 'Ex_K0');
  expect(listed).toHaveLength(39);
  // The start class is looked up (it must exist); the last class, which no class of the MOF has
  // as its superclass, is resolved from its cached parent: one read each. Without the compile's
  // classes: one a class (40).
  expect(store.reads - reads).toBeLessThanOrEqual(2);

  // A second service over the same store derives everything from the records: the same answer.
  const cold = new WbemService({ store, serverName: 'TESTHOST' });
  await cold.initialize();
  const fromRecords = await enumerate(cold, 'Ex_K0');
  expect(listed.map((view) => view.class)).toEqual(fromRecords.map((view) => view.class));
  expect(listed.map((view) => view.system)).toEqual(fromRecords.map((view) => view.system));
  await store.close();
});

test('a compile that only creates classes keeps the classes the namespace had cached', async () => {
  const store = new CountingStore();
  const fixture = await serviceFixture(store);
  expect((await fixture.put(cls('Ex_Hot', '', [prop('A', 8)]))).outcome.ok).toBe(true);
  const hot = await fixture.service.getClass('root/cimv2', 'Ex_Hot', false, ctx());
  await compile(fixture, input(`${chain('Ex_N', 5)}\nclass Ex_HotChild : Ex_Hot { };`));
  const reads = store.reads;
  const again = await fixture.service.getClass('root/cimv2', 'Ex_Hot', false, ctx());
  expect(again.class).toBe(hot.class); // the same resolved object: still cached
  const child = await fixture.service.getClass('root/cimv2', 'Ex_HotChild', false, ctx());
  expect(child.class.properties.map((p) => p.name)).toEqual(['A']);
  // Ex_Hot from memory; Ex_HotChild (no class of the MOF derives from it, so the compile never
  // resolved it) is its own record on top of its cached parent: one read.
  expect(store.reads - reads).toBe(1);
  await store.close();
});

test('after a compile that updates a class, its subclasses are read as updated', async () => {
  const fixture = await serviceFixture();
  await compile(fixture, input('class Ex_U0 { uint32 A; };\nclass Ex_U1 : Ex_U0 { };'));
  const before = await fixture.service.getClass('root/cimv2', 'Ex_U1', false, ctx());
  expect(before.class.properties.map((p) => p.name)).toEqual(['A']);
  // Ex_U0 gains a property; FORCE since it has a subclass. Ex_U1 is not in this MOF.
  await compile(
    fixture,
    input('class Ex_U0 { uint32 A; uint32 B; };\nclass Ex_V : Ex_U0 { };', FORCE),
  );
  const after = await fixture.service.getClass('root/cimv2', 'Ex_U1', false, ctx());
  expect(after.class.properties.map((p) => p.name).sort()).toEqual(['A', 'B']);
  const listed = await enumerate(fixture.service, 'Ex_U0');
  expect(listed.map((view) => [view.class.name, view.class.properties.length])).toEqual([
    ['Ex_U1', 2],
    ['Ex_V', 2],
  ]);
});

test('of a compile bigger than the cache, the newest classes it resolved are kept', async () => {
  const store = new CountingStore();
  await store.open();
  const service = new WbemService({ store, serverName: 'TESTHOST', classCacheLimit: 10 });
  await service.initialize();
  const outcome = await service
    .beginCompileMof(input(chain('Ex_B', 30)), ctx(), new RecordingPort())
    .run();
  expect(outcome.ok).toBe(true);
  const reads = store.reads;
  await service.getClass('root/cimv2', 'Ex_B28', false, ctx()); // the last class resolved: kept
  expect(store.reads - reads).toBe(0);
  await service.getClass('root/cimv2', 'Ex_B0', false, ctx()); // pushed out by the bound
  expect(store.reads - reads).toBe(1);
  await store.close();
});
