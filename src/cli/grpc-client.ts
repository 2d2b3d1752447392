/** grpc-js's client of the server a client command names (`mofgen`; `mofcomp --atomic`). */
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { WbemServicesClient } from '../../generated/wbem/v1/services';
import { resolveConnection } from '../client/connection';
import { callHeaders, type ServerTarget } from './client-command';

/** A client of `target`: plaintext unless it names TLS (credentials as WbemClient builds them). */
export function connectToServer(target: ServerTarget): WbemServicesClient {
  const { credentials } = resolveConnection({
    address: target.address,
    ...(target.tls === undefined ? {} : { tls: target.tls }),
  });
  const headers = Object.entries(callHeaders(target));
  // An interceptor, not call credentials: grpc-js sends those over TLS only, and a loopback server
  // that requires a token may well be plaintext.
  const interceptors = headers.length === 0 ? [] : [withHeaders(headers)];
  return new WbemServicesClient(target.address, credentials, { interceptors });
}

/** Adds `headers` to every call's metadata. */
function withHeaders(headers: readonly (readonly [string, string])[]): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        for (const [name, value] of headers) metadata.set(name, value);
        next(metadata, listener);
      },
    });
}
