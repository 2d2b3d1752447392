/**
 * Server reflection (v1 and v1alpha) fed from the descriptor set `buf build` wrote, byte for byte:
 * proto-loader's re-serialised descriptors lose `dependency` and map entry names, which breaks Go
 * clients such as buf curl and grpcurl (docs/stack.md trap 1).
 *
 * `all_extension_numbers_of_type` of a message type these files declare answers an empty list:
 * they declare no extensions, and @grpc/reflection answers NOT_FOUND for a type without any, which
 * makes grpcurl give up decoding a type (the ErrorInfo in `grpc-status-details-bin`, for one).
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ReflectionService } from '@grpc/reflection';
import {
  status as Code,
  type Server,
  type ServerDuplexStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Found next to this file once built (scripts/copy-descriptor.js), or in generated/ from source. */
export function findDescriptorSet(): string {
  const candidates = [
    join(__dirname, 'descriptor_set.binpb'),
    join(__dirname, '..', '..', '..', 'generated', 'descriptor_set.binpb'),
    join(__dirname, '..', '..', '..', '..', 'generated', 'descriptor_set.binpb'),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined)
    throw new Error(`descriptor_set.binpb not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** The raw FileDescriptorProto bytes of each file: field 1 of FileDescriptorSet. */
export function fileDescriptorProtos(descriptorSet: Uint8Array): Buffer[] {
  const reader = new BinaryReader(descriptorSet);
  const files: Buffer[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited)
      files.push(Buffer.from(reader.bytes()));
    else reader.skip(wireType);
  }
  return files;
}

/** Fully qualified names of the message types (nested ones too) that `files` declare. */
export function messageTypeNames(files: readonly Uint8Array[]): Set<string> {
  const names = new Set<string>();
  const visitMessage = (bytes: Uint8Array, scope: string): void => {
    const reader = new BinaryReader(bytes);
    let name = '';
    const nested: Uint8Array[] = [];
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 1 && wireType === WireType.LengthDelimited) name = reader.string();
      else if (field === 3 && wireType === WireType.LengthDelimited) nested.push(reader.bytes());
      else reader.skip(wireType);
    }
    const full = scope === '' ? name : `${scope}.${name}`;
    names.add(full);
    for (const child of nested) visitMessage(child, full);
  };
  for (const file of files) {
    const reader = new BinaryReader(file);
    let pkg = '';
    const messages: Uint8Array[] = [];
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 2 && wireType === WireType.LengthDelimited) pkg = reader.string();
      else if (field === 4 && wireType === WireType.LengthDelimited) messages.push(reader.bytes());
      else reader.skip(wireType);
    }
    for (const message of messages) visitMessage(message, pkg);
  }
  return names;
}

/** The reflection response fields this module reads and rewrites (proto-loader's object form). */
interface ReflectionResponse {
  originalRequest?: { messageRequest?: string; allExtensionNumbersOfType?: string };
  errorResponse?: { errorCode?: number };
  allExtensionNumbersResponse?: { baseTypeName: string; extensionNumber: number[] };
}

/** The response with NOT_FOUND for a known type's extension numbers turned into an empty list. */
function withEmptyExtensionLists(
  response: ReflectionResponse,
  messageTypes: ReadonlySet<string>,
): ReflectionResponse {
  const request = response.originalRequest;
  const symbol = request?.allExtensionNumbersOfType ?? '';
  if (
    request?.messageRequest !== 'allExtensionNumbersOfType' ||
    response.errorResponse?.errorCode !== Code.NOT_FOUND ||
    !messageTypes.has(symbol)
  )
    return response;
  const { errorResponse: _notFound, ...rest } = response;
  return { ...rest, allExtensionNumbersResponse: { baseTypeName: symbol, extensionNumber: [] } };
}

/**
 * `server` as @grpc/reflection sees it: each reflection response it writes passes through
 * withEmptyExtensionLists. The oneof is set by field presence (proto-loader's `oneofs: true`).
 */
function rewritingReflectionResponses(
  server: Pick<Server, 'addService'>,
  messageTypes: ReadonlySet<string>,
): Pick<Server, 'addService'> {
  return {
    addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
      const info = implementation.ServerReflectionInfo as (
        stream: ServerDuplexStream<unknown, ReflectionResponse>,
      ) => void;
      server.addService(service, {
        ServerReflectionInfo: (stream: ServerDuplexStream<unknown, ReflectionResponse>) => {
          const write = stream.write.bind(stream);
          stream.write = ((response: ReflectionResponse, ...rest: never[]) =>
            write(withEmptyExtensionLists(response, messageTypes), ...rest)) as typeof stream.write;
          info(stream);
        },
      });
    },
  };
}

export function addReflection(
  server: Pick<Server, 'addService'>,
  descriptorSetPath = findDescriptorSet(),
): void {
  const files = fileDescriptorProtos(readFileSync(descriptorSetPath));
  // A PackageDefinition whose one entry carries every file; @grpc/reflection indexes them all.
  const definition = {
    'wbem.v1.files': {
      format: 'Protocol Buffer 3 FileDescriptorProto',
      type: {},
      fileDescriptorProtos: files,
    },
  };
  new ReflectionService(
    definition as unknown as ConstructorParameters<typeof ReflectionService>[0],
  ).addToServer(rewritingReflectionResponses(server, messageTypeNames(files)));
}
