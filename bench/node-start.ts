/**
 * What starting a Node process costs on this machine, and what the environment adds to it. P3's
 * rows time commands that start Node (`wbemd mofcomp`, its floors), so a start's cost is in every
 * one of them. NODE_EXTRA_CA_CERTS, which some hosts set for every process (this one does, to the
 * system's whole CA bundle), makes Node read and parse that file before it runs any JavaScript,
 * whether or not the process ever opens a TLS connection: the figure says what that costs here,
 * beside the same start without it. The rows themselves run in the environment as it is.
 */
import { spawnSync } from 'node:child_process';
import { median } from './report';

const STARTS = 6;

export interface NodeStart {
  /** `node -e 0`, wall milliseconds (median), in the environment the bench runs in. */
  readonly ms: number;
  /** The file NODE_EXTRA_CA_CERTS names, if it is set. */
  readonly extraCaCerts: string | undefined;
  /** The same start without NODE_EXTRA_CA_CERTS (median), if it is set. */
  readonly withoutExtraCaMs: number | undefined;
}

function timeStart(env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const { status, error } = spawnSync(process.execPath, ['-e', '0'], { env, stdio: 'ignore' });
  if (error !== undefined || status !== 0)
    throw new Error(`node -e 0 failed: ${error?.message ?? `exit ${String(status)}`}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Times `node -e 0`, with and without NODE_EXTRA_CA_CERTS (when set) in alternation. */
export function measureNodeStart(env: NodeJS.ProcessEnv = process.env): NodeStart {
  const extraCaCerts = env['NODE_EXTRA_CA_CERTS'];
  const without: NodeJS.ProcessEnv = { ...env };
  delete without['NODE_EXTRA_CA_CERTS'];
  const asIs: number[] = [];
  const withoutExtraCa: number[] = [];
  for (let start = 0; start < STARTS; start++) {
    asIs.push(timeStart(env));
    if (extraCaCerts !== undefined) withoutExtraCa.push(timeStart(without));
  }
  return {
    ms: median(asIs),
    extraCaCerts,
    withoutExtraCaMs: extraCaCerts === undefined ? undefined : median(withoutExtraCa),
  };
}

/** The line P3 prints under the first touch's: a start's cost, and NODE_EXTRA_CA_CERTS's share. */
export function nodeStartLine(start: NodeStart): string {
  const base = `  this machine: Node's start (node -e 0) ${start.ms.toFixed(0)} ms`;
  if (start.withoutExtraCaMs === undefined) return `${base}; NODE_EXTRA_CA_CERTS is not set`;
  return `${base}, ${start.withoutExtraCaMs.toFixed(0)} ms without NODE_EXTRA_CA_CERTS (set here to ${start.extraCaCerts ?? ''}: read and parsed at every start, in every command these rows time)`;
}
