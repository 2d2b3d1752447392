/**
 * The one-pass PutClass decoder (put-class-decoding.ts) against the reference way (ts-proto's
 * decode, then from-proto.ts), through the deserializer grpc-js is given: for well-formed
 * requests of every shape, and for thousands of damaged ones, the input or the refusal is the
 * reference's to the last field and word.
 */
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { CimType, type ClassObject, Value } from '../../generated/wbem/v1/cim';
import { PutClassRequest } from '../../generated/wbem/v1/services';
import { twoKilobyteClass } from '../../bench/put-class-async';
import { WbemError } from '../../src/domain/wbem-status';
import { decodePutClassInOnePass } from '../../src/transport/grpc/put-class-decoding';
import { MalformedRequest, totalDeserializer } from '../../src/transport/grpc/request-decoding';
import {
  decodePutClass,
  putClassInput,
  WBEM_SERVICES,
} from '../../src/transport/grpc/wbem-services-definition';
import { cls, p, q } from '../e2e/fixtures';
import { damaged, random } from '../helpers/damaged-bytes';

const reference = totalDeserializer('wbem.v1.PutClassRequest', PutClassRequest, putClassInput);

const v = {
  string: (string: string): Value => ({ kind: { $case: 'string', string } }),
  sint: (sint: bigint): Value => ({ kind: { $case: 'sint', sint } }),
  uint: (uint: bigint): Value => ({ kind: { $case: 'uint', uint } }),
  real: (real: number): Value => ({ kind: { $case: 'real', real } }),
  object: (object: ClassObject): Value => ({ kind: { $case: 'object', object } }),
  array: (values: Value[]): Value => ({ kind: { $case: 'array', array: { values } } }),
};

/** A class with every member shape and value kind the one-pass reader handles. */
function everyShape(): ClassObject {
  return cls(
    'Ex_Every',
    'Ex_Base',
    [
      p('S', CimType.CIM_STRING, {
        value: v.string('Größe, 温度 and 🙂'),
        qualifiers: [q('Key'), q('MaxLen', v.uint(256n), 3)],
        classOrigin: 'Ex_Every',
      }),
      p('I', CimType.CIM_SINT64, { value: v.sint(-(2n ** 40n)) }),
      p('U', CimType.CIM_UINT64, { value: v.uint(2n ** 48n) }),
      p('R', CimType.CIM_REAL64, { value: v.real(-0), propagated: true }),
      p('N', CimType.CIM_REAL32, { value: v.real(Number.NaN) }),
      p('D', CimType.CIM_DATETIME, {
        value: { kind: { $case: 'datetime', datetime: '20261202' } },
      }),
      p('Ref', CimType.CIM_REFERENCE, {
        referenceClass: 'Ex_Other',
        value: { kind: { $case: 'reference', reference: 'Ex_Other.Id="1"' } },
      }),
      p('C', CimType.CIM_CHAR16, { value: { kind: { $case: 'char16', char16: 'x' } } }),
      p('O', CimType.CIM_OBJECT, {
        embeddedClass: 'Ex_Leaf',
        value: v.object(cls('Ex_Leaf', '', [p('Inner', CimType.CIM_UINT8, { value: v.uint(7n) })])),
      }),
      p('A', CimType.CIM_STRING, { array: true, value: v.array([v.string('a'), v.string('')]) }),
      p('Empty', CimType.CIM_STRING, { value: {} }),
    ],
    {
      qualifiers: [q('Description', v.string('every shape'), 2), q('Abstract')],
      methods: [
        {
          name: 'M',
          returnType: CimType.CIM_UINT32,
          parameters: [
            {
              name: 'P',
              type: CimType.CIM_OBJECT,
              array: true,
              referenceClass: 'Ex_Ref',
              embeddedClass: 'Ex_Leaf',
              in: true,
              out: true,
              qualifiers: [q('ID', v.sint(0n))],
            },
          ],
          qualifiers: [q('Static')],
          classOrigin: 'Ex_Every',
          propagated: true,
        },
        {
          name: 'N',
          returnType: 0,
          parameters: [],
          qualifiers: [],
          classOrigin: '',
          propagated: false,
        },
      ],
      system: {
        genus: 1,
        class: 'Ex_Every',
        superclass: 'Ex_Base',
        dynasty: 'Ex_Base',
        derivation: ['Ex_Base'],
        server: 'here',
        namespace: 'root/cimv2',
        path: '',
        relpath: '',
        propertyCount: 11,
      },
    },
  );
}

const encode = (request: Partial<PutClassRequest>): Buffer =>
  Buffer.from(PutClassRequest.encode({ namespace: 'root/cimv2', flags: 0, ...request }).finish());

/** Requests the one-pass reader takes. */
const TAKEN: [string, Buffer][] = [
  ['W1 (a 2 KB class)', encode({ object: twoKilobyteClass('Bench_C00000001'), flags: 2 })],
  ['every member shape and value kind', encode({ object: everyShape(), flags: 0x80 })],
  [
    'validate_only and expected_revision',
    encode({ object: cls('Ex_A'), validateOnly: true, expectedRevision: 12345n }),
  ],
  [
    'expected_revision 0, validate_only false',
    encode({ object: cls('Ex_A'), validateOnly: false, expectedRevision: 0n }),
  ],
  [
    'system with genus 0',
    encode({
      object: cls('Ex_A', '', [], {
        system: {
          genus: 0,
          class: '',
          superclass: '',
          dynasty: '',
          derivation: [],
          server: '',
          namespace: '',
          path: '',
          relpath: '',
          propertyCount: 0,
        },
      }),
    }),
  ],
  [
    'a context (mofcomp --dmtf)',
    encode({
      object: cls('Ex_A', 'Ex_Base'),
      flags: 2,
      context: { values: { __wbemd_DMTFRules: { kind: { $case: 'boolean', boolean: true } } } },
    }),
  ],
  ['an empty context', encode({ object: cls('Ex_A'), context: { values: {} } })],
  ['no object', encode({})],
  ['an empty request', Buffer.alloc(0)],
  ['embedded objects 10 deep', encode({ object: nested(10) })],
  [
    'a field twice (the later wins)',
    Buffer.concat([
      encode({ object: cls('Ex_First') }),
      encode({ object: cls('Ex_Second'), flags: 3 }),
    ]),
  ],
];

/** Requests it gives up on; the reference decides them. */
const GIVEN_UP: [string, Buffer][] = [
  [
    'a context entry the reference would refuse, replaced by a later one',
    withContext(
      entry(key('x'), value(v.array([v.array([])]))),
      entry(key('x'), value(v.string('y'))),
    ),
  ],
  [
    'a context entry the reference would refuse, named __proto__',
    withContext(entry(key('__proto__'), value(v.array([{}])))),
  ],
  [
    'a context entry with an unknown field',
    withContext(
      Buffer.concat([
        entry(key('x')),
        Buffer.from(new BinaryWriter().tag(3, 0).uint32(1).finish()),
      ]),
    ),
  ],
  ['a context value nested too deep', withContext(entry(key('x'), value(v.object(nested(40)))))],
  ['negative flags', encode({ object: cls('Ex_A'), flags: -1 })],
  [
    'a uint64 above 2^49',
    encode({
      object: cls('Ex_A', '', [p('U', CimType.CIM_UINT64, { value: v.uint(2n ** 64n - 1n) })]),
    }),
  ],
  ['expected_revision above 2^49', encode({ object: cls('Ex_A'), expectedRevision: 2n ** 60n })],
  [
    'an unknown field',
    Buffer.concat([
      encode({ object: cls('Ex_A') }),
      Buffer.from(new BinaryWriter().tag(99, 0).uint32(1).finish()),
    ]),
  ],
  [
    'an array element without a value',
    encode({
      object: cls('Ex_A', '', [p('A', CimType.CIM_STRING, { array: true, value: v.array([{}]) })]),
    }),
  ],
  [
    'an array inside an array',
    encode({
      object: cls('Ex_A', '', [
        p('A', CimType.CIM_STRING, { array: true, value: v.array([v.array([])]) }),
      ]),
    }),
  ],
  ['embedded objects 40 deep', encode({ object: nested(40) })],
  ['truncated', encode({ object: cls('Ex_Truncated') }).subarray(0, -2)],
];

/** A length-delimited field by hand. */
function field(fieldNo: number, bytes: Uint8Array): Buffer {
  return Buffer.from(
    new BinaryWriter().tag(fieldNo, WireType.LengthDelimited).bytes(bytes).finish(),
  );
}

/** Context.ValuesEntry's fields, by hand, in any order and number. */
function key(name: string): Buffer {
  return Buffer.from(new BinaryWriter().tag(1, WireType.LengthDelimited).string(name).finish());
}

function value(cimValue: Value): Buffer {
  return field(2, Value.encode(cimValue).finish());
}

function entry(...parts: Buffer[]): Buffer {
  return field(1, Buffer.concat(parts));
}

/** A PutClassRequest of a small class with a context (field 4) of these entries, after it. */
function withContext(...entries: Buffer[]): Buffer {
  return Buffer.concat([
    encode({ object: cls('Ex_A'), flags: 2 }),
    field(4, Buffer.concat(entries)),
  ]);
}

function nested(depth: number): ClassObject {
  let object = cls('Ex_Leaf');
  for (let level = 1; level < depth; level++)
    object = cls(`Ex_L${level}`, '', [p('Inner', CimType.CIM_OBJECT, { value: v.object(object) })]);
  return object;
}

/** A refusal as the client sees it: the error's type, status and words. */
function outcome(decoded: unknown): unknown {
  if (!(decoded instanceof MalformedRequest)) return decoded;
  const failure = decoded.failure;
  return failure instanceof WbemError
    ? { refused: failure.status, param: failure.param }
    : { failed: String(failure) };
}

test('the served PutClass and PutClassAsync deserializers are the one-pass one', () => {
  expect(WBEM_SERVICES.putClassAsync.requestDeserialize).toBe(decodePutClass);
  expect(WBEM_SERVICES.putClass.requestDeserialize).toBe(decodePutClass);
});

test.each(TAKEN)('%s: read in one pass, the same input as the reference', (_label, bytes) => {
  expect(decodePutClassInOnePass(bytes)).toBeDefined();
  expect(reference(bytes)).not.toBeInstanceOf(MalformedRequest);
  expect(decodePutClass(bytes)).toStrictEqual(reference(bytes));
});

test.each(GIVEN_UP)('%s: given up, decoded by the reference', (_label, bytes) => {
  expect(decodePutClassInOnePass(bytes)).toBeUndefined();
  expect(outcome(decodePutClass(bytes))).toStrictEqual(outcome(reference(bytes)));
});

/**
 * Contexts built by hand in the shapes a map field's wire form allows, which ts-proto stores in a
 * plain object: the one-pass reader must give the same names, values and order.
 */
const CONTEXTS: [string, Buffer][] = [
  [
    'duplicate names: the last value wins, where the first one was',
    withContext(
      entry(key('b'), value(v.string('1'))),
      entry(key('a'), value(v.string('2'))),
      entry(key('b'), value(v.string('3'))),
    ),
  ],
  ['an entry without a name: the empty name', withContext(entry(value(v.string('x'))))],
  [
    'an entry without a value: dropped, an earlier value of its name kept',
    withContext(entry(key('k'), value(v.string('kept'))), entry(key('k')), entry(key('gone'))),
  ],
  ['an empty entry', withContext(entry())],
  ['a value with no kind: null', withContext(entry(key('k'), value({})))],
  [
    'value before name, fields twice: the last of each',
    withContext(entry(value(v.string('first')), key('a'), value(v.sint(-5n)), key('b'))),
  ],
  [
    '__proto__ and index-like names among others',
    withContext(
      entry(key('b'), value(v.string('b'))),
      entry(key('10'), value(v.uint(10n))),
      entry(key('__proto__'), value(v.string('p'))),
      entry(key('a'), value(v.string('a'))),
      entry(key('0'), value(v.uint(0n))),
      entry(key('__proto__'), value({})),
      entry(key('kind'), value(v.string('k'))),
      entry(key('decoded'), value(v.string('d'))),
      entry(key('constructor'), value(v.string('c'))),
      entry(key('01'), value(v.string('not an index'))),
      entry(key('4294967295'), value(v.string('not an index either'))),
    ),
  ],
  [
    'two contexts: the later replaces the earlier',
    Buffer.concat([
      withContext(entry(key('first'), value(v.string('1')))),
      field(4, entry(key('second'), value(v.string('2')))),
    ]),
  ],
  [
    'a context before the object, values of every kind',
    Buffer.concat([
      field(
        4,
        Buffer.concat([
          entry(key('__wbemd_DMTFRules'), value({ kind: { $case: 'boolean', boolean: false } })),
          entry(key('__CorrelationId'), value(v.string('Größe 🙂'))),
          entry(key('r'), value(v.real(-0))),
          entry(key('o'), value(v.object(everyShape()))),
          entry(key('arr'), value(v.array([v.uint(1n), v.string('x')]))),
        ]),
      ),
      encode({ object: cls('Ex_A') }),
    ]),
  ],
];

/** The context's entries in order (toStrictEqual compares Maps without their order). */
function contextEntries(decoded: unknown): unknown {
  if (decoded instanceof MalformedRequest) return decoded;
  const { context } = decoded as { context?: ReadonlyMap<string, unknown> };
  return context === undefined ? undefined : [...context];
}

test.each(CONTEXTS)('context, %s: read in one pass, as ts-proto decodes it', (_label, bytes) => {
  const expected = reference(bytes);
  expect(expected).not.toBeInstanceOf(MalformedRequest);
  expect(decodePutClassInOnePass(bytes)).toBeDefined();
  expect(decodePutClass(bytes)).toStrictEqual(expected);
  expect(contextEntries(decodePutClass(bytes))).toStrictEqual(contextEntries(expected));
});

test('the context cases exercise what they are named for', () => {
  const names = (label: string): unknown[] => {
    const bytes = CONTEXTS.find(([l]) => l.startsWith(label))?.[1] ?? Buffer.alloc(0);
    return (contextEntries(reference(bytes)) as [string, unknown][]).map(([name]) => name);
  };
  // ts-proto's plain object: index-like names first, __proto__ not a name, duplicates in place.
  expect(names('__proto__')).toStrictEqual([
    '0',
    '10',
    'b',
    'a',
    'kind',
    'decoded',
    'constructor',
    '01',
    '4294967295',
  ]);
  expect(names('duplicate')).toStrictEqual(['b', 'a']);
  expect(names('an entry without a value')).toStrictEqual(['k']);
  expect(names('an empty entry')).toStrictEqual([]);
  expect(names('an entry without a name')).toStrictEqual(['']);
});

test('the cases cover both a refusal and an input the reference decodes', () => {
  const outcomes = GIVEN_UP.map(([, bytes]) => reference(bytes) instanceof MalformedRequest);
  expect(outcomes).toContain(true);
  expect(outcomes).toContain(false);
});

test('damaged requests: the same input or refusal as the reference, byte for byte', () => {
  const next = random(0x5eed1234);
  let taken = 0;
  let refused = 0;
  for (const [, bytes] of TAKEN.filter(([, b]) => b.length > 0)) {
    for (let i = 0; i < 600; i++) {
      const bad = damaged(bytes, next);
      if (decodePutClassInOnePass(bad) !== undefined) taken++;
      const expected = reference(bad);
      if (expected instanceof MalformedRequest) refused++;
      expect(outcome(decodePutClass(bad))).toStrictEqual(outcome(expected));
    }
  }
  // Both paths and refusals were exercised.
  expect(taken).toBeGreaterThan(500);
  expect(refused).toBeGreaterThan(500);
});
