/**
 * The HTTP listener with the server's TLS: HTTPS only, and with a client CA the client certificate
 * names the caller, as on the gRPC port (the ACL below grants writes to alice alone).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WBEM_RIGHT, type AclEntry } from '../../src/domain/access';
import { describeWithTool } from '../helpers/external-tools';
import { makeTestPki, OPENSSL, type TestPki } from '../helpers/test-pki';
import { startTestServer, type TestServer } from '../helpers/test-server';

const ACL: AclEntry[] = [
  { namespace: ['root'], group: '*', allow: WBEM_RIGHT.WBEM_ENABLE, deny: 0, inherit: true },
  {
    namespace: ['root', 'cimv2'],
    principal: 'alice',
    allow: WBEM_RIGHT.WBEM_ENABLE | WBEM_RIGHT.WBEM_FULL_WRITE_REP,
    deny: 0,
    inherit: true,
  },
];

const PUT_WIDGET = {
  namespace: 'root/cimv2',
  object: {
    className: 'Ex_TlsWidget',
    properties: [
      { name: 'Id', type: 'CIM_STRING', qualifiers: [{ name: 'Key', value: { boolean: true } }] },
    ],
  },
};

/** A Connect JSON POST over HTTPS, trusting the test CA; `client` adds a client certificate. */
function postJson(
  address: string,
  pki: TestPki,
  method: string,
  body: unknown,
  client?: { cert: Buffer; key: Buffer },
): Promise<{ status: number; wbemStatus: string | undefined }> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    address.slice(address.lastIndexOf(':') + 1),
  ];
  return new Promise((resolve, reject) => {
    const call = request(
      {
        host,
        port: Number(port),
        method: 'POST',
        path: `/wbem.v1.WbemServices/${method}`,
        headers: { 'content-type': 'application/json' },
        ca: pki.ca,
        servername: 'localhost',
        ...(client ?? {}),
      },
      (response) => {
        response.resume();
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            wbemStatus: response.headers['wbem-status'] as string | undefined,
          }),
        );
      },
    );
    call.on('error', reject);
    call.end(JSON.stringify(body));
  });
}

describeWithTool(OPENSSL, 'HTTP listener with TLS', () => {
  let pki: TestPki;
  let dir: string;
  let t: TestServer | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wbemd-http-pki-'));
    pki = await makeTestPki(dir);
  }, 60_000);
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('TLS: HTTPS with the CA is served; plain HTTP to the same port is not', async () => {
    t = await startTestServer({
      httpListen: '127.0.0.1:0',
      tls: { cert: pki.serverCert, key: pki.serverKey },
    });
    const address = t.server.httpAddress as string;
    const served = await postJson(address, pki, 'GetClass', {
      namespace: 'root/cimv2',
      class_name: 'Ex_None',
    });
    expect(served).toEqual({ status: 404, wbemStatus: 'WBEM_E_NOT_FOUND' });
    await expect(
      fetch(`http://${address}/wbem.v1.WbemServices/GetClass`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    ).rejects.toThrow();
  });

  test('mTLS: the client certificate names the principal the ACL grants; without one the call is anonymous and refused the write', async () => {
    t = await startTestServer({
      httpListen: '127.0.0.1:0',
      tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca, requireClientCert: false },
      acl: ACL,
    });
    const address = t.server.httpAddress as string;
    const anonymous = await postJson(address, pki, 'PutClass', PUT_WIDGET);
    expect(anonymous).toEqual({ status: 403, wbemStatus: 'WBEM_E_ACCESS_DENIED' });
    const alice = await postJson(address, pki, 'PutClass', PUT_WIDGET, {
      cert: pki.clientCert,
      key: pki.clientKey,
    });
    expect(alice).toEqual({ status: 200, wbemStatus: undefined });
  });

  test('mTLS required: no client certificate, no connection', async () => {
    t = await startTestServer({
      httpListen: '127.0.0.1:0',
      tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca },
    });
    await expect(
      postJson(t.server.httpAddress as string, pki, 'GetClass', {
        namespace: 'root/cimv2',
        class_name: 'X',
      }),
    ).rejects.toThrow();
    const alice = await postJson(
      t.server.httpAddress as string,
      pki,
      'GetClass',
      { namespace: 'root/cimv2', class_name: 'X' },
      { cert: pki.clientCert, key: pki.clientKey },
    );
    expect(alice).toEqual({ status: 404, wbemStatus: 'WBEM_E_NOT_FOUND' });
  });
});
