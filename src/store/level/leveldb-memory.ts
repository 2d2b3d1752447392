/**
 * LevelDB's own memory, given when the database is opened (docs/decisions.md D80; measured in
 * docs/performance.md "M1: what the peak is made of, LevelDB's block cache").
 *
 * The block cache (LevelDB's default 8 MB) holds table blocks read by get/getMany, in the malloc
 * arenas of the libuv pool threads that read them. The store keeps its decoded records above it
 * (record-cache.ts, up to 20,000), so a block is read again only for a record that cache does not
 * hold: under M1's soak 2 MB was as full as 8 MB, ≈ 6 MB less RSS, and W1's CPU per create did not
 * move in same-time sets.
 *
 * The write buffer (memtable, up to two at once) stays at LevelDB's 4 MB: 2 MB cut ≈ 4 MB more
 * but cost W1 ≈ 2–3% CPU and 1 MB ≈ 7% (smaller level-0 tables, so more compaction of the same
 * bytes).
 */
export const LEVELDB_MEMORY = {
  cacheSize: 2 * 1024 * 1024,
} as const;
