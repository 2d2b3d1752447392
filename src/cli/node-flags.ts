/**
 * The Node.js flags wbemd serve is meant to run with. V8 reads them only at start, so they are
 * given on the command line: `npm start` carries exactly these (test/ops/node-flags.test.ts), the
 * benchmark starts the server with them, and the `wbemd` executable takes them from NODE_OPTIONS
 * (a shebang cannot carry them portably: BusyBox's env has no -S).
 *
 * --max-semi-space-size=32: a young generation of up to 2 × 32 MB instead of 2 × 16 MB. Every
 * PutClass in flight holds its request and records until its batch is synced; with the small
 * default, a scavenge ran every ~35 ms at 64 calls in flight (issue #2's measurements). 64 MB
 * (128 MB committed under load) was the value until the M1 soak (issue #13) showed the young
 * generation as the largest part of the RSS: 32 MB gives M1 ≈ 64 MB less and halves the longest
 * scavenges (the event-loop stretches of L1), for ≈ 3–7% more W1 CPU per create in same-time pairs
 * on a busy machine (docs/performance.md, "Memory budget"). The old generation's growth is set at
 * run time (heap-policy.ts). A larger young generation at more memory is an operator's choice
 * (docs/configuration.md, "A smaller memory budget").
 *
 * --v8-pool-size=2: two V8 helper threads (parallel and concurrent GC, background compilation)
 * instead of Node's fixed four. All of wbemd's JavaScript runs on the main thread; on the one or
 * two CPUs a repository server usually gets, four helpers only contend with it (and with libuv's
 * LevelDB writes): +2.8% to +4.3% PutClassAsync RPC/s in three A/B runs on 2 cores, the bare
 * server unchanged. On a many-core host a larger pool shortens GC pauses a little.
 *
 * Other values: start node with the flags yourself (NODE_OPTIONS cannot override a flag given on
 * the command line, so not `npm start`); docs/configuration.md.
 */
export const SERVER_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=32',
  '--v8-pool-size=2',
];

/**
 * The environment wbemd serve is meant to run with, beside its flags: read by the C library when
 * the process starts, so it too is given by whatever starts the server (`npm start`, the container,
 * docs/configuration.md) and the benchmark starts every server of its rows with it.
 *
 * GLIBC_TUNABLES=glibc.malloc.hugetlb=1: glibc's malloc asks the kernel for transparent huge pages
 * (madvise) on the memory its main arena maps, where the host's transparent_hugepage setting is
 * `madvise` (as on Debian): what the main thread mallocs, request buffers and the batches handed to
 * LevelDB (other threads' arenas are not advised). A first touch of a 4 KB page costs a page
 * fault, 11–15 µs on the VMs this was measured on; a 2 MB page is one fault. Loading
 * CIM 2.41 with `--atomic` into a fresh server: ≈ 4,800 fewer faults (20.6k → 15.8k), the call
 * 7% shorter in eight alternating rounds, the RSS alike (docs/performance.md, "P3: huge pages for
 * malloc"). Without glibc (musl), or with transparent huge pages `never` or `always`, it changes
 * nothing. It replaces a GLIBC_TUNABLES set before: give yours with this one, `:`-separated.
 */
export const SERVER_ENVIRONMENT: Readonly<Record<string, string>> = {
  GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
};
