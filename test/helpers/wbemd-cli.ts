/**
 * The built `wbemd` command (bin/wbemd.js → dist/, `npm run build` first) run as a user runs it,
 * with the connection variables of the test runner's own environment cleared: its exit code and
 * output.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

/** The built command's entry point, for tests that spawn it themselves (a long-running `watch`). */
export const WBEMD_BIN = resolve(__dirname, '../../bin/wbemd.js');

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runWbemd(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [WBEMD_BIN, ...args],
      {
        env: { ...process.env, WBEMD_ADDRESS: '', WBEMD_SERVER: '', WBEMD_TOKEN: '', ...env },
        timeout: 60_000,
        // mofcomp's progress lines for thousands of classes, mofgen's export of a schema.
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        done({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
    );
  });
}
