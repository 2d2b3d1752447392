/**
 * P3's floor for `wbemd mofcomp --dmtf`: what the command cannot avoid, in its own process.
 *   node bare-mofcomp.js ADDRESS METHOD ENTRY [--window N]
 * It does what the command does before and while it sends, and nothing else: its Node start, the
 * cold compile of ENTRY (the command's compiler), each class's PutClassAsync request encoded as
 * the command encodes it (`--dmtf`: the DMTF context; flags 0; src/cli/put-class-codec.ts), then
 * the requests written to one HTTP/2 session by the command's own sender (src/cli/grpc-h2.ts, D81;
 * the answers only counted, not decoded), `--window` (the command's default, DEFAULT_WINDOW) in
 * flight, in the command's dependency order: a class starts once its superclass's call has ended.
 * METHOD is the path to call (the bare server's replay of wbemd's answer, `bare-server.ts replay
 * FILE PATH`). It prints one JSON line: each phase's wall time and this process's CPU (all
 * threads). Until 2026-12-03 (05:00) the command and this floor sent through a bare grpc-js client.
 */
import { readFileSync } from 'node:fs';
import type { H2Channel } from '../src/cli/grpc-h2';
import { basename, dirname, join } from 'node:path';

const startedAt = performance.now();
const cpuAtStart = process.cpuUsage();

interface Phase {
  readonly ms: number;
  readonly cpuMs: number;
}

/** Wall and CPU since the last mark. */
function phases(): (name: string) => void {
  let wallAt = performance.now();
  let cpuAt = process.cpuUsage();
  return (name) => {
    const cpu = process.cpuUsage(cpuAt);
    const now = performance.now();
    measured[name] = { ms: now - wallAt, cpuMs: (cpu.user + cpu.system) / 1e3 };
    wallAt = now;
    cpuAt = process.cpuUsage();
  };
}
const measured: Record<string, Phase> = {};

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [address, method, entry] = args;
  if (address === undefined || method === undefined || entry === undefined)
    throw new Error('usage: bare-mofcomp ADDRESS METHOD ENTRY [--window N]');
  const mark = phases();
  // The modules the command loads for this work (its compiler, codec and generated messages).
  const { compileMof } = await import('../src/mof/parser.js');
  const { DEFAULT_WINDOW, dependencyPlan, DMTF_CONTEXT } =
    await import('../src/cli/mofcomp-send.js');
  const window = Number(option(args, '--window') ?? DEFAULT_WINDOW);
  const { encodeClassPut } = await import('../src/cli/put-class-codec.js');
  const { H2Channel } = await import('../src/cli/grpc-h2.js');
  mark('modules');
  const root = dirname(entry);
  const unit = compileMof(basename(entry), (path) => readFileSync(join(root, path), 'utf8'));
  const plan = dependencyPlan(unit.classes);
  mark('compile');
  // The command's own encoder (the generated PutClassRequest.encode's bytes).
  const requests = plan.map(({ mofClass }) =>
    encodeClassPut({
      namespace: 'root/cimv2',
      definition: mofClass.definition,
      flags: 0,
      context: DMTF_CONTEXT,
    }),
  );
  mark('encode');
  const channel = new H2Channel(address);
  const { answered, bytes } = await sendAll(
    channel,
    method,
    requests,
    plan.map((item) => item.after),
    window,
  );
  channel.close();
  mark('send');
  const total = process.cpuUsage(cpuAtStart);
  console.log(
    JSON.stringify({
      classes: requests.length,
      requestBytes: requests.reduce((sum, request) => sum + request.length, 0),
      answered,
      answerBytes: bytes,
      // Node's start up to this script's first line (the bench measures the process's wall time).
      beforeScriptMs: startedAt,
      phases: measured,
      scriptMs: performance.now() - startedAt,
      scriptCpuMs: (total.user + total.system) / 1e3,
    }),
  );
}

/** Each request once everything it waits for has ended, `window` at a time; every call must end OK. */
function sendAll(
  channel: H2Channel,
  method: string,
  requests: readonly Uint8Array[],
  after: readonly (readonly number[])[],
  window: number,
): Promise<{ answered: number; bytes: number }> {
  const done = requests.map(() => false);
  const started = requests.map(() => false);
  let running = 0;
  let answered = 0;
  let bytes = 0;
  let next = 0;
  return new Promise((resolvePromise, reject) => {
    const pump = (): void => {
      for (let index = next; index < requests.length && running < window; index++) {
        if (started[index] === true) continue;
        if (!(after[index] ?? []).every((dependency) => done[dependency] === true)) continue;
        started[index] = true;
        running++;
        void channel.serverStream(method, requests[index] as Uint8Array).then((end) => {
          if (end.code !== 0) return reject(new Error(`call ${index}: ${end.code} ${end.details}`));
          answered += end.messages.length;
          for (const message of end.messages) bytes += message.length;
          running--;
          done[index] = true;
          pump();
        });
      }
      while (next < requests.length && started[next] === true) next++;
      if (running === 0 && next >= requests.length) resolvePromise({ answered, bytes });
    };
    pump();
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
