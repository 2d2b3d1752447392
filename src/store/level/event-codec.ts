/**
 * The event log's records: the entries of one synced batch in one record, or for a big batch in
 * records of about 512 KB (record-codec.ts has the entry form and the envelope). Within a record
 * an entry's derivation may refer to an earlier entry's (LogRecordWriter), so a chain logs O(n).
 */
import type { ClassDefinition, Derivation } from '../../domain/class-model';
import type { ClientContext } from '../../domain/client-context';
import type { NamespaceKey } from '../../domain/names';
import {
  derivationFirst,
  derivationNames,
  derivationSecond,
  extendsDerivation,
} from '../../domain/resolve-class';
import { StoreError, type ClassEventRecord } from '../class-store';
import {
  corrupt,
  packClass,
  packValue,
  unpackClass,
  unpackValue,
  type Packed,
} from './packed-form';
import {
  LOG_READABLE_VERSIONS,
  LOG_REFERENCES_VERSION,
  readEnvelope,
  SCHEMA_VERSION,
} from './record-codec';

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
 * a history record, see there). The whole list is written here (etcd's records); a LevelDB log
 * record may write the derivation as a reference instead (loggedEntry, LogRecordWriter).
 */
export const encodeEventBody = (event: ClassEventRecord, targetRef?: string): string => {
  const { head, derivation, tail } = loggedEntry(0n, event, targetRef);
  return `${head}${JSON.stringify(derivationNames(derivation))}${tail}`;
};

/**
 * One log entry waiting for its record: its body's text before and after the derivation, which
 * the record writes (in full, or as a reference to an earlier entry of the same record).
 */
export interface LoggedEntry {
  readonly revision: bigint;
  /** `[namespace,kind,target,previous,` */
  readonly head: string;
  readonly derivation: Derivation;
  /** `,context,operationId,"timeCreated"]` */
  readonly tail: string;
}

export const loggedEntry = (
  revision: bigint,
  event: ClassEventRecord,
  targetRef?: string,
): LoggedEntry => ({
  revision,
  head: `[${JSON.stringify(event.namespace)},"${KIND_CODES[event.kind]}",${JSON.stringify(targetRef ?? packClass(event.target))},${JSON.stringify(
    event.previous === undefined ? null : packClass(event.previous),
  )},`,
  derivation: event.derivation,
  tail: `,${JSON.stringify(packContext(event.context))},${JSON.stringify(event.operationId)},"${event.timeCreated}"]`,
});

/**
 * The entries of one log record as text, each derivation in full or — when it is one name followed
 * by the derivation of an entry written before in this record — as `[name, k]`: that name, then
 * entry k's derivation (k counts the record's entries from 0; record-codec.ts has the form). A
 * chain of n classes committed together then logs O(n) text instead of O(n²) names: each class's
 * list is its parent's name and its parent's list. References point backwards within the record
 * only, so a record reads alone.
 */
export class LogRecordWriter {
  /** Per first name: the last entry of this record whose derivation starts with it. */
  readonly #byFirstName = new Map<string, { readonly index: number; readonly list: Derivation }>();
  #count = 0;
  #references = 0;

  /** The record's version: 3 once it holds a reference, else 2 (readable by earlier versions). */
  get version(): number {
    return this.#references > 0 ? LOG_REFERENCES_VERSION : SCHEMA_VERSION;
  }

  /** The entry's text in this record, `["<revision>",<body>]`, as the record's next entry. */
  entryText(entry: LoggedEntry): string {
    const list = entry.derivation;
    const index = this.#count++;
    const first = derivationFirst(list);
    let derivation: string | undefined;
    const second = derivationSecond(list);
    if (first !== undefined && second !== undefined) {
      const above = this.#byFirstName.get(second);
      if (above !== undefined && extendsDerivation(list, first, above.list)) {
        derivation = `[${JSON.stringify(first)},${above.index}]`;
        this.#references++;
      }
    }
    if (first !== undefined) this.#byFirstName.set(first, { index, list });
    return `["${entry.revision}",${entry.head}${derivation ?? JSON.stringify(derivationNames(list))}${entry.tail}]`;
  }
}

/** A log record's text: its head, the entries' texts joined by commas, RECORD_END. */
const recordHead = (version: number): string => `{"v":${version},"events":[`;
const RECORD_END = ']}';

/** A log record holding `entries` (one synced batch's, or a part of one), in revision order. */
export function encodeEventBatch(entries: readonly LoggedEntry[]): string {
  const writer = new LogRecordWriter();
  const texts = entries.map((entry) => writer.entryText(entry));
  return `${recordHead(writer.version)}${texts.join(',')}${RECORD_END}`;
}

/** One log record of a sliced batch: its entries' texts, its last revision and its version. */
export interface LogRecordTexts {
  readonly lastRevision: bigint;
  readonly version: number;
  readonly texts: readonly string[];
}

/**
 * A sliced batch's log entries as several log records of about `maxChars` each (an entry bigger
 * than that is a record by itself), in revision order, `tick` awaited between entries. A record is
 * keyed by its last revision and a reader takes any record's entries from where it asks
 * (level-class-store.ts, _readEvents), so several records per batch read as one; but LevelDB
 * copies each put whole, in one stretch of the event loop: a deep chain's one record of 30 MB cost
 * 35-46 ms there (docs/performance.md, L1). Each record starts its references afresh.
 */
export async function logRecordsOf(
  entries: readonly LoggedEntry[],
  maxChars: number,
  tick: () => Promise<void> = () => Promise.resolve(),
): Promise<LogRecordTexts[]> {
  const records: LogRecordTexts[] = [];
  let writer = new LogRecordWriter();
  let texts: string[] = [];
  let chars = 0;
  let lastRevision = 0n;
  for (const entry of entries) {
    await tick();
    const version = writer.version;
    let text = writer.entryText(entry);
    if (texts.length > 0 && chars + text.length > maxChars) {
      records.push({ lastRevision, version, texts });
      writer = new LogRecordWriter();
      texts = [];
      chars = 0;
      text = writer.entryText(entry);
    }
    texts.push(text);
    chars += text.length;
    lastRevision = entry.revision;
  }
  if (texts.length > 0) records.push({ lastRevision, version: writer.version, texts });
  return records;
}

/**
 * A log record's text as UTF-8 bytes, written entry by entry with `tick` awaited between: one
 * string and one conversion of a big record held the event loop for 100 ms and more. Each part
 * starts and ends with ASCII, so the parts' bytes end to end are the whole text's.
 */
export async function encodeLogRecordInSlices(
  record: LogRecordTexts,
  tick: () => Promise<void>,
): Promise<Buffer> {
  const head = recordHead(record.version);
  const parts = record.texts.map((text, index) => (index === 0 ? text : `,${text}`));
  let total = Buffer.byteLength(head) + Buffer.byteLength(RECORD_END);
  for (const part of parts) {
    await tick();
    total += Buffer.byteLength(part);
  }
  const out = Buffer.allocUnsafe(total);
  let offset = out.write(head, 0);
  for (const part of parts) {
    await tick();
    offset += out.write(part, offset);
  }
  out.write(RECORD_END, offset);
  return out;
}

/** One log entry, still packed. */
export interface PackedEvent {
  readonly revision: bigint;
  readonly namespace: string;
  /** The folded class name when the target is a reference to its class record. */
  readonly targetRef: string | undefined;
  readonly body: unknown[];
  /** The bodies of its log record, and its index there: what a derivation reference reads. */
  readonly record?: readonly unknown[][];
  readonly index?: number;
}

/**
 * The entries of a log record: a batch record (`events`), or a record of one entry whose revision
 * is its key (`e!<revision>`, as the first version of the log wrote them).
 */
export function eventEntriesOf(text: string, key: string): PackedEvent[] {
  const envelope = readEnvelope(text, key, LOG_READABLE_VERSIONS);
  const check = (body: unknown): unknown[] => {
    if (!Array.isArray(body) || body.length !== 8 || typeof body[0] !== 'string')
      throw damagedEventRecord(key);
    return body;
  };
  try {
    if (envelope.events === undefined) {
      const body = check(envelope.body);
      return [
        {
          revision: BigInt(key.slice(2)),
          namespace: body[0] as string,
          targetRef: targetRefOf(body),
          body,
        },
      ];
    }
    const entries = envelope.events as [string, unknown][];
    const record = entries.map(([, body]) => check(body));
    return entries.map(([revision], index) => {
      const body = record[index] as unknown[];
      return {
        revision: BigInt(revision),
        namespace: body[0] as string,
        targetRef: targetRefOf(body),
        body,
        record,
        index,
      };
    });
  } catch (cause) {
    if (cause instanceof StoreError) throw cause;
    throw damagedEventRecord(key, cause);
  }
}

const damagedEventRecord = (key: string, cause?: unknown): StoreError =>
  new StoreError(
    'STORE_CORRUPT_RECORD',
    `${key}: damaged event record`,
    cause === undefined ? undefined : { cause },
  );

const targetRefOf = (body: unknown[]): string | undefined =>
  typeof body[2] === 'string' ? body[2] : undefined;

/**
 * A log entry's __DERIVATION: its list as written, or — a list ending in an entry's index k (a
 * reference, LogRecordWriter) — its names followed by entry k's derivation, resolved the same way.
 * References point backwards, so the walk ends; it copies each name once.
 */
function derivationOf(entry: PackedEvent): string[] {
  const names: string[] = [];
  let list = entry.body[4];
  let at = entry.index ?? 0;
  for (;;) {
    if (!Array.isArray(list)) throw corrupt('a derivation that is not a list');
    const last: unknown = list[list.length - 1];
    if (typeof last !== 'number') {
      if (names.length === 0) return list as string[];
      for (const name of list) names.push(name as string);
      return names;
    }
    if (entry.record === undefined || !Number.isInteger(last) || last < 0 || last >= at)
      throw corrupt(`a derivation reference to entry ${last}`);
    for (let i = 0; i < list.length - 1; i++) names.push(list[i] as string);
    at = last;
    list = (entry.record[at] as unknown[])[4];
  }
}

/** A packed log entry as a record; `target` is the class its reference names, when it has one. */
export function unpackEvent(
  entry: PackedEvent,
  key: string,
  target?: ClassDefinition,
): ClassEventRecord {
  const [namespace, kind, packedTarget, previous, , context, operationId, timeCreated] =
    entry.body as [string, string, unknown, unknown, unknown, unknown, string, string];
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
      derivation: derivationOf(entry),
      context: unpackContext(context),
      operationId,
      timeCreated: BigInt(timeCreated),
    };
  } catch (cause) {
    throw damagedEventRecord(key, cause);
  }
}
