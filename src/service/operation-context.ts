/**
 * What one call carries through the service: its id and its cancellation signal. Built by the
 * transport; the service never sees grpc-js.
 */
import type { Principal } from '../domain/access';

export type { ClientContext } from '../domain/client-context';

export interface OperationContext {
  /** Sent to the client in the `wbem-operation-id` header; in every log line of the call. */
  readonly operationId: string;
  /** Aborted when the client cancels or the deadline passes (CancelAsyncCall). */
  readonly signal: CancellationSignal;
  /** Who is calling, for logs (e.g. `ipv4:127.0.0.1:51234`). */
  readonly peer: string;
  /** The caller's W3C trace id (`traceparent`), for logs. */
  readonly traceId?: string;
  /** Who is calling, as the transport authenticated it; undefined = anonymous (no credentials). */
  readonly principal?: Principal;
}

/**
 * The part of AbortSignal the service uses. An AbortSignal is one; the transport uses a lighter
 * one per call (CallCancellation), because an AbortController per call was measurable under load.
 */
export interface CancellationSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  throwIfAborted(): void;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
