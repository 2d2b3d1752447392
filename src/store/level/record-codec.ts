/**
 * The stored value encoding: JSON of a compact positional form with a schema version. Positional
 * tuples instead of objects because LevelDB's cost per write (WAL, memtable, compaction) grows
 * with bytes, and field names repeated in every member doubled the record size. JSON rather than
 * v8.serialize keeps records readable by any LevelDB tool and independent of V8's format.
 *
 * Forms (all arrays):
 *   class      [name, superclass, qualifiers, properties, methods]
 *   qualifier  [name, value, flavor]
 *   property   [name, type, array (0|1), value, qualifiers, referenceClass, embeddedClass]
 *   method     [name, returnType, parameters, qualifiers]
 *   parameter  [name, type, array (0|1), referenceClass, embeddedClass, in (0|1), out (0|1), qualifiers]
 *   qualifier declaration [name, type, array (0|1), default value, scopes, flavor]
 *   instance   [className, [[propertyName, value], …]]
 *   value      null | [kind, payload]: kinds b s u r S d R c o a; sint/uint payloads are decimal
 *              strings (64-bit exact); a real that JSON cannot hold (NaN, ±Infinity, -0) is a string.
 *   event      [namespace, kind (c|m|d), target class, previous class | null, derivation,
 *              context [[name, value], …] | null, operationId, timeCreated (decimal)]
 *   derivation [name, …] the class's __DERIVATION, nearest ancestor first; or, in a log record of
 *              version 3 only, [name, …, k] (the last item a number): those names, then the
 *              derivation of entry k of the same log record (k counts its entries from 0, k below
 *              the entry's own index). A chain's class logs [parent, k] instead of its whole list.
 *   log record {"v":2|3,"events":[[revision (decimal), event], …]}, keyed by its last revision
 *   revisions  [store revision, first retained revision] (decimal strings)
 *
 * Versions: 2 added the class record's mod revision as a decimal string `r` after the body
 * (`{"v":2,"body":[…],"r":"42"}`), the event log and the revisions record. Version 1 records
 * (namespaces, qualifier declarations and classes without `r`) have the same bodies and are still
 * read: their classes report LEGACY_CLASS_REVISION. Nothing is rewritten on open. Version 3 is
 * written only for a log record that holds a derivation reference (above); every other record,
 * and a log record without one, is still written as version 2, so a version that reads 1 and 2
 * only reads them all and refuses (STORE_CORRUPT_RECORD) just the log records it would misread
 * (docs/decisions.md, D78).
 *
 * Values and classes are packed by packed-form.ts, log records by event-codec.ts.
 */
import type { ClassDefinition, QualifierDeclaration } from '../../domain/class-model';
import type { StoredInstance } from '../../domain/instance-model';
import { LEGACY_CLASS_REVISION, StoreError, type NamespaceRecord } from '../class-store';
import { parseClassRecord } from './class-record-parser';
import { packClass, packValue, unpackClass, unpackValue } from './packed-form';

/** Bump with a migration (or a reader of the old form) when the stored shape changes. */
export const SCHEMA_VERSION = 2;
/** A log record holding a derivation reference (see the header); only log records are written so. */
export const LOG_REFERENCES_VERSION = 3;
/** Versions still read (see the header). */
const READABLE_VERSIONS: readonly unknown[] = [1, 2];
/** Versions a log record is read in. */
export const LOG_READABLE_VERSIONS: readonly unknown[] = [
  ...READABLE_VERSIONS,
  LOG_REFERENCES_VERSION,
];

interface Envelope {
  readonly v?: unknown;
  readonly body?: unknown;
  /** A class record's mod revision (version 2). */
  readonly r?: unknown;
  /** A log record of one synced batch: its entries (version 2). */
  readonly events?: unknown;
}

export function readEnvelope(
  text: string,
  what: string,
  readable: readonly unknown[] = READABLE_VERSIONS,
): Envelope {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(text) as Envelope;
  } catch (cause) {
    throw new StoreError('STORE_CORRUPT_RECORD', `${what}: not a readable record`, { cause });
  }
  if (!readable.includes(envelope.v)) {
    throw new StoreError(
      'STORE_CORRUPT_RECORD',
      `${what}: schema version ${String(envelope.v)} is not one of ${readable.join(', ')}`,
    );
  }
  return envelope;
}

const decodeEnvelope = (text: string, what: string): unknown => readEnvelope(text, what).body;

/** A class record as stored: the definition and its mod revision. */
export interface StoredClass {
  readonly definition: ClassDefinition;
  readonly revision: bigint;
}

export const encodeClass = (stored: StoredClass): string =>
  JSON.stringify({
    v: SCHEMA_VERSION,
    body: packClass(stored.definition),
    r: stored.revision.toString(),
  });

/** `{"v":2,"body":["Name","Superclass",…`: the head of every class record (versions 1 and 2). */
const CLASS_HEAD = /^\{"v":[12],"body":\["(?:[^"\\]|\\.)*","((?:[^"\\]|\\.)*)"/;

/**
 * A class record's superclass without decoding the record (building a namespace's class index
 * reads every record once). Falls back to a full decode for anything unexpected.
 */
export function superclassOfEncodedClass(text: string, key: string): string {
  const head = CLASS_HEAD.exec(text);
  if (head === null || head[1] === undefined) return decodeClass(text, key).definition.superclass;
  return head[1].includes('\\') ? (JSON.parse(`"${head[1]}"`) as string) : head[1];
}

/**
 * A class record read by a scan (nothing will keep what it gives): in one pass
 * (class-record-parser.ts), else as decodeClass. The parser's strings are slices of the record's
 * text (V8 keeps the whole text alive while any of them lives), ~4 KB a class more than
 * JSON.parse's when kept, so a record that is cached is read by decodeClass.
 */
export function decodeScannedClass(text: string, key: string): StoredClass {
  const plain = parseClassRecord(text);
  if (plain === undefined) return decodeClass(text, key);
  const revision = plain.revision === null ? LEGACY_CLASS_REVISION : BigInt(plain.revision);
  return { definition: plain.definition, revision };
}

export function decodeClass(text: string, key: string): StoredClass {
  const envelope = readEnvelope(text, key);
  try {
    const definition = unpackClass(envelope.body);
    // Version 1 records predate revisions (see the header).
    return {
      definition,
      revision: envelope.r === undefined ? LEGACY_CLASS_REVISION : BigInt(envelope.r as string),
    };
  } catch (cause) {
    if (cause instanceof StoreError) throw cause;
    throw new StoreError('STORE_CORRUPT_RECORD', `${key}: damaged class record`, { cause });
  }
}

export const encodeNamespace = (record: NamespaceRecord): string =>
  JSON.stringify({ v: SCHEMA_VERSION, body: record });
export const decodeNamespace = (text: string, key: string): NamespaceRecord =>
  decodeEnvelope(text, key) as NamespaceRecord;

export const encodeQualifierDeclaration = (d: QualifierDeclaration): string =>
  JSON.stringify({
    v: SCHEMA_VERSION,
    body: [d.name, d.type, d.array ? 1 : 0, packValue(d.defaultValue), d.scopes, d.flavor],
  });

export function decodeQualifierDeclaration(text: string, key: string): QualifierDeclaration {
  const body = decodeEnvelope(text, key);
  if (!Array.isArray(body) || body.length !== 6)
    throw new StoreError('STORE_CORRUPT_RECORD', `${key}: damaged qualifier declaration`);
  const [name, type, array, defaultValue, scopes, flavor] = body as [
    string,
    number,
    number,
    unknown,
    string[],
    number,
  ];
  try {
    return {
      name,
      type,
      array: array === 1,
      defaultValue: unpackValue(defaultValue),
      scopes,
      flavor,
    };
  } catch (cause) {
    throw new StoreError('STORE_CORRUPT_RECORD', `${key}: damaged qualifier declaration`, {
      cause,
    });
  }
}

export const encodeInstance = (instance: StoredInstance): string =>
  JSON.stringify({
    v: SCHEMA_VERSION,
    body: [instance.className, instance.values.map((v) => [v.name, packValue(v.value)])],
  });

export function decodeInstance(text: string, key: string): StoredInstance {
  const body = decodeEnvelope(text, key);
  if (
    !Array.isArray(body) ||
    body.length !== 2 ||
    typeof body[0] !== 'string' ||
    !Array.isArray(body[1])
  ) {
    throw new StoreError('STORE_CORRUPT_RECORD', `${key}: damaged instance record`);
  }
  const [className, values] = body as [string, unknown[]];
  try {
    return {
      className,
      values: values.map((packed) => {
        const [name, value] = packed as [string, unknown];
        return { name, value: unpackValue(value) };
      }),
    };
  } catch (cause) {
    throw new StoreError('STORE_CORRUPT_RECORD', `${key}: damaged instance record`, { cause });
  }
}

export const encodeRevisions = (revision: bigint, firstRetained: bigint): string =>
  JSON.stringify({ v: SCHEMA_VERSION, body: [revision.toString(), firstRetained.toString()] });

export function decodeRevisions(
  text: string,
  key: string,
): { revision: bigint; firstRetained: bigint } {
  const body = decodeEnvelope(text, key);
  if (!Array.isArray(body) || body.length !== 2)
    throw new StoreError('STORE_CORRUPT_RECORD', `${key}: damaged revisions record`);
  try {
    return { revision: BigInt(body[0] as string), firstRetained: BigInt(body[1] as string) };
  } catch (cause) {
    throw new StoreError('STORE_CORRUPT_RECORD', `${key}: damaged revisions record`, { cause });
  }
}

/** A class record's mod revision, read without decoding the record (null for a version 1 record). */
export function revisionOfEncodedClass(text: string): bigint | null {
  const tail = /"r":"(\d+)"\}$/.exec(text);
  return tail === null || tail[1] === undefined ? null : BigInt(tail[1]);
}
