/**
 * P3's runs of the command a user runs, `wbemd mofcomp --dmtf [--atomic]` of CIM 2.41, against a
 * server: a fresh wbemd, or for `--atomic`'s floor a bare grpc-js server (`bare-server.ts replay`)
 * answering the one CompileMof with wbemd's recorded answer (a progress event a class, then the
 * final status). The floor is what `--atomic` costs whatever the server does: the command (Node's
 * start, reading and sending 4 MB of MOF, reading 1,439 answers) and grpc-js receiving the request.
 * And each into a server that has run it before: the row with the server warm.
 */
import { join, resolve } from 'node:path';
import { encodeCompileMof } from '../../src/cli/compile-mof-codec';
import { scanSources } from '../../src/cli/mof-sources';
import { startNodeServer, type ChildServer } from '../child-server';
import { timedNodeRun, type RunFigures } from '../procs';
import { recordStream } from '../recorded-stream';
import { CIM_ENTRY, CIM_ROOT, DMTF_CONTEXT, FLAG, NAMESPACE, WBEM } from '../requests';
import { freshWbemd } from './common';
import { recordFromFreshWbemd, type RecordedAnswer } from './schema-floor';

export const COMPILE_MOF = `${WBEM}CompileMof`;

/** One run of the command (the client: the mofcomp command), and how many classes it wrote. */
export interface CommandLoad extends RunFigures {
  readonly classes: number;
}

const WBEMD = resolve(__dirname, '../../../bin/wbemd.js');

/** `wbemd mofcomp --dmtf [--atomic]` of CIM 2.41 into `namespace` of `server`. */
async function command(
  server: ChildServer,
  atomic: boolean,
  namespace = NAMESPACE,
): Promise<CommandLoad> {
  const args = [
    WBEMD,
    'mofcomp',
    '--server',
    server.address,
    '-N',
    namespace,
    '--dmtf',
    ...(atomic ? ['--atomic'] : []),
    join(CIM_ROOT, CIM_ENTRY),
  ];
  const { code, out, ...measured } = await timedNodeRun(args, server.pid);
  const match = /(\d+) of (\d+) classes/.exec(out);
  if (code !== 0 || match === null || match[1] !== match[2])
    throw new Error(
      `wbemd mofcomp ${atomic ? '--atomic ' : ''}failed (${code}): ${out.slice(-500)}`,
    );
  return { ...measured, classes: Number(match[1]) };
}

/** The command against `server`, which it stops. */
async function commandRun(server: ChildServer, atomic: boolean): Promise<CommandLoad> {
  try {
    return await command(server, atomic);
  } finally {
    await server.stop();
  }
}

/** The command into a fresh wbemd. */
export async function mofcompRun(atomic: boolean): Promise<CommandLoad> {
  return commandRun(await freshWbemd('p3'), atomic);
}

/**
 * The command into a server that has done the same before: one fresh wbemd, the command into
 * root/cimv2 (not counted), then into two namespaces of their own, each created first: its second
 * and third loads. What the row costs once the server's code is compiled and its memory in place;
 * beside the fresh server's figure, what a fresh process adds.
 */
export async function warmRuns(atomic: boolean): Promise<[CommandLoad, CommandLoad]> {
  const server = await freshWbemd(atomic ? 'p3-warm-atomic' : 'p3-warm');
  try {
    await command(server, atomic);
    const loads: CommandLoad[] = [];
    for (const namespace of ['root/p3warm2', 'root/p3warm3']) {
      const args = [WBEMD, 'namespace', 'create', namespace, '--server', server.address];
      const created = await timedNodeRun(args, server.pid);
      if (created.code !== 0) throw new Error(`namespace create ${namespace}: ${created.out}`);
      loads.push(await command(server, atomic, namespace));
    }
    return loads as [CommandLoad, CommandLoad];
  } finally {
    await server.stop();
  }
}

/**
 * Records the answer of the wbemd at `address` to the CompileMof `wbemd mofcomp --dmtf --atomic
 * ENTRY` sends (its sources found by the command's include scan, SEND_STATUS set) into `file`.
 */
export async function recordCompileMofAnswer(
  address: string,
  entry: string,
  file: string,
): Promise<{ readonly messages: number; readonly bytes: number }> {
  const scanned = scanSources(entry, []);
  if (scanned === undefined) throw new Error(`the include scan of ${entry} failed`);
  const request = encodeCompileMof({
    namespace: NAMESPACE,
    sources: scanned.sources,
    flags: FLAG.SEND_STATUS, // what `--atomic` adds, for the progress it reports
    context: DMTF_CONTEXT,
    continueOnError: false,
  });
  const recorded = await recordStream(address, COMPILE_MOF, request, file);
  // A progress event a class, then the final status (the command checks it is a success).
  if (recorded.messages < 2) throw new Error(`CompileMof answered ${recorded.messages} messages`);
  return recorded;
}

/** wbemd's answer to `--atomic`'s CompileMof of CIM 2.41, from a fresh server. */
export function recordCompileAnswer(): Promise<RecordedAnswer> {
  return recordFromFreshWbemd('p3-atomic', (address, file) =>
    recordCompileMofAnswer(address, join(CIM_ROOT, CIM_ENTRY), file),
  );
}

/** `--atomic`'s floor: the command against a fresh bare server replaying `answer`. */
export async function atomicFloorRun(answer: RecordedAnswer): Promise<CommandLoad> {
  const server = await startNodeServer(resolve(__dirname, '../bare-server.js'), [
    'replay',
    answer.file,
    COMPILE_MOF,
  ]);
  return commandRun(server, true);
}
