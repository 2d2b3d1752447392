/**
 * The README's recorded sessions, regenerated from a real run, so they cannot drift from the code.
 *
 *   npm run docs:sessions            rewrites every marked block of README.md from a fresh run
 *   npm run docs:sessions -- --check exits 1, naming the block and the first differing line, when
 *                                    README.md differs from what the code does now
 *                                    (test/ops/readme-sessions.test.ts runs this)
 *   --readme PATH                    another file than README.md (the test uses a copy)
 *
 * A marked block is a fenced `console` block between two HTML comments:
 *
 *   <!-- session:NAME [fold-json] [drop=REGEX] -->
 *   ```console
 *   $ a command, as a user types it (continued over lines while a quote is open or a line ends in \)
 *   the output: everything up to the next `$ ` line, regenerated
 *   ```
 *   <!-- /session:NAME -->
 *
 * One server is started for the whole README (a temp data directory, an ephemeral port,
 * `--server-name DEMO`), and the blocks run in README order against it, so a later block sees what
 * an earlier one wrote. Each block's commands run in one bash, from the repository root, stderr
 * merged into stdout, so `echo $?` after a command shows its exit status. Volatile parts are
 * normalised: the real address becomes 127.0.0.1:50051 (commands are written with it, and run
 * with the real one; WBEMD_SERVER is set too), operation ids become the zero UUID. `fold-json`
 * prints each JSON document of the output on one line; `drop=REGEX` leaves out matching lines
 * (buf curl -v's reflection chatter, its Date header).
 *
 * Adding a session: put a new marked block in README.md with its commands and any output, and run
 * `npm run docs:sessions`. The demo server also serves `--http-listen` (Connect, gRPC-Web, JSON),
 * shown as 127.0.0.1:8080. A command that needs yet another listener needs it started in
 * `startDemoServer` below and its address added to the `addresses` it returns, with the address
 * the README shows.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { startServer } from '../src/server';

const run = promisify(execFile);

/** The repository root: scripts/ in source, dist/scripts/ once built. */
const ROOT = [resolve(__dirname, '..'), resolve(__dirname, '..', '..')].find((dir) =>
  existsSync(join(dir, 'package.json')),
) as string;

interface Session {
  readonly name: string;
  readonly foldJson: boolean;
  readonly drop: RegExp | undefined;
  /** Line indexes (in the file's lines) of the fence's body: [start, end). */
  readonly bodyStart: number;
  readonly bodyEnd: number;
  readonly commands: readonly { readonly text: string; readonly output: string }[];
}

const OPEN = /^<!-- session:([\w-]+)((?: fold-json)?)(?: drop=(.*))? -->$/;

/** True when `line` leaves a quote open or ends in a backslash (the command goes on). */
function continues(command: string): boolean {
  let quote: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i];
    if (quote === undefined && ch === '\\') i++;
    else if (quote === undefined && (ch === "'" || ch === '"')) quote = ch;
    else if (quote === '"' && ch === '\\') i++;
    else if (ch === quote) quote = undefined;
  }
  return quote !== undefined || command.endsWith('\\');
}

function parseBody(lines: readonly string[]): Session['commands'] {
  const commands: { text: string; output: string[] }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line.startsWith('$ ')) {
      commands[commands.length - 1]?.output.push(line);
      continue;
    }
    let text = line.slice(2);
    while (continues(text) && i + 1 < lines.length) text += `\n${lines[++i] as string}`;
    commands.push({ text, output: [] });
  }
  return commands.map((c) => ({ text: c.text, output: c.output.join('\n') }));
}

export function findSessions(markdown: string): Session[] {
  const lines = markdown.split('\n');
  const sessions: Session[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i] as string);
    if (open === null) continue;
    const name = open[1] as string;
    const fence = i + 1;
    if (!/^```console$/.test(lines[fence] ?? ''))
      throw new Error(`session ${name}: the marker must be followed by a \`\`\`console fence`);
    const close = lines.indexOf('```', fence + 1);
    if (close < 0 || lines[close + 1] !== `<!-- /session:${name} -->`)
      throw new Error(
        `session ${name}: the fence must end with \`\`\` and <!-- /session:${name} -->`,
      );
    sessions.push({
      name,
      foldJson: open[2] === ' fold-json',
      drop: open[3] === undefined ? undefined : new RegExp(open[3]),
      bodyStart: fence + 1,
      bodyEnd: close,
      commands: parseBody(lines.slice(fence + 1, close)),
    });
    i = close + 1;
  }
  return sessions;
}

/** `{ "a": 1, "b": [ 2, 3 ] }`: a JSON value on one line, spaced as the README shows it. */
function oneLine(value: unknown): string {
  if (Array.isArray(value))
    return value.length === 0 ? '[]' : `[ ${value.map(oneLine).join(', ')} ]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length === 0
      ? '{}'
      : `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${oneLine(v)}`).join(', ')} }`;
  }
  return JSON.stringify(value);
}

/** Every multi-line JSON document (from a `{` line to the `}` line that closes it) folded. */
function foldJson(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '{') {
      out.push(lines[i] as string);
      continue;
    }
    const end = lines.indexOf('}', i);
    if (end < 0) {
      out.push(...lines.slice(i));
      break;
    }
    out.push(oneLine(JSON.parse(lines.slice(i, end + 1).join('\n')) as unknown));
    i = end;
  }
  return out;
}

interface DemoServer {
  /** The address shown in the README → the real one. */
  readonly addresses: ReadonlyMap<string, string>;
  stop(): Promise<void>;
}

async function startDemoServer(): Promise<DemoServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-readme-'));
  const server = await startServer({
    listen: '127.0.0.1:0',
    dataDir,
    serverName: 'DEMO',
    httpListen: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
  });
  const addresses = new Map([['127.0.0.1:50051', server.address]]);
  // The README shows the HTTP listener (Connect, gRPC-Web, JSON) as `--http-listen 8080`.
  if (server.httpAddress !== undefined) addresses.set('127.0.0.1:8080', server.httpAddress);
  return {
    addresses,
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const MARK = '@@wbemd-readme-session-mark@@';
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;

/** Runs a session's commands in one bash; returns each command's normalised output. */
async function runSession(session: Session, demo: DemoServer): Promise<string[]> {
  const toReal = (text: string): string =>
    [...demo.addresses].reduce((t, [shown, real]) => t.split(shown).join(real), text);
  const script = [
    'exec 2>&1',
    ...session.commands.map(
      (c) => `${toReal(c.text)}\n__rc=$?; printf '\\n%s\\n' '${MARK}'; (exit $__rc)`,
    ),
  ].join('\n');
  const env = { ...process.env, WBEMD_SERVER: demo.addresses.get('127.0.0.1:50051') ?? '' };
  const { stdout } = await run('bash', ['-c', script], {
    cwd: ROOT,
    env,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  const chunks = stdout.split(`\n${MARK}\n`).slice(0, session.commands.length);
  return chunks.map((chunk) => {
    let text = chunk;
    for (const [shown, real] of demo.addresses) text = text.split(real).join(shown);
    text = text.replace(UUID, '00000000-0000-0000-0000-000000000000').replace(/\n+$/, '');
    let lines = text === '' ? [] : text.split('\n');
    if (session.drop !== undefined) lines = lines.filter((line) => !session.drop?.test(line));
    if (session.foldJson) lines = foldJson(lines);
    return lines.join('\n');
  });
}

function renderBody(session: Session, outputs: readonly string[]): string[] {
  return session.commands.flatMap((command, index) => [
    ...`$ ${command.text}`.split('\n'),
    ...((outputs[index] ?? '') === '' ? [] : (outputs[index] as string).split('\n')),
  ]);
}

async function main(argv: readonly string[]): Promise<number> {
  const check = argv.includes('--check');
  const at = argv.indexOf('--readme');
  const path = at >= 0 ? resolve(argv[at + 1] ?? '') : join(ROOT, 'README.md');
  const markdown = await readFile(path, 'utf8');
  const lines = markdown.split('\n');
  const sessions = findSessions(markdown);
  const demo = await startDemoServer();
  const drifted: string[] = [];
  try {
    // Later blocks replace lines further down: work from the last, so indexes stay right.
    const bodies: string[][] = [];
    for (const session of sessions)
      bodies.push(renderBody(session, await runSession(session, demo)));
    for (let s = sessions.length - 1; s >= 0; s--) {
      const session = sessions[s] as Session;
      const now = bodies[s] as string[];
      const recorded = lines.slice(session.bodyStart, session.bodyEnd);
      const differs = recorded.findIndex((line, i) => line !== now[i]);
      if (differs >= 0 || recorded.length !== now.length) {
        const line = differs >= 0 ? differs : Math.min(recorded.length, now.length);
        drifted.unshift(
          `session ${session.name} (${path}:${session.bodyStart + line + 1}):\n  README: ${recorded[line] ?? '(nothing)'}\n  now:    ${now[line] ?? '(nothing)'}`,
        );
      }
      lines.splice(session.bodyStart, session.bodyEnd - session.bodyStart, ...now);
    }
  } finally {
    await demo.stop();
  }
  if (check) {
    for (const entry of drifted) process.stderr.write(`${entry}\n`);
    if (drifted.length > 0)
      process.stderr.write(
        `${drifted.length} of ${sessions.length} recorded sessions differ from what the code does now; run npm run docs:sessions\n`,
      );
    else process.stdout.write(`${sessions.length} recorded sessions match\n`);
    return drifted.length === 0 ? 0 : 1;
  }
  await writeFile(path, lines.join('\n'));
  process.stdout.write(
    `${sessions.length} recorded sessions written (${drifted.length} changed)\n`,
  );
  return 0;
}

if (require.main === module)
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
