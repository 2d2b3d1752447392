/**
 * What the service knows of one call (OperationContext): its operation id, its cancellation
 * (client cancel or deadline), its peer and trace, made from the grpc-js call as it is admitted.
 */
import type { ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { WbemError } from '../../domain/wbem-status';
import type { Principal } from '../../domain/access';
import type { CancellationSignal, OperationContext } from '../../service/operation-context';

/** A call of either shape wbemd serves: unary or server stream. */
export type AnyCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

/**
 * Abort reasons, made once: a reason is only a marker (the service turns any abort into its own
 * WBEM_E_CALL_CANCELLED), and a fresh Error with its stack per call showed up in profiles.
 */
export const CLIENT_CANCELLED = new WbemError(
  'WBEM_E_CALL_CANCELLED',
  'the client cancelled the call',
);
export const DEADLINE_PASSED = new WbemError('WBEM_E_CALL_CANCELLED', 'the deadline passed');

/**
 * One call's cancellation: the CancellationSignal the service sees, without an AbortController
 * (whose EventTarget machinery cost ~2% of the server's CPU per call under load).
 */
export class CallCancellation implements CancellationSignal {
  #reason: unknown = undefined;
  #aborted = false;
  #listeners: (() => void)[] = [];

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  throwIfAborted(): void {
    if (this.#aborted) throw this.#reason;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.#aborted) this.#listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.#listeners.indexOf(listener);
    if (at >= 0) this.#listeners.splice(at, 1);
  }

  /** Aborts once (later calls are ignored); every listener runs once. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }
}

/** W3C Trace Context: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, all-zero ids invalid. */
const TRACEPARENT = /^[0-9a-f]{2}-(?!0{32})([0-9a-f]{32})-(?!0{16})([0-9a-f]{16})-[0-9a-f]{2}$/;

/** The caller's trace, when it sent a valid `traceparent` (a malformed one is ignored, as the spec says). */
function traceOf(call: AnyCall): { traceId: string; parentId: string } | undefined {
  const [value] = call.metadata.get('traceparent');
  return traceOfHeader(value);
}

/** The trace of a `traceparent` header's value, whatever the transport. */
export function traceOfHeader(
  value: string | Buffer | null | undefined,
): { traceId: string; parentId: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT.exec(value.trim().toLowerCase());
  return match === null ? undefined : { traceId: match[1] as string, parentId: match[2] as string };
}

/** Operation id, cancellation (client cancel or deadline), peer and trace of one call. */
export function createOperationContext(call: AnyCall, principal?: Principal): OperationContext {
  const cancellation = new CallCancellation();
  if (call.cancelled) cancellation.abort(CLIENT_CANCELLED);
  else call.once('cancelled', () => cancellation.abort(CLIENT_CANCELLED));
  const deadline = call.getDeadline();
  const ms =
    deadline instanceof Date
      ? deadline.getTime() - Date.now()
      : Number.isFinite(deadline)
        ? Number(deadline) - Date.now()
        : Infinity;
  if (Number.isFinite(ms)) {
    const timer = setTimeout(() => cancellation.abort(DEADLINE_PASSED), Math.max(0, ms));
    timer.unref();
    // Whatever ends the call first, the timer must not outlive it.
    cancellation.addEventListener('abort', () => clearTimeout(timer));
    call.once('finish', () => clearTimeout(timer));
    call.once('close', () => clearTimeout(timer));
  }
  const trace = traceOf(call);
  return {
    operationId: randomUUID(),
    signal: cancellation,
    peer: call.getPeer(),
    ...(trace === undefined ? {} : { traceId: trace.traceId }),
    ...(principal === undefined ? {} : { principal }),
  };
}
