/**
 * `wbemd serve` configuration: one JSON file (`--config` / WBEMD_CONFIG), environment variables and
 * flags, in that order of precedence (a flag beats the environment, which beats the file), checked
 * as a whole at start. Every problem is reported at once, each naming where the value came from.
 * docs/configuration.md documents every key; a test keeps the two in step.
 */
import type { ChannelOptions } from '@grpc/grpc-js';
import { WBEM_RIGHT, type AclEntry } from '../domain/access';
import { DEFAULT_GRPC_OPTIONS, DEFAULT_MAX_CONCURRENT_CALLS } from '../server';
import { nonLoopbackRefusal } from '../startup';
import type { TokenEntry } from '../transport/grpc/authenticate';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServeConfig {
  readonly listen: string;
  readonly dataDir: string;
  readonly serverName: string | undefined;
  readonly shutdownGraceMs: number;
  readonly metricsListen: string | undefined;
  readonly insecure: boolean;
  readonly logLevel: LogLevel;
  readonly grpcOptions: ChannelOptions;
  readonly tls: TlsFiles | undefined;
  readonly tokens: readonly TokenEntry[] | undefined;
  readonly acl: readonly AclEntry[] | undefined;
  readonly maxConcurrentCalls: number;
}

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly clientCa: string | undefined;
  readonly requireClientCert: boolean;
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
        | 'log-level'
        | 'max-concurrent-calls',
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

export function resolveServeConfig(sources: ConfigSources): ServeConfig {
  const problems: string[] = [];
  let file: Record<string, unknown> = {};
  const filePath = sources.file?.path;
  if (sources.file !== undefined) {
    try {
      const parsed: unknown = JSON.parse(sources.file.text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        problems.push(`${filePath}: must be a JSON object`);
      else file = parsed as Record<string, unknown>;
    } catch (error) {
      problems.push(
        `${filePath}: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    for (const key of Object.keys(file)) {
      if (!(CONFIG_KEYS as readonly string[]).includes(key))
        problems.push(`${filePath}: unknown key "${key}" (known: ${CONFIG_KEYS.join(', ')})`);
    }
  }
  const fromFile = (key: string): { value: unknown; where: string } | undefined =>
    key in file ? { value: file[key], where: `${filePath}: "${key}"` } : undefined;
  /** flag, then env, then file: the first that is there, with where it came from. */
  const pick = (
    flag: keyof ConfigSources['flags'],
    env: string,
    key: string,
  ): { value: unknown; where: string } | undefined => {
    const flagValue = sources.flags[flag];
    if (flagValue !== undefined) return { value: flagValue, where: `--${flag}` };
    const envValue = sources.env[env];
    if (envValue !== undefined && envValue !== '') return { value: envValue, where: env };
    return fromFile(key);
  };
  const text = (found: { value: unknown; where: string } | undefined, fallback: string): string => {
    if (found === undefined) return fallback;
    if (typeof found.value !== 'string' || found.value === '') {
      problems.push(`${found.where}: must be a non-empty string`);
      return fallback;
    }
    return found.value;
  };
  const address = (
    found: { value: unknown; where: string } | undefined,
    fallback: string | undefined,
  ): string | undefined => {
    if (found === undefined) return fallback;
    const value = text(found, '');
    if (value === '') return fallback;
    const match = HOST_PORT.exec(value);
    if (match === null || Number(match[2]) > 65535)
      problems.push(`${found.where}: "${value}" is not HOST:PORT`);
    return value;
  };
  const integer = (
    found: { value: unknown; where: string } | undefined,
    fallback: number,
    min: number,
    max: number,
  ): number => {
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
  };

  const listenFound = pick('listen', 'WBEMD_LISTEN', 'listen');
  const listen = address(listenFound, '127.0.0.1:50051') as string;
  const dataDir = text(pick('data', 'WBEMD_DATA', 'data'), './data');
  const serverNameFound = pick('server-name', 'WBEMD_SERVER_NAME', 'serverName');
  const serverName =
    serverNameFound === undefined ? undefined : text(serverNameFound, '') || undefined;
  const shutdownGraceMs = integer(
    pick('shutdown-grace-ms', 'WBEMD_SHUTDOWN_GRACE_MS', 'shutdownGraceMs'),
    10_000,
    0,
    3_600_000,
  );
  const metricsListen = address(
    pick('metrics-listen', 'WBEMD_METRICS_LISTEN', 'metricsListen'),
    undefined,
  );
  const maxConcurrentCalls = integer(
    pick('max-concurrent-calls', 'WBEMD_MAX_CONCURRENT_CALLS', 'maxConcurrentCalls'),
    DEFAULT_MAX_CONCURRENT_CALLS,
    1,
    1_000_000,
  );
  const levelFound = pick('log-level', 'WBEMD_LOG_LEVEL', 'logLevel');
  let logLevel: LogLevel = 'info';
  if (levelFound !== undefined) {
    if (
      typeof levelFound.value === 'string' &&
      (LOG_LEVELS as readonly string[]).includes(levelFound.value)
    )
      logLevel = levelFound.value as LogLevel;
    else problems.push(`${levelFound.where}: must be one of ${LOG_LEVELS.join(', ')}`);
  }
  let insecure = false;
  if (sources.flags.insecure === true) insecure = true;
  else if (sources.env.WBEMD_INSECURE !== undefined && sources.env.WBEMD_INSECURE !== '') {
    if (!['1', 'true', '0', 'false'].includes(sources.env.WBEMD_INSECURE))
      problems.push('WBEMD_INSECURE: must be 1, true, 0 or false');
    insecure = sources.env.WBEMD_INSECURE === '1' || sources.env.WBEMD_INSECURE === 'true';
  } else if ('insecure' in file) {
    if (typeof file.insecure !== 'boolean')
      problems.push(`${filePath}: "insecure" must be true or false`);
    else insecure = file.insecure;
  }

  const grpcOptions: Record<string, number> = {};
  if ('grpc' in file) {
    const section = file.grpc;
    if (typeof section !== 'object' || section === null || Array.isArray(section))
      problems.push(`${filePath}: "grpc" must be an object`);
    else {
      for (const [key, value] of Object.entries(section)) {
        const option = (GRPC_KEYS as Record<string, string>)[key];
        if (option === undefined) {
          problems.push(
            `${filePath}: unknown key "grpc.${key}" (known: ${Object.keys(GRPC_KEYS).join(', ')})`,
          );
          continue;
        }
        grpcOptions[option] = integer(
          { value, where: `${filePath}: "grpc.${key}"` },
          0,
          1,
          2 ** 31 - 1,
        );
      }
    }
  }
  const security = securityOf(file, filePath ?? '', problems);
  const refusal = nonLoopbackRefusal(listen, {
    insecure,
    tls: security.tls !== undefined,
    acl: security.acl !== undefined,
  });
  // A malformed address is reported once, above.
  if (refusal !== undefined && HOST_PORT.test(listen))
    problems.push(`${listenFound?.where ?? 'listen'}: ${refusal}`);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    listen,
    dataDir,
    serverName,
    shutdownGraceMs,
    metricsListen,
    insecure,
    logLevel,
    maxConcurrentCalls,
    grpcOptions: { ...DEFAULT_GRPC_OPTIONS, ...grpcOptions },
    ...security,
  };
}

/**
 * The `tls`, `tokens` and `acl` sections (the last two are what SIGHUP reloads). Problems are
 * pushed, not thrown, so every one is reported at once.
 */
export function securityOf(
  file: Record<string, unknown>,
  where: string,
  problems: string[],
): { tls: TlsFiles | undefined; tokens: TokenEntry[] | undefined; acl: AclEntry[] | undefined } {
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== '';
  let tls: TlsFiles | undefined;
  if ('tls' in file) {
    const section = file.tls;
    if (!isObject(section) || !nonEmpty(section.cert) || !nonEmpty(section.key))
      problems.push(`${where}: "tls" needs "cert" and "key" (PEM file paths)`);
    else {
      if (section.clientCa !== undefined && !nonEmpty(section.clientCa))
        problems.push(`${where}: "tls.clientCa" must be a PEM file path`);
      if (section.requireClientCert !== undefined && typeof section.requireClientCert !== 'boolean')
        problems.push(`${where}: "tls.requireClientCert" must be true or false`);
      tls = {
        cert: section.cert,
        key: section.key,
        clientCa: nonEmpty(section.clientCa) ? section.clientCa : undefined,
        requireClientCert: section.requireClientCert !== false,
      };
    }
  }
  let tokens: TokenEntry[] | undefined;
  if ('tokens' in file) {
    if (!Array.isArray(file.tokens)) problems.push(`${where}: "tokens" must be an array`);
    else {
      tokens = [];
      for (const [index, entry] of (file.tokens as unknown[]).entries()) {
        const at = `${where}: "tokens[${index}]"`;
        if (
          !isObject(entry) ||
          typeof entry.sha256 !== 'string' ||
          !/^[0-9a-fA-F]{64}$/.test(entry.sha256)
        )
          problems.push(
            `${at}: needs "sha256", the hex SHA-256 of the token (never the token itself)`,
          );
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
    }
  }
  let acl: AclEntry[] | undefined;
  if ('acl' in file) {
    if (!Array.isArray(file.acl)) problems.push(`${where}: "acl" must be an array`);
    else {
      acl = [];
      for (const [index, entry] of (file.acl as unknown[]).entries()) {
        const at = `${where}: "acl[${index}]"`;
        if (!isObject(entry) || !nonEmpty(entry.namespace)) {
          problems.push(`${at}: needs "namespace"`);
          continue;
        }
        if (nonEmpty(entry.principal) === nonEmpty(entry.group)) {
          problems.push(`${at}: needs exactly one of "principal" and "group"`);
          continue;
        }
        const mask = (key: 'allow' | 'deny'): number => {
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
        };
        if (entry.inherit !== undefined && typeof entry.inherit !== 'boolean')
          problems.push(`${at}: "inherit" must be true or false`);
        acl.push({
          namespace: entry.namespace.split(/[\\/]+/).filter(Boolean),
          ...(nonEmpty(entry.principal)
            ? { principal: entry.principal }
            : { group: entry.group as string }),
          allow: mask('allow'),
          deny: mask('deny'),
          inherit: entry.inherit !== false,
        });
      }
    }
  }
  return { tls, tokens, acl };
}
