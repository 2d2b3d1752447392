/**
 * A server stream's messages recorded once, to be replayed by the bare server (`bare-server.ts
 * replay FILE`): the transport's floor for an enumeration is grpc-js sending the same messages.
 * The file is each message's length (4 bytes, big-endian) and its bytes, one after the other.
 * Recording uses a grpc-js client in the bench's process; it is setup, never measured.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Client, credentials, Metadata } from '@grpc/grpc-js';

const LENGTH_BYTES = 4;

export function readRecordedStream(file: string): Buffer[] {
  const bytes = readFileSync(file);
  const messages: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const length = bytes.readUInt32BE(at);
    at += LENGTH_BYTES;
    // A copy of its own, as wbemd's cached bytes are: no view keeps the whole file's buffer.
    messages.push(Buffer.from(bytes.subarray(at, at + length)));
    at += length;
  }
  return messages;
}

function writeRecordedStream(file: string, messages: readonly Buffer[]): number {
  const parts: Buffer[] = [];
  for (const message of messages) {
    const length = Buffer.alloc(LENGTH_BYTES);
    length.writeUInt32BE(message.length);
    parts.push(length, message);
  }
  writeFileSync(file, Buffer.concat(parts));
  return messages.reduce((sum, message) => sum + message.length, 0);
}

/** Calls a server-streaming `method` once with `request` and returns every message it answers. */
export async function readServerStream(
  address: string,
  method: string,
  request: Uint8Array,
): Promise<Buffer[]> {
  const client = new Client(address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  try {
    return await new Promise<Buffer[]>((resolve, reject) => {
      const received: Buffer[] = [];
      const call = client.makeServerStreamRequest(
        method,
        (value: Uint8Array) => Buffer.from(value),
        (value: Buffer) => value,
        request,
        new Metadata(),
      );
      call.on('data', (message: Buffer) => received.push(message));
      call.on('error', reject);
      call.on('end', () => resolve(received));
    });
  } finally {
    client.close();
  }
}

/** Calls a server-streaming `method` once and records every message it answers into `file`. */
export async function recordStream(
  address: string,
  method: string,
  request: Uint8Array,
  file: string,
): Promise<{ messages: number; bytes: number }> {
  const messages = await readServerStream(address, method, request);
  return { messages: messages.length, bytes: writeRecordedStream(file, messages) };
}
