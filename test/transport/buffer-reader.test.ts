import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { PutClassRequest } from '../../generated/wbem/v1/services';
import { BufferReader } from '../../src/transport/grpc/buffer-reader';
import { twoKilobyteClass } from '../../bench/put-class-async';

/** One length-delimited field 1 holding these raw bytes. */
const stringField = (bytes: Uint8Array): Buffer =>
  Buffer.from(new BinaryWriter().tag(1, 2).bytes(bytes).finish());

/** What both readers return for field 1 of `message`. */
function readBoth(message: Buffer): [string, string] {
  const read = (reader: BinaryReader): string => {
    reader.tag();
    return reader.string();
  };
  return [read(new BinaryReader(message)), read(new BufferReader(message))];
}

describe('BufferReader reads strings as @bufbuild/protobuf does', () => {
  test.each([
    ['empty', ''],
    ['short ASCII', 'Description'],
    ['long ASCII', 'x'.repeat(100)],
    ['non-ASCII', 'Größe, 温度 and 🙂'],
  ])('%s', (_label, text) => {
    const [library, ours] = readBoth(stringField(Buffer.from(text, 'utf8')));
    expect(ours).toBe(text);
    expect(ours).toBe(library);
  });

  test.each([
    ['a lone continuation byte', [0x41, 0x80, 0x42]],
    ['a truncated sequence', [0x41, 0xe2, 0x82]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a surrogate encoded in UTF-8', [0xed, 0xa0, 0x80]],
  ])('invalid UTF-8 (%s) decodes to the same replacement characters', (_label, bytes) => {
    const [library, ours] = readBoth(stringField(Uint8Array.from(bytes)));
    expect(ours).toBe(library);
    expect(ours).toContain('\uFFFD');
  });

  test('a string longer than the message is refused', () => {
    const whole = stringField(Buffer.from('Description'));
    expect(() => readBoth(whole.subarray(0, whole.length - 3))).toThrow(RangeError);
  });

  test('a whole PutClassRequest decodes to the same message', () => {
    const bytes = Buffer.from(
      PutClassRequest.encode({
        namespace: 'root/cimv2',
        object: twoKilobyteClass('Ex_Bench'),
        flags: 2,
      }).finish(),
    );
    expect(PutClassRequest.decode(new BufferReader(bytes))).toEqual(PutClassRequest.decode(bytes));
  });
});
