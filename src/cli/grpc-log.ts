/**
 * grpc-js's own log lines (a failed bind, a TLS context that does not load, GRPC_TRACE output)
 * go through the server's pino logger as JSON lines, `component: "grpc-js"`, instead of grpc-js's
 * raw `E …` lines on stderr. Its ERROR, INFO and DEBUG become pino's error, info and debug; which
 * lines grpc-js produces is still set by GRPC_VERBOSITY (default ERROR) and GRPC_TRACE.
 */
import { setLogger } from '@grpc/grpc-js';
import { format } from 'node:util';
import type { Logger } from 'pino';

/** grpc-js's logger is process-wide: the `wbemd serve` process sets it once, to its own logger. */
export function routeGrpcLogs(logger: Logger): void {
  const grpc = logger.child({ component: 'grpc-js' });
  setLogger({
    error: (...args: unknown[]) => grpc.error(format(...args)),
    info: (...args: unknown[]) => grpc.info(format(...args)),
    debug: (...args: unknown[]) => grpc.debug(format(...args)),
  });
}
