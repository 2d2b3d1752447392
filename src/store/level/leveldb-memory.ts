/**
 * LevelDB's own memory, given when the database is opened (docs/decisions.md D80; measured in
 * docs/performance.md "M1: what the peak is made of, LevelDB's buffers").
 *
 * The block cache (LevelDB's default 8 MB) holds table blocks read by get/getMany; the store keeps
 * its decoded records above it (record-cache.ts, up to 20,000), so a block is read again only for
 * a record that cache does not hold: 2 MB, as full as 8 MB under M1's soak.
 *
 * The write buffer (default 4 MB) is the memtable; LevelDB keeps up to two (one being written to
 * level 0), filled by the libuv pool threads that write, in their malloc arenas. 2 MB halves them;
 * 1 MB cost W1 ≈ 7% CPU in same-time sets (smaller level-0 tables, so more compaction of the same
 * bytes), 2 MB nothing measurable.
 *
 * Together ≈ 12 MB less RSS under M1's soak (8 + 2 × 4 MB against 2 + 2 × 2 MB, in the pool
 * threads' arenas).
 */
export const LEVELDB_MEMORY = {
  cacheSize: 2 * 1024 * 1024,
  writeBufferSize: 2 * 1024 * 1024,
} as const;
