/**
 * CompileMof requests read in one pass into the service's input, each source's text left as the
 * request's bytes until the compile reads it. Decoded up front, the CIM Schema's 4 MB of MOF held
 * the event loop ≈ 22 ms in a turn of its own and then, as 4 MB of strings that live for the
 * whole call, took ≈ 20 ms more at the next young-generation collection that promoted them: two
 * of the longest stretches of its CompileMof (L1, docs/performance.md). Read one file at a time,
 * as the compile reaches it, a text is garbage once its file is compiled.
 *
 * As put-class-decoding.ts, it reads only the shapes a well-formed request takes and gives up on
 * anything else (an unknown field or wire type, a field that runs past its message): the request
 * is then decoded the reference way, which decides what it is, the refusal or the input. A text
 * reads as the reference's (`toString('utf8')`, invalid bytes as U+FFFD), on every read
 * (test/transport/compile-mof-decoding.test.ts).
 */
import type { ClientContext } from '../../domain/client-context';
import type { CompileMofInput, MofSourceInput } from '../../service/wbem-service-api';
import { readContext } from './context-decoding';
import { readValue } from './put-class-decoding';
import { giveUp, readInOnePass, type WireCursor } from './wire-cursor';

/** A MOF source whose text is decoded from the request's bytes each time it is read. */
class SourceInBytes implements MofSourceInput {
  readonly #text: Buffer;

  constructor(
    readonly name: string,
    text: Buffer,
  ) {
    this.#text = text;
  }

  get text(): string {
    return this.#text.toString('utf8');
  }
}

/** A source sent without a text. */
const EMPTY = Buffer.alloc(0);

/** `wbem.v1.MofSource`: its name, and its text's bytes (a view into the request's). */
function source(c: WireCursor, end: number): SourceInBytes {
  let name = '';
  let text: Buffer = EMPTY;
  while (c.pos < end) {
    switch (c.tag()) {
      case 10:
        name = c.string(end);
        break;
      case 18: {
        const stop = c.fieldEnd(end);
        text = c.bytes.subarray(c.pos, stop);
        c.pos = stop;
        break;
      }
      default:
        giveUp();
    }
  }
  return c.closed(end, new SourceInBytes(name, text));
}

function compileMofFields(c: WireCursor, end: number): CompileMofInput {
  let namespace = '';
  const sources: MofSourceInput[] = [];
  let flags = 0;
  let context: ClientContext | undefined;
  let continueOnError = false;
  while (c.pos < end) {
    switch (c.tag()) {
      case 10:
        namespace = c.string(end);
        break;
      case 18:
        sources.push(source(c, c.fieldEnd(end)));
        break;
      case 24:
        flags = c.smallInt(end);
        break;
      case 34:
        // A later context replaces an earlier one, as in the generated decoder (no merge).
        context = readContext(c, c.fieldEnd(end), readValue);
        break;
      case 40:
        continueOnError = c.bool(end);
        break;
      default:
        giveUp();
    }
  }
  if (c.pos !== end) giveUp();
  // The same shape as wbem-services-definition.ts's compileMofInput.
  return { namespace, sources, flags, context, continueOnError };
}

/**
 * The service's input for CompileMof request bytes, or undefined when the request must be decoded
 * the reference way (see the header).
 */
export function decodeCompileMofInOnePass(bytes: Buffer): CompileMofInput | undefined {
  return readInOnePass(bytes, compileMofFields);
}
