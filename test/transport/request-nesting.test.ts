/**
 * Embedded-object nesting on the wire (issue #12 item 2): WMI allows 64 levels; ts-proto's
 * decoders alone stop at 100 nested messages, about 33 levels. Every request type is decoded
 * through the deserializers grpc-js is given.
 */
import { CimType } from '../../generated/wbem/v1/cim';
import { DeleteClassRequest, PutClassRequest } from '../../generated/wbem/v1/services';
import { nestingDepth } from '../../src/domain/limits';
import { MalformedRequest, requestOf } from '../../src/transport/grpc/request-decoding';
import { WBEM_SERVICES } from '../../src/transport/grpc/wbem-services-definition';
import { MAX_MESSAGE_DEPTH } from '../../src/transport/grpc/wire-scan';
import { WbemError } from '../../src/domain/wbem-status';
import { cls, p, q } from '../e2e/fixtures';
import { nestedClass, nestedPutClassRequest, nestedValue } from '../helpers/nested-objects';

const decodePutClass = WBEM_SERVICES.putClass.requestDeserialize;

/** The depth of embedded objects in the decoded class's one property default. */
function decodedDepth(bytes: Buffer): number {
  const decoded = requestOf(decodePutClass(bytes));
  const value = decoded.definition?.properties[0]?.value;
  if (value === undefined || value === null) throw new Error('no default value');
  return nestingDepth(value);
}

function refusal(decoded: unknown): { status: string; param: string } {
  expect(decoded).toBeInstanceOf(MalformedRequest);
  const failure = (decoded as MalformedRequest).failure;
  expect(failure).toBeInstanceOf(WbemError);
  return { status: (failure as WbemError).status, param: (failure as WbemError).param };
}

const TOO_DEEP = {
  status: 'WBEM_E_INVALID_PARAMETER',
  param: 'the request (wbem.v1.PutClassRequest): embedded objects nest deeper than 64',
};

test('the request builder writes what the generated encoder writes', () => {
  const encoded = PutClassRequest.encode({
    namespace: 'root/cimv2',
    object: nestedClass('Ex_Nested', 5),
    flags: 0,
  }).finish();
  expect(nestedPutClassRequest('Ex_Nested', 5)).toEqual(Buffer.from(encoded));
});

test.each([1, 32, 33, 63, 64])('embedded objects nested %i deep decode', (depth) => {
  expect(decodedDepth(nestedPutClassRequest('Ex_Nested', depth))).toBe(depth);
});

test.each([65, 200, 10_000])(
  'embedded objects nested %i deep are WBEM_E_INVALID_PARAMETER',
  (depth) => {
    expect(refusal(decodePutClass(nestedPutClassRequest('Ex_Nested', depth)))).toEqual(TOO_DEEP);
  },
);

test('64 levels through the longest path a level can take (a parameter qualifier array) decode', () => {
  // Each level: ClassObject → Method → Parameter → Qualifier → Value → ValueArray → Value → ClassObject.
  let value = nestedValue(1);
  for (let level = 1; level < 64; level++) {
    const parameter = {
      name: 'P',
      type: CimType.CIM_OBJECT,
      array: false,
      referenceClass: '',
      embeddedClass: '',
      in: true,
      out: false,
      qualifiers: [q('Q', { kind: { $case: 'array', array: { values: [value] } } })],
    };
    const method = {
      name: 'M',
      returnType: CimType.CIM_UINT32,
      parameters: [parameter],
      qualifiers: [],
      classOrigin: '',
      propagated: false,
    };
    value = {
      kind: { $case: 'object', object: cls(`Ex_L${level}`, '', [], { methods: [method] }) },
    };
  }
  const object = cls('Ex_Wide', '', [p('Nested', CimType.CIM_OBJECT, { value })]);
  const bytes = Buffer.from(
    PutClassRequest.encode({ namespace: 'root/cimv2', object, flags: 0 }).finish(),
  );
  const decoded = decodePutClass(bytes);
  expect(decoded).not.toBeInstanceOf(MalformedRequest);
  // One level more is refused, wherever the objects sit.
  const deeper = cls('Ex_Wide', '', [], {
    qualifiers: [
      q('Q', {
        kind: { $case: 'array', array: { values: [{ kind: { $case: 'object', object } }] } },
      }),
    ],
  });
  expect(
    refusal(
      decodePutClass(
        Buffer.from(
          PutClassRequest.encode({ namespace: 'root/cimv2', object: deeper, flags: 0 }).finish(),
        ),
      ),
    ),
  ).toEqual(TOO_DEEP);
});

test('a context value nested 65 deep is refused by DeleteClass too', () => {
  const bytes = Buffer.from(
    DeleteClassRequest.encode({
      namespace: 'root/cimv2',
      className: 'Ex_A',
      flags: 0,
      context: { values: { Deep: nestedValue(65) } },
    }).finish(),
  );
  expect(refusal(WBEM_SERVICES.deleteClass.requestDeserialize(bytes))).toEqual({
    status: 'WBEM_E_INVALID_PARAMETER',
    param: 'the request (wbem.v1.DeleteClassRequest): embedded objects nest deeper than 64',
  });
});

test(`arrays within arrays ${MAX_MESSAGE_DEPTH} deep, no object in them, are malformed`, () => {
  // Value → ValueArray → Value …, written innermost first (one level = two messages).
  let value: Uint8Array = new Uint8Array();
  const wrap = (field: number, inner: Uint8Array): Uint8Array => {
    const head = Buffer.from([(field << 3) | 2]);
    const length: number[] = [];
    for (let n = inner.length; ; n >>>= 7) {
      if (n < 0x80) {
        length.push(n);
        break;
      }
      length.push((n & 0x7f) | 0x80);
    }
    return Buffer.concat([head, Buffer.from(length), inner]);
  };
  for (let level = 0; level < MAX_MESSAGE_DEPTH / 2; level++) value = wrap(10, wrap(1, value));
  // PutClassRequest.object → ClassObject.properties → Property.value → the arrays.
  const bytes = wrap(2, wrap(4, Buffer.concat([Buffer.from([0x0a, 1, 0x41]), wrap(4, value)])));
  expect(refusal(decodePutClass(Buffer.from(bytes)))).toEqual({
    status: 'WBEM_E_INVALID_PARAMETER',
    param: `malformed request: wbem.v1.PutClassRequest nests messages deeper than ${MAX_MESSAGE_DEPTH}`,
  });
});
