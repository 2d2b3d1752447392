/**
 * Issue #13: a heavy call never holds the event loop to its end. Not timed: each test checks that
 * a macrotask (what a health Check or another call's I/O needs) ran while the heavy call was still
 * running.
 */
import type { ClassDefinition } from '../../src/domain/class-model';
import { DMTF_RULES } from '../../src/domain/client-context';
import { ctx, serviceFixture, type ServiceFixture } from './fixtures';
import { schemaSources } from '../helpers/cim-schema';
import { RecordingPort } from '../helpers/recording-port';
import type { NamespaceKey } from '../../src/domain/names';
import type { AcceptedPutClass } from '../../src/service/wbem-service-api';

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
      await fixture.service.enumClasses(
        { namespace: 'root/cimv2', superclass: 'C0', deep: true, localOnly: false },
        ctx(),
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
  const classes = await fixture.service.enumClasses(
    { namespace: 'root/cimv2', superclass: '', deep: true, localOnly: true },
    ctx(),
  );
  expect(classes.length).toBeGreaterThan(1400);
}, 120_000);
