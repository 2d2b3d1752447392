import {
  encodeEventBatch,
  encodeEventBody,
  encodeLogRecordInSlices,
  eventEntriesOf,
  loggedEntry,
  logRecordsOf,
  unpackEvent,
  type LoggedEntry,
} from '../../src/store/level/event-codec';
import type { ClassEventRecord } from '../../src/store/class-store';
import type { NamespaceKey } from '../../src/domain/names';

const NS = 'root\\cimv2' as NamespaceKey;

const event = (derivation: readonly string[], name = 'X'): ClassEventRecord => ({
  namespace: NS,
  revision: 7n,
  kind: 'created',
  target: { name, superclass: derivation[0] ?? '', qualifiers: [], properties: [], methods: [] },
  derivation,
  context: undefined,
  operationId: 'op',
  timeCreated: 1n,
});

/** Entries with packed targets (no class records needed to read them back). */
const entriesOf = (lists: readonly (readonly string[])[], first = 100n): LoggedEntry[] =>
  lists.map((list, i) => loggedEntry(first + BigInt(i), event(list, `N${i}`)));

/** A record's events as a reader starting after `from` gets them. */
const readBack = (text: string, from = 0n): ClassEventRecord[] =>
  eventEntriesOf(text, 'e!test')
    .filter((entry) => entry.revision > from)
    .map((entry) => unpackEvent(entry, 'e!test'));

/** A chain of `n` lists as the loader makes them: each the parent's name, then the parent's list. */
function chainLists(n: number, prefix = 'C'): string[][] {
  const lists: string[][] = [];
  for (let depth = 0; depth < n; depth++)
    lists.push(depth === 0 ? [] : [`${prefix}${depth - 1}`, ...(lists[depth - 1] ?? [])]);
  return lists;
}

describe('a log record: derivations in full, or as references to an earlier entry', () => {
  it('writes a chain as references and reads every full list back, from any starting revision', () => {
    const lists = chainLists(50);
    const text = encodeEventBatch(entriesOf(lists));
    expect(text.startsWith('{"v":3,"events":[')).toBe(true);
    // Entry 10's list is C9 then entry 9's list (C8 … C0).
    expect(text).toContain('["C9",9]');
    // No list is written whole but the first ones: O(n) text.
    expect(text).not.toContain('"C3","C2"');
    for (const from of [0n, 100n, 110n, 148n]) {
      const events = readBack(text, from);
      expect(events.map((e) => e.derivation)).toEqual(
        lists.filter((_, i) => 100n + BigInt(i) > from),
      );
    }
  });

  it('refers only to an equal list: siblings, a list that only looks alike, escapes', () => {
    const chain = chainLists(30);
    const middle = chain[20] as string[];
    const lookalike = ['C20', 'Other', 'Root'];
    const odd = ['Quote"d', 'Back\\slash', 'Ünï\u2028code'];
    const lists = [
      ...chain,
      ['S1', ...middle],
      ['S2', ...middle],
      lookalike,
      ['C21', ...lookalike],
      ['C22', 'C20', 'Other', 'Zed'],
      odd,
      ['Child', ...odd],
      ['One'],
    ];
    const text = encodeEventBatch(entriesOf(lists));
    expect(readBack(text).map((e) => e.derivation)).toEqual(lists);
    expect(text).toContain(`["Child",${chain.length + 5}]`);
    expect(text).toContain(`["S2",20]`);
    expect(text).toContain(`["C21",${chain.length + 2}]`);
    expect(text).toContain(`["C22","C20","Other","Zed"]`);
  });

  it('is version 2 and the old bytes when nothing is referred to (a PutClass, etcd)', () => {
    const entry = loggedEntry(41n, event(['B', 'A']), 'x');
    const text = encodeEventBatch([entry]);
    expect(text).toBe(`{"v":2,"events":[["41",${encodeEventBody(event(['B', 'A']), 'x')}]]}`);
    expect(encodeEventBody(event(['B', 'A']), 'x')).toBe(
      '["root\\\\cimv2","c","x",null,["B","A"],null,"op","1"]',
    );
  });

  it('reads a record in the old form (full lists, version 2) exactly as before', () => {
    const target = '["Old_B","Old_A",[],[],[]]';
    const old =
      '{"v":2,"events":[' +
      `["5",["root\\\\cimv2","c",${target},null,["Old_A"],null,"op1","11"]],` +
      `["6",["root\\\\cimv2","m",${target},${target},["Old_A"],[["k",["S","v"]]],"op2","12"]],` +
      '["7",["root\\\\cimv2","d",["Old_C","Old_B",[],[],[]],null,["Old_B","Old_A"],null,"op3","13"]]]}';
    const events = readBack(old);
    expect(events.map((e) => [e.revision, e.kind, e.target.name, e.derivation])).toEqual([
      [5n, 'created', 'Old_B', ['Old_A']],
      [6n, 'modified', 'Old_B', ['Old_A']],
      [7n, 'deleted', 'Old_C', ['Old_B', 'Old_A']],
    ]);
    expect(readBack(old, 6n).map((e) => e.derivation)).toEqual([['Old_B', 'Old_A']]);
  });

  it('refuses a reference that does not point backwards within the record', () => {
    const body = (derivation: string) =>
      `["root\\\\cimv2","c",["B","A",[],[],[]],null,${derivation},null,"op","1"]`;
    for (const bad of ['["A",0]', '["A",1]', '["A",-1]', '["A",0.5]']) {
      const text = `{"v":3,"events":[["5",${body('[]')}],["6",${body(bad)}]]}`;
      const [, second] = eventEntriesOf(text, 'e!bad');
      if (bad === '["A",0]') {
        expect(unpackEvent(second!, 'e!bad').derivation).toEqual(['A']);
        continue;
      }
      expect(() => unpackEvent(second!, 'e!bad')).toThrow(/damaged event record/);
    }
  });
});

describe('logRecordsOf and encodeLogRecordInSlices: a sliced batch in records', () => {
  it('cuts records of at most the size, each read alone with full lists, the same bytes', async () => {
    const lists = chainLists(200, 'Level_');
    const entries = entriesOf(lists);
    let ticks = 0;
    const tick = async (): Promise<void> => {
      ticks++;
      await new Promise<void>((resolve) => setImmediate(resolve));
    };
    const records = await logRecordsOf(entries, 4_000, tick);
    expect(records.length).toBeGreaterThan(3);
    expect(ticks).toBeGreaterThanOrEqual(entries.length);
    const read: ClassEventRecord[] = [];
    let start = 0;
    for (const record of records) {
      const count = record.texts.length;
      expect(record.lastRevision).toBe(entries[start + count - 1]?.revision);
      const bytes = await encodeLogRecordInSlices(record, tick);
      // A record starts its references afresh: it is what encodeEventBatch makes of its entries.
      expect(bytes.toString('utf8')).toBe(encodeEventBatch(entries.slice(start, start + count)));
      // The first entry's list is whole; the rest are short.
      for (const text of record.texts.slice(1)) expect(text.length).toBeLessThan(200);
      read.push(...readBack(bytes.toString('utf8')));
      start += count;
    }
    expect(start).toBe(entries.length);
    expect(read.map((e) => e.derivation)).toEqual(lists);
    expect(await logRecordsOf([], 100)).toEqual([]);
    const one = await logRecordsOf(entries, 10_000_000);
    expect(one.length).toBe(1);
    expect(one[0]?.version).toBe(3);
  });

  it('writes an entry bigger than the size alone, and multi-byte text as UTF-8', async () => {
    const big = Array.from({ length: 40 }, (_, i) => `Ünï\u2028code 😀 ${i}`);
    const entries = entriesOf([[], big, ['a'], ['Ä', 'a']]);
    const records = await logRecordsOf(entries, 300);
    expect(records.map((r) => r.texts.length)).toEqual([1, 1, 2]);
    expect(records.map((r) => r.version)).toEqual([2, 2, 3]);
    const tick = (): Promise<void> => Promise.resolve();
    const texts = await Promise.all(records.map((r) => encodeLogRecordInSlices(r, tick)));
    expect(texts.flatMap((t) => readBack(t.toString('utf8'))).map((e) => e.derivation)).toEqual([
      [],
      big,
      ['a'],
      ['Ä', 'a'],
    ]);
  });
});
