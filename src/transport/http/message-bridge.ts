/**
 * protobuf-es messages (what Connect hands a handler and expects back) ↔ the ts-proto shapes the
 * operations work on (wbem-operations.ts), through their bytes: a request is re-encoded and then
 * decoded by the same total deserializer the gRPC transport uses (request-decoding.ts: the same
 * malformed-request refusals, the same PutClass conversion); a response is encoded by ts-proto (or
 * comes encoded already: class reads, class-bytes.ts) and read back by protobuf-es. One extra
 * encode per message buys one conversion path for both transports (docs/decisions.md).
 */
import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { Decoded } from '../grpc/request-decoding';
import {
  REQUEST_DESERIALIZERS,
  WBEM_SERVICES,
  type HandlerRequest,
  type MethodKey,
  type ResponseOf,
} from '../grpc/wbem-services-definition';

export interface MessageBridge<Req, Res> {
  /** The request as the gRPC transport's deserializer leaves it. */
  request(message: MessageShape<DescMessage>): Decoded<Req>;
  /** The operation's response as the protobuf-es message Connect serializes. */
  response(message: Res): MessageShape<DescMessage>;
}

export function bridgeOf<K extends MethodKey>(
  key: K,
  input: DescMessage,
  output: DescMessage,
): MessageBridge<HandlerRequest[K], ResponseOf<K>> {
  const deserialize = REQUEST_DESERIALIZERS[key] as (bytes: Buffer) => Decoded<HandlerRequest[K]>;
  const serialize: (message: ResponseOf<K>) => Buffer = WBEM_SERVICES[key].responseSerialize;
  return {
    request: (message) => {
      const bytes = toBinary(input, message);
      return deserialize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
    response: (message) => fromBinary(output, serialize(message)),
  };
}
