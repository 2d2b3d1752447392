/**
 * The one-pass CompileMof decoder (compile-mof-decoding.ts), whose sources keep their text as the
 * request's bytes until it is read, against the reference way (ts-proto's decode, then
 * compileMofInput), through the deserializer grpc-js is given: for well-formed requests of every
 * shape, and for thousands of damaged ones, the input (every text read) or the refusal is the
 * reference's to the last field and word.
 */
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { type Context, Value } from '../../generated/wbem/v1/cim';
import { CompileMofRequest, type MofSource } from '../../generated/wbem/v1/services';
import { WbemError } from '../../src/domain/wbem-status';
import { decodeCompileMofInOnePass } from '../../src/transport/grpc/compile-mof-decoding';
import { MalformedRequest, totalDeserializer } from '../../src/transport/grpc/request-decoding';
import {
  compileMofInput,
  decodeCompileMof,
  WBEM_SERVICES,
} from '../../src/transport/grpc/wbem-services-definition';
import { damaged, random } from '../helpers/damaged-bytes';

const reference = totalDeserializer(
  'wbem.v1.CompileMofRequest',
  CompileMofRequest,
  compileMofInput,
);

const encode = (request: Partial<CompileMofRequest>): Buffer =>
  Buffer.from(CompileMofRequest.encode(CompileMofRequest.fromPartial(request)).finish());

/** A length-delimited field by hand. */
function field(fieldNo: number, bytes: Uint8Array): Buffer {
  return Buffer.from(
    new BinaryWriter().tag(fieldNo, WireType.LengthDelimited).bytes(bytes).finish(),
  );
}

const DMTF_CONTEXT: Context = {
  values: { __wbemd_DMTFRules: { kind: { $case: 'boolean', boolean: true } } },
};

const sources = (...texts: string[]): MofSource[] =>
  texts.map((text, i) => ({ name: `Dir\\File${i}.mof`, text }));

/** The input with every source's text read (a getter on the one-pass path), and refusals as the client sees them. */
function outcome(decoded: unknown): unknown {
  if (decoded instanceof MalformedRequest) {
    const failure = decoded.failure;
    return failure instanceof WbemError
      ? { refused: failure.status, param: failure.param }
      : { failed: String(failure) };
  }
  const input = decoded as { sources: readonly { name: string; text: string }[] };
  return { ...input, sources: input.sources.map(({ name, text }) => ({ name, text })) };
}

/** Requests the one-pass reader takes. */
const TAKEN: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  [
    'every field',
    encode({
      namespace: 'root/cimv2',
      sources: sources('#pragma include ("File1.mof")', 'class Ex_A { [Key] string Id; };'),
      flags: 0x80 | 0x40,
      context: DMTF_CONTEXT,
      continueOnError: true,
    }),
  ],
  [
    'texts beyond ASCII, a byte-order mark, an empty one',
    encode({
      sources: sources(
        '\ufeffclass Ex_B { string Größe = "温度 🙂"; };',
        '',
        '// \u00e9\u00e8\u00ea\r\n',
      ),
    }),
  ],
  ['a source with no text field', encode({ sources: [{ name: 'a.mof', text: '' }] })],
  ['a source with no name field', Buffer.concat([field(2, field(2, Buffer.from('class A {};')))])],
  [
    'invalid UTF-8 in a text and a name',
    field(
      2,
      Buffer.concat([
        field(1, Buffer.from([0x61, 0xff, 0x62])),
        field(2, Buffer.from([0xc3, 0x28, 0xe2, 0x82])),
      ]),
    ),
  ],
  [
    'fields repeated: the last scalar wins, sources add up',
    Buffer.concat([
      encode({ namespace: 'root/a', flags: 2, sources: sources('a') }),
      encode({ namespace: 'root/b', flags: 1, sources: sources('b'), context: DMTF_CONTEXT }),
    ]),
  ],
  [
    'a context of every value kind the one-pass reader reads',
    encode({
      sources: sources('class Ex_C {};'),
      context: {
        values: {
          s: Value.fromPartial({ kind: { $case: 'string', string: 'x' } }),
          i: Value.fromPartial({ kind: { $case: 'sint', sint: -5n } }),
          b: Value.fromPartial({ kind: { $case: 'boolean', boolean: false } }),
        },
      },
    }),
  ],
];

/** Requests it gives up on, for the reference to decide. */
const GIVEN_UP: [string, Buffer][] = [
  [
    'an unknown field',
    Buffer.concat([encode({ sources: sources('x') }), field(9, Buffer.from('?'))]),
  ],
  [
    'an unknown field in a source',
    field(2, Buffer.concat([field(1, Buffer.from('a.mof')), field(3, Buffer.from('?'))])),
  ],
  ['negative flags (a 10-byte varint)', encode({ sources: sources('x'), flags: -1 })],
  ['truncated', encode({ sources: sources('class Ex_T {};') }).subarray(0, -2)],
  ['a source that runs past the message', Buffer.from([0x12, 0x20, 0x0a, 0x01, 0x61])],
];

test('the served CompileMof deserializer is the one-pass one', () => {
  expect(WBEM_SERVICES.compileMof.requestDeserialize).toBe(decodeCompileMof);
});

test.each(TAKEN)('taken in one pass: %s', (_, bytes) => {
  const expected = reference(bytes);
  expect(expected).not.toBeInstanceOf(MalformedRequest);
  expect(decodeCompileMofInOnePass(bytes)).toBeDefined();
  expect(outcome(decodeCompileMof(bytes))).toStrictEqual(outcome(expected));
});

test.each(GIVEN_UP)('given up, decided by the reference: %s', (_, bytes) => {
  expect(decodeCompileMofInOnePass(bytes)).toBeUndefined();
  expect(outcome(decodeCompileMof(bytes))).toStrictEqual(outcome(reference(bytes)));
});

test('the given-up cases cover both a refusal and an input the reference decodes', () => {
  const refusals = GIVEN_UP.map(([, bytes]) => reference(bytes) instanceof MalformedRequest);
  expect(refusals).toContain(true);
  expect(refusals).toContain(false);
});

test('a text is read from the request bytes, the same on every read', () => {
  const bytes = encode({ sources: sources('class Ex_D { string P = "\u00fc"; };') });
  const input = decodeCompileMofInOnePass(bytes);
  const source = input?.sources[0];
  // Not an own string property: the text is made when read.
  expect(Object.getOwnPropertyNames(source)).toStrictEqual(['name']);
  expect(source?.text).toBe('class Ex_D { string P = "\u00fc"; };');
  expect(source?.text).toBe(source?.text);
});

test('damaged requests: the same input or refusal as the reference, byte for byte', () => {
  const next = random(0x6d6f6663);
  let taken = 0;
  let refused = 0;
  for (const [, bytes] of TAKEN.filter(([, b]) => b.length > 0)) {
    for (let i = 0; i < 600; i++) {
      const bad = damaged(bytes, next);
      if (decodeCompileMofInOnePass(bad) !== undefined) taken++;
      const expected = reference(bad);
      if (expected instanceof MalformedRequest) refused++;
      expect(outcome(decodeCompileMof(bad))).toStrictEqual(outcome(expected));
    }
  }
  // Both paths and refusals were exercised.
  expect(taken).toBeGreaterThan(500);
  expect(refused).toBeGreaterThan(200);
});
