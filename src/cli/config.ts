/**
 * `wbemd serve` configuration: one JSON file (`--config` / WBEMD_CONFIG), environment variables and
 * flags, in that order of precedence (a flag beats the environment, which beats the file), checked
 * as a whole at start. Every problem is reported at once, each naming where the value came from.
 * docs/configuration.md documents every key; a test keeps the two in step.
 */
import type { ChannelOptions } from '@grpc/grpc-js';
import type { AclEntry } from '../domain/access';
import { DEFAULT_GRPC_OPTIONS, DEFAULT_MAX_CONCURRENT_CALLS } from '../server';
import { nonLoopbackRefusal } from '../startup';
import type { TokenEntry } from '../transport/grpc/authenticate';
import { securityOf, type TlsFiles } from './config-security';
import { etcdSettingsOf, type EtcdFlag, type EtcdSettings } from './config-store';

export { securityOf, type EtcdSettings, type TlsFiles };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServeConfig {
  readonly listen: string;
  readonly dataDir: string;
  readonly serverName: string | undefined;
  readonly shutdownGraceMs: number;
  readonly metricsListen: string | undefined;
  /** The Connect / gRPC-Web / JSON and web browser listener; undefined = off. */
  readonly httpListen: string | undefined;
  readonly insecure: boolean;
  readonly logLevel: LogLevel;
  readonly grpcOptions: ChannelOptions;
  readonly tls: TlsFiles | undefined;
  readonly tokens: readonly TokenEntry[] | undefined;
  readonly acl: readonly AclEntry[] | undefined;
  readonly maxConcurrentCalls: number;
  /** The etcd store; undefined = LevelDB under dataDir. */
  readonly etcd: EtcdSettings | undefined;
}

/** The `grpc` section of the file: our names → grpc-js channel options. */
export const GRPC_KEYS = {
  keepaliveTimeMs: 'grpc.keepalive_time_ms',
  keepaliveTimeoutMs: 'grpc.keepalive_timeout_ms',
  maxConnectionIdleMs: 'grpc.max_connection_idle_ms',
  maxConnectionAgeMs: 'grpc.max_connection_age_ms',
  maxConnectionAgeGraceMs: 'grpc.max_connection_age_grace_ms',
  maxReceiveMessageBytes: 'grpc.max_receive_message_length',
  maxSendMessageBytes: 'grpc.max_send_message_length',
  maxConcurrentStreams: 'grpc.max_concurrent_streams',
} as const;

export const CONFIG_KEYS = [
  'listen',
  'data',
  'serverName',
  'shutdownGraceMs',
  'metricsListen',
  'insecure',
  'logLevel',
  'maxConcurrentCalls',
  'grpc',
  'tls',
  'tokens',
  'acl',
  'httpListen',
  'store',
] as const;

/** Flags and environment as strings (absent = not given); the file as its text. */
export interface ConfigSources {
  readonly flags: Readonly<
    Partial<
      Record<
        | 'listen'
        | 'data'
        | 'server-name'
        | 'shutdown-grace-ms'
        | 'metrics-listen'
        | 'http-listen'
        | 'log-level'
        | 'max-concurrent-calls'
        | EtcdFlag,
        string
      >
    >
  > & { readonly insecure?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The config file's path and text, when one was named. */
  readonly file?: { readonly path: string; readonly text: string };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

type Found = { value: unknown; where: string } | undefined;

/** Reads settings from the sources, pushing each problem (in the order met) rather than throwing. */
interface Reader {
  readonly sources: ConfigSources;
  readonly file: Record<string, unknown>;
  readonly filePath: string | undefined;
  readonly problems: string[];
  /** flag, then env, then file: the first that is there, with where it came from. */
  pick(flag: keyof ConfigSources['flags'], env: string, key: string): Found;
  text(found: Found, fallback: string): string;
  address(found: Found, fallback: string | undefined): string | undefined;
  integer(found: Found, fallback: number, min: number, max: number): number;
}

export function resolveServeConfig(sources: ConfigSources): ServeConfig {
  const problems: string[] = [];
  const read = readerOf(sources, parseFile(sources.file, problems), problems);
  const { listen, listenWhere, ...basics } = basicSettings(read);
  const limits = limitSettings(read);
  const logLevel = logLevelOf(read);
  const insecure = insecureOf(read);
  const grpcOptions = grpcOptionsOf(read);
  const security = securityOf(read.file, read.filePath ?? '', problems);
  const etcd = etcdSettingsOf(
    { flags: sources.flags, env: sources.env, file: read.file, filePath: read.filePath ?? '' },
    problems,
  );
  const http = httpListenOf(read);
  for (const [address, where] of [
    [listen, listenWhere ?? 'listen'],
    [http.listen, http.where],
  ] as const) {
    if (address === undefined) continue;
    const refusal = nonLoopbackRefusal(address, {
      insecure,
      tls: security.tls !== undefined,
      acl: security.acl !== undefined,
    });
    // A malformed address is reported once, above.
    if (refusal !== undefined && HOST_PORT.test(address)) problems.push(`${where}: ${refusal}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    listen,
    ...basics,
    metricsListen: limits.metricsListen,
    httpListen: http.listen,
    insecure,
    logLevel,
    maxConcurrentCalls: limits.maxConcurrentCalls,
    grpcOptions: { ...DEFAULT_GRPC_OPTIONS, ...grpcOptions },
    ...security,
    etcd,
  };
}

/** The file's top-level object ({} when there is none or it is unusable) and its problems. */
function parseFile(source: ConfigSources['file'], problems: string[]): Record<string, unknown> {
  if (source === undefined) return {};
  let file: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(source.text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      problems.push(`${source.path}: must be a JSON object`);
    else file = parsed as Record<string, unknown>;
  } catch (error) {
    problems.push(
      `${source.path}: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  for (const key of Object.keys(file)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key))
      problems.push(`${source.path}: unknown key "${key}" (known: ${CONFIG_KEYS.join(', ')})`);
  }
  return file;
}

function readerOf(
  sources: ConfigSources,
  file: Record<string, unknown>,
  problems: string[],
): Reader {
  const filePath = sources.file?.path;
  const text = (found: Found, fallback: string): string => {
    if (found === undefined) return fallback;
    if (typeof found.value !== 'string' || found.value === '') {
      problems.push(`${found.where}: must be a non-empty string`);
      return fallback;
    }
    return found.value;
  };
  return {
    sources,
    file,
    filePath,
    problems,
    pick: (flag, env, key) => {
      const flagValue = sources.flags[flag];
      if (flagValue !== undefined) return { value: flagValue, where: `--${flag}` };
      const envValue = sources.env[env];
      if (envValue !== undefined && envValue !== '') return { value: envValue, where: env };
      return key in file ? { value: file[key], where: `${filePath}: "${key}"` } : undefined;
    },
    text,
    address: (found, fallback) => {
      if (found === undefined) return fallback;
      const value = text(found, '');
      if (value === '') return fallback;
      const match = HOST_PORT.exec(value);
      if (match === null || Number(match[2]) > 65535)
        problems.push(`${found.where}: "${value}" is not HOST:PORT`);
      return value;
    },
    integer: (found, fallback, min, max) => integerOf(found, fallback, min, max, problems),
  };
}

function integerOf(
  found: Found,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  if (found === undefined) return fallback;
  const value =
    typeof found.value === 'string' && /^-?\d+$/.test(found.value.trim())
      ? Number(found.value)
      : found.value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(
      `${found.where}: must be an integer from ${min} to ${max}, got ${JSON.stringify(found.value)}`,
    );
    return fallback;
  }
  return value;
}

/** Listen address, data directory, server name and shutdown grace. */
function basicSettings(read: Reader): {
  listen: string;
  listenWhere: string | undefined;
  dataDir: string;
  serverName: string | undefined;
  shutdownGraceMs: number;
} {
  const listenFound = read.pick('listen', 'WBEMD_LISTEN', 'listen');
  const listen = read.address(listenFound, '127.0.0.1:50051') as string;
  const dataDir = read.text(read.pick('data', 'WBEMD_DATA', 'data'), './data');
  const serverNameFound = read.pick('server-name', 'WBEMD_SERVER_NAME', 'serverName');
  const serverName =
    serverNameFound === undefined ? undefined : read.text(serverNameFound, '') || undefined;
  const shutdownGraceMs = read.integer(
    read.pick('shutdown-grace-ms', 'WBEMD_SHUTDOWN_GRACE_MS', 'shutdownGraceMs'),
    10_000,
    0,
    3_600_000,
  );
  return { listen, listenWhere: listenFound?.where, dataDir, serverName, shutdownGraceMs };
}

/** The metrics address and the cap on calls in flight. */
function limitSettings(read: Reader): {
  metricsListen: string | undefined;
  maxConcurrentCalls: number;
} {
  const metricsListen = read.address(
    read.pick('metrics-listen', 'WBEMD_METRICS_LISTEN', 'metricsListen'),
    undefined,
  );
  const maxConcurrentCalls = read.integer(
    read.pick('max-concurrent-calls', 'WBEMD_MAX_CONCURRENT_CALLS', 'maxConcurrentCalls'),
    DEFAULT_MAX_CONCURRENT_CALLS,
    1,
    1_000_000,
  );
  return { metricsListen, maxConcurrentCalls };
}

/**
 * The HTTP listener: `HOST:PORT`, or only a port (`8080`, `:8080`) for loopback, like the gRPC
 * port's default; off when not configured.
 */
function httpListenOf(read: Reader): { listen: string | undefined; where: string } {
  const found = read.pick('http-listen', 'WBEMD_HTTP_LISTEN', 'httpListen');
  const where = found?.where ?? 'httpListen';
  const portOnly =
    typeof found?.value === 'string' ? /^:?(\d{1,5})$/.exec(found.value.trim()) : null;
  if (found !== undefined && portOnly !== null)
    return {
      listen: read.address({ ...found, value: `127.0.0.1:${portOnly[1]}` }, undefined),
      where,
    };
  return { listen: read.address(found, undefined), where };
}

function logLevelOf(read: Reader): LogLevel {
  const levelFound = read.pick('log-level', 'WBEMD_LOG_LEVEL', 'logLevel');
  if (levelFound === undefined) return 'info';
  if (
    typeof levelFound.value === 'string' &&
    (LOG_LEVELS as readonly string[]).includes(levelFound.value)
  )
    return levelFound.value as LogLevel;
  read.problems.push(`${levelFound.where}: must be one of ${LOG_LEVELS.join(', ')}`);
  return 'info';
}

/** `insecure` is a boolean flag with no value, so it does not go through pick(). */
function insecureOf({ sources, file, filePath, problems }: Reader): boolean {
  if (sources.flags.insecure === true) return true;
  const env = sources.env.WBEMD_INSECURE;
  if (env !== undefined && env !== '') {
    if (!['1', 'true', '0', 'false'].includes(env))
      problems.push('WBEMD_INSECURE: must be 1, true, 0 or false');
    return env === '1' || env === 'true';
  }
  if (!('insecure' in file)) return false;
  if (typeof file.insecure !== 'boolean') {
    problems.push(`${filePath}: "insecure" must be true or false`);
    return false;
  }
  return file.insecure;
}

/** The file's `grpc` section as grpc-js channel options. */
function grpcOptionsOf({ file, filePath, problems }: Reader): Record<string, number> {
  const grpcOptions: Record<string, number> = {};
  if (!('grpc' in file)) return grpcOptions;
  const section = file.grpc;
  if (typeof section !== 'object' || section === null || Array.isArray(section)) {
    problems.push(`${filePath}: "grpc" must be an object`);
    return grpcOptions;
  }
  for (const [key, value] of Object.entries(section)) {
    const option = (GRPC_KEYS as Record<string, string>)[key];
    if (option === undefined) {
      problems.push(
        `${filePath}: unknown key "grpc.${key}" (known: ${Object.keys(GRPC_KEYS).join(', ')})`,
      );
      continue;
    }
    grpcOptions[option] = integerOf(
      { value, where: `${filePath}: "grpc.${key}"` },
      0,
      1,
      2 ** 31 - 1,
      problems,
    );
  }
  return grpcOptions;
}
