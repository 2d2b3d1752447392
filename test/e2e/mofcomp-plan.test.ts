/**
 * `wbemd mofcomp`'s sending plan (src/cli/mofcomp-send.ts): a class is sent only once every class
 * it waits for (its superclass, an earlier definition of itself) was written; at most `window` at
 * a time, in plan order among those ready; at a failure it stops (or, with --continue, fails what
 * waits for the failed class without sending it). Against a recording sender, no server.
 */
import { compileMof } from '../../src/mof/parser';
import { dependencyPlan, putAll, type SinkOutcome } from '../../src/cli/mofcomp-send';
import type { ClassPut } from '../../src/cli/put-class-codec';

const options = { namespace: 'root/cimv2', flags: 0, context: undefined, continueOnError: false };

/** A sender that records what it was sent, answering each a turn later, failing the names in `failing`. */
function recordingSender(failing: ReadonlySet<string> = new Set()) {
  const sent: string[] = [];
  const written = new Set<string>();
  const send = async (request: ClassPut): Promise<SinkOutcome> => {
    const name = request.definition.name;
    sent.push(name);
    // Answered a turn later, so calls overlap as far as the window lets them.
    await new Promise((resolve) => setImmediate(resolve));
    if (failing.has(name)) return { ok: false, status: 'WBEM_E_FAILED', reason: 'refused' };
    written.add(name);
    return { ok: true };
  };
  return { send, sent, written };
}

function plan(mof: string) {
  return dependencyPlan(compileMof('plan.mof', () => mof).classes);
}

const MOF = [
  'class A { };', // 0
  'class B : A { };', // 1
  'class C { };', // 2
  'class D : B { };', // 3
  'class E : C { };', // 4
  'class F { };', // 5
  'class G : D { };', // 6
].join('\n');

test('each class after the classes it waits for were written; in plan order among those ready', async () => {
  const recorder = recordingSender();
  const superclass: Record<string, string> = { B: 'A', D: 'B', E: 'C', G: 'D' };
  const early: string[] = [];
  const checked = {
    ...recorder,
    send: async (request: ClassPut) => {
      const parent = superclass[request.definition.name];
      if (parent !== undefined && !recorder.written.has(parent))
        early.push(request.definition.name);
      return recorder.send(request);
    },
  };
  let done = 0;
  const result = await putAll(checked.send, plan(MOF), { ...options, window: 1 }, () => done++);
  expect(result).toEqual({ written: 7, failures: [], skipped: 0 });
  expect(early).toEqual([]);
  expect(done).toBe(7);
  // One at a time: the smallest ready index each time.
  expect(recorder.sent).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'G']);
  const wide = recordingSender();
  await putAll(wide.send, plan(MOF), { ...options, window: 64 }, () => undefined);
  expect(wide.sent.slice(0, 3)).toEqual(['A', 'C', 'F']); // the three that wait for nothing
});

test('a failure stops the run: nothing more is sent, what was not sent is counted', async () => {
  const recorder = recordingSender(new Set(['B']));
  const result = await putAll(recorder.send, plan(MOF), { ...options, window: 1 }, () => undefined);
  expect(recorder.sent).toEqual(['A', 'B']);
  expect(result.written).toBe(1);
  expect(result.skipped).toBe(5);
  expect(result.failures).toEqual([
    expect.stringMatching(/^plan\.mof:2:1: class B: WBEM_E_FAILED: refused$/),
  ]);
});

test('--continue: what waits for a failed class fails unsent, in plan order; the rest is written', async () => {
  const recorder = recordingSender(new Set(['B']));
  let done = 0;
  const result = await putAll(
    recorder.send,
    plan(MOF),
    { ...options, continueOnError: true, window: 2 },
    () => done++,
  );
  expect(recorder.sent.sort()).toEqual(['A', 'B', 'C', 'E', 'F']);
  expect(result.written).toBe(4);
  expect(result.skipped).toBe(0);
  expect(done).toBe(7);
  expect(result.failures).toEqual([
    expect.stringMatching(/:2:1: class B: WBEM_E_FAILED: refused$/),
    expect.stringMatching(/:4:1: class D: not sent, a class it depends on failed$/),
    expect.stringMatching(/:7:1: class G: not sent, a class it depends on failed$/),
  ]);
});

test('a chain of 20,000 classes, each waiting for the last: every one written, in order', async () => {
  const mof = Array.from({ length: 20_000 }, (_, i) =>
    i === 0 ? 'class C0 { };' : `class C${i} : C${i - 1} { };`,
  ).join('\n');
  const recorder = recordingSender();
  const result = await putAll(
    recorder.send,
    plan(mof),
    { ...options, window: 64 },
    () => undefined,
  );
  expect(result).toEqual({ written: 20_000, failures: [], skipped: 0 });
  expect(recorder.sent).toEqual(Array.from({ length: 20_000 }, (_, i) => `C${i}`));
}, 60_000);
