/**
 * The request of `wbemd mofcomp`'s PutClassAsync calls, encoded here with the generated cim.proto
 * codecs (its answers are read by sink-event-codec.ts): generated/wbem/v1/services loads grpc-js
 * when it is imported (its client constructor), ≈ 50 ms of the command's CPU before its compile,
 * with the server idle, which the calls written to HTTP/2 directly (grpc-h2.ts, D81) do not need.
 * Only the fields mofcomp sends are written, in the generated encoder's order and form, so the
 * bytes are PutClassRequest.encode's (test/e2e/mofcomp-h2.test.ts compares them for CIM 2.41).
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { ClassObject, Context } from '../../generated/wbem/v1/cim';

/** What mofcomp puts in a PutClassRequest (its other fields stay unset). */
export interface ClassPut {
  readonly namespace: string;
  readonly object: ClassObject;
  readonly flags: number;
  readonly context?: Context;
}

/** PutClassRequest's bytes, field by field as its generated encode writes them. */
export function encodeClassPut(request: ClassPut): Uint8Array {
  const writer = new BinaryWriter();
  if (request.namespace !== '') writer.uint32(10).string(request.namespace);
  ClassObject.encode(request.object, writer.uint32(18).fork()).join();
  if (request.flags !== 0) writer.uint32(24).int32(request.flags);
  if (request.context !== undefined)
    Context.encode(request.context, writer.uint32(34).fork()).join();
  return writer.finish();
}
