/**
 * How `wbemd mofcomp` sends compiled classes: PutClassAsync per class in dependency order with a
 * bounded window of calls in flight, or one CompileMof (--atomic).
 */
import { Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import type { Context } from '../../generated/wbem/v1/cim';
import { WbemStatus, wbemStatusToJSON } from '../../generated/wbem/v1/status';
import type {
  ObjectSinkEvent,
  Progress,
  SetStatus,
  WbemServicesClient,
} from '../../generated/wbem/v1/services';
import { classKey } from '../domain/names';
import type { MofClass } from '../mof/parser';
import { definitionToProto } from '../transport/grpc/codec';

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

/** Runs the plan: each class once everything it waits for succeeded; at most `window` at a time. */
export async function putAll(
  client: WbemServicesClient,
  plan: readonly PlannedClass[],
  options: PutOptions,
  onDone: () => void,
): Promise<{ written: number; failures: string[]; skipped: number }> {
  const state = plan.map(() => 'waiting');
  const failures: string[] = [];
  let written = 0;
  let stopped = false;
  let next = 0; // classes before `next` have all been started or settled
  return new Promise((resolvePromise) => {
    let running = 0;
    const pump = (): void => {
      for (let index = next; index < plan.length && running < options.window && !stopped; index++) {
        if (state[index] !== 'waiting') continue;
        const item = plan[index] as PlannedClass;
        if (item.after.some((dependency) => state[dependency] === 'failed')) {
          state[index] = 'failed';
          failures.push(
            `${where(item.mofClass)}: class ${item.mofClass.definition.name}: not sent, a class it depends on failed`,
          );
          onDone();
          continue;
        }
        if (!item.after.every((dependency) => state[dependency] === 'ok')) continue;
        state[index] = 'running';
        running++;
        void putOne(client, item.mofClass, options).then((failure) => {
          running--;
          if (failure === undefined) {
            state[index] = 'ok';
            written++;
          } else {
            state[index] = 'failed';
            failures.push(failure);
            if (!options.continueOnError) stopped = true;
          }
          onDone();
          pump();
        });
      }
      while (next < plan.length && state[next] !== 'waiting') next++;
      if (running === 0 && (stopped || next >= plan.length)) {
        resolvePromise({ written, failures, skipped: state.filter((s) => s === 'waiting').length });
      }
    };
    pump();
  });
}

function where(mofClass: MofClass): string {
  return `${mofClass.at.file}:${mofClass.at.line}:${mofClass.at.column}`;
}

/** How an object-sink stream ended: success, or the WbemStatus name and the reason. */
type SinkOutcome =
  { readonly ok: true } | { readonly ok: false; readonly status: string; readonly reason: string };

/**
 * Reads one object-sink stream (PutClassAsync, CompileMof) to its end. A failure ends with the
 * final SetStatus, then a non-OK gRPC status ('error'); a call rejected at once has only the gRPC
 * status, whose trailers carry the same WbemStatus. A stream that ends without a final status is
 * a failure too.
 */
function sinkOutcome(
  call: ClientReadableStream<ObjectSinkEvent>,
  onProgress: (progress: Progress) => void = () => undefined,
): Promise<SinkOutcome> {
  return new Promise((resolvePromise) => {
    let final: SetStatus | undefined;
    call.on('data', (event: ObjectSinkEvent) => {
      if (event.event?.$case === 'progress') onProgress(event.event.progress);
      else if (event.event?.$case === 'status') final = event.event.status;
    });
    const fromFinal = (status: SetStatus): SinkOutcome =>
      status.hresult === WbemStatus.WBEM_S_NO_ERROR
        ? { ok: true }
        : { ok: false, status: wbemStatusToJSON(status.hresult), reason: status.param };
    call.on('error', (error: Error & { details?: string; metadata?: Metadata }) => {
      if (final !== undefined) return resolvePromise(fromFinal(final));
      const name = error.metadata?.get('wbem-status')[0];
      resolvePromise({
        ok: false,
        status: typeof name === 'string' ? name : '',
        reason: error.details ?? error.message,
      });
    });
    call.on('end', () =>
      resolvePromise(
        final === undefined
          ? { ok: false, status: '', reason: 'no final status' }
          : fromFinal(final),
      ),
    );
  });
}

/** One PutClassAsync; resolves with a failure line, or undefined on success. */
async function putOne(
  client: WbemServicesClient,
  mofClass: MofClass,
  options: PutOptions,
): Promise<string | undefined> {
  const namespace = mofClass.namespace === '' ? options.namespace : mofClass.namespace;
  const outcome = await sinkOutcome(
    client.putClassAsync(
      {
        namespace,
        object: definitionToProto(mofClass.definition),
        flags: options.flags,
        ...(options.context === undefined ? {} : { context: options.context }),
      },
      new Metadata(),
    ),
  );
  if (outcome.ok) return undefined;
  return `${where(mofClass)}: class ${mofClass.definition.name}: ${outcome.status === '' ? '' : `${outcome.status}: `}${outcome.reason}`;
}

const SEND_STATUS = 0x80;

/** One CompileMof: the server's all-or-nothing write; each progress event goes to `onProgress`. */
export async function compileAtomically(
  client: WbemServicesClient,
  request: {
    namespace: string;
    sources: { name: string; text: string }[];
    flags: number;
    context: Context | undefined;
    continueOnError: boolean;
  },
  onProgress: (progress: Progress) => void,
): Promise<string | undefined> {
  const outcome = await sinkOutcome(
    client.compileMof(
      {
        namespace: request.namespace,
        sources: request.sources,
        flags: request.flags | SEND_STATUS,
        continueOnError: request.continueOnError,
        ...(request.context === undefined ? {} : { context: request.context }),
      },
      new Metadata(),
    ),
    onProgress,
  );
  return outcome.ok
    ? undefined
    : `${outcome.reason}${outcome.status === '' ? '' : ` (${outcome.status})`}`;
}
