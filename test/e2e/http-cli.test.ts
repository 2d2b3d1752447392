/**
 * `wbemd serve --http-listen`: the command line turns a port alone into a loopback listener, logs
 * its URL, serves the page and the API there, and stops with the server on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const WBEMD = resolve(__dirname, '..', '..', 'bin', 'wbemd.js');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wbemd-http-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('--http-listen 0 serves on a loopback port named in the log; SIGTERM stops both listeners', async () => {
  const child = spawn(process.execPath, [
    WBEMD,
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--http-listen',
    '0',
    '--data',
    join(dir, 'data'),
  ]);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  const urlOf = () => /"http":"(http:\/\/127\.0\.0\.1:\d+\/)"/.exec(stderr)?.[1];
  for (let tries = 0; urlOf() === undefined && tries < 200; tries++)
    await new Promise((wait) => setTimeout(wait, 50));
  const url = urlOf() as string;
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*\/$/);
  const page = await fetch(url);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('wbemd class browser');
  const health = await fetch(`${url}grpc.health.v1.Health/Check`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  expect(await health.json()).toEqual({ status: 'SERVING' });
  child.kill('SIGTERM');
  const [code] = (await exited) as [number];
  expect(code).toBe(0);
  await expect(fetch(url)).rejects.toThrow();
});
