/**
 * The two messages of `wbemd mofcomp`'s PutClassAsync calls, encoded and read here with the
 * generated cim.proto codecs: generated/wbem/v1/services loads grpc-js when it is imported (its
 * client constructor), ≈ 50 ms of the command's CPU before its compile, with the server idle,
 * which the calls written to HTTP/2 directly (grpc-h2.ts, D81) do not need. Only the fields
 * mofcomp sends are written, in the generated encoder's order and form, so the bytes are
 * PutClassRequest.encode's (test/e2e/mofcomp-h2.test.ts compares them for CIM 2.41).
 */
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { ClassObject, Context } from '../../generated/wbem/v1/cim';
import type { WbemStatus } from '../../generated/wbem/v1/status';

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

/** A SetStatus's WbemStatus and its param (its other fields are not read). */
export interface FinalStatus {
  readonly hresult: WbemStatus;
  readonly param: string;
}

/**
 * The SetStatus of an ObjectSinkEvent, or undefined for any other event (a Progress). As the
 * generated decoder's oneof, the last of `progress` (1) and `status` (2) in the bytes is the event.
 */
export function finalStatusOf(bytes: Uint8Array): FinalStatus | undefined {
  const reader = new BinaryReader(bytes);
  let status: FinalStatus | undefined;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === 18) status = readSetStatus(reader, reader.uint32());
    else {
      if (tag >>> 3 === 1) status = undefined;
      reader.skip(tag & 7);
    }
  }
  return status;
}

function readSetStatus(reader: BinaryReader, length: number): FinalStatus {
  const end = reader.pos + length;
  let hresult = 0 as WbemStatus;
  let param = '';
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 8) hresult = reader.int32();
    else if (tag === 18) param = reader.string();
    else reader.skip(tag & 7);
  }
  return { hresult, param };
}
