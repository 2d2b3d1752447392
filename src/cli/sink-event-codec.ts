/**
 * The object sink's events as `wbemd mofcomp` reads them from its own HTTP/2 calls (grpc-h2.ts,
 * D81): an ObjectSinkEvent's `progress` (1) or `status` (2), only the fields the command uses. As
 * the generated decoder's oneof, the last of the two in the bytes is the event
 * (test/e2e/mofcomp-h2.test.ts and mofcomp-atomic-h2.test.ts compare them with it).
 */
import { BinaryReader } from '@bufbuild/protobuf/wire';
import type { WbemStatus } from '../../generated/wbem/v1/status';

/** A SetStatus's WbemStatus and its param (its other fields are not read). */
export interface FinalStatus {
  readonly hresult: WbemStatus;
  readonly param: string;
}

/** A Progress event's fields. */
export interface ProgressEvent {
  readonly current: number;
  readonly total: number;
  readonly message: string;
}

type SinkEventRead =
  | { readonly kind: 'progress'; readonly progress: ProgressEvent }
  | { readonly kind: 'status'; readonly status: FinalStatus };

const PROGRESS = 10; // field 1, length-delimited
const STATUS = 18; // field 2, length-delimited

function sinkEventOf(bytes: Uint8Array): SinkEventRead | undefined {
  const reader = new BinaryReader(bytes);
  let event: SinkEventRead | undefined;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === PROGRESS) event = { kind: 'progress', progress: readProgress(reader) };
    else if (tag === STATUS) event = { kind: 'status', status: readSetStatus(reader) };
    else reader.skip(tag & 7); // another field, or a oneof field in another wire type: skipped
  }
  return event;
}

/** The SetStatus of an ObjectSinkEvent, or undefined for any other event (a Progress). */
export function finalStatusOf(bytes: Uint8Array): FinalStatus | undefined {
  const event = sinkEventOf(bytes);
  return event?.kind === 'status' ? event.status : undefined;
}

/** The Progress of an ObjectSinkEvent, or undefined for any other event (a SetStatus). */
export function progressOf(bytes: Uint8Array): ProgressEvent | undefined {
  const event = sinkEventOf(bytes);
  return event?.kind === 'progress' ? event.progress : undefined;
}

function readSetStatus(reader: BinaryReader): FinalStatus {
  const length = reader.uint32();
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

function readProgress(reader: BinaryReader): ProgressEvent {
  const length = reader.uint32();
  const end = reader.pos + length;
  let current = 0;
  let total = 0;
  let message = '';
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 8) current = reader.uint32();
    else if (tag === 16) total = reader.uint32();
    else if (tag === 26) message = reader.string();
    else reader.skip(tag & 7);
  }
  return { current, total, message };
}
