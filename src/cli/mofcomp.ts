/**
 * `wbemd mofcomp [--server HOST:PORT] [-N NAMESPACE] [flags] FILE…`: compiles MOF locally
 * (following #pragma include), then puts the classes through PutClassAsync in dependency order,
 * with a bounded window of calls in flight. Nothing is sent when any file fails to compile.
 */
import { Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Context } from '../../generated/wbem/v1/cim';
import { WbemStatus, wbemStatusToJSON } from '../../generated/wbem/v1/status';
import type {
  ObjectSinkEvent,
  SetStatus,
  WbemServicesClient,
} from '../../generated/wbem/v1/services';
import { DMTF_RULES } from '../domain/client-context';
import { classKey } from '../domain/names';
import { MofError } from '../mof/lexer';
import { compileMof, type MofClass } from '../mof/parser';
import { definitionToProto, valueToProto } from '../transport/grpc/codec';
import { connectToServer, parseClientCommand } from './client-command';
import { progressReporter } from './progress';

export const MOFCOMP_USAGE = `usage: wbemd mofcomp [--server HOST:PORT] [-N NAMESPACE] [options] FILE...

  --server HOST:PORT  the wbemd server (env WBEMD_SERVER; default 127.0.0.1:50051)
  -N, --namespace NS  target namespace (default root/cimv2; #pragma namespace overrides it)
  --create-only       WBEM_FLAG_CREATE_ONLY: fail on a class that exists
  --update-only       WBEM_FLAG_UPDATE_ONLY: fail on a class that does not exist
  --safe              WBEM_FLAG_UPDATE_SAFE_MODE
  --force             WBEM_FLAG_UPDATE_FORCE_MODE
  --dmtf              DSP0004's class rules where WMI is stricter (context __wbemd_DMTFRules)
  --continue          go on after a failed class (its subclasses are skipped)
  --atomic            one CompileMof call instead: all classes (and instances) or none (one FILE only);
                      needed for MOF with "instance of"
  --window N          calls in flight (default 16)
  --check             compile only; send nothing
`;

const FLAG = { CREATE_ONLY: 2, UPDATE_ONLY: 1, SAFE: 0x20, FORCE: 0x40 } as const;

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

export async function mofcomp(
  args: readonly string[],
  out: NodeJS.WriteStream,
  err: NodeJS.WriteStream,
): Promise<number> {
  const parsed = parseClientCommand(
    'mofcomp',
    MOFCOMP_USAGE,
    args,
    {
      'create-only': { type: 'boolean' },
      'update-only': { type: 'boolean' },
      safe: { type: 'boolean' },
      force: { type: 'boolean' },
      dmtf: { type: 'boolean' },
      continue: { type: 'boolean' },
      atomic: { type: 'boolean' },
      window: { type: 'string' },
      check: { type: 'boolean' },
    },
    out,
    err,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length === 0) {
    err.write(`wbemd mofcomp: no MOF file given\n${MOFCOMP_USAGE}`);
    return 2;
  }
  if (values.atomic === true && positionals.length !== 1) {
    err.write('wbemd mofcomp: --atomic compiles one FILE (with its includes)\n');
    return 2;
  }
  const window = values.window === undefined ? 16 : Number(values.window);
  if (!Number.isInteger(window) || window < 1 || window > 1024) {
    err.write('wbemd mofcomp: --window must be an integer from 1 to 1024\n');
    return 2;
  }
  // Flag conflicts (CREATE_ONLY with UPDATE_ONLY, two modes) are the server's to refuse, with its HRESULT.
  const flags =
    (values['create-only'] === true ? FLAG.CREATE_ONLY : 0) |
    (values['update-only'] === true ? FLAG.UPDATE_ONLY : 0) |
    (values.safe === true ? FLAG.SAFE : 0) |
    (values.force === true ? FLAG.FORCE : 0);

  // 1. Compile everything locally: a file that does not compile means nothing is sent.
  const classes: MofClass[] = [];
  let instanceCount = 0;
  const sources: { name: string; text: string }[] = [];
  for (const file of positionals) {
    try {
      const root = dirname(file);
      const unit = compileMof(basename(file), (path) => {
        const text = readFileSync(join(root, path), 'utf8');
        sources.push({ name: path, text });
        return text;
      });
      const [instance] = unit.instances;
      if (instance !== undefined && values.atomic !== true) {
        // Instance values are typed by their classes, which may be on the server: CompileMof does that.
        err.write(
          `${join(root, instance.at.file)}:${instance.at.line}:${instance.at.column}: instance of ${instance.className}: instances are compiled by the server; use --atomic; nothing sent\n`,
        );
        return 1;
      }
      instanceCount += unit.instances.length;
      classes.push(
        ...unit.classes.map((c) => ({ ...c, at: { ...c.at, file: join(root, c.at.file) } })),
      );
    } catch (error) {
      if (error instanceof MofError) {
        err.write(
          `${error.position.file === basename(file) ? file : join(dirname(file), error.position.file)}:${error.position.line}:${error.position.column}: ${error.reason}\n`,
        );
        return 1;
      }
      throw error;
    }
  }
  if (values.check === true) {
    out.write(`${classes.length} classes compiled; nothing sent (--check)\n`);
    return 0;
  }

  // 2. Put them in dependency order, `window` at a time.
  const namespace = values.namespace ?? 'root/cimv2';
  const context: Context | undefined =
    values.dmtf === true
      ? { values: { [DMTF_RULES]: valueToProto({ kind: 'boolean', value: true }) ?? {} } }
      : undefined;
  const client = connectToServer(values.server);
  const progress = progressReporter(out, classes.length + instanceCount);
  if (values.atomic === true) {
    try {
      const failure = await compileAtomically(
        client,
        { namespace, sources, flags, context, continueOnError: values.continue === true },
        () => progress.step(),
      );
      progress.done();
      if (failure !== undefined) {
        // The server names positions relative to the entry file; name them as the user did.
        const located = sources.some((source) => failure.startsWith(`${source.name}:`));
        err.write(`${located ? join(dirname(positionals[0] ?? ''), failure) : failure}\n`);
        out.write(
          `0 of ${classes.length} classes written to ${namespace} (--atomic: all or nothing)\n`,
        );
        return 1;
      }
      const andInstances =
        instanceCount > 0 ? ` and ${instanceCount} instance${instanceCount === 1 ? '' : 's'}` : '';
      out.write(
        `${classes.length} of ${classes.length} classes${andInstances} written to ${namespace} in one CompileMof\n`,
      );
      return 0;
    } finally {
      client.close();
    }
  }
  try {
    const result = await putAll(
      client,
      dependencyPlan(classes),
      { namespace, flags, context, window, continueOnError: values.continue === true },
      () => progress.step(),
    );
    progress.done();
    for (const failure of result.failures.slice(0, 20)) err.write(`${failure}\n`);
    if (result.failures.length > 20)
      err.write(`… and ${result.failures.length - 20} more failures\n`);
    out.write(
      `${result.written} of ${classes.length} classes written to ${namespace}${result.failures.length > 0 ? `, ${result.failures.length} failed` : ''}${result.skipped > 0 ? `, ${result.skipped} not sent` : ''}\n`,
    );
    return result.failures.length === 0 && result.skipped === 0 ? 0 : 1;
  } finally {
    client.close();
  }
}

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
  onProgress: () => void = () => undefined,
): Promise<SinkOutcome> {
  return new Promise((resolvePromise) => {
    let final: SetStatus | undefined;
    call.on('data', (event: ObjectSinkEvent) => {
      if (event.event?.$case === 'progress') onProgress();
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

/** One CompileMof: the server's all-or-nothing write; progress events drive `onProgress`. */
async function compileAtomically(
  client: WbemServicesClient,
  request: {
    namespace: string;
    sources: { name: string; text: string }[];
    flags: number;
    context: Context | undefined;
    continueOnError: boolean;
  },
  onProgress: () => void,
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
