/**
 * A throwaway PKI made with openssl for TLS tests: a CA, a server certificate for localhost and
 * 127.0.0.1, and a client certificate for CN=alice.
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
  readonly ca: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
}

/** A key and a certificate signed by the CA in `dir` (ca.pem, ca.key). */
async function signed(dir: string, name: string, subject: string, ext?: string): Promise<void> {
  const at = (file: string) => join(dir, file);
  await sh(
    'openssl',
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at(`${name}.key`)].concat([
      '-out',
      at(`${name}.csr`),
      '-subj',
      subject,
    ]),
  );
  const extArgs: string[] = [];
  if (ext !== undefined) {
    await writeFile(at(`${name}.ext`), ext);
    extArgs.push('-extfile', at(`${name}.ext`));
  }
  await sh('openssl', [
    'x509',
    '-req',
    '-in',
    at(`${name}.csr`),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at(`${name}.pem`),
    '-days',
    '2',
    ...extArgs,
  ]);
}

/** Makes the PKI in `dir` (which must exist). */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const at = (file: string) => join(dir, file);
  await sh('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=wbemd test CA',
  ]);
  await signed(dir, 'server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await signed(dir, 'client', '/CN=alice');
  const read = (file: string) => readFile(at(file));
  return {
    ca: await read('ca.pem'),
    serverCert: await read('server.pem'),
    serverKey: await read('server.key'),
    clientCert: await read('client.pem'),
    clientKey: await read('client.key'),
  };
}
