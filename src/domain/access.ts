/**
 * Namespace access rights (docs/wmi-semantics.md §8) and the access policy that grants them: ACL
 * entries per namespace for a principal or a group, inherited by child namespaces unless a nearer
 * namespace has entries of its own for the caller (§8 rule 7). Pure: the transport authenticates,
 * the service asks this module, nothing here does I/O.
 */
import { namespaceKeyOf, type NamespaceKey } from './names';
import { WbemError } from './wbem-status';

export const WBEM_RIGHT = {
  WBEM_ENABLE: 0x1,
  WBEM_METHOD_EXECUTE: 0x2,
  WBEM_FULL_WRITE_REP: 0x4,
  WBEM_PARTIAL_WRITE_REP: 0x8,
  WBEM_WRITE_PROVIDER: 0x10,
  WBEM_REMOTE_ACCESS: 0x20,
  WBEM_RIGHT_SUBSCRIBE: 0x40,
  WBEM_RIGHT_PUBLISH: 0x80,
  READ_CONTROL: 0x20000,
  WRITE_DAC: 0x40000,
} as const;

export type WbemRightName = keyof typeof WBEM_RIGHT;
export const ALL_RIGHTS = Object.values(WBEM_RIGHT).reduce((all, right) => all | right, 0);

/** Who is calling, as the transport authenticated it. */
export interface Principal {
  readonly name: string;
  readonly groups: readonly string[];
  /** Connected from this machine (loopback): no WBEM_REMOTE_ACCESS needed. */
  readonly local: boolean;
}

export interface AclEntry {
  /** Namespace elements, e.g. ['root', 'cimv2']. */
  readonly namespace: readonly string[];
  /** Exactly one of principal and group; `*` as a group means every authenticated caller. */
  readonly principal?: string;
  readonly group?: string;
  readonly allow: number;
  readonly deny: number;
  /** Applies to child namespaces too (default). */
  readonly inherit: boolean;
}

export function rightNames(mask: number): WbemRightName[] {
  return (Object.entries(WBEM_RIGHT) as [WbemRightName, number][])
    .filter(([, right]) => (mask & right) !== 0)
    .map(([name]) => name);
}

export class AccessPolicy {
  /** No ACL configured: every caller may do everything (the loopback-only default, §8 rule 4's spirit). */
  static allowAll(): AccessPolicy {
    return new AccessPolicy(undefined);
  }

  /** The ACL's policy; no ACL configured (undefined) means allowAll. */
  static fromEntries(entries: readonly AclEntry[] | undefined): AccessPolicy {
    return new AccessPolicy(entries);
  }

  readonly #byNamespace: Map<NamespaceKey, AclEntry[]> | undefined;

  private constructor(entries: readonly AclEntry[] | undefined) {
    if (entries === undefined) return;
    this.#byNamespace = new Map();
    for (const entry of entries) {
      const key = namespaceKeyOf(entry.namespace);
      const list = this.#byNamespace.get(key) ?? [];
      list.push(entry);
      this.#byNamespace.set(key, list);
    }
  }

  get enforcing(): boolean {
    return this.#byNamespace !== undefined;
  }

  /** The rights `principal` holds on the namespace: the nearest namespace with entries for it decides. */
  rightsOf(principal: Principal | undefined, namespace: readonly string[]): number {
    if (this.#byNamespace === undefined) return ALL_RIGHTS;
    if (principal === undefined) return 0;
    const groups = new Set(principal.groups.map((g) => g.toLowerCase()));
    const matches = (entry: AclEntry): boolean =>
      (entry.principal !== undefined &&
        entry.principal.toLowerCase() === principal.name.toLowerCase()) ||
      (entry.group !== undefined && (entry.group === '*' || groups.has(entry.group.toLowerCase())));
    for (let depth = namespace.length; depth > 0; depth--) {
      const own = depth === namespace.length;
      const entries = (
        this.#byNamespace.get(namespaceKeyOf(namespace.slice(0, depth))) ?? []
      ).filter((e) => matches(e) && (own || e.inherit));
      if (entries.length === 0) continue;
      const allow = entries.reduce((mask, e) => mask | e.allow, 0);
      const deny = entries.reduce((mask, e) => mask | e.deny, 0);
      return allow & ~deny;
    }
    return 0;
  }

  /**
   * Throws WBEM_E_ACCESS_DENIED unless the principal holds every right in `needed` (and
   * WBEM_REMOTE_ACCESS when it is not local, §8 rule 1).
   */
  require(
    principal: Principal | undefined,
    namespace: readonly string[],
    needed: number,
    operation: string,
  ): void {
    const required =
      needed | (principal !== undefined && !principal.local ? WBEM_RIGHT.WBEM_REMOTE_ACCESS : 0);
    const missing = required & ~this.rightsOf(principal, namespace);
    if (missing === 0) return;
    const who = principal === undefined ? 'an anonymous caller' : principal.name;
    throw new WbemError(
      'WBEM_E_ACCESS_DENIED',
      `${who} lacks ${rightNames(missing).join(', ')} on ${namespace.join('\\')} for ${operation}`,
      {
        namespace: namespace.join('\\'),
      },
    );
  }
}
