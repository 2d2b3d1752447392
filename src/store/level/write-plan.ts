/**
 * What one StoreWrite becomes in the LevelDB store: puts and deletes of its keys (keys.ts), each
 * with the record reads see until it is durable, or a wipe of everything a namespace holds.
 * Planning encodes, so a write that cannot be encoded fails here, before anything is visible.
 */
import type { QualifierDeclaration } from '../../domain/class-model';
import type { StoredInstance } from '../../domain/instance-model';
import { classKey } from '../../domain/names';
import type { RevisedWrite } from '../abstract-class-store';
import {
  StoreError,
  type ClassEventRecord,
  type NamespaceRecord,
  type StoreWrite,
} from '../class-store';
import {
  classRecordKey,
  instanceRecordKey,
  namespaceContentPrefixes,
  namespaceRecordKey,
  qualifierKey,
} from './keys';
import {
  encodeClass,
  encodeInstance,
  encodeNamespace,
  encodeQualifierDeclaration,
  type StoredClass,
} from './record-codec';
import { loggedEntry, type LoggedEntry } from './event-codec';

/**
 * A put's value is its record's UTF-8 bytes, made at the commit point: the encoded text (a tree
 * of string parts as JSON.stringify builds it) is garbage before the commit returns, and what
 * waits for the synced batch lives outside the JS heap. Holding the text instead made every
 * commit in flight a few KB of heap that each young-generation GC copied (docs/performance.md).
 */
export type Op =
  | { readonly type: 'put'; readonly key: string; readonly value: Buffer }
  | { readonly type: 'del'; readonly key: string };

export const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

/** A record as reads see it while its write is pending. */
export type Decoded = StoredClass | NamespaceRecord | QualifierDeclaration | StoredInstance;

/**
 * One step of a planned commit: a put or delete (with what reads see meanwhile; null = deleted), or
 * a namespace wipe. `history`: the op replaces a class record a log record may name by reference
 * (group-commit.ts keeps a copy of it).
 */
export type PlannedStep =
  | { kind: 'op'; op: Op; decoded: Decoded | null; history?: boolean }
  | { kind: 'wipe'; prefixes: string[] };

const put = (key: string, text: string, decoded: Decoded, history?: boolean): PlannedStep => ({
  kind: 'op',
  op: { type: 'put', key, value: bytes(text) },
  decoded,
  history,
});

const del = (key: string, history?: boolean): PlannedStep => ({
  kind: 'op',
  op: { type: 'del', key },
  decoded: null,
  history,
});

/** The steps of one write; `revision` and `event` are what the commit point gave a class write. */
export function planWrite(
  write: StoreWrite,
  revision: bigint,
  event?: ClassEventRecord,
): PlannedStep[] {
  // A create (its event says so) replaces no class record; anything else might.
  const history = !(write.op === 'putClass' && event?.kind === 'created');
  switch (write.op) {
    case 'putNamespace':
      return [
        put(namespaceRecordKey(write.namespace), encodeNamespace(write.record), write.record),
      ];
    case 'deleteNamespace':
      return [
        del(namespaceRecordKey(write.namespace)),
        { kind: 'wipe', prefixes: namespaceContentPrefixes(write.namespace) },
      ];
    case 'putClass': {
      // The child index is derived from this record (class-index.ts): one write (plus its event).
      const stored: StoredClass = { definition: write.definition, revision };
      const key = classRecordKey(write.namespace, classKey(write.definition.name));
      return [put(key, encodeClass(stored), stored, history)];
    }
    case 'putQualifier': {
      const key = qualifierKey(write.namespace, write.declaration.name);
      return [put(key, encodeQualifierDeclaration(write.declaration), write.declaration)];
    }
    case 'deleteClass':
      return [del(classRecordKey(write.namespace, write.className), history)];
    case 'putInstance': {
      const key = instanceRecordKey(write.namespace, write.className, write.key);
      return [put(key, encodeInstance(write.instance), write.instance)];
    }
    case 'deleteInstance':
      return [del(instanceRecordKey(write.namespace, write.className, write.key))];
    default: {
      const unknown: never = write;
      throw new StoreError(
        'STORE_CORRUPT_RECORD',
        `unknown store write ${JSON.stringify(unknown)}`,
      );
    }
  }
}

/** A commit as the LevelDB store prepared it: its writes' steps and log entries, encoded. */
export interface PlannedCommit {
  readonly writes: readonly RevisedWrite[];
  readonly planned: readonly PlannedStep[][];
  readonly events: readonly ClassEventRecord[];
  readonly logged: readonly LoggedEntry[];
}

/** A commit's planned steps and log entries, filled one write at a time (`add`). */
export function preparedCommit(writes: readonly RevisedWrite[]): {
  readonly commit: PlannedCommit;
  readonly add: (write: RevisedWrite) => void;
} {
  const commit = {
    writes,
    planned: [] as PlannedStep[][],
    events: [] as ClassEventRecord[],
    logged: [] as LoggedEntry[],
  };
  const add = ({ write, revision, event }: RevisedWrite): void => {
    if (event !== undefined) {
      commit.events.push(event);
      // A put's entry names its target by reference: the class record written with it (one copy
      // of the class per create instead of two; group-commit.ts says how the reference stays good).
      // Its derivation is written with its log record (event-codec.ts, LogRecordWriter).
      commit.logged.push(
        loggedEntry(
          revision,
          event,
          write.op === 'putClass' ? classKey(write.definition.name) : undefined,
        ),
      );
    }
    commit.planned.push(planWrite(write, revision, event));
  };
  return { commit, add };
}
