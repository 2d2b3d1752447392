import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SERVER_NODE_FLAGS } from '../../src/cli/node-flags';

const ROOT = resolve(__dirname, '..', '..');

// V8 reads these flags only at start: every way of starting wbemd that the project documents must
// give the same ones, and the benchmark measures the server started with them.
describe('the Node flags wbemd serve runs with', () => {
  test('npm start passes exactly SERVER_NODE_FLAGS', () => {
    const manifest = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts.start).toContain(
      `node ${SERVER_NODE_FLAGS.join(' ')} bin/wbemd.js serve`,
    );
  });

  test('the documented ways of starting it give them too: the container command and NODE_OPTIONS', () => {
    const deployment = readFileSync(resolve(ROOT, 'docs', 'deployment.md'), 'utf8');
    const container = SERVER_NODE_FLAGS.map((flag) => `"${flag}"`).join(', ');
    expect(deployment).toContain(`command: ["node", ${container}, "bin/wbemd.js", "serve"]`);
    const configuration = readFileSync(resolve(ROOT, 'docs', 'configuration.md'), 'utf8');
    expect(configuration).toContain(`NODE_OPTIONS="${SERVER_NODE_FLAGS.join(' ')}" wbemd serve`);
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
