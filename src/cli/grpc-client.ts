/** grpc-js's client of the server a client command names (`mofgen`; `mofcomp --atomic`). */
import { credentials, InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { WbemServicesClient } from '../../generated/wbem/v1/services';
import type { ServerTarget } from './client-command';

/** A client of `target`: plaintext unless it names TLS; its token on every call. */
export function connectToServer(target: ServerTarget): WbemServicesClient {
  const channel =
    target.tls === undefined
      ? credentials.createInsecure()
      : credentials.createSsl(
          target.tls.ca ?? null,
          target.tls.key ?? null,
          target.tls.cert ?? null,
        );
  const token = target.token;
  // An interceptor, not call credentials: grpc-js sends those over TLS only, and a loopback server
  // that requires a token may well be plaintext.
  const interceptors = token === undefined ? [] : [bearer(token)];
  return new WbemServicesClient(target.address, channel, { interceptors });
}

/** Adds `authorization: Bearer TOKEN` to every call's metadata. */
function bearer(token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}
