/**
 * `wbemd mofcomp [--server HOST:PORT] [-N NAMESPACE] [flags] FILE…`: compiles MOF locally
 * (following #pragma include), then puts the classes through PutClassAsync in dependency order,
 * with a bounded window of calls in flight. Nothing is sent when any file fails to compile.
 * `--atomic` sends the file and its includes to the server's CompileMof uncompiled instead: the
 * server compiles them, and writes nothing unless all of them compile and pass the rules (D29).
 */
import { basename, dirname } from 'node:path';
import type { Context } from '../../generated/wbem/v1/cim';
import { MofError } from '../mof/lexer';
import { compileMof, type MofClass } from '../mof/parser';
import {
  callHeaders,
  CONNECTION_USAGE,
  parseClientCommand,
  serverTarget,
  type ServerTarget,
} from './client-command';
import { dialsItself, H2Channel } from './grpc-h2';
import { contextFromProto } from '../transport/grpc/from-proto';
import type { CheckedFile } from './mof-check';
import { memberPosition } from './mof-positions';
import { includeReader, scanSources, SourcePaths } from './mof-sources';
import {
  DEFAULT_WINDOW,
  dependencyPlan,
  DMTF_CONTEXT,
  h2Compiler,
  h2Sender,
  putAll,
  type ClassSender,
  type MofCompiler,
} from './mofcomp-send';
import { progressReporter } from './progress';

export { dependencyPlan, putAll };

export const MOFCOMP_USAGE = `usage: wbemd mofcomp [--server HOST:PORT] [-N NAMESPACE] [options] FILE...

${CONNECTION_USAGE}  -N, --namespace NS  target namespace (default root/cimv2; #pragma namespace overrides it)
  --create-only       WBEM_FLAG_CREATE_ONLY: fail on a class that exists
  --update-only       WBEM_FLAG_UPDATE_ONLY: fail on a class that does not exist
  --safe              WBEM_FLAG_UPDATE_SAFE_MODE
  --force             WBEM_FLAG_UPDATE_FORCE_MODE
  --dmtf              DSP0004's class rules where WMI is stricter (context __wbemd_DMTFRules)
  --continue          go on after a failed class (its subclasses are skipped)
  --atomic            one CompileMof call instead: all classes (and instances) or none (one FILE only);
                      needed for MOF with "instance of"
  --window N          calls in flight (default 64)
  -I, --include DIR   also look for #pragma include files in DIR (after the including file's
                      directory; repeatable, searched in order)
  --check             compile and apply the class rules here, with no server; send nothing
`;

/** `SEND_STATUS`: `--atomic` asks for the server's progress (to report it and count what was written). */
const FLAG = {
  CREATE_ONLY: 2,
  UPDATE_ONLY: 1,
  SAFE: 0x20,
  FORCE: 0x40,
  SEND_STATUS: 0x80,
} as const;

export async function mofcomp(
  args: readonly string[],
  out: NodeJS.WriteStream,
  err: NodeJS.WriteStream,
): Promise<number> {
  const run = parseMofcompArgs(args, out, err);
  if (typeof run === 'number') return run;
  if (run.atomic && !run.check) {
    // --atomic: the server compiles the file and writes nothing unless all of it compiles, so it is
    // sent as the include scan finds it, not compiled here first (D29); only a failure compiles it
    // here, to report a compile error exactly as when nothing was sent.
    const scanned = scanSources(run.files[0] as string, run.includeDirs);
    if (scanned !== undefined)
      return withCalls(run, (calls) => sendAtomically(calls, run, scanned, undefined, out, err));
  }
  // 1. Compile everything locally: a file that does not compile means nothing is sent.
  const compiled = compileFiles(run, err);
  if (typeof compiled === 'number') return compiled;
  if (run.check) return checkCompiled(run, compiled, out, err);
  // 2. Put them in dependency order, `window` at a time (or --atomic: one CompileMof).
  const [file] = compiled.files;
  if (run.atomic && file !== undefined)
    return withCalls(run, (calls) => sendAtomically(calls, run, file, compiled, out, err));
  return withCalls(run, (calls) => sendByClass(calls.putClass, run, compiled, out, err));
}

/** The two calls mofcomp makes. */
interface MofcompCalls {
  readonly putClass: ClassSender;
  readonly compileMof: MofCompiler;
}

/**
 * The calls go straight to an HTTP/2 session (grpc-h2.ts, D81) when the address is HOST:PORT,
 * through grpc-js's client for any other target.
 */
async function withCalls(
  run: MofcompRun,
  use: (calls: MofcompCalls) => Promise<number>,
): Promise<number> {
  const { address, tls } = run.target;
  if (!dialsItself(address)) return withGrpcJs(run, use);
  const channel = new H2Channel(address, {
    ...(tls === undefined ? {} : { tls }),
    headers: callHeaders(run.target),
  });
  try {
    return await use({ putClass: h2Sender(channel), compileMof: h2Compiler(channel) });
  } finally {
    channel.close();
  }
}

async function withGrpcJs(
  run: MofcompRun,
  use: (calls: MofcompCalls) => Promise<number>,
): Promise<number> {
  // Loaded only here: grpc-js and the generated services are ≈ 50 ms of the command's start.
  const grpc = await import('./mofcomp-grpc.js');
  const client = grpc.connectToServer(run.target);
  try {
    return await use({
      putClass: grpc.grpcJsSender(client),
      compileMof: grpc.grpcJsCompiler(client),
    });
  } finally {
    client.close();
  }
}

/** The command line, checked. */
interface MofcompRun {
  readonly files: readonly string[];
  readonly target: ServerTarget;
  readonly namespace: string;
  readonly flags: number;
  readonly context: Context | undefined;
  readonly window: number;
  readonly atomic: boolean;
  readonly continueOnError: boolean;
  readonly check: boolean;
  readonly includeDirs: readonly string[];
}

/** What the files compiled to, and their text (which --atomic sends), file by file. */
interface Compiled {
  readonly classes: MofClass[];
  readonly instanceCount: number;
  readonly files: CheckedFile[];
}

/** Parses and checks the arguments; returns the exit status when they are done with already. */
function parseMofcompArgs(
  args: readonly string[],
  out: NodeJS.WriteStream,
  err: NodeJS.WriteStream,
): MofcompRun | number {
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
      include: { type: 'string', short: 'I', multiple: true },
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
  const window = values.window === undefined ? DEFAULT_WINDOW : Number(values.window);
  if (!Number.isInteger(window) || window < 1 || window > 1024) {
    err.write('wbemd mofcomp: --window must be an integer from 1 to 1024\n');
    return 2;
  }
  const target = serverTarget('mofcomp', values, err);
  if (typeof target === 'number') return target;
  return {
    files: positionals,
    target,
    namespace: values.namespace ?? 'root/cimv2',
    // Flag conflicts (CREATE_ONLY with UPDATE_ONLY, two modes) are the server's to refuse, with its HRESULT.
    flags:
      (values['create-only'] === true ? FLAG.CREATE_ONLY : 0) |
      (values['update-only'] === true ? FLAG.UPDATE_ONLY : 0) |
      (values.safe === true ? FLAG.SAFE : 0) |
      (values.force === true ? FLAG.FORCE : 0),
    context: values.dmtf === true ? DMTF_CONTEXT : undefined,
    window,
    atomic: values.atomic === true,
    continueOnError: values.continue === true,
    check: values.check === true,
    includeDirs: values.include ?? [],
  };
}

/** Compiles every file (with its includes); returns exit status 1 when one does not compile. */
function compileFiles(run: MofcompRun, err: NodeJS.WriteStream): Compiled | number {
  const classes: MofClass[] = [];
  let instanceCount = 0;
  const files: CheckedFile[] = [];
  for (const file of run.files) {
    // By name, in reading order: a file included twice is one source (CompileMof refuses a source
    // sent twice), and 1,441 files are not each compared with all before them.
    const texts = new Map<string, string>();
    const diskPaths = new SourcePaths();
    const { locate } = diskPaths;
    try {
      const read = includeReader(dirname(file), run.includeDirs, (name, text, diskPath) => {
        if (!texts.has(name)) texts.set(name, text);
        diskPaths.set(name, diskPath);
      });
      const unit = compileMof(basename(file), read);
      files.push({ sources: [...texts].map(([name, text]) => ({ name, text })), locate });
      const [instance] = unit.instances;
      if (instance !== undefined && !run.atomic && !run.check) {
        // Instance values are typed by their classes, which may be on the server: CompileMof does that.
        err.write(
          `${locate(`${instance.at.file}:${instance.at.line}:${instance.at.column}`)}: instance of ${instance.className}: instances are compiled by the server; use --atomic; nothing sent\n`,
        );
        return 1;
      }
      instanceCount += unit.instances.length;
      classes.push(
        ...unit.classes.map((c) => ({
          ...c,
          at: { ...c.at, file: locate(`${c.at.file}:`).slice(0, -1) },
        })),
      );
    } catch (error) {
      if (error instanceof MofError) {
        const at = error.position;
        err.write(`${locate(`${at.file}:${at.line}:${at.column}`)}: ${error.reason}\n`);
        return 1;
      }
      throw error;
    }
  }
  return { classes, instanceCount, files };
}

/** --check: the class rules applied here (mof-check.ts); nothing is sent. */
async function checkCompiled(
  run: MofcompRun,
  compiled: Compiled,
  out: NodeJS.WriteStream,
  err: NodeJS.WriteStream,
): Promise<number> {
  // Loaded only for --check: it brings an in-process service and store (≈ 20 ms of every other
  // mofcomp's start, issue #13's P3).
  const { checkLocally } = await import('./mof-check.js');
  const failures = await checkLocally(compiled.files, {
    namespace: run.namespace,
    flags: run.flags,
    context: contextFromProto(run.context),
    continueOnError: run.continueOnError,
  });
  for (const failure of failures) err.write(`${failure}\n`);
  const andInstances = compiled.instanceCount > 0 ? ` and ${compiled.instanceCount} instances` : '';
  out.write(
    failures.length === 0
      ? `${compiled.classes.length} classes${andInstances} compiled and checked; nothing sent (--check)\n`
      : `${failures.length} of ${compiled.files.length} files failed the class rules; nothing sent (--check)\n`,
  );
  return failures.length === 0 ? 0 : 1;
}

/**
 * --atomic: one CompileMof of `file`'s sources, and its report. `compiled` is the command's own
 * compile of them, if it made one; without it the counts come from the server's progress events
 * (one a class, then one an instance: `instance of …`), and a failure compiles here first, so
 * that a compile error reads as the command's own (`file:line:column: reason`, exit status 1).
 */
async function sendAtomically(
  { compileMof }: MofcompCalls,
  run: MofcompRun,
  file: CheckedFile,
  compiled: Compiled | undefined,
  out: NodeJS.WriteStream,
  err: NodeJS.WriteStream,
): Promise<number> {
  const { namespace, flags, context, continueOnError } = run;
  let progress =
    compiled === undefined
      ? undefined
      : progressReporter(out, compiled.classes.length + compiled.instanceCount);
  const counted = { classes: 0, instances: 0 };
  const failure = await compileMof(
    { namespace, sources: file.sources, flags: flags | FLAG.SEND_STATUS, context, continueOnError },
    ({ total, message }) => {
      progress ??= progressReporter(out, total);
      if (message.startsWith('instance of ')) counted.instances++;
      else counted.classes++;
      progress.step();
    },
  );
  if (failure !== undefined) {
    const known = compiled ?? compileFiles(run, err);
    if (typeof known === 'number') return known;
    (progress ?? progressReporter(out, known.classes.length + known.instanceCount)).done();
    // The server names positions relative to the entry file; name them as the user did.
    const texts = new Map(file.sources.map((source) => [source.name, source.text]));
    err.write(`${file.locate(memberPosition(failure, texts))}\n`);
    out.write(
      `0 of ${known.classes.length} classes written to ${namespace} (--atomic: all or nothing)\n`,
    );
    return 1;
  }
  (progress ?? progressReporter(out, 0)).done();
  const classes = compiled?.classes.length ?? counted.classes;
  const instances = compiled?.instanceCount ?? counted.instances;
  const andInstances =
    instances > 0 ? ` and ${instances} instance${instances === 1 ? '' : 's'}` : '';
  out.write(
    `${classes} of ${classes} classes${andInstances} written to ${namespace} in one CompileMof\n`,
  );
  return 0;
}

/** One PutClassAsync per class, in dependency order, and the report. */
async function sendByClass(
  send: ClassSender,
  run: MofcompRun,
  { classes }: Compiled,
  out: NodeJS.WriteStream,
  err: NodeJS.WriteStream,
): Promise<number> {
  const { namespace, flags, context, window, continueOnError } = run;
  const progress = progressReporter(out, classes.length);
  const result = await putAll(
    send,
    dependencyPlan(classes),
    { namespace, flags, context, window, continueOnError },
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
}
