/**
 * SinkPort over a grpc-js server stream: the only code that writes ObjectSinkEvents. Back-pressure
 * is honoured ('drain'); it never rejects, and once the client is gone it drops events, leaving
 * the meaning of that to the service's own checkpoints (cancel before the commit point).
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { ObjectSinkEvent } from '../../../generated/wbem/v1/services';
import type { SinkEvent, SinkPort } from '../../service/object-sink';
import type { CancellationSignal } from '../../service/operation-context';
import { sinkEventToProto } from './codec';

export function grpcSinkPort<Req>(call: ServerWritableStream<Req, ObjectSinkEvent>, signal: CancellationSignal, operation: string): SinkPort {
  return {
    async send(event: SinkEvent): Promise<void> {
      if (call.cancelled || signal.aborted) return;
      if (call.write(sinkEventToProto(event, operation))) return;
      await drained(call, signal);
    },
  };
}

/** Resolves on 'drain', or as soon as the call is cancelled or closed. */
export function drained(call: ServerWritableStream<unknown, unknown> | ServerWritableStream<never, unknown>, signal: CancellationSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    call.once('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
