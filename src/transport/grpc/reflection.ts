/**
 * Server reflection (v1 and v1alpha) fed from the descriptor set `buf build` wrote, byte for byte:
 * proto-loader's re-serialised descriptors lose `dependency` and map entry names, which breaks Go
 * clients such as buf curl and grpcurl (docs/stack.md trap 1).
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ReflectionService } from '@grpc/reflection';
import type { Server } from '@grpc/grpc-js';
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
  ).addToServer(server);
}
