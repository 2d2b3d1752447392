/**
 * Every server stream's messages — the object sink's events, enumerations, a watch's events — are
 * written here, honouring back pressure ('drain'); it never rejects, and once the client is gone
 * it drops messages, leaving the meaning of that to the service's own checkpoints (cancel before
 * the commit point).
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { CancellationSignal } from '../../service/operation-context';
import { PROGRESS_BACKLOG, type StreamOut } from './wbem-operations';

/**
 * A server stream's StreamOut: writes one message and, when the stream's buffer is then full,
 * returns what resolves on 'drain' (undefined when the next may be written at once: no promise
 * per message); a progress event, only once PROGRESS_BACKLOG messages wait in it. Once the client
 * is gone (cancelled, closed) the message is dropped.
 */
export function streamOut<Req, Message>(
  call: ServerWritableStream<Req, Message>,
  signal: CancellationSignal,
): StreamOut<Message> {
  return {
    send: (message, progress = false) => {
      if (call.cancelled || signal.aborted) return undefined;
      if (call.write(message)) return undefined;
      return progress && call.writableLength < PROGRESS_BACKLOG ? undefined : drained(call, signal);
    },
  };
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
