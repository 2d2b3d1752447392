/**
 * The LevelDB store's key layout (ASCII; `!` cannot occur in a namespace or class key):
 *   n!<namespace>                      → namespace record
 *   c!<namespace>!<class>              → class record (the stored ClassDefinition)
 *   q!<namespace>!<qualifier>          → qualifier declaration
 *   o!<namespace>!<class>!<key>        → static instance of exactly that class (key: canonical)
 *   e!<revision, 20 digits>            → the log entries of one synced batch, keyed by its last revision
 *   h!<revision, 20 digits>            → a class record as it was at that revision (group-commit.ts)
 *   m!revisions                        → [store revision, first retained revision]
 * so a namespace's classes and its whole content are prefix scans. Stores written before the class
 * index was derived from the records (class-index.ts) kept `i!` index keys; they are ignored (and
 * wiped with their namespace).
 *
 * These strings are the on-disk format: a data directory written by any earlier version must read
 * the same, so they change only with a migration.
 */
import type { ClassKey, NamespaceKey } from '../../domain/names';

/** Above every key character: `prefix + END` bounds a prefix scan. */
export const END = '\uffff';

export const NAMESPACE_RECORDS = 'n!';
export const CLASS_RECORDS = 'c!';
export const EVENT_RECORDS = 'e!';
export const HISTORY_RECORDS = 'h!';
export const REVISIONS_KEY = 'm!revisions';

export const namespaceRecordKey = (ns: NamespaceKey): string => `n!${ns}`;
export const classPrefix = (ns: NamespaceKey): string => `c!${ns}!`;
export const classRecordKey = (ns: NamespaceKey, name: ClassKey): string => `c!${ns}!${name}`;
export const qualifierPrefix = (ns: NamespaceKey): string => `q!${ns}!`;
export const qualifierKey = (ns: NamespaceKey, name: string): string =>
  `q!${ns}!${name.toLowerCase()}`;
export const instanceNamespacePrefix = (ns: NamespaceKey): string => `o!${ns}!`;
export const instancePrefix = (ns: NamespaceKey, className: ClassKey): string =>
  `o!${ns}!${className}!`;
export const instanceRecordKey = (ns: NamespaceKey, className: ClassKey, key: string): string =>
  `${instancePrefix(ns, className)}${key}`;

/** Everything a namespace holds besides its own record, legacy `i!` index keys included. */
export const namespaceContentPrefixes = (ns: NamespaceKey): string[] => [
  `c!${ns}!`,
  `i!${ns}!`,
  `q!${ns}!`,
  `o!${ns}!`,
];

/** Fixed width, so key order is revision order (2^64 has 20 digits). */
const revisionKey = (prefix: string, revision: bigint): string =>
  `${prefix}${revision.toString().padStart(20, '0')}`;
export const eventKey = (revision: bigint): string => revisionKey(EVENT_RECORDS, revision);
/** A class record as it was at a revision, kept while that revision's log record lives. */
export const historyKey = (revision: bigint): string => revisionKey(HISTORY_RECORDS, revision);
