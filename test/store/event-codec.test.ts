import {
  DerivationTexts,
  encodeEventBatch,
  encodeEventBatchInSlices,
  encodeEventBody,
} from '../../src/store/level/event-codec';
import type { ClassEventRecord } from '../../src/store/class-store';
import type { NamespaceKey } from '../../src/domain/names';

describe('DerivationTexts: the __DERIVATION lists of one commit, as JSON.stringify writes them', () => {
  it('writes a chain, siblings, a list that only looks alike, and names that need escapes', () => {
    const names = Array.from({ length: 50 }, (_, i) => `C${i}`);
    const lists: string[][] = [];
    // A chain: each list is the parent's name, then the parent's list (the same strings).
    for (let depth = 0; depth < names.length; depth++) {
      const parent = lists[depth - 1];
      lists.push(depth === 0 ? [] : [names[depth - 1] as string, ...(parent ?? [])]);
    }
    const texts = new DerivationTexts();
    for (const list of lists) expect(texts.text(list)).toBe(JSON.stringify(list));
    // Siblings share their parent's list; a list naming the same first names over another rest.
    const middle = lists[20] as string[];
    expect(texts.text(['S1', ...middle])).toBe(JSON.stringify(['S1', ...middle]));
    expect(texts.text(['S2', ...middle])).toBe(JSON.stringify(['S2', ...middle]));
    const lookalike = [names[20] as string, 'Other', 'Root'];
    expect(texts.text(lookalike)).toBe(JSON.stringify(lookalike));
    expect(texts.text([names[21] as string, ...lookalike])).toBe(
      JSON.stringify([names[21], ...lookalike]),
    );
    const differentRest = ['C22', names[20] as string, 'Other', 'Zed'];
    expect(texts.text(differentRest)).toBe(JSON.stringify(differentRest));
    const odd = ['Quote"d', 'Back\\slash', 'Ünï\u2028code'];
    expect(texts.text(odd)).toBe(JSON.stringify(odd));
    expect(texts.text(['Child', ...odd])).toBe(JSON.stringify(['Child', ...odd]));
    expect(texts.text(['One'])).toBe('["One"]');
  });

  it('gives the same log entry as without it', () => {
    const event = (derivation: string[]): ClassEventRecord => ({
      namespace: 'root\\cimv2' as NamespaceKey,
      revision: 7n,
      kind: 'created',
      target: { name: 'X', superclass: '', qualifiers: [], properties: [], methods: [] },
      derivation,
      context: undefined,
      operationId: 'op',
      timeCreated: 1n,
    });
    const texts = new DerivationTexts();
    let derivation: string[] = [];
    for (let i = 0; i < 10; i++) {
      expect(encodeEventBody(event(derivation), 'x', texts)).toBe(
        encodeEventBody(event(derivation), 'x'),
      );
      derivation = [`C${i}`, ...derivation];
    }
  });
});

describe('encodeEventBatchInSlices: a log record written entry by entry', () => {
  it('gives the bytes of the record as one string, and yields between entries', async () => {
    const entries = [
      { revision: 41n, body: '["root\\cimv2","c","a",null,[],null,"op","1"]' },
      { revision: 42n, body: '["root\\cimv2","c","ünï\u2028code 😀",null,["a"],null,"op","1"]' },
      { revision: 1234567890123n, body: '["x","m","b",null,["Ä","a"],null,"op2","2"]' },
    ];
    let ticks = 0;
    const tick = async (): Promise<void> => {
      ticks++;
      await new Promise<void>((resolve) => setImmediate(resolve));
    };
    const sliced = await encodeEventBatchInSlices(entries, tick);
    expect(sliced.equals(Buffer.from(encodeEventBatch(entries), 'utf8'))).toBe(true);
    expect(ticks).toBeGreaterThanOrEqual(entries.length);
    const one = await encodeEventBatchInSlices(entries.slice(0, 1), tick);
    expect(one.toString('utf8')).toBe(encodeEventBatch(entries.slice(0, 1)));
  });
});
