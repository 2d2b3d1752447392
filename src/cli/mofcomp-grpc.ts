/**
 * `wbemd mofcomp`'s calls through grpc-js, for a server address only grpc-js dials (D81): its
 * PutClassAsync calls and `--atomic`'s one CompileMof. Loaded only then: grpc-js and the generated
 * services module are ≈ 50 ms of the command's start.
 */
import { Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import type {
  ObjectSinkEvent,
  Progress,
  SetStatus,
  WbemServicesClient,
} from '../../generated/wbem/v1/services';
import { definitionToProto } from '../transport/grpc/codec';
import {
  failureOf,
  fromFinal,
  type ClassSender,
  type MofCompiler,
  type SinkOutcome,
} from './mofcomp-send';

export { connectToServer } from './grpc-client';

/** PutClassAsync through grpc-js's generated client (a server address only grpc-js can dial). */
export function grpcJsSender(client: WbemServicesClient): ClassSender {
  return ({ definition, ...request }) =>
    sinkOutcome(
      client.putClassAsync({ ...request, object: definitionToProto(definition) }, new Metadata()),
    );
}

/**
 * Reads one object-sink stream (PutClassAsync, CompileMof) to its end. A failure ends with the
 * final SetStatus, then a non-OK gRPC status ('error'); a call rejected at once has only the gRPC
 * status, whose trailers carry the same WbemStatus. A stream that ends without a final status is
 * a failure too.
 */
function sinkOutcome(
  call: ClientReadableStream<ObjectSinkEvent>,
  onProgress: (progress: Progress) => void = () => undefined,
): Promise<SinkOutcome> {
  return new Promise((resolvePromise) => {
    let final: SetStatus | undefined;
    call.on('data', (event: ObjectSinkEvent) => {
      if (event.event?.$case === 'progress') onProgress(event.event.progress);
      else if (event.event?.$case === 'status') final = event.event.status;
    });
    call.on('error', (error: Error & { details?: string; metadata?: Metadata }) => {
      if (final !== undefined) return resolvePromise(fromFinal(final));
      const name = error.metadata?.get('wbem-status')[0];
      resolvePromise({
        ok: false,
        status: typeof name === 'string' ? name : '',
        reason: error.details ?? error.message,
      });
    });
    call.on('end', () =>
      resolvePromise(
        final === undefined
          ? { ok: false, status: '', reason: 'no final status' }
          : fromFinal(final),
      ),
    );
  });
}

/** CompileMof through grpc-js's generated client (a server address only grpc-js can dial). */
export function grpcJsCompiler(client: WbemServicesClient): MofCompiler {
  return async (request, onProgress) =>
    failureOf(
      await sinkOutcome(
        client.compileMof(
          {
            namespace: request.namespace,
            sources: [...request.sources],
            flags: request.flags,
            continueOnError: request.continueOnError,
            ...(request.context === undefined ? {} : { context: request.context }),
          },
          new Metadata(),
        ),
        onProgress,
      ),
    );
}
