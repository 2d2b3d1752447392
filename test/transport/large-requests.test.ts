/**
 * Requests of DECODE_ALONE_BYTES or more that carry documents are decoded in a turn of their own
 * (request-decoding.ts, L1 of issue #13): not in the turn grpc-js received them in, and not in the
 * turn the operation starts in. The decoded request is the same as an eager decode's.
 */
import { CompileMofRequest } from '../../generated/wbem/v1/services';
import {
  asIs,
  DECODE_ALONE_BYTES,
  LargeRequest,
  MalformedRequest,
  requestOf,
  totalDeserializer,
  withRequest,
} from '../../src/transport/grpc/request-decoding';
import {
  compileMofInput,
  REQUEST_DESERIALIZERS,
} from '../../src/transport/grpc/wbem-services-definition';
import { WbemError } from '../../src/domain/wbem-status';

function compileMofBytes(textLength: number): Buffer {
  const text = `// ${'x'.repeat(textLength)}\nclass Big_A {};\n`;
  return Buffer.from(
    CompileMofRequest.encode(
      CompileMofRequest.fromPartial({
        namespace: 'root/cimv2',
        sources: [{ name: 'big.mof', text }],
      }),
    ).finish(),
  );
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a small request is decoded at once; a large one is left for later, and decodes the same', () => {
  const small = REQUEST_DESERIALIZERS.compileMof(compileMofBytes(1000));
  expect(small).not.toBeInstanceOf(LargeRequest);
  expect(small).not.toBeInstanceOf(MalformedRequest);

  const bytes = compileMofBytes(DECODE_ALONE_BYTES);
  const large = REQUEST_DESERIALIZERS.compileMof(bytes);
  expect(large).toBeInstanceOf(LargeRequest);
  // The service's input, its sources' texts read (they are made as they are read).
  const { sources, ...rest } = requestOf(large);
  expect({ ...rest, sources: sources.map(({ name, text }) => ({ name, text })) }).toStrictEqual(
    compileMofInput(CompileMofRequest.decode(bytes)),
  );
});

test('withRequest decodes a large request after a turn, and starts the operation a turn later', async () => {
  const events: string[] = [];
  const bytes = compileMofBytes(DECODE_ALONE_BYTES);
  const decode = totalDeserializer('wbem.v1.CompileMofRequest', CompileMofRequest, asIs);
  const large = new LargeRequest(bytes, (sent) => {
    events.push('decoded');
    return decode(sent);
  });
  const used = withRequest(large, (request) => {
    events.push(`used ${request.sources.length} source`);
    return Promise.resolve('done');
  });
  events.push('returned');
  void turn().then(() => events.push('a turn'));
  expect(await used).toBe('done');
  expect(events[0]).toBe('returned');
  expect(events.indexOf('a turn')).toBeLessThan(events.indexOf('decoded'));
  expect(events.indexOf('decoded')).toBeLessThan(events.indexOf('used 1 source'));
});

test('withRequest runs a small request at once, in the same turn', async () => {
  const events: string[] = [];
  const small = REQUEST_DESERIALIZERS.compileMof(compileMofBytes(100));
  const used = withRequest(small, () => {
    events.push('used');
    return Promise.resolve();
  });
  expect(events).toEqual(['used']);
  await used;
});

test('a large request that does not decode rejects with WBEM_E_INVALID_PARAMETER', async () => {
  const bytes = compileMofBytes(DECODE_ALONE_BYTES).subarray(0, -1);
  const large = REQUEST_DESERIALIZERS.compileMof(bytes);
  expect(large).toBeInstanceOf(LargeRequest);
  const use = jest.fn(() => Promise.resolve());
  const outcome = await withRequest(large, use).catch((failure: unknown) => failure);
  expect(outcome).toBeInstanceOf(WbemError);
  expect((outcome as WbemError).status).toBe('WBEM_E_INVALID_PARAMETER');
  expect(use).not.toHaveBeenCalled();
});
