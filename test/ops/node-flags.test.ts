import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SERVER_ENVIRONMENT, SERVER_NODE_FLAGS } from '../../src/cli/node-flags';

const ROOT = resolve(__dirname, '..', '..');

/** SERVER_ENVIRONMENT as a shell gives it: `NAME=value NAME=value`. */
const ENVIRONMENT = Object.entries(SERVER_ENVIRONMENT)
  .map(([name, value]) => `${name}=${value}`)
  .join(' ');

// V8 reads these flags only at start: every way of starting wbemd that the project documents must
// give the same ones, and the benchmark measures the server started with them.
describe('the Node flags wbemd serve runs with', () => {
  test('npm start passes exactly SERVER_NODE_FLAGS, in SERVER_ENVIRONMENT', () => {
    const manifest = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts.start).toContain(
      `&& ${ENVIRONMENT} node ${SERVER_NODE_FLAGS.join(' ')} bin/wbemd.js serve`,
    );
  });

  test('the documented ways of starting it give them too: the container command and NODE_OPTIONS', () => {
    const deployment = readFileSync(resolve(ROOT, 'docs', 'deployment.md'), 'utf8');
    const container = SERVER_NODE_FLAGS.map((flag) => `"${flag}"`).join(', ');
    expect(deployment).toContain(`command: ["node", ${container}, "bin/wbemd.js", "serve"]`);
    for (const [name, value] of Object.entries(SERVER_ENVIRONMENT))
      expect(deployment).toContain(`- { name: ${name}, value: ${value} }`);
    const configuration = readFileSync(resolve(ROOT, 'docs', 'configuration.md'), 'utf8');
    expect(configuration).toContain(
      `${ENVIRONMENT} NODE_OPTIONS="${SERVER_NODE_FLAGS.join(' ')}" wbemd serve`,
    );
  });

  test('the wbemd executable keeps a portable shebang (flags come from NODE_OPTIONS there)', () => {
    const [shebang] = readFileSync(resolve(ROOT, 'bin', 'wbemd.js'), 'utf8').split('\n');
    expect(shebang).toBe('#!/usr/bin/env node');
  });

  test('they are flags NODE_OPTIONS accepts, as docs/configuration.md tells users of the executable', () => {
    for (const flag of SERVER_NODE_FLAGS)
      expect(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0] as string)).toBe(true);
  });
});

// What GLIBC_TUNABLES=glibc.malloc.hugetlb=1 is for: glibc advises huge pages on what malloc maps.
// A misspelt tunable is ignored without a word, so the test looks at the process's mappings.
const THP_MODE = '/sys/kernel/mm/transparent_hugepage/enabled';
const thpMode = existsSync(THP_MODE)
  ? /\[(\w+)\]/.exec(readFileSync(THP_MODE, 'utf8'))?.[1]
  : undefined;
const glibc = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
const canAdvise = thpMode === 'madvise' && glibc.header?.glibcVersionRuntime !== undefined;

/** Run in a child: how many bytes of its anonymous writable mappings may use huge pages, after an 8 MB Buffer. */
const ELIGIBLE_BYTES = `
const held = Buffer.alloc(8 * 1024 * 1024, 1);
let eligible = 0;
for (const mapping of require('node:fs').readFileSync('/proc/self/smaps', 'utf8').split(/\\n(?=[0-9a-f]+-)/)) {
  const [range, mode, , , inode] = mapping.split(/\\s+/);
  const [from, to] = range.split('-').map((hex) => parseInt(hex, 16));
  if (mode === 'rw-p' && inode === '0' && /THPeligible:\\s+1/.test(mapping)) eligible += to - from;
}
process.stdout.write(String(held[0] === 1 ? eligible : -1));
`;

function eligibleBytes(environment: Readonly<Record<string, string>>): number {
  const env = { ...process.env, GLIBC_TUNABLES: '', ...environment };
  return Number(execFileSync(process.execPath, ['-e', ELIGIBLE_BYTES], { env, encoding: 'utf8' }));
}

(canAdvise ? describe : describe.skip)('SERVER_ENVIRONMENT on glibc, huge pages on madvise', () => {
  test("malloc's mappings become eligible for huge pages with it, and are not without it", () => {
    expect(eligibleBytes(SERVER_ENVIRONMENT)).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    expect(eligibleBytes({})).toBe(0);
  });
});
