/**
 * WireWriter (src/transport/grpc/wire-writer.ts) writes what @bufbuild/protobuf's BinaryWriter,
 * which ts-proto's encoders use, writes: byte for byte, at the edges of each field kind (string
 * lengths around the ASCII loop's limit and the one-byte length, non-ASCII and lone surrogates,
 * nested lengths of one to three bytes, negative int32, 64-bit varints), and after its buffer
 * grew and was dropped.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { WireWriter } from '../../src/transport/grpc/wire-writer';

const same = (ours: WireWriter, theirs: BinaryWriter): void =>
  expect(Buffer.from(ours.finish()).toString('hex')).toBe(
    Buffer.from(theirs.finish()).toString('hex'),
  );

const STRINGS = [
  '',
  'a',
  'x'.repeat(23),
  'x'.repeat(24),
  'x'.repeat(127),
  'x'.repeat(128),
  'x'.repeat(20_000),
  'é',
  `${'x'.repeat(22)}é`,
  `${'x'.repeat(40)}ü`,
  'ü'.repeat(64),
  'ü'.repeat(42),
  '🚀 rocket',
  'lone \ud800 high',
  'lone \udc00 low',
  `${'y'.repeat(30)}\ud83d`,
];

test.each(STRINGS.map((s) => [s.length, s]))('a string of %i UTF-16 units', (_length, value) => {
  same(new WireWriter().uint32(10).string(value), new BinaryWriter().uint32(10).string(value));
});

test.each([0, 1, 127, 128, 16_383, 16_384, 2_097_152])(
  'a nested part of %i bytes: its length in as many bytes as ts-proto writes',
  (size) => {
    const ours = new WireWriter();
    const at = ours.uint32(34).begin();
    ours.raw(Buffer.alloc(size, 7)).end(at).uint32(8).bool(true);
    const theirs = new BinaryWriter().uint32(34).fork();
    theirs.raw(Buffer.alloc(size, 7)).join().uint32(8).bool(true);
    same(ours, theirs);
  },
);

test('nested parts within nested parts', () => {
  const ours = new WireWriter();
  const theirs = new BinaryWriter();
  const outer = ours.uint32(10).begin();
  theirs.uint32(10).fork();
  for (const size of [3, 200, 20_000]) {
    const inner = ours.uint32(18).begin();
    ours.string('z'.repeat(size)).end(inner);
    theirs.uint32(18).fork().string('z'.repeat(size)).join();
  }
  ours.end(outer);
  theirs.join();
  same(ours, theirs);
});

test.each([0, 1, 127, 128, 0x7fffffff, -1, -128, -0x80000000])('int32 %i', (value) => {
  same(new WireWriter().int32(value), new BinaryWriter().int32(value));
});

test.each([0, 1, 300, 0xffffffff])('uint32 %i', (value) => {
  same(new WireWriter().uint32(value), new BinaryWriter().uint32(value));
});

test.each([0n, 127n, 128n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n])('varint64 %s', (value) => {
  same(new WireWriter().varint64(value), new BinaryWriter().uint64(value));
});

test.each([0, -0, 1.5, -1e300, Infinity, -Infinity, NaN])('double %d', (value) => {
  same(new WireWriter().double(value), new BinaryWriter().double(value));
});

test('invalid numbers are refused as BinaryWriter refuses them', () => {
  expect(() => new WireWriter().uint32(-1)).toThrow();
  expect(() => new WireWriter().uint32(2 ** 32)).toThrow();
  expect(() => new WireWriter().int32(1.5)).toThrow();
  expect(() => new WireWriter().int32(2 ** 31)).toThrow();
});

test('a writer is reusable: after a big message and after reset, the next is written alone', () => {
  const w = new WireWriter();
  w.uint32(10).string('q'.repeat(400_000));
  expect(w.finish().length).toBeGreaterThan(400_000);
  w.uint32(10).string('abandoned');
  w.reset();
  same(w.uint32(10).string('next'), new BinaryWriter().uint32(10).string('next'));
  expect(w.length).toBe(0);
});
