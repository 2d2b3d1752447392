/**
 * What the embedded stores' commits end in, beside the commit point itself
 * (abstract-class-store.ts): the durable records handed to listeners, or a commit that failed
 * before its commit point.
 */
import type { ClassEventRecord, CommitHandle } from './class-store';

export type DurableEventsListener = (events: readonly ClassEventRecord[]) => void;

/** Hands one durable batch's records to each listener; a listener that throws breaks its contract and is skipped, never the store. */
export function publishEvents(
  listeners: Iterable<DurableEventsListener>,
  events: readonly ClassEventRecord[],
): void {
  for (const listener of listeners) {
    try {
      listener(events);
    } catch {
      // The store has no logger and must not fail a durable commit over a listener's bug.
    }
  }
}

/** Both moments of a commit that failed before its commit point; handled, so an unawaited one is no crash. */
export function failedCommit(error: unknown): CommitHandle {
  const reason = error instanceof Error ? error : new Error(String(error));
  const committed = Promise.reject(reason);
  const durable = Promise.reject(reason);
  committed.catch(() => undefined);
  durable.catch(() => undefined);
  return { committed, durable };
}
