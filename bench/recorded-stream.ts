/**
 * A server stream's messages recorded once, to be replayed by the bare server (`bare-server.ts
 * replay FILE`): the transport's floor for an enumeration is grpc-js sending the same messages.
 * The file is each message's length (4 bytes, big-endian) and its bytes, one after the other.
 * Recording uses a grpc-js client in the bench's process; it is setup, never measured. R3's answer
 * is 200+ MB: it is written to the file as it comes (the call paused while the file lags) and read
 * back by chunks, so neither side holds it twice.
 */
import { once } from 'node:events';
import { closeSync, createWriteStream, openSync, readSync } from 'node:fs';
import { Client, credentials, Metadata, type ClientReadableStream } from '@grpc/grpc-js';

const LENGTH_BYTES = 4;
/** How much of the file is read or written at once. */
const CHUNK_BYTES = 1 << 20;

/** Every message of a recorded file, each a copy of its own (as wbemd's bytes are). */
export function readRecordedStream(file: string): Buffer[] {
  const messages: Buffer[] = [];
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let filled = 0; // bytes of `chunk` read and not yet taken
    let message: Buffer | undefined; // a message whose bytes are still coming
    let messageFilled = 0;
    for (;;) {
      const read = readSync(fd, chunk, filled, CHUNK_BYTES - filled, null);
      filled += read;
      let at = 0;
      for (;;) {
        if (message !== undefined) {
          const taken = chunk.copy(message, messageFilled, at, filled);
          messageFilled += taken;
          at += taken;
          if (messageFilled < message.length) break;
          messages.push(message);
          message = undefined;
        }
        if (filled - at < LENGTH_BYTES) break;
        message = Buffer.allocUnsafe(chunk.readUInt32BE(at));
        messageFilled = 0;
        at += LENGTH_BYTES;
      }
      chunk.copy(chunk, 0, at, filled); // a length split across two reads
      filled -= at;
      if (read === 0) break;
    }
    if (filled !== 0 || message !== undefined) throw new Error(`${file} ends inside a message`);
    return messages;
  } finally {
    closeSync(fd);
  }
}

function serverStream(
  client: Client,
  method: string,
  request: Uint8Array,
): ClientReadableStream<Buffer> {
  return client.makeServerStreamRequest(
    method,
    (value: Uint8Array) => Buffer.from(value),
    (value: Buffer) => value,
    request,
    new Metadata(),
  );
}

function clientFor(address: string): Client {
  return new Client(address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
}

/** Calls a server-streaming `method` once with `request` and returns every message it answers. */
export async function readServerStream(
  address: string,
  method: string,
  request: Uint8Array,
): Promise<Buffer[]> {
  const client = clientFor(address);
  try {
    return await new Promise<Buffer[]>((resolve, reject) => {
      const received: Buffer[] = [];
      const call = serverStream(client, method, request);
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
  const client = clientFor(address);
  const out = createWriteStream(file);
  let messages = 0;
  let bytes = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const call = serverStream(client, method, request);
      const parts: Buffer[] = [];
      let pending = 0;
      const flush = (): void => {
        if (pending === 0) return;
        const full = out.write(Buffer.concat(parts, pending));
        parts.length = 0;
        pending = 0;
        if (!full) {
          call.pause();
          out.once('drain', () => call.resume());
        }
      };
      call.on('data', (message: Buffer) => {
        const length = Buffer.allocUnsafe(LENGTH_BYTES);
        length.writeUInt32BE(message.length);
        parts.push(length, message);
        pending += LENGTH_BYTES + message.length;
        messages++;
        bytes += message.length;
        if (pending >= CHUNK_BYTES) flush();
      });
      call.on('error', reject);
      out.on('error', reject);
      call.on('end', () => {
        flush();
        resolve();
      });
    });
  } finally {
    client.close();
    out.end();
    await once(out, 'close');
  }
  return { messages, bytes };
}
