/**
 * What an etcd call's failure means for the store (docs/decisions.md D61):
 * - unreachable, deadline passed, circuit open, cancelled → STORE_UNAVAILABLE (the store stays
 *   usable). A commit that failed so may or may not have reached etcd before the failure; the
 *   message says so, and the write fences make a retry safe (a second attempt of an applied commit
 *   meets a moved fence).
 * - a Txn beyond etcd's --max-txn-ops or --max-request-bytes → STORE_TOO_LARGE.
 * - anything else (permission denied, say) → STORE_UNAVAILABLE too, without marking etcd down.
 */
import {
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCInvalidArgumentError,
  GRPCResourceExhastedError,
  GRPCUnavailableError,
} from 'etcd3';
import { StoreError } from '../class-store';

export interface EtcdFailure {
  readonly error: StoreError;
  /** etcd did not answer at all (health turns NOT_SERVING until it does). */
  readonly unreachable: boolean;
}

export function classifyEtcdError(error: unknown, what: 'read' | 'commit'): EtcdFailure {
  if (error instanceof StoreError) return { error, unreachable: false };
  const message = error instanceof Error ? error.message : String(error);
  if (
    (error instanceof GRPCInvalidArgumentError || error instanceof GRPCResourceExhastedError) &&
    /too many operations|too large|message larger than max/i.test(message)
  ) {
    const tooLarge = new StoreError(
      'STORE_TOO_LARGE',
      `etcd refused the commit as too large (${message}); nothing was written. Raise etcd's --max-txn-ops / --max-request-bytes, or write in smaller pieces`,
      { cause: error },
    );
    return { error: tooLarge, unreachable: false };
  }
  if (
    error instanceof GRPCUnavailableError ||
    error instanceof GRPCDeadlineExceededError ||
    error instanceof GRPCCancelledError ||
    /circuit breaker is open|No connection|ECONNREFUSED|failed to connect/i.test(message)
  ) {
    const outcome =
      what === 'commit'
        ? '; the commit may not have been applied (a later read tells), and it is not retried here'
        : '';
    const unavailable = new StoreError(
      'STORE_UNAVAILABLE',
      `etcd did not answer: ${message}${outcome}`,
      { cause: error },
    );
    return { error: unavailable, unreachable: true };
  }
  const failed = new StoreError('STORE_UNAVAILABLE', `etcd call failed: ${message}`, {
    cause: error,
  });
  return { error: failed, unreachable: false };
}
