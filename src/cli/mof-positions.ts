/**
 * The service names a class's position in a CompileMof failure (`file:line:column: class C: …`);
 * when the reason names one of its properties or methods, mofcomp points at that member's own
 * declaration instead, found in the source text it compiled: a duplicate property at its second
 * declaration, `uint8 X = 300` at X's line. A reason that names no member keeps the class's
 * position.
 */

/** The sources of one compile, by the names the service uses in positions. */
export type SourceTexts = ReadonlyMap<string, string>;

const FAILURE = /^(.+?):(\d+):(\d+): class (\w+): (.*)$/s;
const MEMBER = /\b(property|method|member) (\w+)\b/;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The lines of the class that starts at `line` (1-based), up to its closing `};`. */
function classLines(text: string, line: number): { first: number; lines: string[] } {
  const all = text.split('\n');
  const lines: string[] = [];
  for (let index = line - 1; index < all.length; index++) {
    const current = all[index] as string;
    lines.push(current);
    if (/^\s*};/.test(current) && index > line - 1) break;
  }
  return { first: line, lines };
}

/** `message` with the class's position replaced by the named member's, when it can be found. */
export function memberPosition(message: string, sources: SourceTexts): string {
  const failure = FAILURE.exec(message);
  if (failure === null) return message;
  const [, file, line, , className, reason] = failure as unknown as string[];
  const member = MEMBER.exec(reason as string);
  const text = sources.get(file as string);
  if (member === null || text === undefined) return message;
  const [, kind, name] = member as unknown as string[];
  const declaration =
    kind === 'property'
      ? new RegExp(`\\b${escapeRegExp(name as string)}\\s*(\\[\\s*\\d*\\s*\\])?\\s*(=|;)`, 'i')
      : new RegExp(`\\b${escapeRegExp(name as string)}\\s*(\\[\\s*\\d*\\s*\\])?\\s*[(=;]`, 'i');
  const { first, lines } = classLines(text, Number(line));
  const found: { line: number; column: number }[] = [];
  lines.forEach((current, offset) => {
    if (offset === 0) return; // the `class …` line itself
    const at = declaration.exec(current);
    if (at !== null) found.push({ line: first + offset, column: at.index + 1 });
  });
  const position = /appears twice/.test(reason as string) ? found[1] : found[0];
  if (position === undefined) return message;
  return `${file}:${position.line}:${position.column}: class ${className}: ${reason}`;
}
