/**
 * What every call goes through first, before any handler code: the server-wide cap on calls in
 * progress, then authentication. A refusal is a complete status to end the call with.
 */
import { status as Code, type StatusObject } from '@grpc/grpc-js';
import { WbemError } from '../../domain/wbem-status';
import type { Authentication, Authenticator } from './authenticate';
import type { AnyCall } from './call-context';
import { toStatusObject } from './status-map';

/** A server-wide cap on calls in progress: beyond it a call is refused at once, never queued. */
export class Admission {
  #inProgress = 0;
  constructor(readonly limit: number) {}

  tryEnter(): boolean {
    if (this.#inProgress >= this.limit) return false;
    this.#inProgress++;
    return true;
  }

  leave(): void {
    this.#inProgress--;
  }
}

const ANONYMOUS: Authentication = { ok: true, principal: undefined };

/** Refused before anything else: the server is serving its limit of calls. Retry with backoff. */
export function overloadedError(limit: number): WbemError {
  return new WbemError(
    'WBEM_E_OUT_OF_MEMORY',
    `the server is serving its limit of ${limit} calls at once; retry later`,
  );
}

/** No valid credentials: WBEM_E_ACCESS_DENIED, sent as UNAUTHENTICATED (docs/decisions.md D32). */
export function unauthenticatedError(reason: string): WbemError {
  return new WbemError('WBEM_E_ACCESS_DENIED', `unauthenticated: ${reason}`);
}

export function unauthenticated(reason: string): StatusObject {
  return toStatusObject(unauthenticatedError(reason), Code.UNAUTHENTICATED);
}

/**
 * The cap, then who is calling. `overloaded`: refused before anything else, holding no slot.
 * Otherwise the call holds a slot until it ends (Admission.leave), authenticated or not.
 */
export function admit(
  call: AnyCall,
  admission: Admission | undefined,
  authenticator: Authenticator | undefined,
): Authentication | { readonly overloaded: StatusObject } {
  if (admission !== undefined && !admission.tryEnter())
    return { overloaded: toStatusObject(overloadedError(admission.limit)) };
  return authenticator?.authenticate(call) ?? ANONYMOUS;
}
