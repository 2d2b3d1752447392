/** Revisions as the embedded stores assign them at the commit point, and retention arithmetic. */
import { changeEventRecord } from './change-events';
import type { ClassEventRecord, StoreWrite } from './class-store';
import { mapInSlices, type TimeSlicer } from './time-slices';

/** A write with what the commit point gave it. */
export interface RevisedWrite {
  readonly write: StoreWrite;
  /** The store revision of a class change (putClass, deleteClass); 0n for any other write. */
  readonly revision: bigint;
  /** The log record the write asks for (`write.event`), at its revision. */
  readonly event: ClassEventRecord | undefined;
}

/** The stores' retention must keep at least the newest revision's events. */
export function checkRetention(retention: number): number {
  if (!Number.isSafeInteger(retention) || retention < 1)
    throw new RangeError(`eventRetention must be a positive integer, got ${retention}`);
  return retention;
}

/** The first revision the log keeps once the store is at `revision`: it only ever moves forward. */
export function firstRetainedAt(
  revision: bigint,
  retention: bigint,
  firstRetained: bigint,
): bigint {
  const first = revision - retention + 1n;
  return first > firstRetained ? first : firstRetained;
}

/** What assigns a commit's revisions, write by write, after `revision`. */
function reviser(revision: bigint): {
  readonly revise: (write: StoreWrite) => RevisedWrite;
  readonly last: () => bigint;
} {
  let last = revision;
  return {
    revise: (write) => {
      if (write.op !== 'putClass' && write.op !== 'deleteClass')
        return { write, revision: 0n, event: undefined };
      last += 1n;
      return { write, revision: last, event: changeEventRecord(write, last) };
    },
    last: () => last,
  };
}

/**
 * Gives each class write of a commit the next revision after `revision`, in order, with its log
 * record; `last` is the last revision given (`revision` when none was).
 */
export function assignRevisions(
  writes: readonly StoreWrite[],
  revision: bigint,
): { readonly revised: RevisedWrite[]; readonly last: bigint } {
  const { revise, last } = reviser(revision);
  const revised = writes.map(revise);
  return { revised, last: last() };
}

/** assignRevisions in `slicer`'s slices (a commit of 10,001 writes: ≈ 6-10 ms at once). */
export async function assignRevisionsInSlices(
  writes: readonly StoreWrite[],
  revision: bigint,
  slicer: TimeSlicer,
): Promise<{ readonly revised: RevisedWrite[]; readonly last: bigint }> {
  const { revise, last } = reviser(revision);
  const revised = await mapInSlices(writes, revise, slicer);
  return { revised, last: last() };
}
