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
import { DEFAULT_ETCD_PREFIX, EtcdClassStore } from '../store/etcd/etcd-class-store';
import { LevelClassStore } from '../store/level/level-class-store';

export const STORE_USAGE = `usage: wbemd store copy --from-data-dir DIR (--to-data-dir DIR | --to-etcd URLS) [options]

  --from-data-dir DIR  the LevelDB repository to copy (no server may be running on it)
  --to-data-dir DIR    copy into this LevelDB directory
  --to-etcd URLS       copy into etcd: its client URLs, comma-separated
  --etcd-prefix P      key prefix in etcd (default /wbemd/): what wbemd serve is given
  --etcd-ca FILE, --etcd-cert FILE, --etcd-key FILE  TLS to etcd (PEM; https:// URLs)
  --force              write into a target that already holds data (merging: the source wins)
  --batch N            writes per commit (default 32)
  Copied: namespaces, qualifier declarations, classes (superclasses first), instances. Not
  copied: the event log (classes get new revisions in the target; watchers re-list).
`;

const STORE_OPTIONS = {
  'from-data-dir': { type: 'string' },
  'to-data-dir': { type: 'string' },
  'to-etcd': { type: 'string' },
  'etcd-prefix': { type: 'string' },
  'etcd-ca': { type: 'string' },
  'etcd-cert': { type: 'string' },
  'etcd-key': { type: 'string' },
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

/** The target the flags name: a LevelDB directory or an etcd cluster. */
function targetOf(flags: StoreFlags): { store: ClassStore; name: string } {
  const dir = flags['to-data-dir'];
  const urls = flags['to-etcd'];
  if ((dir === undefined) === (urls === undefined))
    throw new UsageError('one target is required: --to-data-dir or --to-etcd');
  if (dir !== undefined) return { store: new LevelClassStore(dir), name: `LevelDB ${dir}` };
  const endpoints = (urls ?? '').split(',').map((url) => url.trim());
  if (endpoints.some((url) => !/^https?:\/\/[^/\s]+\/?$/.test(url)))
    throw new UsageError(`--to-etcd wants etcd client URLs (http://HOST:PORT,…), got ${urls}`);
  const ca = flags['etcd-ca'];
  const cert = flags['etcd-cert'];
  const key = flags['etcd-key'];
  if ((cert === undefined) !== (key === undefined))
    throw new UsageError('--etcd-cert and --etcd-key go together');
  if (cert !== undefined && ca === undefined) throw new UsageError('--etcd-cert needs --etcd-ca');
  const prefix = flags['etcd-prefix'] ?? DEFAULT_ETCD_PREFIX;
  const tls =
    ca === undefined
      ? undefined
      : { ca, ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) };
  return {
    store: new EtcdClassStore({ endpoints, prefix, ...(tls === undefined ? {} : { tls }) }),
    name: `etcd ${endpoints.join(',')} under ${prefix}`,
  };
}

function planCopy(flags: StoreFlags): CopyPlan {
  const from = flags['from-data-dir'];
  if (from === undefined) throw new UsageError('--from-data-dir is required');
  // LevelDB creates a missing directory: a mistyped source would copy an empty repository.
  if (!existsSync(from)) throw new UsageError(`--from-data-dir ${from} does not exist`);
  const batch = Number(flags.batch ?? 32);
  if (!Number.isSafeInteger(batch) || batch < 1)
    throw new UsageError(`--batch must be a positive integer, got ${flags.batch}`);
  const target = targetOf(flags);
  return {
    source: new LevelClassStore(from),
    sourceName: `LevelDB ${from}`,
    target: target.store,
    targetName: target.name,
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
