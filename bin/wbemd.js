#!/usr/bin/env node
// The `wbemd` command: runs the compiled CLI (`npm run build` first; `npm start` does both).
// Node flags for serving (src/cli/node-flags.ts) come from `npm start` or NODE_OPTIONS: a shebang
// cannot carry them portably (`env -S` is missing from BusyBox, e.g. Alpine images).
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const main = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('wbemd: not built yet; run `npm run build` (or `npm start`) first\n');
  process.exit(1);
}
const cli = require(main);
const argv = process.argv.slice(2);
cli.main(argv).then(
  (code) => {
    process.exitCode = code;
    // Done, its output written: no need to wait for its connection's close (src/cli/main.ts).
    const written = process.stdout.writableLength === 0 && process.stderr.writableLength === 0;
    if (written && cli.endsWhenResolved(argv)) process.exit(code);
  },
  (error) => {
    process.stderr.write(`wbemd: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
