/** grpc-js's client of the server a client command names (`mofgen`; `mofcomp --atomic`). */
import { credentials } from '@grpc/grpc-js';
import { WbemServicesClient } from '../../generated/wbem/v1/services';
import { serverAddress } from './client-command';

/** A client of `--server` (serverAddress), plaintext as the server's loopback default. */
export function connectToServer(server: string | undefined): WbemServicesClient {
  return new WbemServicesClient(serverAddress(server), credentials.createInsecure());
}
