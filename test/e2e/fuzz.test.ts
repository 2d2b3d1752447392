/**
 * Fuzzing every WbemServices RPC (issue #12): random, truncated and mutated (bit-flipped, spliced)
 * bodies, from valid requests of each RPC, sent with a raw client to a server in a child process.
 * Every answer must be OK or a WBEM status with its three encodings (code from the status table,
 * `wbem-status`/`wbem-hresult` trailers, decodable ErrorInfo), never WBEM_E_FAILED; health must stay
 * SERVING and the server's RSS bounded. The bodies come from a seeded PRNG: a failure names its
 * seed, method and body, and `WBEMD_FUZZ_SEED=<seed> npx jest test/e2e/fuzz.test.ts` replays it.
 */
import { credentials, Metadata, status as Code, type Client } from '@grpc/grpc-js';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CimType } from '../../generated/wbem/v1/cim';
import {
  HealthCheckResponse_ServingStatus,
  HealthClient,
} from '../../generated/grpc/health/v1/health';
import { CompileMofRequest, PutClassRequest } from '../../generated/wbem/v1/services';
import {
  formatHresult,
  WBEM_STATUS_NAMES,
  type WbemStatusName,
} from '../../src/domain/wbem-status';
import { GRPC_CODE } from '../../src/transport/grpc/status-map';
import { rawClient, WBEM_METHODS, type RawMethod } from '../helpers/raw-client';
import { callEnd, deadline, flatten, type CallEnd } from '../helpers/transcript';
import { VALID_REQUESTS } from '../helpers/valid-requests';
import { spawnServe } from '../helpers/wbemd-process';
import { cls, keyed, p, q } from './fixtures';

const SEED = Number(process.env.WBEMD_FUZZ_SEED ?? 0x12_0c0de);
const REQUESTS = Number(process.env.WBEMD_FUZZ_REQUESTS ?? 3_000);
const IN_FLIGHT = 8;
/** The server's resident memory may grow this much over the run (it was ~20 MB when written). */
const RSS_GROWTH_LIMIT_MB = 200;

/** mulberry32: a small, well-mixed 32-bit PRNG; the same seed gives the same bodies. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sint = (value: number) => ({ kind: { $case: 'sint' as const, sint: BigInt(value) } });
const text = (string: string) => ({ kind: { $case: 'string' as const, string } });

/** Requests with more structure to mutate than VALID_REQUESTS: values, arrays, objects, methods, a context. */
const RICH: Partial<Record<RawMethod['key'], Buffer>> = {
  putClass: Buffer.from(
    PutClassRequest.encode({
      namespace: 'root/cimv2',
      object: cls(
        'Ex_Rich',
        '',
        [
          p('Id', CimType.CIM_STRING, { qualifiers: [q('Key')] }),
          p('Sizes', CimType.CIM_UINT32, {
            array: true,
            value: { kind: { $case: 'array', array: { values: [sint(1), sint(2)] } } },
          }),
          p('Inner', CimType.CIM_OBJECT, {
            value: { kind: { $case: 'object', object: keyed('Ex_Embedded') } },
          }),
        ],
        {
          qualifiers: [q('Description', text('fuzzed'))],
          methods: [
            {
              name: 'Run',
              returnType: CimType.CIM_UINT32,
              parameters: [
                {
                  name: 'Count',
                  type: CimType.CIM_SINT32,
                  array: false,
                  referenceClass: '',
                  embeddedClass: '',
                  in: true,
                  out: false,
                  qualifiers: [q('ID', sint(0))],
                },
              ],
              qualifiers: [],
              classOrigin: '',
              propagated: false,
            },
          ],
        },
      ),
      flags: 0x80,
      context: { values: { __CorrelationId: text('fuzz') } },
    }).finish(),
  ),
  compileMof: Buffer.from(
    CompileMofRequest.encode({
      namespace: 'root/cimv2',
      sources: [
        {
          name: 'fuzz.mof',
          text: '[Description("x")] class Ex_Mof { [Key] string Id; uint32 N = 3; };\ninstance of Ex_Mof { Id = "a"; };',
        },
      ],
      flags: 0,
      context: undefined,
      continueOnError: true,
    }).finish(),
  ),
};

type Mutation = 'random' | 'truncated' | 'bit-flipped' | 'spliced';

interface Case {
  readonly method: RawMethod;
  readonly mutation: Mutation;
  readonly body: Buffer;
}

function seedsOf(method: RawMethod): Buffer[] {
  const rich = RICH[method.key];
  return [VALID_REQUESTS[method.key][1], ...(rich === undefined ? [] : [rich])];
}

/** Request `index`: methods in turn, a mutation and its bytes from the PRNG. */
function makeCase(random: () => number, index: number): Case {
  const method = WBEM_METHODS[index % WBEM_METHODS.length] as RawMethod;
  const seeds = seedsOf(method);
  const seed = seeds[Math.floor(random() * seeds.length)] as Buffer;
  const int = (below: number): number => Math.floor(random() * below);
  const mutations: Mutation[] = ['random', 'truncated', 'bit-flipped', 'spliced'];
  const mutation = mutations[int(mutations.length)] as Mutation;
  switch (mutation) {
    case 'random':
      return {
        method,
        mutation,
        body: Buffer.from(Array.from({ length: int(96) }, () => int(256))),
      };
    case 'truncated':
      return { method, mutation, body: Buffer.from(seed.subarray(0, int(seed.length))) };
    case 'bit-flipped': {
      const body = Buffer.from(seed);
      for (let flips = 1 + int(4); flips > 0 && body.length > 0; flips--) {
        const at = int(body.length);
        body[at] = (body[at] ?? 0) ^ (1 << int(8));
      }
      return { method, mutation, body };
    }
    case 'spliced': {
      // A slice of the request copied over another place: lengths and tags out of step.
      const from = int(seed.length);
      const slice = seed.subarray(from, from + 1 + int(16));
      const at = int(seed.length);
      return {
        method,
        mutation,
        body: Buffer.concat([seed.subarray(0, at), slice, seed.subarray(at)]),
      };
    }
  }
}

/** How one call ended: its status, or that a watch was accepted (then cancelled by us). */
type Outcome = { readonly end: CallEnd } | { readonly acceptedWatch: true };

function send(client: Client, method: RawMethod, body: Buffer): Promise<Outcome> {
  const identity = (bytes: Buffer): Buffer => bytes;
  return new Promise((resolvePromise) => {
    if (!method.responseStream) {
      const call = client.makeUnaryRequest(
        method.path,
        identity,
        identity,
        body,
        new Metadata(),
        deadline(),
        () => undefined,
      );
      call.on('status', (status) => resolvePromise({ end: callEnd(status) }));
      return;
    }
    const call = client.makeServerStreamRequest(
      method.path,
      identity,
      identity,
      body,
      new Metadata(),
      deadline(),
    );
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    call.on('metadata', (headers: Metadata) => {
      // An accepted watch never ends by itself: that it was accepted is its answer.
      if (
        method.key === 'watchClassEvents' &&
        flatten(headers)['wbem-operation-id'] !== undefined
      ) {
        resolvePromise({ acceptedWatch: true });
        call.cancel();
      }
    });
    call.on('status', (status) => resolvePromise({ end: callEnd(status) }));
  });
}

/** What is wrong with an answer, or undefined: OK, or a WBEM status with its three encodings. */
function violation(outcome: Outcome): string | undefined {
  if ('acceptedWatch' in outcome) return undefined;
  const { end } = outcome;
  const status = end.trailers['wbem-status'];
  if (!WBEM_STATUS_NAMES.includes(status as WbemStatusName))
    return `${Code[end.code]} "${end.details}" without a wbem-status trailer`;
  const name = status as WbemStatusName;
  if (name === 'WBEM_E_FAILED')
    return `WBEM_E_FAILED "${end.details}" (a failure that is not the caller's)`;
  if (end.code !== GRPC_CODE[name]) return `${name} with gRPC ${Code[end.code]}`;
  if (end.trailers['wbem-hresult'] !== formatHresult(name))
    return `${name} with wbem-hresult ${end.trailers['wbem-hresult']}`;
  if (end.code === Code.OK) return undefined;
  const info = end.errorInfo;
  if (
    info?.reason !== name ||
    info.domain !== 'wbem.v1' ||
    info.metadata.hresult !== formatHresult(name)
  )
    return `${name} with ErrorInfo ${JSON.stringify(info)}`;
  return undefined;
}

interface ChildServer {
  readonly child: ChildProcess;
  readonly address: string;
}

async function startChild(dataDir: string): Promise<ChildServer> {
  const child = spawnServe(dataDir, ['--log-level', 'silent']);
  child.stderr.pipe(process.stderr);
  const lines = createInterface({ input: child.stdout });
  const [first] = (await once(lines, 'line')) as [string];
  const address = /^listening on (\S+)$/.exec(first)?.[1];
  if (address === undefined) throw new Error(`unexpected first line: ${first}`);
  return { child, address };
}

/** Resident memory of a process, from /proc (Linux). */
async function rssMegabytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kilobytes = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kilobytes === undefined) throw new Error('no VmRSS');
  return Number(kilobytes) / 1024;
}

function healthOf(health: HealthClient): Promise<string> {
  return new Promise((resolvePromise) =>
    health.check({ service: '' }, new Metadata(), deadline(), (error, response) =>
      resolvePromise(
        error === null ? HealthCheckResponse_ServingStatus[response.status] : `error ${error.code}`,
      ),
    ),
  );
}

test(`${REQUESTS} random, truncated and mutated bodies to every RPC (seed ${SEED}): OK or WBEM statuses, health SERVING, RSS bounded`, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-fuzz-'));
  const server = await startChild(dataDir);
  const client = rawClient(server.address);
  const health = new HealthClient(server.address, credentials.createInsecure());
  try {
    const random = prng(SEED);
    const cases = Array.from({ length: REQUESTS }, (_, index) => makeCase(random, index));
    const violations: string[] = [];
    const counts = new Map<string, number>();
    const run = async (slice: readonly Case[]): Promise<void> => {
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let at = next++; at < slice.length; at = next++) {
          const { method, mutation, body } = slice[at] as Case;
          const outcome = await send(client, method, body);
          const label =
            'acceptedWatch' in outcome
              ? 'watch accepted'
              : (outcome.end.trailers['wbem-status'] ?? Code[outcome.end.code]);
          counts.set(label, (counts.get(label) ?? 0) + 1);
          const wrong = violation(outcome);
          if (wrong !== undefined)
            violations.push(
              `${method.path} ${mutation} ${body.toString('hex').slice(0, 400)}: ${wrong}`,
            );
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    };
    // A warm-up tenth first, so the baseline is a server that has served every RPC.
    const warmUp = Math.floor(REQUESTS / 10);
    await run(cases.slice(0, warmUp));
    const baseline = await rssMegabytes(server.child.pid as number);
    await run(cases.slice(warmUp));
    const after = await rssMegabytes(server.child.pid as number);
    if (process.env.WBEMD_FUZZ_VERBOSE !== undefined)
      console.info({
        seed: SEED,
        requests: REQUESTS,
        counts: Object.fromEntries(counts),
        rssMb: [baseline, after],
      });
    expect(violations).toEqual([]);
    expect(await healthOf(health)).toBe('SERVING');
    expect(after - baseline).toBeLessThan(RSS_GROWTH_LIMIT_MB);
    expect(server.child.exitCode).toBeNull();
  } finally {
    client.close();
    health.close();
    const exited = once(server.child, 'exit');
    server.child.kill('SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}, 120_000);
