/**
 * How far one MOF compile may nest and how much it may read. Malformed or hostile MOF ends in a
 * positioned MofError at the first point past a limit, found before the compiler recurses: never
 * a stack overflow and never unbounded work (docs/errors.md, Malformed input).
 *
 * Values do not nest at all: CIM has no arrays of arrays, so `{` inside an array value is a syntax
 * error where it stands, and embedded instances (`instance of` as a value) are not compiled from
 * MOF (over gRPC they nest at most WBEM_MAX_OBJECT_NESTING = 64 deep, src/domain/client-context.ts).
 * What nests is `#pragma include`, bounded here.
 */
import { MofError, type MofPosition } from './lexer';

export const MOF_LIMITS = {
  /**
   * `#pragma include` nesting below the entry file. The CIM Schema 2.41 nests one level (its entry
   * file includes every other); 64 leaves any real layout room and keeps the recursion shallow.
   */
  includeDepth: 64,
  /**
   * Files read by one compile, a file counting each time it is included (nothing stops a file
   * from being included twice, into two namespaces say). About seven times the CIM Schema 2.41's
   * 1,441 files; it bounds the work of includes that fan out (a includes b twice, b includes c
   * twice, …), which a depth limit alone leaves exponential.
   */
  inclusions: 10_000,
  /**
   * Characters read by one compile, counted the same way: twice the largest CompileMof request
   * (16 MiB), eight times the CIM Schema 2.41 (4 MB).
   */
  characters: 32 * 1024 * 1024,
} as const;

/** What one compile has read so far, and the files it is inside of (entry first). */
export interface IncludeBudget {
  readonly stack: string[];
  files: number;
  characters: number;
}

/**
 * Throws when `path` may not be read now: it is already open (an include cycle, a self-include
 * included), it would nest too deep, or the compile has read too many files. `at` is the
 * `#pragma include` that names it.
 */
export function checkInclusion(budget: IncludeBudget, path: string, at: MofPosition): void {
  const open = budget.stack.indexOf(path);
  if (open >= 0) {
    const cycle = [...budget.stack.slice(open), path].join(' → ');
    throw new MofError(`"${path}" includes itself (${cycle})`, at);
  }
  if (budget.stack.length > MOF_LIMITS.includeDepth)
    throw new MofError(`#pragma include nests more than ${MOF_LIMITS.includeDepth} files deep`, at);
  if (budget.files >= MOF_LIMITS.inclusions)
    throw new MofError(
      `more than ${MOF_LIMITS.inclusions.toLocaleString('en')} files read in all (a file counts each time it is included)`,
      at,
    );
}

/** Counts a file just read; throws when the compile has now read too many characters. */
export function countCharacters(budget: IncludeBudget, length: number, at: MofPosition): void {
  budget.files++;
  budget.characters += length;
  if (budget.characters > MOF_LIMITS.characters)
    throw new MofError(
      `more than ${MOF_LIMITS.characters.toLocaleString('en')} characters of MOF read in all (a file counts each time it is included)`,
      at,
    );
}
