/**
 * The one-pass class record reader (src/store/level/class-record-parser.ts, what a scan reads
 * records with) gives exactly what `unpackClass(JSON.parse(text).body)` gives (the reading it
 * replaces, still the fallback): over every class of CIM Schema 2.41 and over definitions with
 * every value kind, escapes, non-ASCII text, lone surrogates and numbers at their edges; it leaves
 * to the old reading every record that is not plainly JSON.stringify's form (version 1 records
 * are), and decodeScannedClass reports a damaged record as before.
 */
import type { CimValue, ClassDefinition } from '../../src/domain/class-model';
import { compileMof } from '../../src/mof/parser';
import { LEGACY_CLASS_REVISION, StoreError } from '../../src/store/class-store';
import { parseClassRecord } from '../../src/store/level/class-record-parser';
import { decodeClass, decodeScannedClass, encodeClass } from '../../src/store/level/record-codec';
import { unpackClass } from '../../src/store/level/packed-form';
import { CIM_SCHEMA_ENTRY, readSchemaFile } from '../helpers/cim-schema';

/** The reading the parser replaces. */
function byJsonParse(text: string): ClassDefinition {
  return unpackClass((JSON.parse(text) as { body: unknown }).body);
}

function expectSameReading(definition: ClassDefinition): void {
  const text = encodeClass({ definition, revision: 7n });
  const parsed = parseClassRecord(text);
  expect(parsed).toBeDefined();
  expect(parsed?.definition).toEqual(byJsonParse(text));
  expect(parsed?.revision).toBe('7');
}

test('every class of CIM Schema 2.41 reads as JSON.parse and unpackClass read it', () => {
  const unit = compileMof(CIM_SCHEMA_ENTRY, readSchemaFile);
  expect(unit.classes.length).toBeGreaterThan(1_400);
  for (const { definition } of unit.classes) expectSameReading(definition);
});

const str = (value: string): CimValue => ({ kind: 'string', value });
const TRICKY_TEXTS = [
  '',
  'plain',
  'a "quoted" word',
  'back\\slash and \\"',
  'tab\there, newline\nthere, nul\u0000, escape\u001b',
  'Grüße, ünïcödé, 漢字, 🚀',
  'lone \ud800 high and \udc00 low',
  '\u2028\u2029',
  '/slash/',
];

function everyValueKind(text: string): ClassDefinition {
  const values: CimValue[] = [
    { kind: 'boolean', value: true },
    { kind: 'boolean', value: false },
    { kind: 'sint', value: -(2n ** 63n) },
    { kind: 'sint', value: 0n },
    { kind: 'uint', value: 2n ** 64n - 1n },
    ...[0, -0, 1.5, -2.25e-300, 1e308, 5e-324, NaN, Infinity, -Infinity, 123456789012].map(
      (value): CimValue => ({ kind: 'real', value }),
    ),
    str(text),
    { kind: 'datetime', value: '20261202160000.000000+000' },
    { kind: 'reference', value: `Ex_Ref.Name="${text}"` },
    { kind: 'char16', value: 'é' },
    { kind: 'array', value: [] },
    { kind: 'array', value: [str(text), str('b')] },
    {
      kind: 'object',
      value: { name: 'Ex_Inner', superclass: '', qualifiers: [], properties: [], methods: [] },
    },
  ];
  return {
    name: `Ex_${text.length}`,
    superclass: text === '' ? '' : 'Ex_Base',
    qualifiers: [
      { name: 'Description', value: str(text), flavor: 2 },
      { name: 'Empty', value: null, flavor: 0 },
      { name: 'Flags', value: { kind: 'sint', value: 5n }, flavor: 0x93 },
    ],
    properties: values.map((value, i) => ({
      name: `P${i}`,
      type: 8 + (i % 100),
      array: i % 2 === 0,
      value,
      qualifiers: i % 3 === 0 ? [{ name: text || 'q', value: str(text), flavor: 10 }] : [],
      referenceClass: i === 1 ? text : '',
      embeddedClass: i === 2 ? 'Ex_Inner' : '',
    })),
    methods: [
      {
        name: 'Run',
        returnType: 19,
        parameters: [
          {
            name: 'In',
            type: 102,
            array: false,
            referenceClass: 'Ex_Base',
            embeddedClass: '',
            in: true,
            out: false,
            qualifiers: [{ name: 'ID', value: { kind: 'sint', value: 0n }, flavor: 0 }],
          },
          {
            name: 'Out',
            type: 13,
            array: true,
            referenceClass: '',
            embeddedClass: text,
            in: false,
            out: true,
            qualifiers: [],
          },
        ],
        qualifiers: [{ name: 'Static', value: { kind: 'boolean', value: true }, flavor: 0 }],
      },
      { name: 'Nothing', returnType: 0, parameters: [], qualifiers: [] },
    ],
  };
}

test.each(TRICKY_TEXTS.map((text) => [JSON.stringify(text), text]))(
  'a class with every value kind and the text %s reads as JSON.parse reads it',
  (_shown, text) => {
    expectSameReading(everyValueKind(text));
  },
);

test('a version 1 record (no revision) is read, with the legacy revision', () => {
  const definition = everyValueKind('v1');
  const text = encodeClass({ definition, revision: 1n })
    .replace('{"v":2', '{"v":1')
    .replace(/,"r":"1"}$/, '}');
  expect(parseClassRecord(text)).toEqual({ definition: byJsonParse(text), revision: null });
  expect(decodeScannedClass(text, 'c!x')).toEqual({ definition, revision: LEGACY_CLASS_REVISION });
});

test('what is not plainly written is left to JSON.parse, which reads it the same', () => {
  const definition = everyValueKind('spaced');
  const text = encodeClass({ definition, revision: 3n });
  const variants = [
    JSON.stringify(JSON.parse(text), null, 2), // whitespace
    text.replace('{"v":2,"body":', '{"body":').replace(',"r":"3"}', ',"v":2,"r":"3"}'), // order
    text.replace(/"type":/g, '"type":'), // unchanged, as a control
  ];
  expect(parseClassRecord(variants[0] as string)).toBeUndefined();
  expect(parseClassRecord(variants[1] as string)).toBeUndefined();
  expect(parseClassRecord(variants[2] as string)).toBeDefined();
  for (const variant of variants)
    expect(decodeClass(variant, 'c!x')).toEqual({ definition, revision: 3n });
});

test('a damaged record is refused as before: STORE_CORRUPT_RECORD', () => {
  const text = encodeClass({ definition: everyValueKind('damaged'), revision: 9n });
  const damaged = [
    text.slice(0, -10), // cut short
    text.replace('"S","damaged"', '"X","damaged"'), // an unknown value kind
    text.replace('{"v":2', '{"v":3'), // an unknown version
    text.replace(',"r":"9"}', ',"r":"nine"}'), // a revision that is not a number
    text.replace('["s","0"]', '["s","zero"]'), // a 64-bit integer that is not one
    text.replace(/\["Run",19,/, '["Run",019,'), // not JSON
  ];
  for (const record of damaged) {
    expect(record).not.toBe(text);
    expect(parseClassRecord(record)).toBeUndefined();
    let thrown: unknown;
    try {
      decodeScannedClass(record, 'c!x');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StoreError);
    expect((thrown as StoreError).code).toBe('STORE_CORRUPT_RECORD');
  }
});
