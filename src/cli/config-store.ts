/**
 * The `store` section of the `wbemd serve` configuration: absent = LevelDB under `data`;
 * `{"etcd": {"endpoints": [...], "prefix": "/wbemd/", "tls": {"ca", "cert", "key"},
 * "requestTimeoutMs": 5000}}` = replicas over an etcd cluster. Flags and environment override the
 * file field by field (--etcd-endpoints / WBEMD_ETCD_ENDPOINTS, comma-separated, choose etcd).
 */
export interface EtcdSettings {
  readonly endpoints: readonly string[];
  readonly prefix: string;
  readonly tls: { readonly ca: string; readonly cert?: string; readonly key?: string } | undefined;
  readonly requestTimeoutMs: number;
}

export type EtcdFlag = 'etcd-endpoints' | 'etcd-prefix' | 'etcd-ca' | 'etcd-cert' | 'etcd-key';

interface StoreSources {
  readonly flags: Readonly<Partial<Record<EtcdFlag, string>>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly file: Record<string, unknown>;
  readonly filePath: string;
}

const ENDPOINT = /^https?:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

type Found = { value: unknown; where: string } | undefined;
type FieldReader = (flag: EtcdFlag, env: string, key: string) => Found;

/** The etcd settings, or undefined for the LevelDB store; problems are pushed, not thrown. */
export function etcdSettingsOf(
  sources: StoreSources,
  problems: string[],
): EtcdSettings | undefined {
  const section = sectionOf(sources, problems);
  const field: FieldReader = (flag, env, key) => {
    const flagValue = sources.flags[flag];
    if (flagValue !== undefined) return { value: flagValue, where: `--${flag}` };
    const envValue = sources.env[env];
    if (envValue !== undefined && envValue !== '') return { value: envValue, where: env };
    const [outer, inner] = key.split('.') as [string, string | undefined];
    const nested = section[outer];
    const value = inner === undefined ? nested : isObject(nested) ? nested[inner] : undefined;
    return value === undefined
      ? undefined
      : { value, where: `${sources.filePath}: "store.etcd.${key}"` };
  };
  const endpointsFound = field('etcd-endpoints', 'WBEMD_ETCD_ENDPOINTS', 'endpoints');
  if (endpointsFound === undefined) {
    if (Object.keys(section).length > 0)
      problems.push(`${sources.filePath}: "store.etcd" needs "endpoints"`);
    return undefined;
  }
  const endpoints = endpointsOf(endpointsFound, problems);
  const prefix = textOf(field('etcd-prefix', 'WBEMD_ETCD_PREFIX', 'prefix'), '/wbemd/', problems);
  const tls = tlsOf(field, endpoints, problems);
  const requestTimeoutMs = timeoutOf(section.requestTimeoutMs, sources.filePath, problems);
  return { endpoints, prefix, tls, requestTimeoutMs };
}

/** The file's `store.etcd` object ({} when absent or unusable). */
function sectionOf(sources: StoreSources, problems: string[]): Record<string, unknown> {
  const { file, filePath } = sources;
  if (!('store' in file)) return {};
  if (!isObject(file.store) || Object.keys(file.store).some((k) => k !== 'etcd')) {
    problems.push(`${filePath}: "store" must be {} or {"etcd": {...}}`);
    return {};
  }
  if (file.store.etcd === undefined) return {};
  if (isObject(file.store.etcd)) return file.store.etcd;
  problems.push(`${filePath}: "store.etcd" must be an object`);
  return {};
}

function tlsOf(
  field: FieldReader,
  endpoints: readonly string[],
  problems: string[],
): EtcdSettings['tls'] {
  const ca = field('etcd-ca', 'WBEMD_ETCD_CA', 'tls.ca');
  const cert = field('etcd-cert', 'WBEMD_ETCD_CERT', 'tls.cert');
  const key = field('etcd-key', 'WBEMD_ETCD_KEY', 'tls.key');
  if ((cert === undefined) !== (key === undefined))
    problems.push('etcd TLS: a client certificate and its key go together (tls.cert and tls.key)');
  if (cert !== undefined && ca === undefined)
    problems.push(
      "etcd TLS: a client certificate needs the CA of etcd's server certificate (tls.ca)",
    );
  if (ca === undefined) return undefined;
  if (endpoints.some((e) => e.startsWith('http://')))
    problems.push('etcd TLS: the endpoints must be https:// URLs when tls is configured');
  return {
    ca: textOf(ca, '', problems),
    ...(cert === undefined ? {} : { cert: textOf(cert, '', problems) }),
    ...(key === undefined ? {} : { key: textOf(key, '', problems) }),
  };
}

function timeoutOf(value: unknown, filePath: string, problems: string[]): number {
  if (value === undefined) return 5000;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 600_000)
    return value;
  problems.push(`${filePath}: "store.etcd.requestTimeoutMs" must be an integer from 100 to 600000`);
  return 5000;
}

function endpointsOf(found: { value: unknown; where: string }, problems: string[]): string[] {
  const list =
    typeof found.value === 'string'
      ? found.value
          .split(',')
          .map((e) => e.trim())
          .filter((e) => e !== '')
      : Array.isArray(found.value)
        ? found.value
        : [];
  const endpoints = list.filter((e): e is string => typeof e === 'string' && ENDPOINT.test(e));
  if (list.length === 0 || endpoints.length !== list.length)
    problems.push(
      `${found.where}: must be etcd client URLs (http://HOST:PORT or https://HOST:PORT), got ${JSON.stringify(found.value)}`,
    );
  return endpoints;
}

function textOf(
  found: { value: unknown; where: string } | undefined,
  fallback: string,
  problems: string[],
): string {
  if (found === undefined) return fallback;
  if (typeof found.value !== 'string' || found.value === '') {
    problems.push(`${found.where}: must be a non-empty string`);
    return fallback;
  }
  return found.value;
}
