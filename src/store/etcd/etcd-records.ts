/**
 * The etcd store's key layout and values. Keys live under the configured prefix P; `\0` separates
 * a namespace key from what follows (it occurs in no namespace or class key), so a namespace's
 * content is a prefix range that no other namespace's key shares:
 *   P n/<ns>                              → namespace record
 *   P c/<ns>\0<class>                     → class record (its mod_revision is the class's revision)
 *   P s/<ns>\0<parent>\0<class>           → child index entry ('' parent: a root class)
 *   P q/<ns>\0<qualifier>                 → qualifier declaration
 *   P o/<ns>\0<class>\0<key>              → static instance of exactly that class
 *   P e/<ns>\0<commit id>\0<index>        → one log record; its mod_revision is its revision
 *   P f/<scope>                           → write fence of a namespace (or the tree): put by every commit touching it
 *   P m/last                              → put by every commit: how far a replica's view must catch up
 *   P m/class                             → put by every commit with a class change: the store revision
 * Values are the LevelDB store's record encodings (record-codec.ts, packed-form.ts, event-codec.ts),
 * so both adapters read the same JSON forms.
 */
import { readFile } from 'node:fs/promises';
import { Etcd3, type IKeyValue } from 'etcd3';
import type { ClassDefinition } from '../../domain/class-model';
import type { NamespaceKey } from '../../domain/names';
import { StoreError, type ClassEventRecord, type FenceScope } from '../class-store';
import { encodeEventBody, unpackEvent } from '../level/event-codec';
import { packClass, unpackClass } from '../level/packed-form';
import { readEnvelope, SCHEMA_VERSION } from '../level/record-codec';

const SEP = '\u0000';

export const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

export class EtcdKeys {
  constructor(readonly prefix: string) {}

  namespace = (ns: NamespaceKey): string => `${this.prefix}n/${ns}`;
  namespaces = (): string => `${this.prefix}n/`;
  classes = (ns: NamespaceKey): string => `${this.prefix}c/${ns}${SEP}`;
  classRecord = (ns: NamespaceKey, name: string): string => `${this.classes(ns)}${name}`;
  children = (ns: NamespaceKey, parent: string | null): string =>
    `${this.prefix}s/${ns}${SEP}${parent ?? ''}${SEP}`;
  childEntry = (ns: NamespaceKey, parent: string | null, child: string): string =>
    `${this.children(ns, parent)}${child}`;
  childIndex = (ns: NamespaceKey): string => `${this.prefix}s/${ns}${SEP}`;
  qualifiers = (ns: NamespaceKey): string => `${this.prefix}q/${ns}${SEP}`;
  qualifier = (ns: NamespaceKey, name: string): string =>
    `${this.qualifiers(ns)}${name.toLowerCase()}`;
  instances = (ns: NamespaceKey, className: string): string =>
    `${this.prefix}o/${ns}${SEP}${className}${SEP}`;
  instancesOfNamespace = (ns: NamespaceKey): string => `${this.prefix}o/${ns}${SEP}`;
  instance = (ns: NamespaceKey, className: string, key: string): string =>
    `${this.instances(ns, className)}${key}`;
  events = (ns: NamespaceKey): string => `${this.prefix}e/${ns}${SEP}`;
  event = (ns: NamespaceKey, commitId: string, index: number): string =>
    `${this.events(ns)}${commitId}${SEP}${String(index).padStart(6, '0')}`;
  fence = (scope: FenceScope): string => `${this.prefix}f/${scope}`;
  readonly last = (): string => `${this.prefix}m/last`;
  readonly classRevision = (): string => `${this.prefix}m/class`;

  /** Everything a namespace holds besides its own record (its log records stay). */
  contentOf = (ns: NamespaceKey): string[] => [
    this.classes(ns),
    this.childIndex(ns),
    this.qualifiers(ns),
    this.instancesOfNamespace(ns),
  ];

  /** What a watched key is, for the replica's view: its kind and namespace. */
  kindOf(key: string): { readonly kind: string; readonly rest: string } | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const rest = key.slice(this.prefix.length);
    return { kind: rest.slice(0, 2), rest: rest.slice(2) };
  }
}

/** The end of a prefix range (etcd's range_end for "every key starting with"). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export const encodeClassRecord = (definition: ClassDefinition): string =>
  JSON.stringify({ v: SCHEMA_VERSION, body: packClass(definition) });

export function decodeClassRecord(text: string, key: string): ClassDefinition {
  const envelope = readEnvelope(text, key);
  try {
    return unpackClass(envelope.body);
  } catch (cause) {
    throw new StoreError('STORE_CORRUPT_RECORD', `${key}: damaged class record`, { cause });
  }
}

/** A log record without its revision: etcd gives it, as the record key's mod_revision. */
export const encodeEventRecord = (event: ClassEventRecord): string =>
  `{"v":${SCHEMA_VERSION},"body":${encodeEventBody(event)}}`;

export function decodeEventRecord(text: string, key: string, revision: bigint): ClassEventRecord {
  const body = readEnvelope(text, key).body;
  if (!Array.isArray(body) || body.length !== 8 || typeof body[0] !== 'string')
    throw new StoreError('STORE_CORRUPT_RECORD', `${key}: damaged event record`);
  return unpackEvent({ revision, namespace: body[0], targetRef: undefined, body }, key);
}

export function decodeEvent(kv: IKeyValue): ClassEventRecord {
  return decodeEventRecord(
    kv.value.toString('utf8'),
    kv.key.toString('utf8'),
    BigInt(kv.mod_revision),
  );
}

export function byRevisionThenKey(a: IKeyValue, b: IKeyValue): number {
  const ra = BigInt(a.mod_revision);
  const rb = BigInt(b.mod_revision);
  if (ra !== rb) return ra < rb ? -1 : 1;
  return Buffer.compare(a.key, b.key);
}

export interface EtcdTlsFiles {
  /** PEM file of the CA that signed etcd's server certificate. */
  readonly ca: string;
  /** Client certificate and key (PEM files), when etcd asks for client certificates. */
  readonly cert?: string;
  readonly key?: string;
}

/** A client of the cluster (no call made yet); large ranges and Txns are not capped by grpc-js. */
export async function connect(
  endpoints: readonly string[],
  tls: EtcdTlsFiles | undefined,
  timeoutMs: number,
): Promise<Etcd3> {
  return new Etcd3({
    hosts: [...endpoints],
    ...(tls === undefined ? {} : { credentials: await readTls(tls) }),
    dialTimeout: timeoutMs,
    grpcOptions: { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 },
  });
}

/** The TLS files, read for the etcd client. */
async function readTls(tls: EtcdTlsFiles): Promise<{
  rootCertificate: Buffer;
  privateKey?: Buffer;
  certChain?: Buffer;
}> {
  const [rootCertificate, certChain, privateKey] = await Promise.all([
    readFile(tls.ca),
    tls.cert === undefined ? undefined : readFile(tls.cert),
    tls.key === undefined ? undefined : readFile(tls.key),
  ]);
  return {
    rootCertificate,
    ...(certChain === undefined ? {} : { certChain }),
    ...(privateKey === undefined ? {} : { privateKey }),
  };
}
