/**
 * P3's line on a Node start (bench/node-start.ts): with NODE_EXTRA_CA_CERTS set it times the start
 * both ways and names the file; without it, once, and says so. A start that fails is an error,
 * not a figure.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureNodeStart, nodeStartLine } from '../../bench/node-start';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wbemd-node-start-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const withoutExtraCa = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
};

test('without NODE_EXTRA_CA_CERTS: one figure, and the line says it is not set', () => {
  const start = measureNodeStart(withoutExtraCa());
  expect(start.ms).toBeGreaterThan(0);
  expect(start.extraCaCerts).toBeUndefined();
  expect(start.withoutExtraCaMs).toBeUndefined();
  expect(nodeStartLine(start)).toMatch(/node -e 0\) \d+ ms; NODE_EXTRA_CA_CERTS is not set$/);
});

test('with NODE_EXTRA_CA_CERTS: both figures, the file named', async () => {
  // An empty bundle: Node reads it at start and finds no certificate, which is no error.
  const file = join(dir, 'extra.pem');
  await writeFile(file, '');
  const start = measureNodeStart({ ...withoutExtraCa(), NODE_EXTRA_CA_CERTS: file });
  expect(start.extraCaCerts).toBe(file);
  expect(start.ms).toBeGreaterThan(0);
  expect(start.withoutExtraCaMs).toBeGreaterThan(0);
  expect(nodeStartLine(start)).toContain(`without NODE_EXTRA_CA_CERTS (set here to ${file}`);
});

test('a Node start that fails is an error', () => {
  expect(() => measureNodeStart({ ...withoutExtraCa(), NODE_OPTIONS: '--no-such-flag' })).toThrow(
    /node -e 0 failed/,
  );
});
