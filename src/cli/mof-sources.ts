/**
 * Where `wbemd mofcomp` reads MOF from: the includes of a file looked up on disk (the including
 * file's directory, then each -I directory), the path on disk of each source for messages, and
 * --atomic's sources found by the include scan alone (src/mof/includes.ts), without a compile.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { includedFiles } from '../mof/includes';
import type { CheckedFile } from './mof-check';

/**
 * Where an include is read from: the including file's directory (the compiler has joined it to
 * `path` already, relative to the entry's directory), then each -I directory in order.
 */
export function includeReader(
  root: string,
  includeDirs: readonly string[],
  onRead: (name: string, text: string, diskPath: string) => void,
): (path: string) => string {
  return (path) => {
    const first = join(root, path);
    // With no -I directory there is nothing to choose: read it (or fail) without a stat first.
    const found =
      includeDirs.length === 0
        ? first
        : ([first, ...includeDirs.map((dir) => join(dir, path))].find((candidate) =>
            existsSync(candidate),
          ) ?? first);
    const text = readFileSync(found, 'utf8');
    onRead(path, text, found);
    return text;
  };
}

/**
 * Where each source was read from, and `locate`: a message that starts with a source's name, with
 * that name replaced by its path on disk (the first source, in reading order, that it starts with).
 */
export class SourcePaths {
  readonly #diskPaths = new Map<string, string>();
  /** Whether a source's name holds a colon: only then can a message start with more than one. */
  #colonInName = false;

  set(name: string, diskPath: string): void {
    this.#diskPaths.set(name, diskPath);
    if (name.includes(':')) this.#colonInName = true;
  }

  readonly locate = (message: string): string => {
    // One look-up, not a scan of every source per message (CIM 2.41: 1,438 classes, 1,400 files).
    const colon = message.indexOf(':');
    const named =
      this.#colonInName || colon < 0 ? undefined : this.#diskPaths.get(message.slice(0, colon));
    if (named !== undefined) return `${named}${message.slice(colon)}`;
    for (const [name, diskPath] of this.#diskPaths)
      if (message.startsWith(`${name}:`)) return `${diskPath}${message.slice(name.length)}`;
    return message;
  };
}

/**
 * `file` and every file it includes, found by the include scan and read from disk, each once, the
 * entry first: what CompileMof takes. Undefined when the scan cannot tell (an include that cannot
 * be read, a malformed pragma, a limit passed): the caller compiles, which says why.
 */
export function scanSources(file: string, includeDirs: readonly string[]): CheckedFile | undefined {
  const texts = new Map<string, string>();
  const diskPaths = new SourcePaths();
  const read = includeReader(dirname(file), includeDirs, (name, text, diskPath) => {
    texts.set(name, text);
    diskPaths.set(name, diskPath);
  });
  let names: string[];
  try {
    names = includedFiles(basename(file), read);
  } catch {
    return undefined;
  }
  const sources = names.map((name) => ({ name, text: texts.get(name) as string }));
  return { sources, locate: diskPaths.locate };
}
