/**
 * Namespace paths (docs/wmi-semantics.md §6.9): `root/cimv2`, `root\cimv2`, `\\.\root\cimv2`,
 * `//./root/cimv2`, `\\<this server>\root\cimv2`, case-insensitive. Unparseable text is
 * WBEM_E_INVALID_PARAMETER; whether a well-formed namespace exists is the service's question.
 */
import { isIdentifier, namespaceKeyOf, preview, type NamespaceKey } from './names';
import { WbemError } from './wbem-status';

export interface NamespacePath {
  /** Elements as the caller spelled them, e.g. ['ROOT', 'cimv2']. */
  readonly elements: readonly string[];
  /** Case-folded identity, e.g. 'root\cimv2'. */
  readonly key: NamespaceKey;
}

/** Which machine names mean this server; `.` and `localhost` always do. */
export type IsLocalMachine = (machine: string) => boolean;

export function parseNamespacePath(text: string, isLocalMachine: IsLocalMachine): NamespacePath {
  const invalid = (why: string): WbemError =>
    new WbemError(
      'WBEM_E_INVALID_PARAMETER',
      `namespace "${preview(text)}" could not be parsed: ${why}`,
      {
        namespace: text,
      },
    );
  if (text.length === 0) throw invalid('it is empty');
  let rest = text.replace(/\//g, '\\');
  if (rest.startsWith('\\\\')) {
    const end = rest.indexOf('\\', 2);
    if (end < 0) throw invalid('a machine name must be followed by a namespace');
    const machine = rest.slice(2, end);
    if (machine !== '.' && !isIdentifier(machine) && !/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(machine)) {
      throw invalid(`"${preview(machine)}" is not a machine name`);
    }
    if (machine !== '.' && machine.toLowerCase() !== 'localhost' && !isLocalMachine(machine)) {
      throw invalid(
        `machine "${preview(machine)}" is not this server; a repository serves only its own namespaces`,
      );
    }
    rest = rest.slice(end + 1);
    if (rest.length === 0) throw invalid('a machine name must be followed by a namespace');
  }
  const elements = rest.split('\\');
  for (const element of elements) {
    if (element.length === 0) throw invalid('it has an empty element');
    if (!isIdentifier(element)) throw invalid(`"${preview(element)}" is not an identifier`);
  }
  return { elements, key: namespaceKeyOf(elements) };
}

/** `root\cimv2`: the __NAMESPACE form. */
export function formatNamespace(elements: readonly string[]): string {
  return elements.join('\\');
}

/** `\\SERVER\root\cimv2:ClassName`: __PATH of a class. */
export function formatClassPath(
  server: string,
  namespace: readonly string[],
  className: string,
): string {
  return `\\\\${server}\\${formatNamespace(namespace)}:${className}`;
}

/** The namespaces every store has (docs/api.md). */
export const BUILT_IN_NAMESPACES: readonly (readonly string[])[] = [
  ['root'],
  ['root', 'cimv2'],
  ['root', 'default'],
];

/**
 * A locale namespace (`root\cimv2\ms_409`, §5.8, §6.9): it holds the amended qualifiers of the
 * classes of its parent, and no instances can be created there.
 */
export function isLocaleNamespace(elements: readonly string[]): boolean {
  return /^ms_[0-9a-f]+$/i.test(elements[elements.length - 1] ?? '');
}
