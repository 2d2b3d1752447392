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
import type { StreamOut } from './wbem-operations';

export function grpcSinkPort<Req>(
  call: ServerWritableStream<Req, ObjectSinkEvent>,
  signal: CancellationSignal,
  operation: string,
): SinkPort {
  return streamPort(call, signal, (event: SinkEvent) => sinkEventToProto(event, operation));
}

/**
 * A port that sends each item, converted to its message, with back-pressure (the object sink, the
 * class events of a watch); once the client is gone, items are dropped.
 */
export function streamPort<Req, Item, Message>(
  call: ServerWritableStream<Req, Message>,
  signal: CancellationSignal,
  toMessage: (item: Item) => Message,
): { send(item: Item): Promise<void> } {
  return {
    send: (item) => writeWithBackPressure(call, signal, () => toMessage(item)) ?? DONE,
  };
}

/** A server stream's StreamOut: a promise only when the message must wait for 'drain'. */
export function streamOut<Req, Message>(
  call: ServerWritableStream<Req, Message>,
  signal: CancellationSignal,
): StreamOut<Message> {
  return { send: (message) => writeWithBackPressure(call, signal, () => message) };
}

const DONE: Promise<void> = Promise.resolve();

/**
 * Writes one message; when the stream's buffer is then full, returns what resolves on 'drain'
 * (undefined when the next message may be written at once: no promise per message). Once the
 * client is gone (cancelled, closed) the message is dropped. Every server-stream write goes
 * through here.
 */
export function writeWithBackPressure<Req, T>(
  call: ServerWritableStream<Req, T>,
  signal: CancellationSignal,
  message: () => T,
): Promise<void> | undefined {
  if (call.cancelled || signal.aborted) return undefined;
  return call.write(message()) ? undefined : drained(call, signal);
}

/** Resolves on 'drain', or as soon as the call is cancelled or closed. */
function drained(
  call: ServerWritableStream<unknown, unknown> | ServerWritableStream<never, unknown>,
  signal: CancellationSignal,
): Promise<void> {
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
