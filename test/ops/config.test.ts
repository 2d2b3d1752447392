import { readFileSync } from 'node:fs';
import {
  CONFIG_KEYS,
  ConfigError,
  GRPC_KEYS,
  resolveServeConfig,
  type ConfigSources,
} from '../../src/cli/config';
import { DEFAULT_GRPC_OPTIONS } from '../../src/server';
import { thrown } from '../helpers/expect-thrown';

const resolve = (sources: Partial<ConfigSources>) =>
  resolveServeConfig({ flags: {}, env: {}, ...sources });
const problemsOf = (sources: Partial<ConfigSources>): readonly string[] =>
  thrown(ConfigError, () => resolve(sources)).problems;

test('defaults: loopback, ./data, info, no metrics, the mesh gRPC options', () => {
  expect(resolve({})).toEqual({
    listen: '127.0.0.1:50051',
    dataDir: './data',
    serverName: undefined,
    shutdownGraceMs: 10_000,
    metricsListen: undefined,
    insecure: false,
    logLevel: 'info',
    grpcOptions: DEFAULT_GRPC_OPTIONS,
    tls: undefined,
    tokens: undefined,
    acl: undefined,
    maxConcurrentCalls: 1024,
  });
});

test('a flag beats the environment, which beats the file', () => {
  const file = {
    path: 'wbemd.json',
    text: JSON.stringify({
      listen: '127.0.0.1:1',
      data: '/file',
      logLevel: 'warn',
      shutdownGraceMs: 5,
    }),
  };
  const config = resolve({
    file,
    env: { WBEMD_LISTEN: '127.0.0.1:2', WBEMD_DATA: '/env' },
    flags: { listen: '127.0.0.1:3' },
  });
  expect([config.listen, config.dataDir, config.logLevel, config.shutdownGraceMs]).toEqual([
    '127.0.0.1:3',
    '/env',
    'warn',
    5,
  ]);
});

test('the grpc section maps to grpc-js options over the defaults', () => {
  const file = {
    path: 'w.json',
    text: JSON.stringify({
      grpc: { keepaliveTimeMs: 1000, maxConnectionAgeMs: 60000, maxReceiveMessageBytes: 1048576 },
    }),
  };
  expect(resolve({ file }).grpcOptions).toEqual({
    ...DEFAULT_GRPC_OPTIONS,
    'grpc.keepalive_time_ms': 1000,
    'grpc.max_connection_age_ms': 60000,
    'grpc.max_receive_message_length': 1048576,
  });
});

test('every problem is reported at once, each naming where the value came from', () => {
  const file = {
    path: 'w.json',
    text: JSON.stringify({
      lisen: 'x',
      shutdownGraceMs: -1,
      insecure: 'yes',
      grpc: { keepalive: 5, maxConcurrentStreams: 0 },
    }),
  };
  expect(
    problemsOf({
      file,
      flags: { 'metrics-listen': 'nope', 'log-level': 'loud' },
      env: { WBEMD_INSECURE: 'maybe' },
    }),
  ).toEqual([
    'w.json: unknown key "lisen" (known: listen, data, serverName, shutdownGraceMs, metricsListen, insecure, logLevel, maxConcurrentCalls, grpc, tls, tokens, acl, httpListen, store)',
    'w.json: "shutdownGraceMs": must be an integer from 0 to 3600000, got -1',
    '--metrics-listen: "nope" is not HOST:PORT',
    '--log-level: must be one of fatal, error, warn, info, debug, trace, silent',
    'WBEMD_INSECURE: must be 1, true, 0 or false',
    'w.json: unknown key "grpc.keepalive" (known: keepaliveTimeMs, keepaliveTimeoutMs, maxConnectionIdleMs, maxConnectionAgeMs, maxConnectionAgeGraceMs, maxReceiveMessageBytes, maxSendMessageBytes, maxConcurrentStreams)',
    'w.json: "grpc.maxConcurrentStreams": must be an integer from 1 to 2147483647, got 0',
  ]);
  expect(problemsOf({ file: { path: 'bad.json', text: '{ "listen": ' } })[0]).toMatch(
    /^bad\.json: not valid JSON/,
  );
  expect(problemsOf({ file: { path: 'arr.json', text: '[]' } })).toEqual([
    'arr.json: must be a JSON object',
  ]);
});

test('insecure from a flag, the environment or the file', () => {
  expect(resolve({ flags: { insecure: true } }).insecure).toBe(true);
  expect(resolve({ env: { WBEMD_INSECURE: '1' } }).insecure).toBe(true);
  expect(resolve({ file: { path: 'w.json', text: '{"insecure": true}' } }).insecure).toBe(true);
  expect(
    resolve({
      env: { WBEMD_INSECURE: 'false' },
      file: { path: 'w.json', text: '{"insecure": true}' },
    }).insecure,
  ).toBe(false);
});

test('docs/configuration.md documents every key of the file and of its grpc section', () => {
  const page = readFileSync('docs/configuration.md', 'utf8');
  for (const key of CONFIG_KEYS) expect(page).toContain(`| \`${key}\` |`);
  for (const [key, option] of Object.entries(GRPC_KEYS))
    expect(page).toContain(
      `| \`${key}\` | \`${option}\` | ${String(DEFAULT_GRPC_OPTIONS[option as string])}`,
    );
});

test('security sections: tls files, hashed tokens, ACL entries with right names; each mistake reported', () => {
  const sha = 'a'.repeat(64);
  const good = {
    tls: { cert: 'server.pem', key: 'server.key', clientCa: 'ca.pem' },
    tokens: [{ sha256: sha, principal: 'alice', groups: ['ops'] }],
    acl: [
      { namespace: 'root/cimv2', group: 'ops', allow: ['WBEM_ENABLE', 'WBEM_FULL_WRITE_REP'] },
      {
        namespace: 'root\\cimv2\\locked',
        principal: 'alice',
        allow: ['WBEM_ENABLE'],
        deny: ['WBEM_FULL_WRITE_REP'],
        inherit: false,
      },
    ],
  };
  const config = resolve({ file: { path: 'w.json', text: JSON.stringify(good) } });
  expect(config.tls).toEqual({
    cert: 'server.pem',
    key: 'server.key',
    clientCa: 'ca.pem',
    requireClientCert: true,
  });
  expect(config.tokens).toEqual([{ sha256: sha, principal: 'alice', groups: ['ops'] }]);
  expect(config.acl).toEqual([
    { namespace: ['root', 'cimv2'], group: 'ops', allow: 0x5, deny: 0, inherit: true },
    {
      namespace: ['root', 'cimv2', 'locked'],
      principal: 'alice',
      allow: 0x1,
      deny: 0x4,
      inherit: false,
    },
  ]);
  const bad = {
    tls: { cert: 'x' },
    tokens: [{ token: 'plain', principal: 'bob' }],
    acl: [
      { namespace: 'root', principal: 'a', group: 'b' },
      { namespace: 'root', group: 'g', allow: ['WBEM_EVERYTHING'] },
    ],
  };
  expect(problemsOf({ file: { path: 'w.json', text: JSON.stringify(bad) } })).toEqual([
    'w.json: "tls" needs "cert" and "key" (PEM file paths)',
    'w.json: "tokens[0]": needs "sha256", the hex SHA-256 of the token (never the token itself)',
    'w.json: "acl[0]": needs exactly one of "principal" and "group"',
    'w.json: "acl[1]": unknown right "WBEM_EVERYTHING" (known: WBEM_ENABLE, WBEM_METHOD_EXECUTE, WBEM_FULL_WRITE_REP, WBEM_PARTIAL_WRITE_REP, WBEM_WRITE_PROVIDER, WBEM_REMOTE_ACCESS, WBEM_RIGHT_SUBSCRIBE, WBEM_RIGHT_PUBLISH, READ_CONTROL, WRITE_DAC)',
  ]);
});

test('a non-loopback listen address without tls and acl (or insecure) is one of the problems, named by where it came from', () => {
  expect(problemsOf({ flags: { listen: '0.0.0.0:50051' } })).toEqual([
    expect.stringMatching(
      /^--listen: refusing to listen on 0\.0\.0\.0:50051: it is not a loopback address/,
    ),
  ]);
  expect(problemsOf({ env: { WBEMD_LISTEN: '10.0.0.5:1' } })[0]).toMatch(/^WBEMD_LISTEN: refusing/);
  expect(resolve({ flags: { listen: '0.0.0.0:50051', insecure: true } }).listen).toBe(
    '0.0.0.0:50051',
  );
  const secured = JSON.stringify({
    listen: '0.0.0.0:50051',
    tls: { cert: 'c.pem', key: 'k.pem' },
    acl: [{ namespace: 'root', group: '*', allow: ['WBEM_ENABLE'] }],
  });
  expect(resolve({ file: { path: 'w.json', text: secured } }).listen).toBe('0.0.0.0:50051');
  // A malformed address is one problem, not two.
  expect(problemsOf({ flags: { listen: 'nowhere' } })).toEqual([
    '--listen: "nowhere" is not HOST:PORT',
  ]);
});

describe('httpListen (the Connect / gRPC-Web / web browser listener)', () => {
  test('off unless configured; a port alone is loopback; flag, environment and file as for listen', () => {
    expect(resolve({}).httpListen).toBeUndefined();
    expect(resolve({ flags: { 'http-listen': '8080' } }).httpListen).toBe('127.0.0.1:8080');
    expect(resolve({ env: { WBEMD_HTTP_LISTEN: ':0' } }).httpListen).toBe('127.0.0.1:0');
    expect(
      resolve({ file: { path: 'w.json', text: '{"httpListen": "[::1]:9000"}' } }).httpListen,
    ).toBe('[::1]:9000');
  });

  test('a malformed or non-loopback address is a configuration problem, like listen', () => {
    expect(problemsOf({ flags: { 'http-listen': 'nope' } })).toEqual([
      '--http-listen: "nope" is not HOST:PORT',
    ]);
    const [refusal] = problemsOf({ env: { WBEMD_HTTP_LISTEN: '0.0.0.0:8080' } });
    expect(refusal).toMatch(/^WBEMD_HTTP_LISTEN: refusing to listen on 0\.0\.0\.0:8080/);
    expect(
      resolve({ env: { WBEMD_HTTP_LISTEN: '0.0.0.0:8080' }, flags: { insecure: true } }).httpListen,
    ).toBe('0.0.0.0:8080');
  });
});
