/**
 * A gRPC client that sends and receives raw bytes (identity serializers over Buffers), so tests can
 * send what no generated client would: truncated, bit-flipped or random request bodies.
 */
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type Client,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import { WbemServicesService } from '../../generated/wbem/v1/services';
import { callEnd, deadline, flatten, transcript, type Transcript } from './transcript';

/** One WbemServices method as the raw client calls it. */
export interface RawMethod {
  readonly key: keyof typeof WbemServicesService;
  readonly path: string;
  readonly responseStream: boolean;
}

/** Every method of wbem.v1.WbemServices, from the generated definition (a new RPC is included by itself). */
export const WBEM_METHODS: readonly RawMethod[] = Object.entries(WbemServicesService).map(
  ([key, method]) => ({
    key: key as keyof typeof WbemServicesService,
    path: method.path,
    responseStream: method.responseStream,
  }),
);

const identity = (bytes: Buffer): Buffer => bytes;

export function rawClient(address: string): Client {
  const RawClient = makeGenericClientConstructor({}, 'RawWbemServices');
  return new RawClient(address, credentials.createInsecure());
}

/**
 * The whole call: headers, every message (raw), the status with trailers and decoded details.
 * `decode` turns response bytes into messages (default: kept as bytes).
 */
export async function rawCall<T = Buffer>(
  client: Client,
  method: RawMethod,
  body: Buffer,
  decode: (bytes: Buffer) => T = identity as unknown as (bytes: Buffer) => T,
  ms = 20_000,
): Promise<Transcript<T>> {
  if (method.responseStream)
    return transcript(
      client.makeServerStreamRequest(
        method.path,
        identity,
        decode,
        body,
        new Metadata(),
        deadline(ms),
      ),
    );
  return new Promise((resolve) => {
    let headers: Record<string, string> = {};
    let response: T | undefined;
    let answered = false;
    let status: StatusObject | undefined;
    const settle = (): void => {
      if (!answered || status === undefined) return;
      resolve({
        headers,
        messages: response === undefined ? [] : [response],
        end: callEnd(status),
      });
    };
    const call = client.makeUnaryRequest(
      method.path,
      identity,
      decode,
      body,
      new Metadata(),
      deadline(ms),
      (error: ServiceError | null, value?: T) => {
        if (error === null) response = value;
        answered = true;
        settle();
      },
    );
    call.on('metadata', (metadata: Metadata) => (headers = flatten(metadata)));
    call.on('status', (received: StatusObject) => {
      status = received;
      settle();
    });
  });
}
