/**
 * Tests that need a program from outside npm (Debian's python3-grpcio, etcd-server, chromium…).
 * `.ci/run` installs them, so under CI a missing one is a failure; on a developer's fresh clone
 * `npm test` must still pass with nothing but Node, so there the suite is skipped, and says why.
 */
import { spawnSync } from 'node:child_process';

/** Whether `command args…` runs and exits 0 (e.g. a version probe or an import check). */
export function runsCleanly(command: string, args: readonly string[]): boolean {
  const probe = spawnSync(command, args, { stdio: 'ignore', timeout: 20_000 });
  return probe.error === undefined && probe.status === 0;
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
