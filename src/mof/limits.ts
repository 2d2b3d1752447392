/**
 * How far one MOF compile may nest. Malformed or hostile MOF ends in a positioned MofError at the
 * first point past a limit, found before the compiler recurses: never a stack overflow
 * (docs/errors.md, Malformed input).
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
} as const;

/** The files one compile is inside of, entry first. */
export interface IncludeBudget {
  readonly stack: string[];
}

/**
 * Throws when `path` may not be read now: it is already open (an include cycle, a self-include
 * included) or it would nest too deep. `at` is the `#pragma include` that names it.
 */
export function checkInclusion(budget: IncludeBudget, path: string, at: MofPosition): void {
  const open = budget.stack.indexOf(path);
  if (open >= 0) {
    const cycle = [...budget.stack.slice(open), path].join(' → ');
    throw new MofError(`"${path}" includes itself (${cycle})`, at);
  }
  if (budget.stack.length > MOF_LIMITS.includeDepth)
    throw new MofError(`#pragma include nests more than ${MOF_LIMITS.includeDepth} files deep`, at);
}
