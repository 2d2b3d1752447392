/**
 * One commit as one etcd Txn: its writes folded into the final put or delete of each key (etcd
 * refuses a key written twice in one Txn, and a put inside a range the same Txn deletes), plus the
 * fence of every scope it touches, `m/last`, and `m/class` when it changes a class.
 */
import { classKey, superclassKeyOf, type NamespaceKey } from '../../domain/names';
import {
  NAMESPACE_TREE,
  StoreError,
  type ClassEventRecord,
  type FenceScope,
  type StoreWrite,
} from '../class-store';
import { encodeInstance, encodeNamespace, encodeQualifierDeclaration } from '../level/record-codec';
import type { IRequestOp } from 'etcd3';
import {
  bytes,
  encodeClassRecord,
  encodeEventRecord,
  prefixEnd,
  type EtcdKeys,
} from './etcd-records';

export interface TxnPlan {
  /** Final value per key: a string to put, null to delete. */
  readonly keys: ReadonlyMap<string, string | null>;
  /** Prefixes deleted whole (a namespace's content). */
  readonly ranges: readonly string[];
  readonly changesClass: boolean;
}

class PlanBuilder {
  readonly keys = new Map<string, string | null>();
  readonly ranges: string[] = [];
  readonly scopes = new Set<FenceScope>();
  changesClass = false;
  eventIndex = 0;

  constructor(
    readonly layout: EtcdKeys,
    readonly commitId: string,
  ) {}

  set(key: string, value: string | null): void {
    if (value !== null && this.ranges.some((range) => key.startsWith(range)))
      throw new StoreError(
        'STORE_CORRUPT_RECORD',
        'a commit cannot write into a namespace it deletes (etcd forbids it in one transaction); commit the deletion first',
      );
    this.keys.set(key, value);
  }

  wipe(ns: NamespaceKey): void {
    const content = this.layout.contentOf(ns);
    for (const key of [...this.keys.keys()])
      if (content.some((range) => key.startsWith(range))) this.keys.delete(key);
    this.ranges.push(...content);
    this.keys.set(this.layout.namespace(ns), null);
  }

  logEvent(ns: NamespaceKey, event: ClassEventRecord): void {
    this.set(this.layout.event(ns, this.commitId, this.eventIndex++), encodeEventRecord(event));
  }
}

export function planTxn(
  layout: EtcdKeys,
  writes: readonly StoreWrite[],
  commitId: string,
  eventOf: (
    write: Extract<StoreWrite, { op: 'putClass' | 'deleteClass' }>,
  ) => ClassEventRecord | undefined,
): TxnPlan {
  const plan = new PlanBuilder(layout, commitId);
  for (const write of writes) {
    plan.scopes.add(write.namespace);
    applyWrite(plan, write, eventOf);
  }
  for (const scope of plan.scopes) plan.set(layout.fence(scope), '');
  plan.set(layout.last(), commitId);
  if (plan.changesClass) plan.set(layout.classRevision(), commitId);
  return { keys: plan.keys, ranges: plan.ranges, changesClass: plan.changesClass };
}

function applyWrite(
  plan: PlanBuilder,
  write: StoreWrite,
  eventOf: (
    write: Extract<StoreWrite, { op: 'putClass' | 'deleteClass' }>,
  ) => ClassEventRecord | undefined,
): void {
  const { layout } = plan;
  switch (write.op) {
    case 'putNamespace':
      plan.scopes.add(NAMESPACE_TREE);
      return plan.set(layout.namespace(write.namespace), encodeNamespace(write.record));
    case 'deleteNamespace':
      plan.scopes.add(NAMESPACE_TREE);
      return plan.wipe(write.namespace);
    case 'putClass': {
      const key = classKey(write.definition.name);
      const parent = superclassKeyOf(write.definition);
      plan.changesClass = true;
      if (write.previousSuperclass !== undefined && write.previousSuperclass !== parent)
        plan.set(layout.childEntry(write.namespace, write.previousSuperclass, key), null);
      plan.set(layout.childEntry(write.namespace, parent, key), '');
      plan.set(layout.classRecord(write.namespace, key), encodeClassRecord(write.definition));
      const event = eventOf(write);
      if (event !== undefined) plan.logEvent(write.namespace, event);
      return;
    }
    case 'deleteClass': {
      plan.changesClass = true;
      plan.set(layout.classRecord(write.namespace, write.className), null);
      plan.set(layout.childEntry(write.namespace, write.superclass, write.className), null);
      const event = eventOf(write);
      if (event !== undefined) plan.logEvent(write.namespace, event);
      return;
    }
    case 'putQualifier':
      return plan.set(
        layout.qualifier(write.namespace, write.declaration.name),
        encodeQualifierDeclaration(write.declaration),
      );
    case 'putInstance':
      return plan.set(
        layout.instance(write.namespace, write.className, write.key),
        encodeInstance(write.instance),
      );
    case 'deleteInstance':
      return plan.set(layout.instance(write.namespace, write.className, write.key), null);
    default: {
      const unknown: never = write;
      throw new StoreError(
        'STORE_CORRUPT_RECORD',
        `unknown store write ${JSON.stringify(unknown)}`,
      );
    }
  }
}

/** The Txn's operations: range deletions, then each key's final put or delete. */
export function txnOps(plan: TxnPlan): IRequestOp[] {
  const ops: IRequestOp[] = plan.ranges.map((range) => {
    const start = bytes(range);
    return { request_delete_range: { key: start, range_end: prefixEnd(start) } };
  });
  for (const [key, value] of [...plan.keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    ops.push(
      value === null
        ? { request_delete_range: { key: bytes(key) } }
        : { request_put: { key: bytes(key), value: bytes(value) } },
    );
  }
  return ops;
}
