/**
 * The stored value encoding: JSON with a schema version, and tagged forms for what JSON cannot
 * hold exactly (bigint, NaN, ±Infinity, -0). JSON rather than v8.serialize so the data stays
 * readable by any LevelDB tool and independent of V8's wire format.
 */
import type { ClassDefinition } from '../domain/class-model';
import { StoreError, type NamespaceRecord } from './class-store';

/** Bump with a migration when the stored shape changes. */
export const SCHEMA_VERSION = 1;

interface Envelope<T> {
  readonly v: number;
  readonly body: T;
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return { $big: value.toString() };
  if (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))) return { $num: Object.is(value, -0) ? '-0' : String(value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    const tagged = value as { $big?: unknown; $num?: unknown };
    if (typeof tagged.$big === 'string' && Object.keys(value).length === 1) return BigInt(tagged.$big);
    if (typeof tagged.$num === 'string' && Object.keys(value).length === 1) return tagged.$num === '-0' ? -0 : Number(tagged.$num);
  }
  return value;
}

function encode<T>(body: T): string {
  return JSON.stringify({ v: SCHEMA_VERSION, body } satisfies Envelope<T>, replacer);
}

function decode<T>(text: string, what: string): T {
  let envelope: Envelope<T>;
  try {
    envelope = JSON.parse(text, reviver) as Envelope<T>;
  } catch (cause) {
    throw new StoreError('STORE_CORRUPT_RECORD', `${what}: not a readable record`, { cause });
  }
  if (envelope.v !== SCHEMA_VERSION) {
    throw new StoreError('STORE_CORRUPT_RECORD', `${what}: schema version ${String(envelope.v)} is not ${SCHEMA_VERSION}`);
  }
  return envelope.body;
}

export const encodeClass = (definition: ClassDefinition): string => encode(definition);
export const decodeClass = (text: string, key: string): ClassDefinition => decode<ClassDefinition>(text, key);
export const encodeNamespace = (record: NamespaceRecord): string => encode(record);
export const decodeNamespace = (text: string, key: string): NamespaceRecord => decode<NamespaceRecord>(text, key);
