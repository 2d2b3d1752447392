/**
 * The Node.js flags wbemd serve is meant to run with. V8 reads them only at start, so they are
 * given on the command line: `npm start` and the `wbemd` executable's shebang carry exactly these
 * (test/ops/node-flags.test.ts), and the benchmark starts the server with them.
 *
 * --max-semi-space-size=64: a young generation of up to 2 × 64 MB instead of 2 × 16 MB. Every
 * PutClass in flight holds its request and records until its batch is synced; with the small
 * default, a scavenge ran every ~35 ms at 64 calls in flight and copied (then promoted) what the
 * calls still held. Four times rarer scavenges cost ~25% less GC time in all and gave +2.4% to +9.6%
 * PutClassAsync throughput in alternating A/B runs (docs/performance.md), for up to ~96 MB more
 * memory under load (V8 shrinks it again when idle). Another size: start node with the flag
 * yourself (NODE_OPTIONS cannot override a command-line flag); docs/configuration.md.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
