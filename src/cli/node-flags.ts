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
