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
require(main)
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`wbemd: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
