/**
 * Malformed MOF of every shape that nests ends in a MofError at file:line:column, never a stack
 * overflow: at the limit it compiles where the grammar allows it, one past the limit and 100,000
 * past it fail at the same position (docs/errors.md, Malformed input).
 */
import { MofError } from '../../src/mof/lexer';
import { compileMof } from '../../src/mof/parser';

const files =
  (map: Record<string, string>) =>
  (path: string): string => {
    const text = map[path];
    if (text === undefined) throw new Error('no such file');
    return text;
  };
const one = (text: string) => compileMof('a.mof', files({ 'a.mof': text }));
const errorOf = (run: () => unknown): MofError => {
  try {
    run();
  } catch (error) {
    if (error instanceof MofError) return error;
    throw error;
  }
  throw new Error('expected a MofError, nothing was thrown');
};

const DEEP = 100_000;
const braces = (depth: number, inner: string): string =>
  `${'{'.repeat(depth)}${inner}${'}'.repeat(depth)}`;
/** The 1-based column at which `wrap` puts its value. */
const columnOf = (wrap: (value: string) => string): number => wrap('\u0000').indexOf('\u0000') + 1;

describe('array values do not nest (CIM has no arrays of arrays): one level compiles, a `{` inside is an error where it stands', () => {
  const shapes: [string, (value: string) => string][] = [
    ['a property default', (v) => `class X { uint32 A[] = ${v}; };`],
    ['an instance property value', (v) => `instance of X { A = ${v}; };`],
    ['a qualifier value', (v) => `[Q(${v})] class X { };`],
    ['a qualifier array value without parentheses', (v) => `[Q${v}] class X { };`],
    ['a qualifier declaration default', (v) => `qualifier Q : uint32[] = ${v};`],
    ['a parameter default', (v) => `class X { uint32 M(uint32 P[] = ${v}); };`],
  ];

  test.each(shapes)('%s: {1} compiles', (_label, wrap) => {
    expect(() => one(wrap(braces(1, '1')))).not.toThrow();
  });

  const deeper = shapes.flatMap(([label, wrap]) =>
    [2, 3, DEEP].map((depth): [string, number, (value: string) => string] => [label, depth, wrap]),
  );
  test.each(deeper)('%s nested %d deep: error at the second "{"', (_label, depth, wrap) => {
    const error = errorOf(() => one(wrap(braces(depth, '1'))));
    const column = columnOf(wrap) + 1;
    expect(error.position).toEqual({ file: 'a.mof', line: 1, column });
    expect(error.message).toBe(
      `a.mof:1:${column}: an array cannot hold an array (CIM has no arrays of arrays)`,
    );
  });
});

describe('embedded instance values are not compiled from MOF: the first `instance of` used as a value is the error', () => {
  const embedded = (depth: number): string =>
    `instance of X { A = ${'instance of X { A = '.repeat(depth)}1${'; }'.repeat(depth)}; };`;

  test('a plain value compiles', () => {
    expect(one(embedded(0)).instances).toHaveLength(1);
  });

  test.each([1, 2, 65, DEEP])('nested %d deep', (depth) => {
    const error = errorOf(() => one(embedded(depth)));
    expect(error.message).toBe(
      'a.mof:1:21: embedded instance values (`instance of` as a value) are not supported in MOF here',
    );
  });

  test('as a class property default too', () => {
    const error = errorOf(() => one('class X {\n  object A = instance of Y { B = 1; };\n};'));
    expect(error.position).toEqual({ file: 'a.mof', line: 2, column: 14 });
  });
});

describe('#pragma include: a cycle or more than 64 files deep ends at the #pragma that closes or passes it', () => {
  /** a.mof includes f1.mof, which includes f2.mof, … down to f{depth}.mof. */
  const chain = (depth: number): Record<string, string> => {
    const map: Record<string, string> = {};
    const name = (i: number): string => (i === 0 ? 'a.mof' : `f${i}.mof`);
    for (let i = 0; i < depth; i++)
      map[name(i)] = `class C${i} { };\n#pragma include ("f${i + 1}.mof")`;
    map[name(depth)] = `class C${depth} { };`;
    return map;
  };

  test('64 files below the entry compile', () => {
    const unit = compileMof('a.mof', files(chain(64)));
    expect([unit.files.length, unit.classes.length]).toEqual([65, 65]);
  });

  test.each([65, DEEP])('%d files deep: error at the #pragma include in f64.mof', (depth) => {
    const error = errorOf(() => compileMof('a.mof', files(chain(depth))));
    expect(error.message).toBe('f64.mof:2:1: #pragma include nests more than 64 files deep');
  });

  test.each([
    [
      'a self-include',
      { 'a.mof': 'class A { };\n#pragma include ("a.mof")' },
      'a.mof:2:1: "a.mof" includes itself (a.mof → a.mof)',
    ],
    [
      'a self-include spelled another way',
      { 'a.mof': '#pragma include (".\\\\sub\\\\..\\\\a.mof")' },
      'a.mof:1:1: "a.mof" includes itself (a.mof → a.mof)',
    ],
    [
      'a includes b includes a',
      { 'a.mof': '#pragma include ("b.mof")', 'b.mof': '\n#pragma include ("a.mof")' },
      'b.mof:2:1: "a.mof" includes itself (a.mof → b.mof → a.mof)',
    ],
    [
      'a cycle below the entry',
      {
        'a.mof': '#pragma include ("b.mof")',
        'b.mof': '#pragma include ("c.mof")',
        'c.mof': '#pragma include ("b.mof")',
      },
      'c.mof:1:1: "b.mof" includes itself (b.mof → c.mof → b.mof)',
    ],
  ])('%s', (_label, map, message) => {
    expect(errorOf(() => compileMof('a.mof', files(map))).message).toBe(message);
  });

  test('a file included twice, not inside itself, is no cycle: it is compiled each time', () => {
    const unit = compileMof(
      'a.mof',
      files({
        'a.mof':
          '#pragma include ("b.mof")\n#pragma namespace ("root/other")\n#pragma include ("b.mof")',
        'b.mof': 'class B { };',
      }),
    );
    expect(unit.classes.map((c) => c.namespace)).toEqual(['', 'root/other']);
  });
});

describe('includes that fan out: one compile reads at most 10,000 files and 32 MiB, a file counting each time it is included', () => {
  const include = (name: string, times: number): string =>
    Array.from({ length: times }, () => `#pragma include ("${name}")`).join('\n');

  test('10,000 files read compile; the 10,001st is an error at its #pragma', () => {
    const map = { 'a.mof': include('b.mof', 9_999), 'b.mof': 'class B { };' };
    expect(compileMof('a.mof', files(map)).files).toHaveLength(10_000);
    const error = errorOf(() =>
      compileMof('a.mof', files({ ...map, 'a.mof': include('b.mof', 10_000) })),
    );
    expect(error.message).toBe(
      'a.mof:10000:1: more than 10,000 files read in all (a file counts each time it is included)',
    );
  });

  test('each of 30 files including the next one twice (2^30 reads) ends at the limit', () => {
    const map: Record<string, string> = { 'f30.mof': 'class Last { };' };
    for (let i = 0; i < 30; i++) map[i === 0 ? 'a.mof' : `f${i}.mof`] = include(`f${i + 1}.mof`, 2);
    expect(errorOf(() => compileMof('a.mof', files(map))).message).toMatch(
      /^f\d+\.mof:[12]:1: more than 10,000 files read in all/,
    );
  });

  test('a 1 MiB file included 32 times passes 32 MiB at the 32nd #pragma', () => {
    const map = { 'a.mof': include('big.mof', 40), 'big.mof': `//${' '.repeat(1024 * 1024 - 2)}` };
    expect(errorOf(() => compileMof('a.mof', files(map))).message).toBe(
      'a.mof:32:1: more than 33,554,432 characters of MOF read in all (a file counts each time it is included)',
    );
  });
});

describe('aliases: one name names one instance', () => {
  test.each([
    [
      'declared twice',
      'instance of X as $D { Id = 1; };\ninstance of X as $D { Id = 2; };',
      'a.mof:2:18: alias $D is already declared at a.mof:1:18',
    ],
    [
      'declared twice, in another case',
      'instance of X as $Disk { Id = 1; };\ninstance of X as $DISK { Id = 2; };',
      'a.mof:2:18: alias $DISK is already declared at a.mof:1:18',
    ],
    [
      '"as" without an alias',
      'instance of X as D { };',
      'a.mof:1:18: expected an alias ($name) after "as"',
    ],
    [
      '"$" without a name',
      'instance of X as $ { };',
      'a.mof:1:18: an alias needs a name after "$"',
    ],
  ])('%s', (_label, text, message) => {
    expect(errorOf(() => one(text)).message).toBe(message);
  });

  test('distinct aliases, and references to them, compile (resolving them is CompileMof’s)', () => {
    const unit = one('instance of X as $A { R = $B; };\ninstance of X as $B { R = $A; };');
    expect(unit.instances.map((i) => i.alias)).toEqual(['A', 'B']);
  });
});
