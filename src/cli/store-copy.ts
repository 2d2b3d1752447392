/**
 * `wbemd store copy --from-data-dir DIR (--to-data-dir DIR | --to-etcd URLS) [--force]`: copies a
 * whole repository from one store into another (the migration of docs/deployment.md). This file
 * only parses, opens the two stores and prints; the copy is src/service/store-copy.ts. The
 * source must not be in use by a running server (LevelDB's lock refuses it).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { copyStore, TargetNotEmptyError, type StoreCopyCounts } from '../service/store-copy';
import { StoreError, type ClassStore } from '../store/class-store';
import { LevelClassStore } from '../store/level/level-class-store';

export const STORE_USAGE = `usage: wbemd store copy --from-data-dir DIR (--to-data-dir DIR | --to-etcd URLS) [options]

  --from-data-dir DIR  the LevelDB repository to copy (no server may be running on it)
  --to-data-dir DIR    copy into this LevelDB directory
  --force              write into a target that already holds data (merging: the source wins)
  --batch N            writes per commit (default 32)
  Copied: namespaces, qualifier declarations, classes (superclasses first), instances. Not
  copied: the event log (classes get new revisions in the target; watchers re-list).
`;

const STORE_OPTIONS = {
  'from-data-dir': { type: 'string' },
  'to-data-dir': { type: 'string' },
  force: { type: 'boolean' },
  batch: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type StoreFlags = ReturnType<typeof parseArgs<{ options: typeof STORE_OPTIONS }>>['values'];

/** A usage problem: exit 2 with the usage text. */
class UsageError extends Error {}

interface CopyPlan {
  readonly source: ClassStore;
  readonly sourceName: string;
  readonly target: ClassStore;
  readonly targetName: string;
  readonly force: boolean;
  readonly batch: number;
}

function planCopy(flags: StoreFlags): CopyPlan {
  const from = flags['from-data-dir'];
  const to = flags['to-data-dir'];
  if (from === undefined) throw new UsageError('--from-data-dir is required');
  if (to === undefined) throw new UsageError('a target is required: --to-data-dir');
  // LevelDB creates a missing directory: a mistyped source would copy an empty repository.
  if (!existsSync(from)) throw new UsageError(`--from-data-dir ${from} does not exist`);
  const batch = Number(flags.batch ?? 32);
  if (!Number.isSafeInteger(batch) || batch < 1)
    throw new UsageError(`--batch must be a positive integer, got ${flags.batch}`);
  return {
    source: new LevelClassStore(from),
    sourceName: `LevelDB ${from}`,
    target: new LevelClassStore(to),
    targetName: `LevelDB ${to}`,
    force: flags.force === true,
    batch,
  };
}

function formatCounts(counts: StoreCopyCounts): string {
  return `${counts.namespaces} namespaces, ${counts.qualifiers} qualifier declarations, ${counts.classes} classes, ${counts.instances} instances (${counts.commits} commits)`;
}

/** `wbemd store …`. Exit status: 0 copied, 1 failed (nothing or a prefix written), 2 usage. */
export async function storeCommand(
  args: readonly string[],
  out: NodeJS.WriteStream,
  err: NodeJS.WriteStream,
): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === '--help' || subcommand === '-h') {
    out.write(STORE_USAGE);
    return 0;
  }
  let plan: CopyPlan;
  try {
    if (subcommand !== 'copy') throw new UsageError(`unknown subcommand "${subcommand ?? ''}"`);
    const flags = parseArgs({ args: rest, options: STORE_OPTIONS, strict: true }).values;
    if (flags.help === true) {
      out.write(STORE_USAGE);
      return 0;
    }
    plan = planCopy(flags);
  } catch (error) {
    err.write(
      `wbemd store: ${error instanceof Error ? error.message : String(error)}\n${STORE_USAGE}`,
    );
    return 2;
  }
  return runCopy(plan, out, err);
}

async function runCopy(
  plan: CopyPlan,
  out: NodeJS.WriteStream,
  err: NodeJS.WriteStream,
): Promise<number> {
  const opened: ClassStore[] = [];
  try {
    await plan.source.open();
    opened.push(plan.source);
    await plan.target.open();
    opened.push(plan.target);
    out.write(`copying ${plan.sourceName} into ${plan.targetName}\n`);
    const counts = await copyStore(plan.source, plan.target, {
      force: plan.force,
      maxWritesPerCommit: plan.batch,
      onNamespace: (record, soFar) =>
        out.write(`  ${record.elements.join('\\')}: ${formatCounts(soFar)} so far\n`),
    });
    out.write(`copied ${formatCounts(counts)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof TargetNotEmptyError)
      err.write(`wbemd store copy: ${error.message} (--force merges into it)\n`);
    else if (error instanceof StoreError)
      err.write(`wbemd store copy: ${error.code}: ${error.message}\n`);
    else err.write(`wbemd store copy: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    for (const store of opened.reverse()) await store.close();
  }
}
