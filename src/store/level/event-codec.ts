/**
 * The event log's records: the entries of one synced batch in one record (record-codec.ts has the
 * entry form and the envelope).
 */
import type { ClassDefinition } from '../../domain/class-model';
import type { ClientContext } from '../../domain/client-context';
import type { NamespaceKey } from '../../domain/names';
import { extendsDerivation } from '../../domain/resolve-class';
import { StoreError, type ClassEventRecord } from '../class-store';
import {
  corrupt,
  packClass,
  packValue,
  unpackClass,
  unpackValue,
  type Packed,
} from './packed-form';
import { readEnvelope, SCHEMA_VERSION } from './record-codec';

const KIND_CODES = { created: 'c', modified: 'm', deleted: 'd' } as const;
const KINDS_BY_CODE: Readonly<Record<string, ClassEventRecord['kind']>> = {
  c: 'created',
  m: 'modified',
  d: 'deleted',
};

function packContext(context: ClientContext | undefined): Packed | null {
  return context === undefined
    ? null
    : [...context].map(([name, value]) => [name, packValue(value)]);
}

function unpackContext(packed: unknown): ClientContext | undefined {
  if (packed === null) return undefined;
  return new Map(
    (packed as [string, unknown][]).map(([name, value]) => [name, unpackValue(value)]),
  );
}

/**
 * One log entry's body: [namespace, kind, target, previous, derivation, context, operation id,
 * TIME_CREATED]. The target travels as its packed class, or — `ref` — as the folded class name
 * alone: "the class record of this revision". A store that writes references keeps that record
 * readable for as long as the entry lives (the LevelDB store copies a class record it replaces to
 * a history record, see there).
 */
export const encodeEventBody = (
  event: ClassEventRecord,
  targetRef?: string,
  derivations?: DerivationTexts,
): string =>
  `[${JSON.stringify(event.namespace)},"${KIND_CODES[event.kind]}",${JSON.stringify(targetRef ?? packClass(event.target))},${JSON.stringify(
    event.previous === undefined ? null : packClass(event.previous),
  )},${derivations?.text(event.derivation) ?? JSON.stringify(event.derivation)},${JSON.stringify(packContext(event.context))},${JSON.stringify(event.operationId)},"${event.timeCreated}"]`;

/**
 * The JSON text of the __DERIVATION lists of one commit's entries. A class's list is its parent's
 * name, then its parent's list: a chain of n classes committed together holds O(n²) names, and
 * encoding each list anew was most of the cost of committing a deep chain. A list whose rest is a
 * list encoded before (the same name strings, compared by identity: the loader hands every class
 * of a chain the same ancestor objects) is its first name's text joined to that list's text: a
 * copy of flat text instead of JSON.stringify's escaping of every name again; the same bytes.
 */
export class DerivationTexts {
  /** The last list encoded that starts with a name, and its text without the opening bracket. */
  readonly #byFirstName = new Map<
    string,
    { readonly list: readonly string[]; readonly tail: string }
  >();

  text(list: readonly string[]): string {
    const [first] = list;
    if (first === undefined) return '[]';
    const above = list.length > 1 ? this.#byFirstName.get(list[1] as string) : undefined;
    const tail =
      above === undefined || !extendsDerivation(list, first, above.list)
        ? JSON.stringify(list).slice(1)
        : flat(`${JSON.stringify(first)},${above.tail}`);
    this.#byFirstName.set(first, { list, tail });
    return `[${tail}`;
  }
}

/**
 * `text` flattened now. V8 keeps a joined string as a rope of its parts; reading one unit makes it
 * one flat string, so the next list copies flat text, and writing the record does not walk ropes
 * as deep as the chain (measured: that walk cost more than the JSON.stringify it replaced, in one
 * stretch of the event loop).
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

type LoggedEntry = { readonly revision: bigint; readonly body: string };

/** A log record's text: BATCH_HEAD, the entries' texts joined by commas, BATCH_END. */
const BATCH_HEAD = `{"v":${SCHEMA_VERSION},"events":[`;
const BATCH_END = ']}';
const entryText = (entry: LoggedEntry): string => `["${entry.revision}",${entry.body}]`;

/** A log record holding the entries of one synced batch: `[[revision, body], …]` in revision order. */
export const encodeEventBatch = (entries: readonly LoggedEntry[]): string =>
  `${BATCH_HEAD}${entries.map(entryText).join(',')}${BATCH_END}`;

/**
 * A sliced batch's log entries as several log records of about `maxChars` each (an entry bigger
 * than that is a record by itself), in revision order. A record is keyed by its last revision and
 * a reader takes any record's entries from where it asks (level-class-store.ts, _readEvents), so
 * several records per batch read as one; but LevelDB copies each put whole, in one stretch of the
 * event loop: a deep chain's one record of 30 MB cost 35-46 ms there (docs/performance.md, L1).
 */
export function logRecordsOf(entries: readonly LoggedEntry[], maxChars: number): LoggedEntry[][] {
  const records: LoggedEntry[][] = [];
  let record: LoggedEntry[] = [];
  let chars = 0;
  for (const entry of entries) {
    if (record.length > 0 && chars + entry.body.length > maxChars) {
      records.push(record);
      record = [];
      chars = 0;
    }
    record.push(entry);
    chars += entry.body.length;
  }
  if (record.length > 0) records.push(record);
  return records;
}

/**
 * encodeEventBatch's text as UTF-8 bytes, written entry by entry with `tick` awaited between: a
 * commit of a deep chain logs tens of megabytes (every class's __DERIVATION), whose one string and
 * one conversion held the event loop for 100 ms and more. Each part starts and ends with ASCII,
 * so the parts' bytes end to end are the whole text's.
 */
export async function encodeEventBatchInSlices(
  entries: readonly LoggedEntry[],
  tick: () => Promise<void>,
): Promise<Buffer> {
  const parts = entries.map((entry, index) => `${index === 0 ? '' : ','}${entryText(entry)}`);
  let total = Buffer.byteLength(BATCH_HEAD) + Buffer.byteLength(BATCH_END);
  for (const part of parts) {
    await tick();
    total += Buffer.byteLength(part);
  }
  const out = Buffer.allocUnsafe(total);
  let offset = out.write(BATCH_HEAD, 0);
  for (const part of parts) {
    await tick();
    offset += out.write(part, offset);
  }
  out.write(BATCH_END, offset);
  return out;
}

/** One log entry, still packed. */
export interface PackedEvent {
  readonly revision: bigint;
  readonly namespace: string;
  /** The folded class name when the target is a reference to its class record. */
  readonly targetRef: string | undefined;
  readonly body: unknown[];
}

/**
 * The entries of a log record: a batch record (`events`), or a record of one entry whose revision
 * is its key (`e!<revision>`, as the first version of the log wrote them).
 */
export function eventEntriesOf(text: string, key: string): PackedEvent[] {
  const envelope = readEnvelope(text, key);
  const entry = (revision: bigint, body: unknown): PackedEvent => {
    if (!Array.isArray(body) || body.length !== 8 || typeof body[0] !== 'string')
      throw new StoreError('STORE_CORRUPT_RECORD', `${key}: damaged event record`);
    return {
      revision,
      namespace: body[0],
      targetRef: typeof body[2] === 'string' ? body[2] : undefined,
      body,
    };
  };
  try {
    if (envelope.events === undefined) return [entry(BigInt(key.slice(2)), envelope.body)];
    return (envelope.events as [string, unknown][]).map(([revision, body]) =>
      entry(BigInt(revision), body),
    );
  } catch (cause) {
    if (cause instanceof StoreError) throw cause;
    throw new StoreError('STORE_CORRUPT_RECORD', `${key}: damaged event record`, { cause });
  }
}

/** A packed log entry as a record; `target` is the class its reference names, when it has one. */
export function unpackEvent(
  entry: PackedEvent,
  key: string,
  target?: ClassDefinition,
): ClassEventRecord {
  const [namespace, kind, packedTarget, previous, derivation, context, operationId, timeCreated] =
    entry.body as [string, string, unknown, unknown, string[], unknown, string, string];
  try {
    const decodedKind = KINDS_BY_CODE[kind];
    if (decodedKind === undefined) throw corrupt(`event kind ${kind}`);
    if (entry.targetRef !== undefined && target === undefined)
      throw corrupt('an unresolved class reference');
    return {
      revision: entry.revision,
      kind: decodedKind,
      namespace: namespace as NamespaceKey,
      target: target ?? unpackClass(packedTarget),
      ...(previous === null ? {} : { previous: unpackClass(previous) }),
      derivation,
      context: unpackContext(context),
      operationId,
      timeCreated: BigInt(timeCreated),
    };
  } catch (cause) {
    throw new StoreError('STORE_CORRUPT_RECORD', `${key}: damaged event record`, { cause });
  }
}
