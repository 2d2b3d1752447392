/**
 * The files a compile of a MOF entry file reads, found without compiling it: its `#pragma include`
 * lines read by the lexer alone, followed file by file in the order the compiler follows them,
 * within the same limits (limits.ts). `wbemd mofcomp --atomic` sends these files to the server,
 * which compiles them (D29): compiling them here as well cost as much again on the command's
 * critical path.
 *
 * For MOF that compiles, the list is the compiler's `files` (each name once). For MOF that does
 * not, it may hold more (a pragma the parser would not reach) or stop short with a MofError (an
 * unreadable include, a malformed pragma, a lexical error in a file that holds a pragma): the
 * caller then compiles to say why, as it would have without the scan.
 */
import { posix } from 'node:path';
import { MofError, MofLexer, type MofPosition, type MofToken } from './lexer';
import { checkInclusion, countCharacters, type IncludeBudget } from './limits';
import { includedPath, type ReadMofSource } from './parser';

/** Only a file with this text can hold a pragma token (the lexer's test, case-insensitive). */
const MAY_HOLD_A_PRAGMA = /#pragma/i;

/** Every file `entry` reads (itself first, then in reading order, each name once). */
export function includedFiles(entry: string, readSource: ReadMofSource): string[] {
  const budget: IncludeBudget = { stack: [], files: 0, characters: 0 };
  const files = new Set<string>();
  const visit = (path: string, at: MofPosition): void => {
    checkInclusion(budget, path, at);
    const text = readSource(path);
    countCharacters(budget, text.length, at);
    files.add(path);
    if (!MAY_HOLD_A_PRAGMA.test(text)) return;
    budget.stack.push(path);
    for (const include of pragmaIncludes(text, path)) visit(include.path, include.at);
    budget.stack.pop();
  };
  const first = posix.normalize(entry);
  visit(first, { file: first, line: 1, column: 1 });
  return [...files];
}

/** The files `#pragma include` names in `text`, in order, each with the pragma's position. */
function pragmaIncludes(text: string, path: string): { path: string; at: MofPosition }[] {
  const lexer = new MofLexer(text, path);
  const includes: { path: string; at: MofPosition }[] = [];
  for (let token = lexer.next(); token.kind !== 'end'; token = lexer.next()) {
    if (token.kind !== 'pragma') continue;
    // `#pragma name ( "value" ["more"…] [, "argument"…] )`, as the parser reads it.
    const name = lexer.next();
    const open = lexer.next();
    let value: MofToken = lexer.next();
    if (name.kind !== 'identifier' || !isPunct(open, '(') || value.kind !== 'string')
      throw new MofError('a #pragma the parser will not read', token.at);
    let text = '';
    for (; value.kind === 'string'; value = lexer.next()) text += value.value;
    while (value.kind === 'string' || isPunct(value, ',')) value = lexer.next();
    if (!isPunct(value, ')')) throw new MofError('a #pragma the parser will not read', token.at);
    if (name.text.toLowerCase() === 'include')
      includes.push({ path: includedPath(path, text), at: token.at });
  }
  return includes;
}

function isPunct(token: MofToken, text: string): boolean {
  return token.kind === 'punct' && token.text === text;
}
