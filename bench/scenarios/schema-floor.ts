/**
 * P3's floors for `wbemd mofcomp --dmtf`. `bare-mofcomp.ts` in its own process does what the
 * command cannot avoid — Node's start, the cold compile, the requests encoded as the command
 * encodes them — and sends them with the command's own HTTP/2 sender (src/cli/grpc-h2.ts; a bare
 * grpc-js client until 2026-12-03), as many in flight as the command's default window, in the
 * command's dependency order, to one of two servers:
 * - the floor: how fast the command could load CIM 2.41 if the server cost nothing but grpc-js.
 *   wbemd's answer to one class's PutClassAsync (its final SetStatus) is recorded once; a bare
 *   grpc-js server (`bare-server.ts replay FILE PATH`, the same method path) answers every call
 *   with it;
 * - the floor with wbemd's contract: the skeleton (skeleton-server.ts, W1's and W2's floor), which
 *   decodes each request and answers once the class is durable (a synced LevelDB batch, group
 *   committed), with no rule, class model or log: what any server that acknowledges a durable
 *   class must do at least.
 * Its wall time, its CPU and the server's CPU are the floor.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WbemServicesService } from '../../generated/wbem/v1/services';
import { compileMof } from '../../src/mof/parser';
import { definitionToProto } from '../../src/transport/grpc/codec';
import { startNodeServer, startSkeleton, type ChildServer } from '../child-server';
import { faultsLine, type FirstTouch } from '../first-touch';
import { makeTempDir, removeTempDir, timedNodeRun, type RunFigures } from '../procs';
import { recordStream } from '../recorded-stream';
import { addRow, median } from '../report';
import { CIM_ENTRY, CIM_ROOT, DMTF_CONTEXT, NAMESPACE, WBEM } from '../requests';
import { freshWbemd } from './common';

const PUT_CLASS_ASYNC = `${WBEM}PutClassAsync`;

export interface RecordedAnswer {
  readonly file: string;
  readonly bytes: number;
  remove(): void;
}

/**
 * An answer of a fresh wbemd, recorded into a temp file by `record(address, file)` (which checks
 * it), kept until `remove()`.
 */
export async function recordFromFreshWbemd(
  name: string,
  record: (address: string, file: string) => Promise<{ readonly bytes: number }>,
): Promise<RecordedAnswer> {
  const dir = makeTempDir(`wbemd-bench-${name}-`);
  const wbemd = await freshWbemd(`${name}-record`);
  try {
    const file = join(dir, 'answer.bin');
    const { bytes } = await record(wbemd.address, file);
    return { file, bytes, remove: () => removeTempDir(dir) };
  } catch (error) {
    removeTempDir(dir);
    throw error;
  } finally {
    await wbemd.stop();
  }
}

/** wbemd's answer to the PutClassAsync of CIM_ManagedElement (`--dmtf`, a fresh server). */
export function recordClassAnswer(): Promise<RecordedAnswer> {
  return recordFromFreshWbemd('p3-floor', async (address, file) => {
    const core = join(CIM_ROOT, 'Core');
    const unit = compileMof('CIM_ManagedElement.mof', (path) =>
      readFileSync(join(core, path), 'utf8'),
    );
    const [root] = unit.classes;
    if (root === undefined) throw new Error('CIM_ManagedElement.mof holds no class');
    const request = WbemServicesService.putClassAsync.requestSerialize({
      namespace: NAMESPACE,
      object: definitionToProto(root.definition),
      flags: 0,
      context: DMTF_CONTEXT,
    });
    const recorded = await recordStream(address, PUT_CLASS_ASYNC, request, file);
    if (recorded.messages !== 1)
      throw new Error(`PutClassAsync answered ${recorded.messages} messages, not one final status`);
    return recorded;
  });
}

interface Phase {
  readonly ms: number;
  readonly cpuMs: number;
}

/** One run of bare-mofcomp (the client), with what it printed of its own phases. */
export interface FloorLoad extends RunFigures {
  readonly classes: number;
  readonly requestBytes: number;
  readonly beforeScriptMs: number;
  readonly phases: Readonly<Record<'modules' | 'compile' | 'encode' | 'send', Phase>>;
}

/** One run of the bare client against a fresh bare server answering with `answer`. */
export async function floorRun(answer: RecordedAnswer): Promise<FloorLoad> {
  return bareMofcompRun(
    await startNodeServer(resolve(__dirname, '../bare-server.js'), [
      'replay',
      answer.file,
      PUT_CLASS_ASYNC,
    ]),
  );
}

/** One run of the bare client against a fresh skeleton (the floor with wbemd's contract). */
export async function contractFloorRun(): Promise<FloorLoad> {
  return bareMofcompRun(await startSkeleton());
}

/** The bare client's run against `server`, which it stops. */
async function bareMofcompRun(server: ChildServer): Promise<FloorLoad> {
  try {
    const args = [
      resolve(__dirname, '../bare-mofcomp.js'),
      server.address,
      PUT_CLASS_ASYNC,
      join(CIM_ROOT, CIM_ENTRY),
    ];
    const { code, out, ...measured } = await timedNodeRun(args, server.pid);
    if (code !== 0) throw new Error(`bare-mofcomp failed (${code}): ${out.slice(-500)}`);
    const result = JSON.parse(out) as Omit<FloorLoad, keyof typeof measured> & {
      answered: number;
    };
    if (result.answered !== result.classes)
      throw new Error(`bare-mofcomp: ${result.answered} answers to ${result.classes} calls`);
    return { ...result, ...measured };
  } finally {
    await server.stop();
  }
}

/** The median over `loads` of what `pick` reads from each. */
function medianOf<T extends RunFigures>(loads: readonly T[], pick: (load: T) => number): number {
  return median(loads.map(pick));
}

/**
 * The rounds' wall times, then `(median …${about}; the client's CPU …, the ${server}'s …, … µs a
 * call)`: the part of a floor's line both floors print.
 */
function roundsAndCpu(loads: readonly FloorLoad[], server: string, about = ''): string {
  const serverCpuSec = medianOf(loads, (l) => l.serverCpuSec);
  const perCall = (serverCpuSec * 1e6) / (loads[0]?.classes ?? NaN);
  return `${loads.map((l) => `${l.ms.toFixed(0)} ms`).join(', ')} (median ${medianOf(loads, (l) => l.ms).toFixed(0)} ms${about}; the client's CPU ${medianOf(loads, (l) => l.clientCpuSec).toFixed(2)} s, the ${server}'s ${serverCpuSec.toFixed(2)} s (its main thread ${medianOf(loads, (l) => l.serverMainCpuSec).toFixed(2)} s), ${perCall.toFixed(0)} µs a call)`;
}

/** The floor's rows (info: the row's goal is the command's) and where its time went. */
export function reportFloor(loads: readonly FloorLoad[]): void {
  if (loads.length === 0) return;
  const med = (pick: (load: FloorLoad) => number): number => medianOf(loads, pick);
  const phase = (name: keyof FloorLoad['phases']): string =>
    `${name} ${med((l) => l.phases[name].ms).toFixed(0)} ms (CPU ${med((l) => l.phases[name].cpuMs).toFixed(0)} ms)`;
  const t = med((l) => l.ms);
  const sent = `, ${loads[0]?.classes} calls, ${((loads[0]?.requestBytes ?? 0) / 1e6).toFixed(2)} MB`;
  console.log(
    `  floor: the command's HTTP/2 sender (bare-mofcomp) → bare grpc-js server ${roundsAndCpu(loads, 'bare server', sent)}`,
  );
  console.log(
    `    client: Node's start to the script ${med((l) => l.beforeScriptMs).toFixed(0)} ms, ${phase('modules')}, ${phase('compile')}, ${phase('encode')}, ${phase('send')}`,
  );
  addRow({
    id: 'P3',
    figure: "floor of --dmtf: the command's HTTP/2 sender, bare server",
    measured: `${(t / 1e3).toFixed(2)} s`,
    goal: '(≤ 1.5 s)',
    status: 'info',
  });
  addRow({
    id: 'P3',
    figure: `floor: its send alone (${loads[0]?.classes} calls)`,
    measured: `${med((l) => l.phases.send.ms).toFixed(0)} ms, client CPU ${med((l) => l.phases.send.cpuMs).toFixed(0)} ms`,
    goal: '–',
    status: 'info',
  });
}

/**
 * The floor with wbemd's contract (info), beside wbemd's `--dmtf` runs of the same rounds: how much
 * longer wbemd took, and how much more CPU its server spent on its main thread and on its other
 * threads (V8's compiler and GC helpers, libuv's LevelDB writes) than the skeleton.
 */
export function reportContractFloor(
  loads: readonly FloorLoad[],
  wbemd: readonly RunFigures[],
  touch: FirstTouch,
): void {
  if (loads.length === 0) return;
  const t = medianOf(loads, (l) => l.ms);
  const main = (runs: readonly RunFigures[]): number => medianOf(runs, (l) => l.serverMainCpuSec);
  const others = (runs: readonly RunFigures[]): number =>
    medianOf(runs, (l) => l.serverCpuSec - l.serverMainCpuSec);
  const plus = (seconds: number): string =>
    `${seconds >= 0 ? '+' : '−'}${Math.abs(seconds).toFixed(2)} s`;
  console.log(
    `  floor with wbemd's contract: the same sender → the skeleton (each class decoded and made durable, no logic) ${roundsAndCpu(loads, 'skeleton')}`,
  );
  console.log(faultsLine(loads, { server: 'the skeleton', client: 'the client' }, touch));
  addRow({
    id: 'P3',
    figure: "floor of --dmtf with wbemd's contract: the command's sender, the skeleton",
    measured: `${(t / 1e3).toFixed(2)} s (wbemd ${(medianOf(wbemd, (l) => l.ms) / t).toFixed(2)}× it; its server's main thread ${plus(main(wbemd) - main(loads))}, its other threads ${plus(others(wbemd) - others(loads))})`,
    goal: '(≤ 1.5 s)',
    status: 'info',
  });
}
