/**
 * The LevelDB class index's children in key order (sorted-children.ts): after any mix of creates,
 * moves and deletes, what it reads equals sorting the children again.
 */
import {
  applyIndexChange,
  sortedChildren,
  type ClassIndex,
} from '../../src/store/level/class-index';

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PARENTS = ['', 'a', 'b'];

/** Random creates, moves, deletes and wipes; reads all parents every `readEvery` steps and checks them. */
function exercise(seed: number, readEvery: number): number {
  const next = random(seed);
  const index: ClassIndex = { parentOf: new Map(), children: new Map(), sorted: new Map() };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  let reads = 0;
  for (let step = 1; step <= 6000; step++) {
    const key = `c${Math.floor(next() * 300)}${pick(['', 'x', 'Z', '_'])}`;
    const roll = next();
    if (roll < 0.7) applyIndexChange(index, { key, parent: pick(PARENTS) });
    else if (roll < 0.9999) applyIndexChange(index, { key, parent: null });
    else applyIndexChange(index, { wipe: true });
    if (step % readEvery !== 0) continue;
    for (const parent of PARENTS) {
      reads++;
      const expected = [...(index.children.get(parent) ?? [])].sort();
      // Joined: one comparison a read (toEqual on every read of thousands of keys is slow).
      expect(sortedChildren(index, parent).join(' ')).toBe(expected.join(' '));
    }
  }
  return reads;
}

test('children read in key order after random creates, moves and deletes equal a fresh sort', () => {
  // A few changes between reads (spliced into a copy), and many (merged).
  expect(exercise(13, 7)).toBeGreaterThan(1000);
  expect(exercise(14, 401)).toBeGreaterThan(10);
});

test('an array already read is not changed by later writes', () => {
  const index: ClassIndex = { parentOf: new Map(), children: new Map(), sorted: new Map() };
  applyIndexChange(index, { key: 'b', parent: '' });
  applyIndexChange(index, { key: 'a', parent: '' });
  const first = sortedChildren(index, '');
  applyIndexChange(index, { key: 'c', parent: '' });
  applyIndexChange(index, { key: 'a', parent: null });
  expect(first).toEqual(['a', 'b']);
  expect(sortedChildren(index, '')).toEqual(['b', 'c']);
});
