/**
 * The context (`wbem.v1.Context`, pCtx) of a PutClass(Async) request, for put-class-decoding.ts's
 * one-pass reader: the same map contextFromProto makes from ts-proto's decode of the same bytes,
 * or GIVE_UP (test/transport/put-class-decoding.test.ts compares the two on hand-made bytes).
 */
import type { CimValue } from '../../domain/class-model';
import type { ClientContext } from '../../domain/client-context';
import { giveUp, type WireCursor } from './wire-cursor';

/** The one-pass reader's `wbem.v1.Value` (null when no kind is set), `depth` messages deep. */
export type ValueReader = (c: WireCursor, end: number, depth: number) => CimValue | null;

/** A context value as ts-proto keeps it: an object (its Value message), whatever the value is. */
interface ContextValueBox {
  readonly decoded: CimValue | null;
}

/** One `wbem.v1.Context.ValuesEntry` into `values`, as ts-proto's Context.decode stores it. */
function contextEntry(
  c: WireCursor,
  end: number,
  values: Record<string, ContextValueBox>,
  readValue: ValueReader,
): void {
  let key = ''; // a missing key is the empty name
  let box: ContextValueBox | undefined;
  while (c.pos < end) {
    switch (c.tag()) {
      case 10:
        key = c.string(end);
        break;
      case 18:
        // Context (1) → entry (2) → Value (3); a later value replaces an earlier one.
        box = { decoded: readValue(c, c.fieldEnd(end), 3) };
        break;
      default:
        giveUp();
    }
  }
  if (c.pos !== end) giveUp();
  // An entry without a value is dropped, as ts-proto drops it (an earlier value of its key stays).
  if (box !== undefined) values[key] = box;
}

/**
 * `wbem.v1.Context` as contextFromProto makes it from ts-proto's message. ts-proto collects the
 * entries in a plain object (`values[key] = value`) and contextFromProto reads them back with
 * Object.entries; an object filled and read the same way gives the same names in the same order
 * by construction: a later duplicate replaces the value in its first place, index-like names
 * ("0", "10") come first in numeric order, and `__proto__` sets the object's prototype instead of
 * adding a name. The values are boxed because ts-proto's are objects (a null there would make a
 * later `__proto__` an own name).
 */
export function readContext(c: WireCursor, end: number, readValue: ValueReader): ClientContext {
  const values: Record<string, ContextValueBox> = {};
  while (c.pos < end) {
    if (c.tag() !== 10) giveUp();
    contextEntry(c, c.fieldEnd(end), values, readValue);
  }
  if (c.pos !== end) giveUp();
  return new Map(Object.entries(values).map(([name, box]) => [name, box.decoded]));
}
