#!/usr/bin/env -S node --max-semi-space-size=64 --v8-pool-size=2
// The `wbemd` command: runs the compiled CLI (`npm run build` first; `npm start` does both).
// The shebang's Node flags are src/cli/node-flags.ts's (a test keeps them equal).
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const main = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('wbemd: not built yet; run `npm run build` (or `npm start`) first\n');
  process.exit(1);
}
require(main).main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`wbemd: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
