/**
 * What one call carries through the service: its id and its cancellation signal. Built by the
 * transport; the service never sees grpc-js.
 */
export type { ClientContext } from '../domain/client-context';

export interface OperationContext {
  /** Sent to the client in the `wbem-operation-id` header; in every log line of the call. */
  readonly operationId: string;
  /** Aborted when the client cancels or the deadline passes (CancelAsyncCall). */
  readonly signal: AbortSignal;
  /** Who is calling, for logs (e.g. `ipv4:127.0.0.1:51234`). */
  readonly peer: string;
}
