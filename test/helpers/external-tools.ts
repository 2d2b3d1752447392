/**
 * Tests that need a program from outside npm (Debian's python3-grpcio, etcd-server, chromium…).
 * `.ci/run` installs them, so under CI a missing one is a failure; on a developer's fresh clone
 * `npm test` must still pass with nothing but Node, so there the suite is skipped, and says why.
 */
import { spawnSync } from 'node:child_process';

const PROBE_ATTEMPTS = 3;

/**
 * Whether `command args…` runs and exits 0 (e.g. a version probe or an import check). A probe
 * that fails while the command exists is tried again: once, chromium's `--version` failed while
 * the suites started, and the suite was skipped as not installed (a failure under CI). The last
 * failure's reason goes out as a warning; a command that does not exist is simply not installed.
 */
export function runsCleanly(command: string, args: readonly string[]): boolean {
  let reason = '';
  for (let attempt = 1; attempt <= PROBE_ATTEMPTS; attempt++) {
    const probe = spawnSync(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 20_000,
    });
    if (probe.error === undefined && probe.status === 0) return true;
    if (probe.error !== undefined) {
      reason = probe.error.message;
      if ('code' in probe.error && probe.error.code === 'ENOENT') return false; // not installed
    } else {
      const stderr = probe.stderr.toString().trim().slice(0, 300);
      reason = `exit ${String(probe.status)}, signal ${String(probe.signal)}: ${stderr}`;
    }
  }
  process.emitWarning(`probe failed: ${command} ${args.join(' ')}: ${reason}`);
  return false;
}

/**
 * `describe` when the tool is there; otherwise skipped with a note, except under CI (CI=true),
 * where the missing tool fails the run instead of hiding a test.
 */
export function describeWithTool(
  tool: { readonly name: string; readonly available: boolean; readonly install: string },
  title: string,
  body: () => void,
): void {
  if (tool.available) {
    describe(title, body);
  } else if (process.env.CI === 'true') {
    describe(title, () => {
      test(`${tool.name} is installed (CI installs it: ${tool.install})`, () => {
        throw new Error(`not installed: ${tool.name} (${tool.install})`);
      });
    });
  } else {
    process.emitWarning(`skipped "${title}": not installed: ${tool.name} (${tool.install})`);
    describe.skip(title, body);
  }
}
