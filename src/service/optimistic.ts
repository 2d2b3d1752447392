/**
 * Decisions as optimistic transactions (docs/decisions.md D62). An operation takes the write
 * fence of what it will read (store.beginRead: its namespace, or the namespace tree), loads,
 * decides, and commits with commitIf: the commit applies only if no commit — of this replica or
 * another — touched the fenced scopes since. Otherwise nothing was written and the whole
 * load → decide runs again, at most MAX_DECISION_ATTEMPTS times, then WBEM_E_SERVER_TOO_BUSY.
 * The in-process namespace lock stays: within one replica it keeps writers from conflicting at all.
 */
import { WbemError } from '../domain/wbem-status';
import { StoreError } from '../store/class-store';

/**
 * Attempts of one decision before it gives up (every one of them lost a race). Two replicas
 * writing into one namespace without pause lose about every other race, so 5 gave up on 2-4% of
 * such calls (bench E1: 12-32 a run); 10 give up on well under 1% (1-3 a run), at the same rate
 * of commits, since the fence lets one commit through at a time whatever the losers do
 * (docs/performance.md, "E1: ten attempts of a decision").
 */
export const MAX_DECISION_ATTEMPTS = 10;

/** Runs `attempt` again while its fenced commit meets a concurrent one; other failures pass. */
export async function retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (failure) {
      if (!(failure instanceof StoreError) || failure.code !== 'STORE_CONFLICT') throw failure;
      if (tries >= MAX_DECISION_ATTEMPTS) {
        throw new WbemError(
          'WBEM_E_SERVER_TOO_BUSY',
          `concurrent writes through other replicas changed what this call read ${tries} times in a row; nothing was written, try again`,
        );
      }
    }
  }
}

/**
 * What a store failure that is not a bug means for the caller (one place, used by asWbemError):
 * etcd unreachable → WBEM_E_TRANSPORT_FAILURE, a commit beyond etcd's limits →
 * WBEM_E_QUOTA_VIOLATION; undefined for every other failure.
 */
export function storeFailureStatus(failure: unknown): WbemError | undefined {
  if (!(failure instanceof StoreError)) return undefined;
  if (failure.code === 'STORE_UNAVAILABLE')
    return new WbemError(
      'WBEM_E_TRANSPORT_FAILURE',
      `the class store is unavailable: ${failure.message}`,
    );
  if (failure.code === 'STORE_TOO_LARGE')
    return new WbemError('WBEM_E_QUOTA_VIOLATION', failure.message);
  return undefined;
}
