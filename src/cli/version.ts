/**
 * The version of wbemd (package.json's `version`) for `--version`. Read at run time from the
 * package root, which is two folders above this file in src/ and three in dist/src/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

export function wbemdVersion(): string {
  if (cached !== undefined) return cached;
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (manifest.name === 'wbemd' && manifest.version !== undefined)
      return (cached = manifest.version);
  }
  return (cached = 'unknown');
}
