/**
 * The README cannot drift: its recorded sessions (buf curl, mofcomp/mofgen) are run again against
 * a fresh server by scripts/readme-sessions.ts in check mode, which fails when any output differs
 * from what the code does now. The machinery itself is checked on a small README of its own: a
 * wrong recording is named, the rewrite fixes it, volatile parts are normalised.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'dist', 'scripts', 'readme-sessions.js');

const sessions = (args: string[]) =>
  run(process.execPath, [SCRIPT, ...args], { cwd: ROOT }).then(
    (result) => ({ code: 0, ...result }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

test("README.md's recorded sessions are what the code does now (npm run docs:sessions -- --check)", async () => {
  const checked = await sessions(['--check']);
  expect(checked.stderr).toBe('');
  expect(checked.stdout).toMatch(/^\d+ recorded sessions match\n$/);
  expect(checked.code).toBe(0);
}, 300_000);

test('a recording that differs is named with its line; the rewrite records the real output, normalised', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wbemd-sessions-'));
  try {
    const readme = join(dir, 'README.md');
    const fence = '```';
    await writeFile(
      readme,
      [
        '# t',
        '',
        '<!-- session:tiny -->',
        `${fence}console`,
        '$ echo "server at $WBEMD_SERVER"',
        'server at somewhere else',
        '$ node bin/wbemd.js mofgen -N root/default',
        `${fence}`,
        '<!-- /session:tiny -->',
        '',
      ].join('\n'),
    );
    const drift = await sessions(['--check', '--readme', readme]);
    expect(drift.code).toBe(1);
    expect(drift.stderr).toContain(
      `session tiny (${readme}:6):\n  README: server at somewhere else\n  now:    server at 127.0.0.1:50051\n`,
    );
    expect(drift.stderr).toContain('1 of 1 recorded sessions differ');

    const rewritten = await sessions(['--readme', readme]);
    expect(rewritten.stdout).toBe('1 recorded sessions written (1 changed)\n');
    const text = await readFile(readme, 'utf8');
    expect(text).toContain(
      '$ echo "server at $WBEMD_SERVER"\nserver at 127.0.0.1:50051\n$ node bin/wbemd.js mofgen -N root/default\n// wbemd mofgen: root/default\n// 0 classes\n```\n<!-- /session:tiny -->\n',
    );
    expect((await sessions(['--check', '--readme', readme])).code).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 120_000);
