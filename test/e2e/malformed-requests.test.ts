/**
 * Request bodies that do not decode (issue #12 item 1), sent to every WbemServices RPC with a raw
 * client: each is WBEM_E_INVALID_PARAMETER with the three encodings (docs/api.md "Errors"),
 * rejected at once, and logged like any other refusal.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Client } from '@grpc/grpc-js';
import { rawCall, rawClient, WBEM_METHODS, type RawMethod } from '../helpers/raw-client';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { VALID_REQUESTS as VALID } from '../helpers/valid-requests';
import { invalidParameterEnd } from '../helpers/transcript';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');

/** Bodies no message decodes from, whatever the method. */
const UNDECODABLE: readonly [string, (method: RawMethod) => Buffer][] = [
  // The repro: field 1 "root/cimv2", then field 2 announcing 2 bytes and holding 1.
  ['a field 2 cut short (the issue #12 repro)', () => hex('0a0a726f6f742f63696d763212020a')],
  ['a valid request without its last byte', (method) => VALID[method.key][1].subarray(0, -1)],
  ['a tag of wire type 7, which does not exist', () => hex('0f01')],
  ['a fixed32 field of three bytes', () => hex('0d000000')],
  ['a varint that never ends', () => hex('08ffffffffffffffffffff')],
  // Past DECODE_ALONE_BYTES: the documents' requests are decoded in a turn of their own, and refused alike.
  [
    'a valid request, then an unknown field announcing 1.2 MB and holding 1.1 MB',
    (method) =>
      Buffer.concat([VALID[method.key][1], hex('7a809f49'), Buffer.alloc(1_100_000, 0x61)]),
  ],
];

let t: TestServer;
let lines: Record<string, unknown>[];
let client: Client;
beforeEach(async () => {
  lines = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  t = await startTestServer({ logger: pino({ level: 'info' }, sink) });
  client = rawClient(t.server.address);
});
afterEach(async () => {
  client.close();
  await t.close();
});

describe.each(WBEM_METHODS.map((method) => [method.path, method] as const))(
  '%s',
  (_path, method) => {
    test.each(UNDECODABLE)(
      '%s: WBEM_E_INVALID_PARAMETER with the three encodings, at once',
      async (_label, body) => {
        const sent = body(method);
        const tr = await rawCall(client, method, sent);
        const messageType = VALID[method.key][0];
        expect(tr.messages).toEqual([]);
        expect(tr.end).toEqual(
          invalidParameterEnd(
            expect.stringMatching(
              new RegExp(
                `^malformed request: the bytes are not a valid wbem\\.v1\\.${messageType} \\(decoding stopped at byte \\d+ of ${sent.length}(, in [^)]+)?\\)$`,
              ),
            ),
            { hresult: '0x80041008' },
          ),
        );
        // A stream is refused before it is accepted: no response headers. A unary call always has them.
        if (method.responseStream) expect(tr.headers['wbem-operation-id']).toBeUndefined();
        else expect(tr.headers['wbem-operation-id']).toMatch(/^[0-9a-f-]{36}$/);
        expect(lines.filter((line) => line.msg === 'call ended')).toEqual([
          expect.objectContaining({
            method: method.path.slice(method.path.lastIndexOf('/') + 1),
            code: 'INVALID_ARGUMENT',
            wbemStatus: 'WBEM_E_INVALID_PARAMETER',
          }),
        ]);
      },
    );
  },
);
