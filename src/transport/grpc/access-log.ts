/**
 * The access log line and the metrics of each call: started once it is admitted and has an
 * operation id, ended once, with its gRPC code and WbemStatus.
 */
import { status as Code } from '@grpc/grpc-js';
import type { OperationContext } from '../../service/operation-context';

/** What the transport logs; pino-compatible. */
export interface TransportLogger {
  info(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Counts and times calls (Prometheus metrics); optional. */
export interface CallObserver {
  callStarted(method: string): void;
  callEnded(method: string, code: Code, wbemStatus: string, seconds: number): void;
}

export interface CallRecord {
  readonly method: string;
  readonly ctx: OperationContext;
  readonly started: bigint;
}

export function startCall(
  observer: CallObserver | undefined,
  method: string,
  ctx: OperationContext,
): CallRecord {
  observer?.callStarted(method);
  return { method, ctx, started: process.hrtime.bigint() };
}

/** The access log line and the metrics of one ended call. */
export function endCall(
  log: TransportLogger,
  observer: CallObserver | undefined,
  record: CallRecord,
  code: Code,
  wbemStatus: string,
): void {
  const seconds = Number(process.hrtime.bigint() - record.started) / 1e9;
  observer?.callEnded(record.method, code, wbemStatus, seconds);
  log.info(
    {
      method: record.method,
      operationId: record.ctx.operationId,
      ...(record.ctx.traceId === undefined ? {} : { traceId: record.ctx.traceId }),
      peer: record.ctx.peer,
      code: Code[code],
      wbemStatus,
      // Microsecond precision: a double's full 17 digits cost a log line ~1.4 us to print and say nothing more.
      ms: Math.round(seconds * 1e6) / 1e3,
    },
    'call ended',
  );
}
