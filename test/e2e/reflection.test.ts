/**
 * Server reflection as a reflection client (grpcurl's steps) uses it, over a real connection with
 * grpc-js and the reflection protos @grpc/reflection ships: `all_extension_numbers_of_type` of a
 * message type the server declares is an empty list (wbemd's types have no extensions), so a
 * client can go on to decode ErrorInfo; an unknown type is still NOT_FOUND.
 */
import {
  credentials,
  loadPackageDefinition,
  status as Code,
  type Client,
  type ClientDuplexStream,
  type GrpcObject,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startServer, type RunningServer } from '../../src/server';

interface ReflectionResponse {
  messageResponse: string;
  allExtensionNumbersResponse?: { baseTypeName: string; extensionNumber: number[] };
  fileDescriptorResponse?: { fileDescriptorProto: unknown[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

type ReflectionClient = Client & {
  ServerReflectionInfo(): ClientDuplexStream<Record<string, unknown>, ReflectionResponse>;
};

function reflectionClient(version: 'v1' | 'v1alpha', address: string): ReflectionClient {
  const proto = join(
    dirname(require.resolve('@grpc/reflection/package.json')),
    'build/proto/grpc/reflection',
    version,
    'reflection.proto',
  );
  const loaded = loadPackageDefinition(
    loadSync(proto, { longs: String, enums: String, defaults: true, oneofs: true }),
  );
  const reflection = ((loaded.grpc as GrpcObject).reflection as GrpcObject)[version] as GrpcObject;
  const Constructor = reflection.ServerReflection as unknown as new (
    address: string,
    creds: ReturnType<typeof credentials.createInsecure>,
  ) => ReflectionClient;
  return new Constructor(address, credentials.createInsecure());
}

/** Sends each request on one reflection stream; resolves with the responses, in order. */
async function ask(
  client: ReflectionClient,
  requests: Record<string, unknown>[],
): Promise<ReflectionResponse[]> {
  const stream = client.ServerReflectionInfo();
  const responses: ReflectionResponse[] = [];
  const done = new Promise<void>((resolvePromise, reject) => {
    stream.on('data', (response: ReflectionResponse) => responses.push(response));
    stream.on('error', reject);
    stream.on('end', () => resolvePromise());
  });
  for (const request of requests) stream.write({ host: '', ...request });
  stream.end();
  await done;
  return responses;
}

let server: RunningServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wbemd-reflection-'));
  server = await startServer({ listen: '127.0.0.1:0', dataDir, serverName: 'REFL' });
});

afterAll(async () => {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe.each(['v1', 'v1alpha'] as const)('reflection %s', (version) => {
  test('all_extension_numbers_of_type: an empty list for every declared message type, NOT_FOUND for an unknown one', async () => {
    const client = reflectionClient(version, server.address);
    try {
      const types = [
        'google.rpc.ErrorInfo',
        'google.rpc.Status',
        'wbem.v1.SetStatus',
        'wbem.v1.ClassObject',
        'wbem.v1.ChangeReport',
        'grpc.health.v1.HealthCheckRequest',
      ];
      const responses = await ask(
        client,
        [...types, 'wbem.v1.NoSuchType'].map((type) => ({ allExtensionNumbersOfType: type })),
      );
      expect(responses.slice(0, types.length)).toEqual(
        types.map((type) =>
          expect.objectContaining({
            messageResponse: 'allExtensionNumbersResponse',
            allExtensionNumbersResponse: { baseTypeName: type, extensionNumber: [] },
          }),
        ),
      );
      expect(responses[types.length]).toMatchObject({
        messageResponse: 'errorResponse',
        errorResponse: { errorCode: Code.NOT_FOUND },
      });
    } finally {
      client.close();
    }
  });

  test('what grpcurl does next to decode the details: the file containing google.rpc.ErrorInfo', async () => {
    const client = reflectionClient(version, server.address);
    try {
      const [file] = await ask(client, [{ fileContainingSymbol: 'google.rpc.ErrorInfo' }]);
      expect(file?.messageResponse).toBe('fileDescriptorResponse');
      expect(file?.fileDescriptorResponse?.fileDescriptorProto.length).toBeGreaterThan(0);
    } finally {
      client.close();
    }
  });
});
