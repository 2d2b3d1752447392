/**
 * The request of `wbemd mofcomp`'s PutClassAsync calls (its answers are read by
 * sink-event-codec.ts): the compiled class written straight to bytes by the server's writer for
 * plain definitions (class-members-bytes.ts), without building the generated messages first.
 * Encoding CIM 2.41's 1,438 requests in a fresh process took 81–89 ms that way and takes 55–73 ms
 * this way; the command's CPU in `--dmtf` is ≈ 40–90 ms less (docs/performance.md, "P3: the
 * command's requests written straight to bytes"). generated/wbem/v1/services is not
 * imported: it loads grpc-js (its client constructor), ≈ 50 ms of the command's start, which the
 * calls written to HTTP/2 directly (grpc-h2.ts, D81) do not need. Only the fields mofcomp sends are
 * written, in the generated encoder's order and form, so the bytes are PutClassRequest.encode's
 * (test/e2e/mofcomp-h2.test.ts compares them for every class of CIM 2.41).
 */
import { Context } from '../../generated/wbem/v1/cim';
import type { ClassDefinition } from '../domain/class-model';
import { writeDefinition } from '../transport/grpc/class-members-bytes';
import { WireWriter } from '../transport/grpc/wire-writer';

/** What mofcomp puts in a PutClassRequest (its other fields stay unset). */
export interface ClassPut {
  readonly namespace: string;
  readonly definition: ClassDefinition;
  readonly flags: number;
  readonly context?: Context;
}

/** PutClassRequest's fields: namespace 1, object 2, flags 3, context 4 (tag = field << 3 | wire type). */
const NAMESPACE_TAG = 10;
const OBJECT_TAG = 18;
const FLAGS_TAG = 24;
const CONTEXT_TAG = 34;

/** One writer for every request (each encoding is synchronous); it keeps its buffer. */
const writer = new WireWriter();

/** Each context's bytes, encoded once: every call of a run sends the same one. */
const encodedContexts = new WeakMap<Context, Uint8Array>();

function contextBytes(context: Context): Uint8Array {
  let bytes = encodedContexts.get(context);
  if (bytes === undefined) {
    bytes = Context.encode(context).finish();
    encodedContexts.set(context, bytes);
  }
  return bytes;
}

/** PutClassRequest's bytes, field by field as its generated encode writes them. */
export function encodeClassPut(request: ClassPut): Buffer {
  try {
    if (request.namespace !== '') writer.uint32(NAMESPACE_TAG).string(request.namespace);
    const object = writer.uint32(OBJECT_TAG).begin();
    writeDefinition(writer, request.definition);
    writer.end(object);
    if (request.flags !== 0) writer.uint32(FLAGS_TAG).int32(request.flags);
    if (request.context !== undefined) {
      const context = contextBytes(request.context);
      writer.uint32(CONTEXT_TAG).uint32(context.length).raw(context);
    }
    return writer.finish();
  } catch (error) {
    writer.reset(); // finish() empties it; a failed encoding must too
    throw error;
  }
}
