/**
 * Request deserializers that never throw. grpc-js answers a deserializer that throws with a bare
 * INTERNAL "Error deserializing request": no WBEM trailers, no ErrorInfo, no access log line, no
 * metrics. Here bytes that do not decode become a MalformedRequest instead, which serveUnary and
 * serveStream refuse at once as WBEM_E_INVALID_PARAMETER, like any other refusal (docs/errors.md,
 * "Malformed input").
 */
import type { BinaryReader } from '@bufbuild/protobuf/wire';
import { readFileSync } from 'node:fs';
import { WbemError } from '../../domain/wbem-status';
import { TimeSlicer } from '../../service/time-slice';
import { BufferReader, TS_PROTO_MAX_DEPTH } from './buffer-reader';
import { findDescriptorSet } from './reflection';
import { scanNesting, WireSchema } from './wire-scan';

/** A request that cannot be handed to its handler, and the reason the call ends with. */
export class MalformedRequest {
  /** A WbemError when the bytes are malformed; anything else is a bug (WBEM_E_FAILED, logged). */
  constructor(readonly failure: unknown) {}
}

/**
 * A request of DECODE_ALONE_BYTES or more, not yet decoded: grpc-js calls the deserializer in the
 * turn in which it joined the message's frames, and for a CompileMof of the CIM schema (4 MB) the
 * join and the decode together held the event loop 35–55 ms on a 2-core host (L1, issue #13).
 * `withRequest` decodes it in a turn of its own.
 */
export class LargeRequest<T> {
  #bytes: Buffer | undefined;

  constructor(
    bytes: Buffer,
    private readonly deserialize: (bytes: Buffer) => T | MalformedRequest,
  ) {
    this.#bytes = bytes;
  }

  /** The request, decoded once: grpc-js keeps `call.request` for the whole call, not its bytes. */
  decode(): T | MalformedRequest {
    const bytes = this.#bytes;
    if (bytes === undefined) throw new Error('a large request is decoded once');
    this.#bytes = undefined;
    return this.deserialize(bytes);
  }
}

/** Requests this large are decoded in a turn of their own (≈ 2 ms a MB of text to decode). */
export const DECODE_ALONE_BYTES = 1024 * 1024;

/** What a handler's `call.request` holds: the decoded request, or why there is none. */
export type Decoded<T> = T | MalformedRequest | LargeRequest<T>;

/** The part of a ts-proto message's functions that decodes one from a reader. */
export interface MessageDecoder<T> {
  decode(input: BinaryReader, length?: number): T;
}

export const asIs = <T>(request: T): T => request;

/** The message as it was sent, without leaking the decoder's own words: the type and where it stopped. */
function undecodable(messageName: string, stoppedAt: number, length: number): WbemError {
  return new WbemError(
    'WBEM_E_INVALID_PARAMETER',
    `malformed request: the bytes are not a valid ${messageName} (decoding stopped at byte ${Math.min(stoppedAt, length)} of ${length})`,
  );
}

let schema: WireSchema | undefined;

/** The request messages' wire shapes, from the descriptor set reflection serves (read once). */
export function wireSchema(): WireSchema {
  return (schema ??= new WireSchema(readFileSync(findDescriptorSet())));
}

/**
 * For bytes the plain decode refused: the scan says why (they are malformed, or nest beyond a
 * limit), or how deep they nest, and the decode runs again, allowed that deep. A class whose
 * embedded objects nest 33 to 64 deep takes this path; nothing else that decodes does.
 */
function decodeMeasured<T>(
  messageName: string,
  message: MessageDecoder<T>,
  bytes: Buffer,
  stoppedAt: number,
): T | MalformedRequest {
  const root = wireSchema().message(messageName);
  if (root === undefined)
    return new MalformedRequest(new Error(`no descriptor for ${messageName}`));
  let depth: number;
  try {
    depth = scanNesting(root, bytes);
  } catch (failure) {
    return new MalformedRequest(failure);
  }
  // Well-formed to the scan and shallow enough: the decoder refused it for a reason of its own.
  if (depth <= TS_PROTO_MAX_DEPTH)
    return new MalformedRequest(undecodable(messageName, stoppedAt, bytes.length));
  const reader = new BufferReader(bytes).allowDepth(depth);
  try {
    return message.decode(reader);
  } catch {
    return new MalformedRequest(undecodable(messageName, reader.pos, bytes.length));
  }
}

/**
 * A requestDeserialize for grpc-js that never throws: the message decoded from the request's
 * Buffer, then `convert`ed (a WbemError there also refuses the request at once).
 */
export function totalDeserializer<T, U>(
  messageName: string,
  message: MessageDecoder<T>,
  convert: (request: T) => U,
): (bytes: Buffer) => U | MalformedRequest {
  return (bytes) => {
    const reader = new BufferReader(bytes);
    let request: T | MalformedRequest;
    try {
      request = message.decode(reader);
    } catch {
      request = decodeMeasured(messageName, message, bytes, reader.pos);
      if (request instanceof MalformedRequest) return request;
    }
    try {
      return convert(request);
    } catch (failure) {
      return new MalformedRequest(failure);
    }
  };
}

/** `deserialize`, left for later (LargeRequest) when the request is DECODE_ALONE_BYTES or more. */
export function decodingLargeAlone<T>(
  deserialize: (bytes: Buffer) => T | MalformedRequest,
): (bytes: Buffer) => Decoded<T> {
  return (bytes) =>
    bytes.length >= DECODE_ALONE_BYTES ? new LargeRequest(bytes, deserialize) : deserialize(bytes);
}

/**
 * The request, decoded now if it was large, or the failure that ends the call (thrown into the
 * serve path, which ends it).
 */
export function requestOf<T>(decoded: Decoded<T>): T {
  const request = decoded instanceof LargeRequest ? decoded.decode() : decoded;
  if (request instanceof MalformedRequest) throw request.failure;
  return request;
}

/**
 * `use(request)`; a large request is decoded first in a turn of its own, with another turn before
 * `use` starts (the call's own work then starts a slice of its own). Rejects with the failure
 * that ends the call when the request did not decode.
 */
export function withRequest<T, R>(
  decoded: Decoded<T>,
  use: (request: T) => Promise<R>,
): Promise<R> {
  if (!(decoded instanceof LargeRequest)) return use(requestOf(decoded));
  const slicer = new TimeSlicer();
  return slicer
    .endSlice()
    .then(() => requestOf(decoded.decode()))
    .then(async (request) => {
      await slicer.endSlice();
      return use(request);
    });
}
