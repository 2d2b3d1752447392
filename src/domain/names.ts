/**
 * Names: case-insensitive, case-preserving (docs/wmi-semantics.md §5.6). Keys are the folded form,
 * branded so a map keyed by a display name does not compile; build them only with these functions.
 */
import { WbemError } from './wbem-status';

export type ClassKey = string & { readonly __brand: 'ClassKey' };
export type NamespaceKey = string & { readonly __brand: 'NamespaceKey' };

/**
 * Valid names are ASCII by grammar, so lower-casing folds them exactly; an invalid non-ASCII name
 * is rejected by the rules before its key matters. (Hot: every lookup builds a key.)
 */
function fold(name: string): string {
  return name.toLowerCase();
}

export function classKey(name: string): ClassKey {
  return fold(name) as ClassKey;
}

/** The folded name of a class's superclass; null for a root class. */
export function superclassKeyOf(definition: { readonly superclass: string }): ClassKey | null {
  return definition.superclass === '' ? null : classKey(definition.superclass);
}

/** The key of a namespace given as elements, e.g. ['root', 'CIMV2'] → 'root\cimv2'. */
export function namespaceKeyOf(elements: readonly string[]): NamespaceKey {
  return fold(elements.join('\\')) as NamespaceKey;
}

/** A UTF-16 unit with A-Z folded to a-z (every other unit as it is). */
const foldAscii = (unit: number): number => (unit >= 65 && unit <= 90 ? unit + 32 : unit);

/** Case-insensitive equality without allocating (hot: the rules compare names pairwise). */
export function sameName(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  if (a.length === 0) return true;
  // The last units first: names of one family share long prefixes (CIM_, a chain's C1000 … C1999)
  // and differ at the end. Two ASCII last units that differ after folding decide it: each
  // lowercases to itself alone, so the folded names would end differently.
  const endA = foldAscii(a.charCodeAt(a.length - 1));
  const endB = foldAscii(b.charCodeAt(b.length - 1));
  if (endA !== endB && endA < 128 && endB < 128) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x === y) continue;
    // Two ASCII letters that differ after folding decide it (the prefixes folded alike); only a
    // non-ASCII pair (the Kelvin sign folds to k) needs the runtime's full folding, which allocates.
    if (x < 128 && y < 128) return false;
    return a.toLowerCase() === b.toLowerCase();
  }
  return true;
}

/** The element named `name`, case-insensitively. A loop, not Array.find: the rules ask this per member, and a closure per call was garbage. */
export function findNamed<T extends { readonly name: string }>(
  elements: readonly T[],
  name: string,
): T | undefined {
  for (const element of elements) if (sameName(element.name, name)) return element;
  return undefined;
}

/** The longest name a NameTable keeps: real names are far shorter (CIM's longest are ≈ 60). */
export const LONGEST_SHARED = 256;

/**
 * One string for each distinct member or qualifier name among the class definitions a process
 * keeps: thousands of classes name the same qualifiers (`Description` was 85,000 copies, 2.7 MB,
 * under M1's load) and often the same properties, and a decoder makes a new string at each
 * occurrence. Bounded: emptied when full, so unique names cost at most `limit` entries, and a
 * name longer than LONGEST_SHARED is copied but not kept, so an entry is small whatever a request
 * or a MOF file holds (a 4 MB name is refused by the rules, after the decoder has read it).
 */
export class NameTable {
  readonly #names = new Map<string, string>();
  readonly #limit: number;

  constructor(limit = 8192) {
    this.#limit = limit;
  }

  /**
   * The table's copy of `name` (the same characters), kept from now on if it had none. The copy is
   * a string of its own: a name cut from a larger text must not keep that text alive.
   */
  shared(name: string): string {
    if (name.length > LONGEST_SHARED) return unsliced(name);
    const known = this.#names.get(name);
    if (known !== undefined) return known;
    if (this.#names.size >= this.#limit) this.#names.clear();
    const own = unsliced(name);
    this.#names.set(own, own);
    return own;
  }
}

/**
 * The same characters in a string of their own. V8 makes a substring of 13 or more characters a
 * view into the text it was cut from (a "sliced string"), and the view keeps the whole text alive:
 * a class name cut from a MOF file kept the file (all 4 MB of the CIM Schema's, over 2,495 files)
 * for as long as the class stayed cached. A round trip through UTF-16 code units copies every
 * unit as it is, unpaired surrogates included.
 */
export function unsliced(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}

/** WBEM_MAX_IDENTIFIER: the longest name accepted, in UTF-16 code units (§5.7). */
export const MAX_IDENTIFIER = 4096;

/**
 * STRING-IDENTIFIER of MS-WMI 2.2.1.1 for user elements: a letter, then letters, digits and inner
 * underscores; no leading or trailing underscore; ASCII only (§5.6, §12.2 q5).
 */
const IDENTIFIER = /^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$/;

export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** CLASS-NAME of MS-WMI 2.2.1.1: an identifier, or `__` and an identifier (a system class). */
export function isClassName(name: string): boolean {
  return IDENTIFIER.test(name.startsWith('__') ? name.slice(2) : name);
}

/**
 * C2/C3: the rules on `__CLASS`, in the order of §3.3 step 7, with a leading underscore checked
 * before the grammar so `_Foo` and `__Foo` are INVALID_OPERATION rather than INVALID_PARAMETER.
 * Throws WBEM_E_INVALID_PARAMETER, WBEM_E_INVALID_OPERATION, WBEM_E_INVALID_OBJECT or
 * WBEM_E_QUOTA_VIOLATION.
 */
export function checkClassName(name: string): void {
  if (name.length === 0) {
    throw new WbemError('WBEM_E_INVALID_PARAMETER', 'the class name (__CLASS) is empty');
  }
  if (name.startsWith('_')) {
    throw new WbemError(
      'WBEM_E_INVALID_OPERATION',
      `class name "${preview(name)}" begins with an underscore: system classes cannot be written`,
    );
  }
  if (name.endsWith('_')) {
    throw new WbemError(
      'WBEM_E_INVALID_OBJECT',
      `class name "${preview(name)}" ends with an underscore`,
    );
  }
  if (!isIdentifier(name)) {
    throw new WbemError(
      'WBEM_E_INVALID_PARAMETER',
      `class name "${preview(name)}" is not a CLASS-NAME (a letter, then letters, digits and inner underscores)`,
    );
  }
  if (name.length > MAX_IDENTIFIER) {
    throw new WbemError(
      'WBEM_E_QUOTA_VIOLATION',
      `class name is ${name.length} characters long; the limit is ${MAX_IDENTIFIER}`,
    );
  }
}

export type MemberKind = 'property' | 'method' | 'parameter' | 'qualifier';

/** §5.6 for properties, methods, parameters and qualifiers: WBEM_E_INVALID_PARAMETER. */
export function checkMemberName(kind: MemberKind, name: string, owner: string): void {
  if (name.length > MAX_IDENTIFIER) {
    throw new WbemError(
      'WBEM_E_INVALID_PARAMETER',
      `${kind} name on ${owner} is ${name.length} characters long; the limit is ${MAX_IDENTIFIER}`,
    );
  }
  if (!isIdentifier(name)) {
    throw new WbemError(
      'WBEM_E_INVALID_PARAMETER',
      `${kind} name "${preview(name)}" on ${owner} is not an identifier (a letter, then letters, digits and inner underscores, ASCII only)`,
    );
  }
}

/** Whether the text holds a character below U+0020 (names and key values must not: they go into paths and logs). */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}

/** Names go into messages; a 4 MB name must not. */
export function preview(name: string): string {
  return name.length > 64 ? `${name.slice(0, 61)}...` : name;
}
