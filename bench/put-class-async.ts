/**
 * Issue #2's benchmark: PutClassAsync (create, 2 KB class, durable LevelDB store) RPC/s and
 * p50/p99 at 1, 16 and 64 calls in flight, next to a bare grpc-js server-streaming RPC under the
 * same setup (server in a child process, this process the load generator), and their ratio.
 */
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type ClientReadableStream,
} from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CimType, type ClassObject } from '../generated/wbem/v1/cim';
import { WbemStatus } from '../generated/wbem/v1/status';
import { ObjectSinkEvent, PutClassRequest } from '../generated/wbem/v1/services';
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags';
import { BARE_SERVICE } from './bare-server';
import { startNodeServer, startWbemd } from './child-server';
import { formatRow, measure, runLoad, summarize, type LoadResult, type LoadSample } from './load';

const LEVELS = [1, 16, 64] as const;
/**
 * Seconds per level and server, in alternating rounds of one second. This 2-core machine's speed
 * drifts by ±10% within seconds: alternating puts both servers under the same drift, and six
 * rounds instead of three halve what one slow second weighs. Runs still differ by a few hundredths
 * of the ratio (docs/performance.md has a series).
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
/** Each level's time is split into alternating put/bare rounds of about a second. */
const ROUNDS = Math.max(1, Math.round(SECONDS));
const CREATE_ONLY = 2;
/** Fixed width, so each call's name is patched into the encoded request in place. */
const NAME_TEMPLATE = 'Bench_C000000';

/** A class whose PutClassRequest encodes to about 2 KB (checked below). */
export function twoKilobyteClass(name: string): ClassObject {
  const description = (i: number): string =>
    `Property ${i} of a benchmark class: a realistic Description qualifier of some length.`;
  return {
    className: name,
    superclass: '',
    qualifiers: [
      {
        name: 'Description',
        value: { kind: { $case: 'string', string: 'A benchmark class.' } },
        flavor: 2,
        propagated: false,
      },
    ],
    properties: Array.from({ length: 16 }, (_, i) => ({
      name: `Property${i}`,
      type: i === 0 ? CimType.CIM_STRING : CimType.CIM_UINT32,
      array: false,
      qualifiers: [
        ...(i === 0
          ? [
              {
                name: 'Key',
                value: { kind: { $case: 'boolean' as const, boolean: true } },
                flavor: 0,
                propagated: false,
              },
            ]
          : []),
        {
          name: 'Description',
          value: { kind: { $case: 'string' as const, string: description(i) } },
          flavor: 2,
          propagated: false,
        },
      ],
      referenceClass: '',
      embeddedClass: '',
      classOrigin: '',
      propagated: false,
    })),
    methods: [],
  };
}

function drain(call: ClientReadableStream<unknown>): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    call.on('data', () => undefined);
    call.on('error', reject);
    call.on('end', () => resolvePromise());
  });
}

export async function benchPutClassAsync(): Promise<void> {
  const size = PutClassRequest.encode({
    namespace: 'root/cimv2',
    object: twoKilobyteClass('Bench_C000000'),
    flags: CREATE_ONLY,
  }).finish().length;
  console.log(
    `PutClassAsync vs bare server stream — request ${size} bytes, ${SECONDS}s per level in ${ROUNDS} alternating rounds, durable LevelDB (sync writes), servers run with ${SERVER_NODE_FLAGS.join(' ')}`,
  );
  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-bench-'));
  // Both servers run with the Node flags `npm start` gives wbemd (src/cli/node-flags.ts); the
  // bare server's throughput does not depend on them (docs/performance.md), but the setup is one.
  const wbemd = await startWbemd(dataDir);
  const bare = await startNodeServer(resolve(__dirname, 'bare-server.js'));
  // Both clients do the same work per call: send pre-encoded bytes, receive raw bytes. The
  // PutClassAsync request is encoded once and only its fixed-width class name is patched, so the
  // load generator (sharing this 2-core machine) measures the servers, not message building.
  const BareClient = makeGenericClientConstructor(BARE_SERVICE, 'Bare');
  const RawWbemClient = makeGenericClientConstructor(
    { putClassAsync: { ...BARE_SERVICE.stream, path: '/wbem.v1.WbemServices/PutClassAsync' } },
    'RawWbem',
  );
  const wbemClient = new RawWbemClient(wbemd.address, credentials.createInsecure());
  const bareClient = new BareClient(bare.address, credentials.createInsecure());
  const template = Buffer.from(
    PutClassRequest.encode({
      namespace: 'root/cimv2',
      object: twoKilobyteClass(NAME_TEMPLATE),
      flags: CREATE_ONLY,
    }).finish(),
  );
  const nameAt = template.indexOf(NAME_TEMPLATE);
  const payload = Buffer.alloc(size, 7);
  let serial = 0;
  // Identical client work per call: copy a pre-encoded request of the same size, send it, read the
  // raw reply, and let the gRPC status decide success (drain() rejects on any non-OK status; the
  // PutClassAsync status mirrors its final SetStatus, which the e2e tests check). The final event
  // is decoded once after the run, so a wrong answer cannot pass unnoticed.
  let lastEvent: Buffer | undefined;
  const putClass = async (): Promise<void> => {
    const request = Buffer.from(template);
    request.write(String(serial++).padStart(6, '0'), nameAt + NAME_TEMPLATE.length - 6, 'latin1');
    const call = (
      wbemClient as unknown as {
        putClassAsync(req: Buffer, md: Metadata): ClientReadableStream<Buffer>;
      }
    ).putClassAsync(request, new Metadata());
    call.on('data', (event: Buffer) => (lastEvent = event));
    await drain(call);
  };
  const bareStream = async (): Promise<void> => {
    const stream = (
      bareClient as unknown as { stream(req: Buffer, md: Metadata): ClientReadableStream<Buffer> }
    ).stream(Buffer.from(payload), new Metadata());
    await drain(stream);
  };
  const checkLastEvent = (): void => {
    const event = lastEvent === undefined ? undefined : ObjectSinkEvent.decode(lastEvent);
    if (
      event?.event?.$case !== 'status' ||
      event.event.status.hresult !== WbemStatus.WBEM_S_NO_ERROR
    )
      throw new Error('PutClassAsync did not end with a successful SetStatus');
  };
  try {
    // Warm up both servers (JIT, connections, LevelDB files).
    await runLoad(16, 0.5, putClass);
    await runLoad(16, 0.5, bareStream);
    const rows: { level: number; put: LoadResult; bare: LoadResult }[] = [];
    for (const level of LEVELS) {
      // Interleaved rounds: the machine's speed drifts over seconds (other tenants, CPU
      // frequency), and alternating the two servers puts both under the same drift.
      const putSamples: LoadSample[] = [];
      const bareSamples: LoadSample[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        putSamples.push(await measure(level, SECONDS / ROUNDS, putClass));
        checkLastEvent();
        bareSamples.push(await measure(level, SECONDS / ROUNDS, bareStream));
      }
      const put = summarize(level, putSamples);
      const bareResult = summarize(level, bareSamples);
      if (put.failures > 0) throw new Error(`${put.failures} PutClassAsync calls failed`);
      rows.push({ level, put, bare: bareResult });
      console.log(formatRow('PutClassAsync create (durable)', put));
      console.log(formatRow('bare grpc-js server stream', bareResult));
      console.log(`${''.padEnd(34)} ratio ${(put.rps / bareResult.rps).toFixed(2)}x`);
    }
    const at64 = rows.find((r) => r.level === 64);
    if (at64)
      console.log(
        `RESULT put-class-async ratio@64 ${(at64.put.rps / at64.bare.rps).toFixed(2)}x (target >= 0.55x)`,
      );
  } finally {
    wbemClient.close();
    bareClient.close();
    await Promise.all([wbemd.stop(), bare.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  }
}
