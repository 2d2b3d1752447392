/**
 * The include scan (`mofcomp --atomic` sends what it finds, uncompiled): for MOF that compiles it
 * finds exactly the files the compiler reads, in the compiler's order, each once; where it cannot
 * tell, it throws (the command then compiles to say why).
 */
import { MofError } from '../../src/mof/lexer';
import { includedFiles } from '../../src/mof/includes';
import { compileMof } from '../../src/mof/parser';
import { CIM_SCHEMA_ENTRY, readSchemaFile } from '../helpers/cim-schema';

const files =
  (map: Record<string, string>) =>
  (path: string): string => {
    const text = map[path];
    if (text === undefined) throw new Error(`no such file: ${path}`);
    return text;
  };

/** What the compiler read, each name once, in the order it first read them. */
const compiledFiles = (entry: string, read: (path: string) => string): string[] => [
  ...new Set(compileMof(entry, read).files),
];

test('CIM Schema 2.41: the 1,441 files the compiler reads, in its order', () => {
  const scanned = includedFiles(CIM_SCHEMA_ENTRY, readSchemaFile);
  expect(scanned).toHaveLength(1441);
  expect(scanned).toEqual(compiledFiles(CIM_SCHEMA_ENTRY, readSchemaFile));
});

describe('the same files as the compiler, for MOF that compiles', () => {
  const cases: [string, Record<string, string>][] = [
    [
      'nested directories, backslashes, a path in two strings, a case-insensitive pragma',
      {
        'a.mof': '#pragma include ("sub\\\\b.mof")\n#PRAGMA Include ("sub/" "c.mof")\nclass A { };',
        'sub/b.mof': '#pragma include ("../d.mof")\nclass B { };',
        'sub/c.mof': 'class C { };',
        'd.mof': 'class D { };',
      },
    ],
    [
      'a file included twice (listed once), other pragmas with several arguments',
      {
        'a.mof':
          '#pragma include ("b.mof")\n#pragma namespace ("root/other")\n#pragma include ("b.mof")\n#pragma classflags ("forceupdate", "safeupdate")',
        'b.mof': 'class B { };',
      },
    ],
    [
      'pragmas in comments and strings are not followed',
      {
        'a.mof':
          '// #pragma include ("x.mof")\n/* #pragma include ("y.mof") */\n[Description ("#pragma include (\\"z.mof\\")")] class A { };\n#pragma include ("b.mof")',
        'b.mof': '[Description ("see #pragma include")] class B { };',
      },
    ],
    ['no pragma at all', { 'a.mof': 'class A { string P; };' }],
  ];
  test.each(cases)('%s', (_name, map) => {
    const read = files(map);
    const scanned = includedFiles('a.mof', read);
    expect(scanned).toEqual(compiledFiles('a.mof', read));
    expect(scanned[0]).toBe('a.mof');
  });
});

describe('where the scan cannot tell, it throws (and the command compiles)', () => {
  const throwsFor = (map: Record<string, string>) => () => includedFiles('a.mof', files(map));
  test('an include that cannot be read', () => {
    expect(throwsFor({ 'a.mof': '#pragma include ("missing.mof")' })).toThrow('no such file');
  });
  test('an include cycle, at the pragma that closes it, as the compiler says', () => {
    expect(
      throwsFor({ 'a.mof': '#pragma include ("b.mof")', 'b.mof': '\n#pragma include ("a.mof")' }),
    ).toThrow(
      new MofError('"a.mof" includes itself (a.mof → b.mof → a.mof)', {
        file: 'b.mof',
        line: 2,
        column: 1,
      }),
    );
  });
  test.each([
    ['a pragma without parentheses', '#pragma include "b.mof"'],
    ['a pragma without a string', '#pragma include ()'],
    ['a pragma that is not closed', '#pragma include ("b.mof"'],
    ['a lexical error in a file with a pragma', '#pragma include ("b.mof")\nclass A { # };'],
  ])('%s', (_name, text) => {
    expect(throwsFor({ 'a.mof': text, 'b.mof': 'class B { };' })).toThrow(MofError);
  });
});
