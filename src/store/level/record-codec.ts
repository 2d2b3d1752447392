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
 *   event      [namespace, kind (c|m|d), target class, previous class | null, derivation[],
 *              context [[name, value], …] | null, operationId, timeCreated (decimal)]
 *   revisions  [store revision, first retained revision] (decimal strings)
 *
 * Versions: 2 added the class record's mod revision as a decimal string `r` after the body
 * (`{"v":2,"body":[…],"r":"42"}`), the event log and the revisions record. Version 1 records
 * (namespaces, qualifier declarations and classes without `r`) have the same bodies and are still
 * read: their classes report LEGACY_CLASS_REVISION. Nothing is rewritten on open.
 */
import type {
  CimValue,
  ClassDefinition,
  MethodDef,
  ParameterDef,
  PropertyDef,
  QualifierDeclaration,
  QualifierDef,
} from '../../domain/class-model';
import type { StoredInstance } from '../../domain/instance-model';
import type { ClientContext } from '../../domain/client-context';
import type { NamespaceKey } from '../../domain/names';
import {
  LEGACY_CLASS_REVISION,
  StoreError,
  type ClassEventRecord,
  type NamespaceRecord,
} from '../class-store';

/** Bump with a migration (or a reader of the old form) when the stored shape changes. */
export const SCHEMA_VERSION = 2;
/** Versions still read (see the header). */
const READABLE_VERSIONS: readonly unknown[] = [1, 2];

type Packed = unknown[];

function packValue(value: CimValue | null): Packed | null {
  if (value === null) return null;
  switch (value.kind) {
    case 'boolean':
      return ['b', value.value];
    case 'sint':
      return ['s', value.value.toString()];
    case 'uint':
      return ['u', value.value.toString()];
    case 'real':
      return [
        'r',
        Number.isFinite(value.value) && !Object.is(value.value, -0)
          ? value.value
          : Object.is(value.value, -0)
            ? '-0'
            : String(value.value),
      ];
    case 'string':
      return ['S', value.value];
    case 'datetime':
      return ['d', value.value];
    case 'reference':
      return ['R', value.value];
    case 'char16':
      return ['c', value.value];
    case 'object':
      return ['o', packClass(value.value)];
    case 'array':
      return ['a', value.value.map(packValue)];
  }
}

function corrupt(what: string): StoreError {
  return new StoreError('STORE_CORRUPT_RECORD', `damaged record: ${what}`);
}

function unpackValue(packed: unknown): CimValue | null {
  if (packed === null) return null;
  if (!Array.isArray(packed)) throw corrupt('value');
  const [kind, payload] = packed as [string, unknown];
  switch (kind) {
    case 'b':
      return { kind: 'boolean', value: payload as boolean };
    case 's':
      return { kind: 'sint', value: BigInt(payload as string) };
    case 'u':
      return { kind: 'uint', value: BigInt(payload as string) };
    case 'r':
      return {
        kind: 'real',
        value:
          typeof payload === 'string'
            ? payload === '-0'
              ? -0
              : Number(payload)
            : (payload as number),
      };
    case 'S':
      return { kind: 'string', value: payload as string };
    case 'd':
      return { kind: 'datetime', value: payload as string };
    case 'R':
      return { kind: 'reference', value: payload as string };
    case 'c':
      return { kind: 'char16', value: payload as string };
    case 'o':
      return { kind: 'object', value: unpackClass(payload) };
    case 'a':
      return {
        kind: 'array',
        value: (payload as unknown[]).map((element) => unpackValue(element) as CimValue),
      };
    default:
      throw corrupt(`value kind ${String(kind)}`);
  }
}

const packQualifier = (q: QualifierDef): Packed => [q.name, packValue(q.value), q.flavor];
function unpackQualifier(packed: unknown): QualifierDef {
  const [name, value, flavor] = packed as [string, unknown, number];
  return { name, value: unpackValue(value), flavor };
}

const packProperty = (p: PropertyDef): Packed => [
  p.name,
  p.type,
  p.array ? 1 : 0,
  packValue(p.value),
  p.qualifiers.map(packQualifier),
  p.referenceClass,
  p.embeddedClass,
];
function unpackProperty(packed: unknown): PropertyDef {
  const [name, type, array, value, qualifiers, referenceClass, embeddedClass] = packed as [
    string,
    number,
    number,
    unknown,
    unknown[],
    string,
    string,
  ];
  return {
    name,
    type,
    array: array === 1,
    value: unpackValue(value),
    qualifiers: qualifiers.map(unpackQualifier),
    referenceClass,
    embeddedClass,
  };
}

const packParameter = (p: ParameterDef): Packed => [
  p.name,
  p.type,
  p.array ? 1 : 0,
  p.referenceClass,
  p.embeddedClass,
  p.in ? 1 : 0,
  p.out ? 1 : 0,
  p.qualifiers.map(packQualifier),
];
function unpackParameter(packed: unknown): ParameterDef {
  const [name, type, array, referenceClass, embeddedClass, isIn, isOut, qualifiers] = packed as [
    string,
    number,
    number,
    string,
    string,
    number,
    number,
    unknown[],
  ];
  return {
    name,
    type,
    array: array === 1,
    referenceClass,
    embeddedClass,
    in: isIn === 1,
    out: isOut === 1,
    qualifiers: qualifiers.map(unpackQualifier),
  };
}

const packMethod = (m: MethodDef): Packed => [
  m.name,
  m.returnType,
  m.parameters.map(packParameter),
  m.qualifiers.map(packQualifier),
];
function unpackMethod(packed: unknown): MethodDef {
  const [name, returnType, parameters, qualifiers] = packed as [
    string,
    number,
    unknown[],
    unknown[],
  ];
  return {
    name,
    returnType,
    parameters: parameters.map(unpackParameter),
    qualifiers: qualifiers.map(unpackQualifier),
  };
}

function packClass(d: ClassDefinition): Packed {
  return [
    d.name,
    d.superclass,
    d.qualifiers.map(packQualifier),
    d.properties.map(packProperty),
    d.methods.map(packMethod),
  ];
}

function unpackClass(packed: unknown): ClassDefinition {
  if (!Array.isArray(packed) || packed.length !== 5) throw corrupt('class');
  const [name, superclass, qualifiers, properties, methods] = packed as [
    string,
    string,
    unknown[],
    unknown[],
    unknown[],
  ];
  return {
    name,
    superclass,
    qualifiers: qualifiers.map(unpackQualifier),
    properties: properties.map(unpackProperty),
    methods: methods.map(unpackMethod),
  };
}

interface Envelope {
  readonly v?: unknown;
  readonly body?: unknown;
  /** A class record's mod revision (version 2). */
  readonly r?: unknown;
  /** A log record of one synced batch: its entries (version 2). */
  readonly events?: unknown;
}

function readEnvelope(text: string, what: string): Envelope {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(text) as Envelope;
  } catch (cause) {
    throw new StoreError('STORE_CORRUPT_RECORD', `${what}: not a readable record`, { cause });
  }
  if (!READABLE_VERSIONS.includes(envelope.v)) {
    throw new StoreError(
      'STORE_CORRUPT_RECORD',
      `${what}: schema version ${String(envelope.v)} is not one of ${READABLE_VERSIONS.join(', ')}`,
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

// ---- the event log ------------------------------------------------------------------------------

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
export const encodeEventBody = (event: ClassEventRecord, targetRef?: string): string =>
  `[${JSON.stringify(event.namespace)},"${KIND_CODES[event.kind]}",${JSON.stringify(targetRef ?? packClass(event.target))},${JSON.stringify(
    event.previous === undefined ? null : packClass(event.previous),
  )},${JSON.stringify(event.derivation)},${JSON.stringify(packContext(event.context))},${JSON.stringify(event.operationId)},"${event.timeCreated}"]`;

/** A log record holding the entries of one synced batch: `[[revision, body], …]` in revision order. */
export const encodeEventBatch = (
  entries: readonly { readonly revision: bigint; readonly body: string }[],
): string =>
  `{"v":${SCHEMA_VERSION},"events":[${entries.map((entry) => `["${entry.revision}",${entry.body}]`).join(',')}]}`;

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
