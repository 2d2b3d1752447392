/**
 * A compiled MOF unit keeps none of its source text alive. V8 makes a substring of 13 or more
 * characters a view into the string it was cut from, so a class name or a Description cut from a
 * MOF file kept the whole file for as long as the class was cached (after a CompileMof of the CIM
 * Schema: all 2,495 files, 4 MB). So did a regular expression run on the source (V8 keeps the last
 * match's subject). Checked by the heap itself: the source carries 16 MB of comment, and after a
 * full collection the heap must not hold it while the compiled unit is still held.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LONGEST_SHARED, unsliced, NameTable } from '../../src/domain/names';
import { compileMof, type MofUnit } from '../../src/mof/parser';

// V8's gc() from a context of its own, the flag set back at once: other suites in this worker
// get no gc global.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
setFlagsFromString('--no-expose-gc');

const COMMENT_CHARACTERS = 16 * 1024 * 1024;

/** A pattern whose match on '' makes '' the last match's subject. */
const NOTHING = /(?:)/;

function heapUsed(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

/** The unit compiled from `mof` behind 16 MB of comment; the source is unreachable on return. */
function compiledBehindBigComment(mof: string): MofUnit {
  // Built at run time, so the text is a string of its own, not one the module's code holds.
  const source = `// ${'x'.repeat(COMMENT_CHARACTERS)}\n${mof}`;
  return compileMof('big.mof', () => source);
}

describe('a compiled unit keeps none of its source alive', () => {
  test.each([
    ['names of 13 characters and more', 'class LongClassName_13 { string LongPropertyName; };'],
    [
      'a lone string literal',
      'class A { [Description("a description of more than 13 characters")] string P; };',
    ],
    [
      'a lone string literal with an escape',
      'class A { [Description("tab\\there, and more than 13 characters")] string P; };',
    ],
    [
      'adjacent literals, one of them empty',
      'class A { [Description("" "one piece of more than 13 characters")] string P; };',
    ],
    ['a default value', 'class A { string P = "a default of more than 13 characters"; };'],
    [
      'a number literal',
      'class A { real64 R = 1.25e10; uint64 P = 12345678901234567; string S; };',
    ],
  ])('%s', (_what, mof) => {
    // V8 keeps the subject of the last successful regular-expression match: a source an earlier
    // case left there would be replaced by this one's, and a compile that kept it would pass.
    NOTHING.test('');
    const before = heapUsed();
    const unit = compiledBehindBigComment(mof);
    const kept = heapUsed() - before;
    expect(unit.classes).toHaveLength(1);
    // Held, the source would be ≥ 16 MB of it; the unit itself is a few KB.
    expect(kept).toBeLessThan(COMMENT_CHARACTERS / 4);
  });
});

describe('unsliced and NameTable', () => {
  test('unsliced keeps every UTF-16 unit, unpaired surrogates included', () => {
    for (const text of ['', 'a', 'Description', 'é ünïcode ☺ 𝄞', '\ud800 lone \udfff', '\u0000x'])
      expect(unsliced(text)).toBe(text);
  });

  test('a NameTable does not keep names longer than LONGEST_SHARED', () => {
    const names = new NameTable();
    const before = heapUsed();
    const longName = (i: number): string => `${'n'.repeat(256 * 1024)}${i}`;
    for (let i = 0; i < 64; i++) expect(names.shared(longName(i))).toBe(longName(i));
    // Kept, the 64 names would be 16 MB.
    expect(heapUsed() - before).toBeLessThan(COMMENT_CHARACTERS / 4);
    const short = 'x'.repeat(LONGEST_SHARED);
    expect(names.shared(short)).toBe(short);
  });

  test('a NameTable gives one string for each distinct name, equal to it', () => {
    const names = new NameTable(4);
    const first = names.shared(`Name${'0'.repeat(12)}`.slice(0, 16));
    expect(first).toBe('Name000000000000');
    expect(names.shared('Name000000000000')).toBe(first);
  });
});
