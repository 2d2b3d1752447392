/**
 * W2's disk floor: what one lone durable create costs LevelDB alone, with nothing of wbemd or gRPC
 * around it. `node leveldb-sync.js DIR SECONDS` writes, one at a time for SECONDS, the synced
 * chained batch group commit writes for a lone 2 KB create (a class record, its log record and
 * the revisions record, ≈ 2.6 KB in LevelDB's log: one write and one fdatasync), through the same
 * `level` (classic-level) and the same libuv thread-pool round trip, and prints one JSON line of
 * the latencies in µs. Its own process, so that nothing else runs on its event loop.
 */
import { join } from 'node:path';
import { Level } from 'level';

export interface SyncProbeResult {
  /** Each synced batch, µs from `batch()` to the write's promise resolving. */
  readonly levelUs: number[];
}

const BYTES_VALUE = { valueEncoding: 'buffer' } as const;

async function levelBatches(dir: string, seconds: number): Promise<number[]> {
  const db = new Level<string, string>(join(dir, 'db'));
  await db.open();
  const classRecord = Buffer.alloc(2380, 0x61);
  const logRecord = Buffer.alloc(120, 0x62);
  const revisions = Buffer.alloc(30, 0x63);
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1e3;
  for (let i = 0; Date.now() < end; i++) {
    const started = process.hrtime.bigint();
    const batch = db.batch();
    batch.put(`c!root\\cimv2!bench_c${String(i).padStart(8, '0')}`, classRecord, BYTES_VALUE);
    batch.put(`e!${String(i).padStart(20, '0')}`, logRecord, BYTES_VALUE);
    batch.put('r!revisions', revisions, BYTES_VALUE);
    await batch.write({ sync: true });
    latencies.push(Number(process.hrtime.bigint() - started) / 1e3);
  }
  await db.close();
  return latencies;
}

async function main(): Promise<void> {
  const [dir, seconds] = [process.argv[2], Number(process.argv[3] ?? 1.5)];
  if (dir === undefined) throw new Error('usage: leveldb-sync DIR SECONDS');
  const result: SyncProbeResult = { levelUs: await levelBatches(dir, seconds) };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module)
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
