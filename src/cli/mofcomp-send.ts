/**
 * How `wbemd mofcomp` sends compiled classes: PutClassAsync per class in dependency order with a
 * bounded window of calls in flight, or one CompileMof (--atomic).
 */
import type { Context } from '../../generated/wbem/v1/cim';
import { WbemStatus, wbemStatusToJSON } from '../../generated/wbem/v1/status';
import { DMTF_RULES } from '../domain/client-context';
import { classKey } from '../domain/names';
import type { MofClass } from '../mof/parser';
import { valueToProto } from '../transport/grpc/codec';
import { encodeCompileMof, type CompileMofPut } from './compile-mof-codec';
import type { CallEnd, H2Channel } from './grpc-h2';
import { encodeClassPut, type ClassPut } from './put-class-codec';
import {
  finalStatusOf,
  progressOf,
  type FinalStatus,
  type ProgressEvent,
} from './sink-event-codec';

/** The context `--dmtf` sends: DSP0004's class rules where WMI is stricter (__wbemd_DMTFRules). */
export const DMTF_CONTEXT: Context = {
  values: { [DMTF_RULES]: valueToProto({ kind: 'boolean', value: true }) ?? {} },
};

interface PlannedClass {
  readonly mofClass: MofClass;
  /** Indexes of earlier classes that must be written first (superclass, earlier definition). */
  readonly after: readonly number[];
}

/** Which earlier classes each class waits for: its superclass and an earlier definition of itself. */
export function dependencyPlan(classes: readonly MofClass[]): PlannedClass[] {
  const latest = new Map<string, number>();
  return classes.map((mofClass, index) => {
    const after: number[] = [];
    const self = `${mofClass.namespace}\u0000${classKey(mofClass.definition.name)}`;
    const earlier = latest.get(self);
    if (earlier !== undefined) after.push(earlier);
    if (mofClass.definition.superclass !== '') {
      const parent = latest.get(
        `${mofClass.namespace}\u0000${classKey(mofClass.definition.superclass)}`,
      );
      if (parent !== undefined) after.push(parent);
    }
    latest.set(self, index);
    return { mofClass, after };
  });
}

/**
 * PutClassAsync calls in flight by default. The command is the slower side of `--dmtf` (grpc-js
 * spends ≈ 0.7 ms of its CPU a call), so the server's group commit gathers only the calls that
 * arrived during the previous sync whatever the window; a deeper window keeps calls queued while
 * the command is descheduled or collecting garbage. CIM 2.41 with `--dmtf` into a fresh server,
 * alternating (docs/performance.md, P3, 2026-12-03): 16 ≈ 1.76 s, 32–128 ≈ 1.60 s, with ≈ 5–8%
 * less server CPU a class; 64 is well below a server's default limit of calls (1,024).
 */
export const DEFAULT_WINDOW = 64;

interface PutOptions {
  readonly namespace: string;
  readonly flags: number;
  readonly context: Context | undefined;
  readonly window: number;
  readonly continueOnError: boolean;
}

/** One class's PutClassAsync, sent and read to its end. */
export type ClassSender = (request: ClassPut) => Promise<SinkOutcome>;

const PUT_CLASS_ASYNC = '/wbem.v1.WbemServices/PutClassAsync';

/** PutClassAsync written to an HTTP/2 session directly (grpc-h2.ts; D81): the same request bytes. */
export function h2Sender(channel: H2Channel): ClassSender {
  return async (request) =>
    outcomeOfCall(await channel.serverStream(PUT_CLASS_ASYNC, encodeClassPut(request)));
}

/**
 * `--atomic`'s one CompileMof, sent as given (the caller sets SEND_STATUS), each progress event to
 * `onProgress`; resolves with the failure (its reason and WbemStatus), or undefined when every
 * class was written.
 */
export type MofCompiler = (
  request: CompileMofPut,
  onProgress: (progress: ProgressEvent) => void,
) => Promise<string | undefined>;

const COMPILE_MOF = '/wbem.v1.WbemServices/CompileMof';

/** CompileMof written to an HTTP/2 session directly, as h2Sender's calls are. */
export function h2Compiler(channel: H2Channel): MofCompiler {
  return async (request, onProgress) => {
    const end = await channel.serverStream(COMPILE_MOF, encodeCompileMof(request), (message) => {
      const progress = progressOf(message);
      if (progress !== undefined) onProgress(progress);
    });
    return failureOf(outcomeOfCall(end));
  };
}

/** A failed outcome as mofcomp reports it (`reason (WBEM_E_…)`); undefined for success. */
export function failureOf(outcome: SinkOutcome): string | undefined {
  return outcome.ok
    ? undefined
    : `${outcome.reason}${outcome.status === '' ? '' : ` (${outcome.status})`}`;
}

/**
 * Runs the plan: each class once everything it waits for succeeded; at most `window` at a time,
 * in plan order among those ready. A class's turn comes from its dependencies' outcomes (a count of
 * those not yet written, a list of who waits for each), not from a scan of the plan: a scan per
 * outcome made a chain of n classes n²/2 checks (a 20,000-level chain: ≈ 2 s of the command's CPU).
 */
export async function putAll(
  send: ClassSender,
  plan: readonly PlannedClass[],
  options: PutOptions,
  onDone: () => void,
): Promise<{ written: number; failures: string[]; skipped: number }> {
  const state = plan.map((): 'waiting' | 'running' | 'ok' | 'failed' => 'waiting');
  const unwritten = plan.map((item) => item.after.length);
  const { waitingFor, ready } = dependents(plan);
  const failures: string[] = [];
  let written = 0;
  let stopped = false;
  let running = 0;
  // With --continue, what waits for a failed class fails too, in plan order, without being sent.
  const failWaiting = (failed: number): void => {
    const failing = new IndexHeap(waitingFor[failed]);
    while (failing.size > 0) {
      const index = failing.pop();
      const item = plan[index] as PlannedClass;
      if (state[index] !== 'waiting') continue;
      state[index] = 'failed';
      failures.push(
        `${where(item.mofClass)}: class ${item.mofClass.definition.name}: not sent, a class it depends on failed`,
      );
      onDone();
      for (const next of waitingFor[index] ?? []) failing.push(next);
    }
  };
  return new Promise((resolvePromise) => {
    const pump = (): void => {
      while (running < options.window && !stopped && ready.size > 0) {
        const index = ready.pop();
        state[index] = 'running';
        running++;
        void putOne(send, (plan[index] as PlannedClass).mofClass, options).then((failure) => {
          running--;
          if (failure === undefined) {
            state[index] = 'ok';
            written++;
            for (const next of waitingFor[index] ?? []) {
              const left = (unwritten[next] ?? 1) - 1;
              unwritten[next] = left;
              if (left === 0 && state[next] === 'waiting') ready.push(next);
            }
          } else {
            state[index] = 'failed';
            failures.push(failure);
          }
          onDone();
          if (failure !== undefined && !options.continueOnError) stopped = true;
          else if (failure !== undefined) failWaiting(index);
          pump();
        });
      }
      if (running === 0 && (stopped || ready.size === 0))
        resolvePromise({ written, failures, skipped: state.filter((s) => s === 'waiting').length });
    };
    pump();
  });
}

/** Who waits for each class of the plan, and the classes that wait for none. */
function dependents(plan: readonly PlannedClass[]): {
  readonly waitingFor: readonly number[][];
  readonly ready: IndexHeap;
} {
  const waitingFor: number[][] = plan.map(() => []);
  const ready = new IndexHeap();
  for (const [index, item] of plan.entries()) {
    for (const dependency of item.after) waitingFor[dependency]?.push(index);
    if (item.after.length === 0) ready.push(index);
  }
  return { waitingFor, ready };
}

/** Plan indexes, smallest first (a binary heap). */
class IndexHeap {
  readonly #items: number[] = [];

  constructor(indexes: readonly number[] = []) {
    for (const index of indexes) this.push(index);
  }

  get size(): number {
    return this.#items.length;
  }

  push(index: number): void {
    const items = this.#items;
    let at = items.push(index) - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if ((items[parent] as number) <= index) break;
      items[at] = items[parent] as number;
      at = parent;
    }
    items[at] = index;
  }

  /** The smallest index (the heap is not empty). */
  pop(): number {
    const items = this.#items;
    const top = items[0] as number;
    const last = items.pop() as number;
    if (items.length === 0) return top;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child =
        right < items.length && (items[right] as number) < (items[left] as number) ? right : left;
      if ((items[child] as number) >= last) break;
      items[at] = items[child] as number;
      at = child;
    }
    items[at] = last;
    return top;
  }
}

function where(mofClass: MofClass): string {
  return `${mofClass.at.file}:${mofClass.at.line}:${mofClass.at.column}`;
}

/** How an object-sink stream ended: success, or the WbemStatus name and the reason. */
export type SinkOutcome =
  { readonly ok: true } | { readonly ok: false; readonly status: string; readonly reason: string };

/** A final SetStatus as the outcome mofcomp reports. */
export function fromFinal(status: FinalStatus): SinkOutcome {
  return status.hresult === WbemStatus.WBEM_S_NO_ERROR
    ? { ok: true }
    : { ok: false, status: wbemStatusToJSON(status.hresult), reason: status.param };
}

/**
 * The same reading as mofcomp-grpc.ts's sinkOutcome, of a call that has ended (grpc-h2.ts): the final SetStatus
 * if one came, whatever the gRPC status; else a non-OK status with the WbemStatus its trailers
 * name; else an OK stream without a final status, a failure too.
 */
function outcomeOfCall(end: CallEnd): SinkOutcome {
  let final: FinalStatus | undefined;
  for (const message of end.messages) final = finalStatusOf(message) ?? final;
  if (final !== undefined) return fromFinal(final);
  if (end.code === 0) return { ok: false, status: '', reason: 'no final status' };
  const name = end.metadata['wbem-status'];
  return { ok: false, status: typeof name === 'string' ? name : '', reason: end.details };
}

/** One PutClassAsync; resolves with a failure line, or undefined on success. */
async function putOne(
  send: ClassSender,
  mofClass: MofClass,
  options: PutOptions,
): Promise<string | undefined> {
  const namespace = mofClass.namespace === '' ? options.namespace : mofClass.namespace;
  const outcome = await send({
    namespace,
    definition: mofClass.definition,
    flags: options.flags,
    ...(options.context === undefined ? {} : { context: options.context }),
  });
  if (outcome.ok) return undefined;
  return `${where(mofClass)}: class ${mofClass.definition.name}: ${outcome.status === '' ? '' : `${outcome.status}: `}${outcome.reason}`;
}
