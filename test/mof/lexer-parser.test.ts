import { MofError, tokenize } from '../../src/mof/lexer';
import { compileMof } from '../../src/mof/parser';
import { MOF_LINE_WIDTH, writeMof } from '../../src/mof/writer';
import { thrown } from '../helpers/expect-thrown';

const files =
  (map: Record<string, string>) =>
  (path: string): string => {
    const text = map[path];
    if (text === undefined) throw new Error('no such file');
    return text;
  };
const one = (text: string) => compileMof('a.mof', files({ 'a.mof': text }));
const errorOf = (run: () => unknown): MofError => thrown(MofError, run);

describe('literals', () => {
  test.each([
    ['42', 42n],
    ['-7', -7n],
    ['0x1F', 31n],
    ['-0x10', -16n],
    ['101b', 5n],
    ['017', 15n],
    ['0', 0n],
    ['18446744073709551615', 18446744073709551615n],
    ['-9223372036854775808', -9223372036854775808n],
  ])('integer %s', (text, value) => {
    expect(tokenize(text, 'x')[0]).toMatchObject({ kind: 'integer', value });
  });

  test.each([
    ['1.5', 1.5],
    ['-.25', -0.25],
    ['6.02e23', 6.02e23],
    ['1e3', 1000],
  ])('real %s', (text, value) => {
    expect(tokenize(text, 'x')[0]).toMatchObject({ kind: 'real', value });
  });

  test('strings: escapes, \\x and \\X, and adjacent strings concatenate', () => {
    const unit = one('class A { [Description("a\\tb" "\\"c\\"\\\\" "\\x41\\X263A")] string P; };');
    expect(unit.classes[0]?.definition.properties[0]?.qualifiers[0]?.value).toEqual({
      kind: 'string',
      value: 'a\tb"c"\\A\u263a',
    });
  });

  test('defaults of every type, typed by the declaration', () => {
    const unit = one(`class A {
      uint8 U = 255; sint64 S = -9223372036854775808; uint64 Big = 0xFFFFFFFFFFFFFFFF;
      real32 R = 1; boolean B = TRUE; char16 C = 'x'; datetime D = "20260101000000.000000+000";
      string Arr[] = {"a", "b"}; uint32 Fixed[4]; string N = NULL; };`);
    expect(unit.classes[0]?.definition.properties.map((p) => [p.name, p.array, p.value])).toEqual([
      ['U', false, { kind: 'uint', value: 255n }],
      ['S', false, { kind: 'sint', value: -9223372036854775808n }],
      ['Big', false, { kind: 'uint', value: 18446744073709551615n }],
      ['R', false, { kind: 'real', value: 1 }],
      ['B', false, { kind: 'boolean', value: true }],
      ['C', false, { kind: 'char16', value: 'x' }],
      ['D', false, { kind: 'datetime', value: '20260101000000.000000+000' }],
      [
        'Arr',
        true,
        {
          kind: 'array',
          value: [
            { kind: 'string', value: 'a' },
            { kind: 'string', value: 'b' },
          ],
        },
      ],
      ['Fixed', true, null],
      ['N', false, null],
    ]);
  });
});

describe('declarations', () => {
  test('a qualifier declaration gives its uses their type and flavor; flavors on a use override', () => {
    const unit = one(`Qualifier MaxLen : uint32 = null, Scope(property, method, parameter);
      Qualifier Abstract : boolean = false, Scope(class), Flavor(Restricted);
      [Abstract] class A { [MaxLen(64): DisableOverride] string P; };`);
    const a = unit.classes[0]?.definition;
    expect(a?.qualifiers).toEqual([
      { name: 'Abstract', value: { kind: 'boolean', value: true }, flavor: 0 },
    ]);
    // WMI keeps qualifier values as sint32/real64/string/boolean: a uint32 MaxLen becomes sint.
    expect(a?.properties[0]?.qualifiers).toEqual([
      { name: 'MaxLen', value: { kind: 'sint', value: 64n }, flavor: 0x02 | 0x10 },
    ]);
  });

  test('references, methods, parameter directions and IDs', () => {
    const unit = one(`[Association] class L { [Key] A REF Left; B REF Right; };
      class M { uint32 Go([In] string X, [In, Out] uint32 Y[], [Out] L REF Z); };`);
    expect(
      unit.classes[0]?.definition.properties.map((p) => [p.name, p.type, p.referenceClass]),
    ).toEqual([
      ['Left', 102, 'A'],
      ['Right', 102, 'B'],
    ]);
    const go = unit.classes[1]?.definition.methods[0];
    expect(
      go?.parameters.map((p) => [
        p.name,
        p.type,
        p.array,
        p.in,
        p.out,
        p.qualifiers.find((q) => q.name === 'ID')?.value,
      ]),
    ).toEqual([
      ['X', 8, false, true, false, { kind: 'sint', value: 0n }],
      ['Y', 19, true, true, true, { kind: 'sint', value: 1n }],
      ['Z', 102, false, false, true, { kind: 'sint', value: 2n }],
    ]);
  });

  test('#pragma include resolves relative to the including file; #pragma namespace applies to what follows', () => {
    const unit = compileMof(
      'root.mof',
      files({
        'root.mof': '#pragma include ("sub/b.mof")\n#pragma namespace ("root/other")\nclass C { };',
        'sub/b.mof': '#pragma include ("../a.mof")\nclass B : A { };',
        'a.mof': 'class A { };',
      }),
    );
    expect(unit.files).toEqual(['root.mof', 'sub/b.mof', 'a.mof']);
    expect(unit.classes.map((c) => [c.definition.name, c.namespace, c.at.file, c.at.line])).toEqual(
      [
        ['A', '', 'a.mof', 1],
        ['B', '', 'sub/b.mof', 2],
        ['C', 'root/other', 'root.mof', 3],
      ],
    );
  });

  test('instance of, with an alias', () => {
    const unit = one('instance of A as $a { Name = "x"; Count = 3; };');
    expect(unit.instances[0]).toMatchObject({
      className: 'A',
      alias: 'a',
      properties: [
        { name: 'Name', value: { kind: 'string', value: 'x' } },
        { name: 'Count', value: { kind: 'integer', value: 3n } },
      ],
    });
  });
});

describe('errors carry file, line and column', () => {
  test.each([
    ['class A {\n  string P\n};', 3, 1, 'expected ";"'],
    ['class A {\n  strin P;\n};', 2, 3, '"strin" is not a data type'],
    ['class A { string P = "open\n}; ', 1, 22, 'unterminated string'],
    ['/* never closed', 1, 1, 'unterminated comment'],
    ['class A { };\n  /* never\n closed', 2, 3, 'unterminated comment'],
    ['class A { uint32 P = "x"; };', 1, 11, 'property P of A: uint32 needs an integer'],
    ['# include', 1, 1, 'only #pragma'],
  ])('%j', (text, line, column, reason) => {
    const error = errorOf(() => one(text));
    expect(error.position).toEqual({ file: 'a.mof', line, column });
    expect(error.message).toContain(reason);
    expect(error.message.startsWith(`a.mof:${line}:${column}: `)).toBe(true);
  });

  test('the first error in the file is the one reported: tokens are read as the parser needs them', () => {
    const error = errorOf(() => one('class A {\n  strin P;\n};\n\n"never closed'));
    expect(error.message).toBe('a.mof:2:3: "strin" is not a data type (a class name needs REF)');
  });

  test('a missing include names the including position; an include cycle is refused', () => {
    const missing = errorOf(() =>
      compileMof('a.mof', files({ 'a.mof': '\n#pragma include ("nope.mof")' })),
    );
    expect(missing.position).toMatchObject({ file: 'a.mof', line: 2, column: 1 });
    expect(missing.message).toContain('cannot read "nope.mof"');
    const cycle = errorOf(() =>
      compileMof(
        'a.mof',
        files({ 'a.mof': '#pragma include ("b.mof")', 'b.mof': '#pragma include ("a.mof")' }),
      ),
    );
    expect(cycle.message).toContain('"a.mof" includes itself');
  });
});

describe('writeMof', () => {
  test('round-trips escapes, reals, char16, flavors, null qualifiers and parameter directions given as flags', () => {
    const definition = {
      name: 'Ex_A',
      superclass: '',
      qualifiers: [
        {
          name: 'Description',
          value: { kind: 'string' as const, value: 'tab\tquote" back\\ \u263a \u0001' },
          flavor: 0x02 | 0x10,
        },
        { name: 'Weight', value: { kind: 'real' as const, value: 2 }, flavor: 0 },
        { name: 'Nothing', value: null, flavor: 0x01 },
        {
          name: 'Ids',
          value: { kind: 'array' as const, value: [{ kind: 'sint' as const, value: -1n }] },
          flavor: 0,
        },
      ],
      properties: [
        {
          name: 'C',
          type: 103,
          array: false,
          value: { kind: 'char16' as const, value: "'" },
          qualifiers: [],
          referenceClass: '',
          embeddedClass: '',
        },
        {
          name: 'R',
          type: 5,
          array: true,
          value: {
            kind: 'array' as const,
            value: [
              { kind: 'real' as const, value: 1e21 },
              { kind: 'real' as const, value: -0.5 },
            ],
          },
          qualifiers: [],
          referenceClass: '',
          embeddedClass: '',
        },
      ],
      methods: [
        {
          name: 'M',
          returnType: 19,
          qualifiers: [],
          parameters: [
            {
              name: 'O',
              type: 8,
              array: false,
              referenceClass: '',
              embeddedClass: '',
              in: false,
              out: true,
              qualifiers: [
                { name: 'ID', value: { kind: 'sint' as const, value: 0n }, flavor: 0x10 },
              ],
            },
          ],
        },
      ],
    };
    const text = writeMof([definition]);
    const back = one(text).classes[0]?.definition;
    expect(back?.qualifiers).toEqual(definition.qualifiers);
    expect(back?.properties).toEqual(definition.properties);
    expect(back?.methods[0]?.parameters[0]).toMatchObject({ name: 'O', in: false, out: true });
  });

  test('wraps within 80 columns without breaking an escape: a long word of escapes, a long array, a long default, all read back the same', () => {
    const word = '\u263a"\\\n'.repeat(400) + 'x'.repeat(300);
    const definition = {
      name: 'Ex_Wrap',
      superclass: '',
      qualifiers: [
        { name: 'Description', value: { kind: 'string' as const, value: word }, flavor: 0 },
      ],
      properties: [
        {
          name: 'Values',
          type: 8,
          array: true,
          value: {
            kind: 'array' as const,
            value: Array.from({ length: 300 }, (_, i) => ({
              kind: 'string' as const,
              value: i % 50 === 0 ? 'y'.repeat(200) : `v${i}`,
            })),
          },
          qualifiers: [],
          referenceClass: '',
          embeddedClass: '',
        },
        {
          name: 'Note',
          type: 8,
          array: false,
          value: {
            kind: 'string' as const,
            value: 'a default that is long enough to wrap '.repeat(20),
          },
          qualifiers: [],
          referenceClass: '',
          embeddedClass: '',
        },
      ],
      methods: [],
    };
    const text = writeMof([definition]);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(MOF_LINE_WIDTH);
    const back = one(text).classes[0]?.definition;
    expect(back?.qualifiers).toEqual(definition.qualifiers);
    expect(back?.properties).toEqual(definition.properties);
  });
});
