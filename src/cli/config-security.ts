/**
 * The security sections of the `wbemd serve` configuration file: `tls`, `tokens` and `acl`.
 * Kept apart from config.ts because SIGHUP reloads `tokens` and `acl` on their own.
 */
import { WBEM_RIGHT, type AclEntry } from '../domain/access';
import type { TokenEntry } from '../transport/grpc/authenticate';

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly clientCa: string | undefined;
  readonly requireClientCert: boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== '';

/**
 * The `tls`, `tokens` and `acl` sections (the last two are what SIGHUP reloads). Problems are
 * pushed, not thrown, so every one is reported at once.
 */
export function securityOf(
  file: Record<string, unknown>,
  where: string,
  problems: string[],
): { tls: TlsFiles | undefined; tokens: TokenEntry[] | undefined; acl: AclEntry[] | undefined } {
  const tls = 'tls' in file ? tlsOf(file.tls, where, problems) : undefined;
  const tokens = 'tokens' in file ? tokensOf(file.tokens, where, problems) : undefined;
  const acl = 'acl' in file ? aclOf(file.acl, where, problems) : undefined;
  return { tls, tokens, acl };
}

function tlsOf(section: unknown, where: string, problems: string[]): TlsFiles | undefined {
  if (!isObject(section) || !nonEmpty(section.cert) || !nonEmpty(section.key)) {
    problems.push(`${where}: "tls" needs "cert" and "key" (PEM file paths)`);
    return undefined;
  }
  if (section.clientCa !== undefined && !nonEmpty(section.clientCa))
    problems.push(`${where}: "tls.clientCa" must be a PEM file path`);
  if (section.requireClientCert !== undefined && typeof section.requireClientCert !== 'boolean')
    problems.push(`${where}: "tls.requireClientCert" must be true or false`);
  return {
    cert: section.cert,
    key: section.key,
    clientCa: nonEmpty(section.clientCa) ? section.clientCa : undefined,
    requireClientCert: section.requireClientCert !== false,
  };
}

function tokensOf(section: unknown, where: string, problems: string[]): TokenEntry[] | undefined {
  if (!Array.isArray(section)) {
    problems.push(`${where}: "tokens" must be an array`);
    return undefined;
  }
  const tokens: TokenEntry[] = [];
  for (const [index, entry] of (section as unknown[]).entries()) {
    const at = `${where}: "tokens[${index}]"`;
    if (
      !isObject(entry) ||
      typeof entry.sha256 !== 'string' ||
      !/^[0-9a-fA-F]{64}$/.test(entry.sha256)
    )
      problems.push(`${at}: needs "sha256", the hex SHA-256 of the token (never the token itself)`);
    else if (!nonEmpty(entry.principal)) problems.push(`${at}: needs "principal"`);
    else if (
      entry.groups !== undefined &&
      !(Array.isArray(entry.groups) && entry.groups.every(nonEmpty))
    )
      problems.push(`${at}: "groups" must be an array of names`);
    else
      tokens.push({
        sha256: entry.sha256,
        principal: entry.principal,
        groups: entry.groups ?? [],
      });
  }
  return tokens;
}

function aclOf(section: unknown, where: string, problems: string[]): AclEntry[] | undefined {
  if (!Array.isArray(section)) {
    problems.push(`${where}: "acl" must be an array`);
    return undefined;
  }
  const acl: AclEntry[] = [];
  for (const [index, entry] of (section as unknown[]).entries()) {
    const at = `${where}: "acl[${index}]"`;
    if (!isObject(entry) || !nonEmpty(entry.namespace)) {
      problems.push(`${at}: needs "namespace"`);
      continue;
    }
    if (nonEmpty(entry.principal) === nonEmpty(entry.group)) {
      problems.push(`${at}: needs exactly one of "principal" and "group"`);
      continue;
    }
    if (entry.inherit !== undefined && typeof entry.inherit !== 'boolean')
      problems.push(`${at}: "inherit" must be true or false`);
    acl.push({
      namespace: entry.namespace.split(/[\\/]+/).filter(Boolean),
      ...(nonEmpty(entry.principal)
        ? { principal: entry.principal }
        : { group: entry.group as string }),
      allow: rightsMask(entry, 'allow', at, problems),
      deny: rightsMask(entry, 'deny', at, problems),
      inherit: entry.inherit !== false,
    });
  }
  return acl;
}

/** The bits of an ACL entry's `allow` or `deny` list of right names. */
function rightsMask(
  entry: Record<string, unknown>,
  key: 'allow' | 'deny',
  at: string,
  problems: string[],
): number {
  const names = entry[key] ?? [];
  if (!Array.isArray(names)) {
    problems.push(`${at}: "${key}" must be an array of rights`);
    return 0;
  }
  let bits = 0;
  for (const name of names) {
    const right =
      typeof name === 'string' ? (WBEM_RIGHT as Record<string, number>)[name] : undefined;
    if (right === undefined)
      problems.push(
        `${at}: unknown right ${JSON.stringify(name)} (known: ${Object.keys(WBEM_RIGHT).join(', ')})`,
      );
    else bits |= right;
  }
  return bits;
}
