/**
 * A throwaway PKI made by openssl for TLS tests: a CA, a server certificate for localhost and
 * 127.0.0.1, and a client certificate (CN=alice), as PEM files in `dir` and as Buffers.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runsCleanly } from './external-tools';

const sh = promisify(execFile);

export const OPENSSL = {
  name: 'openssl (makes the test certificates)',
  available: runsCleanly('openssl', ['version']),
  install: 'apt-get install openssl',
};

export interface TestPki {
  readonly dir: string;
  readonly ca: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
}

export async function makeTestPki(dir: string): Promise<TestPki> {
  const at = (name: string): string => join(dir, name);
  const key = (name: string, subject: string, out: string): string[] => [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at(name),
    '-out',
    at(out),
    '-subj',
    subject,
  ];
  const sign = (csr: string, out: string, extra: string[] = []): string[] => [
    'x509',
    '-req',
    '-in',
    at(csr),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at(out),
    '-days',
    '2',
    ...extra,
  ];
  await sh('openssl', [...key('ca.key', '/CN=wbemd test CA', 'ca.pem'), '-x509', '-days', '2']);
  await writeFile(at('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await sh('openssl', key('server.key', '/CN=localhost', 'server.csr'));
  await sh('openssl', sign('server.csr', 'server.pem', ['-extfile', at('server.ext')]));
  await sh('openssl', key('client.key', '/CN=alice', 'client.csr'));
  await sh('openssl', sign('client.csr', 'client.pem'));
  return {
    dir,
    ca: await readFile(at('ca.pem')),
    serverCert: await readFile(at('server.pem')),
    serverKey: await readFile(at('server.key')),
    clientCert: await readFile(at('client.pem')),
    clientKey: await readFile(at('client.key')),
  };
}
