/**
 * Authentication and authorization through real clients: bearer tokens, TLS and mTLS handshakes
 * with certificates made by openssl for the test, the ACL matrix (every write RPC × the rights it
 * needs), nothing written on a refusal, and SIGHUP reloading the ACL of a running `wbemd serve`.
 */
import { credentials, Metadata, status as Code } from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { WbemServicesClient } from '../../generated/wbem/v1/services';
import { WBEM_RIGHT, type AclEntry } from '../../src/domain/access';
import { startServer, type RunningServer } from '../../src/server';
import { isLocalPeer, sha256Hex } from '../../src/transport/grpc/authenticate';
import { keyed } from '../e2e/fixtures';
import { describeWithTool } from '../helpers/external-tools';
import { makeTestPki, OPENSSL, type TestPki } from '../helpers/test-pki';
import { deadline, transcript, unary, type CallEnd } from '../helpers/transcript';

const R = WBEM_RIGHT;
const TOKENS = { alice: 'alice-secret-token', bob: 'bob-secret-token' };
const tokens = [
  { sha256: sha256Hex(TOKENS.alice), principal: 'alice', groups: ['writers'] },
  { sha256: sha256Hex(TOKENS.bob), principal: 'bob', groups: [] },
];
const acl: AclEntry[] = [
  { namespace: ['root'], group: '*', allow: R.WBEM_ENABLE, deny: 0, inherit: true },
  {
    namespace: ['root', 'cimv2'],
    group: 'writers',
    allow: R.WBEM_ENABLE | R.WBEM_FULL_WRITE_REP,
    deny: 0,
    inherit: true,
  },
  {
    namespace: ['root'],
    principal: 'alice',
    allow: R.WBEM_ENABLE | R.WBEM_FULL_WRITE_REP,
    deny: 0,
    inherit: false,
  },
];

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'wbemd-sec-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

const bearer = (token: string): Metadata => {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
};

/** A server on a fresh data directory and a plaintext client (TLS tests make their own clients). */
async function withServer(
  options: Partial<Parameters<typeof startServer>[0]>,
  body: (server: RunningServer, client: WbemServicesClient) => Promise<void>,
): Promise<void> {
  const dataDir = await mkdtemp(join(scratch, 'data-'));
  const server = await startServer({
    listen: '127.0.0.1:0',
    dataDir,
    serverName: 'SEC',
    ...options,
  });
  const client = new WbemServicesClient(server.address, credentials.createInsecure());
  try {
    await body(server, client);
  } finally {
    client.close();
    await server.stop();
  }
}

const exists = async (
  client: WbemServicesClient,
  metadata: Metadata,
  className: string,
  namespace = 'root/cimv2',
): Promise<boolean> =>
  (
    await unary((cb) =>
      client.getClass(
        { namespace, className, localOnly: true, asMof: false },
        metadata,
        deadline(),
        cb,
      ),
    )
  ).end === undefined;

describe('bearer tokens', () => {
  test('missing or bad credentials: UNAUTHENTICATED with WBEM_E_ACCESS_DENIED, zero events, nothing written; a good token works', async () => {
    await withServer({ tokens, acl }, async (_server, client) => {
      for (const metadata of [
        new Metadata(),
        bearer('wrong'),
        (() => {
          const m = new Metadata();
          m.set('authorization', 'Basic abc');
          return m;
        })(),
      ]) {
        const call = await transcript(
          client.putClassAsync(
            { namespace: 'root/cimv2', object: keyed('Ex_Anon'), flags: 128 },
            metadata,
            deadline(),
          ),
        );
        expect(call.messages).toEqual([]);
        expect(call.headers['wbem-operation-id']).toBeUndefined();
        expect(call.end.code).toBe(Code.UNAUTHENTICATED);
        expect(call.end.trailers['wbem-status']).toBe('WBEM_E_ACCESS_DENIED');
        expect(call.end.errorInfo?.reason).toBe('WBEM_E_ACCESS_DENIED');
      }
      expect(await exists(client, bearer(TOKENS.alice), 'Ex_Anon')).toBe(false);
      const ok = await transcript(
        client.putClassAsync(
          { namespace: 'root/cimv2', object: keyed('Ex_Alice'), flags: 0 },
          bearer(TOKENS.alice),
          deadline(),
        ),
      );
      expect(ok.end.code).toBe(Code.OK);
    });
  });
});

describe('the ACL matrix: every write RPC refused without WBEM_FULL_WRITE_REP, allowed with it; reads need WBEM_ENABLE', () => {
  type Attempt = (
    client: WbemServicesClient,
    metadata: Metadata,
    n: number,
  ) => Promise<CallEnd | undefined>;
  const streamEnd = async (
    call: ReturnType<WbemServicesClient['putClassAsync']>,
  ): Promise<CallEnd | undefined> => {
    const t = await transcript(call);
    return t.end.code === Code.OK ? undefined : t.end;
  };
  const WRITES: [string, Attempt][] = [
    [
      'PutClassAsync',
      (c, m, n) =>
        streamEnd(
          c.putClassAsync(
            { namespace: 'root/cimv2', object: keyed(`Ex_M${n}`), flags: 0 },
            m,
            deadline(),
          ),
        ),
    ],
    [
      'PutClass',
      async (c, m, n) =>
        (
          await unary((cb) =>
            c.putClass(
              { namespace: 'root/cimv2', object: keyed(`Ex_P${n}`), flags: 0 },
              m,
              deadline(),
              cb,
            ),
          )
        ).end,
    ],
    [
      'CompileMof',
      (c, m, n) =>
        streamEnd(
          c.compileMof(
            {
              namespace: 'root/cimv2',
              sources: [{ name: 'a.mof', text: `class Ex_C${n} { };` }],
              flags: 0,
              continueOnError: false,
            },
            m,
            deadline(),
          ),
        ),
    ],
    [
      'DeleteClass',
      async (c, m) =>
        (
          await unary((cb) =>
            c.deleteClass(
              { namespace: 'root/cimv2', className: 'Ex_Victim', flags: 0 },
              m,
              deadline(),
              cb,
            ),
          )
        ).end,
    ],
    [
      'CreateNamespace',
      async (c, m, n) =>
        (
          await unary((cb) =>
            c.createNamespace({ parent: 'root/cimv2', name: `ns${n}` }, m, deadline(), cb),
          )
        ).end,
    ],
    [
      'DeleteNamespace',
      async (c, m) =>
        (
          await unary((cb) =>
            c.deleteNamespace({ namespace: 'root/cimv2/doomed' }, m, deadline(), cb),
          )
        ).end,
    ],
  ];

  test.each(WRITES)('%s', async (name, attempt) => {
    await withServer({ tokens, acl }, async (_server, client) => {
      // Setup as alice (a writer): a class and a namespace to delete.
      expect(
        (
          await transcript(
            client.putClassAsync(
              { namespace: 'root/cimv2', object: keyed('Ex_Victim'), flags: 0 },
              bearer(TOKENS.alice),
              deadline(),
            ),
          )
        ).end.code,
      ).toBe(Code.OK);
      expect(
        (
          await unary((cb) =>
            client.createNamespace(
              { parent: 'root/cimv2', name: 'doomed' },
              bearer(TOKENS.alice),
              deadline(),
              cb,
            ),
          )
        ).end,
      ).toBeUndefined();
      // bob has WBEM_ENABLE only (group * at root): refused at once, PERMISSION_DENIED / ACCESS_DENIED.
      const refused = await attempt(client, bearer(TOKENS.bob), 1);
      expect(refused?.code).toBe(Code.PERMISSION_DENIED);
      expect(refused?.errorInfo?.reason).toBe('WBEM_E_ACCESS_DENIED');
      const where = name === 'DeleteNamespace' ? 'root\\cimv2\\doomed' : 'root\\cimv2';
      expect(refused?.details).toBe(`bob lacks WBEM_FULL_WRITE_REP on ${where} for ${name}`);
      // Nothing happened: the victim class and namespace are still there, nothing new exists.
      expect(await exists(client, bearer(TOKENS.bob), 'Ex_Victim')).toBe(true);
      expect(await exists(client, bearer(TOKENS.bob), `Ex_M1`)).toBe(false);
      // alice (group writers on root/cimv2) may.
      expect(await attempt(client, bearer(TOKENS.alice), 2)).toBeUndefined();
    });
  });

  test.each(WRITES)(
    '%s × every right: allowed exactly when WBEM_ENABLE and WBEM_FULL_WRITE_REP are both held',
    async (_name, attempt) => {
      await withServer({ tokens, acl }, async (server, client) => {
        let n = 10;
        const rights = Object.values(R);
        for (const right of rights) {
          for (const withEnable of [true, false]) {
            n++;
            const mask = right | (withEnable ? R.WBEM_ENABLE : 0);
            // Without the group-* entry, so WBEM_ENABLE comes only from bob's own mask.
            server.reloadSecurity({
              tokens,
              acl: [
                ...acl.filter((e) => e.group !== '*'),
                { namespace: ['root'], principal: 'bob', allow: mask, deny: 0, inherit: true },
              ],
            });
            // Fresh targets for this round, made by alice.
            await transcript(
              client.putClassAsync(
                { namespace: 'root/cimv2', object: keyed('Ex_Victim'), flags: 0 },
                bearer(TOKENS.alice),
                deadline(),
              ),
            );
            await unary((cb) =>
              client.createNamespace(
                { parent: 'root/cimv2', name: 'doomed' },
                bearer(TOKENS.alice),
                deadline(),
                cb,
              ),
            );
            const end = await attempt(client, bearer(TOKENS.bob), n);
            const expected =
              (mask & (R.WBEM_ENABLE | R.WBEM_FULL_WRITE_REP)) ===
              (R.WBEM_ENABLE | R.WBEM_FULL_WRITE_REP);
            expect([
              right,
              withEnable,
              end === undefined ? 'allowed' : end.errorInfo?.reason,
            ]).toEqual([right, withEnable, expected ? 'allowed' : 'WBEM_E_ACCESS_DENIED']);
          }
        }
      });
    },
  );

  test('instances: PutInstance and DeleteInstance need WBEM_ENABLE and WBEM_PARTIAL_WRITE_REP (or FULL_WRITE_REP, which includes it) (D46)', async () => {
    await withServer({ tokens, acl }, async (server, client) => {
      expect(
        (
          await transcript(
            client.putClassAsync(
              { namespace: 'root/cimv2', object: keyed('Ex_Item'), flags: 0 },
              bearer(TOKENS.alice),
              deadline(),
            ),
          )
        ).end.code,
      ).toBe(Code.OK);
      const item = (id: string) => ({
        className: 'Ex_Item',
        properties: [
          {
            name: 'Id',
            type: 0,
            array: false,
            value: { kind: { $case: 'string' as const, string: id } },
            qualifiers: [],
            referenceClass: '',
            embeddedClass: '',
            classOrigin: '',
            propagated: false,
          },
        ],
        qualifiers: [],
      });
      let n = 0;
      for (const right of Object.values(R)) {
        for (const withEnable of [true, false]) {
          const mask = right | (withEnable ? R.WBEM_ENABLE : 0);
          server.reloadSecurity({
            tokens,
            acl: [
              ...acl.filter((e) => e.group !== '*'),
              { namespace: ['root'], principal: 'bob', allow: mask, deny: 0, inherit: true },
            ],
          });
          const id = `i${++n}`;
          const put = await unary((cb) =>
            client.putInstance(
              { namespace: 'root/cimv2', instance: item(id), flags: 0 },
              bearer(TOKENS.bob),
              deadline(),
              cb,
            ),
          );
          expect(
            (
              await unary((cb) =>
                client.putInstance(
                  { namespace: 'root/cimv2', instance: item(`${id}-victim`), flags: 0 },
                  bearer(TOKENS.alice),
                  deadline(),
                  cb,
                ),
              )
            ).end,
          ).toBeUndefined();
          const del = await unary((cb) =>
            client.deleteInstance(
              { namespace: 'root/cimv2', path: `Ex_Item.Id="${id}-victim"`, flags: 0 },
              bearer(TOKENS.bob),
              deadline(),
              cb,
            ),
          );
          const expected =
            withEnable && (mask & (R.WBEM_PARTIAL_WRITE_REP | R.WBEM_FULL_WRITE_REP)) !== 0
              ? 'allowed'
              : 'WBEM_E_ACCESS_DENIED';
          expect([
            right,
            withEnable,
            put.end === undefined ? 'allowed' : put.end.errorInfo?.reason,
            del.end === undefined ? 'allowed' : del.end.errorInfo?.reason,
          ]).toEqual([right, withEnable, expected, expected]);
        }
      }
    });
  });

  test('a refused PutClassAsync or CompileMof is rejected at once: zero sink events, no operation id, even with SEND_STATUS', async () => {
    await withServer({ tokens, acl }, async (_server, client) => {
      const put = await transcript(
        client.putClassAsync(
          { namespace: 'root/cimv2', object: keyed('Ex_Zero'), flags: 128 },
          bearer(TOKENS.bob),
          deadline(),
        ),
      );
      const mof = await transcript(
        client.compileMof(
          {
            namespace: 'root/cimv2',
            sources: [{ name: 'a.mof', text: 'class Ex_Zero2 { };' }],
            flags: 128,
            continueOnError: false,
          },
          bearer(TOKENS.bob),
          deadline(),
        ),
      );
      for (const call of [put, mof]) {
        expect(call.messages).toEqual([]);
        expect(call.headers['wbem-operation-id']).toBeUndefined();
        expect([
          call.end.code,
          call.end.trailers['wbem-status'],
          call.end.trailers['wbem-hresult'],
        ]).toEqual([Code.PERMISSION_DENIED, 'WBEM_E_ACCESS_DENIED', '0x80041003']);
      }
    });
  });

  test('reads need WBEM_ENABLE; a namespace without an entry for the caller is closed to it', async () => {
    const closed: AclEntry[] = [
      {
        namespace: ['root', 'cimv2'],
        principal: 'alice',
        allow: R.WBEM_ENABLE,
        deny: 0,
        inherit: true,
      },
    ];
    await withServer({ tokens, acl: closed }, async (_server, client) => {
      expect(
        (
          await unary((cb) =>
            client.getClass(
              { namespace: 'root/cimv2', className: 'Nope', localOnly: true, asMof: false },
              bearer(TOKENS.alice),
              deadline(),
              cb,
            ),
          )
        ).end?.code,
      ).toBe(Code.NOT_FOUND);
      const denied = await unary((cb) =>
        client.getClass(
          { namespace: 'root/cimv2', className: 'Nope', localOnly: true, asMof: false },
          bearer(TOKENS.bob),
          deadline(),
          cb,
        ),
      );
      expect(denied.end?.code).toBe(Code.PERMISSION_DENIED);
      const enumDenied = await transcript(
        client.enumClasses(
          { namespace: 'root/default', superclass: '', deep: true, localOnly: true },
          bearer(TOKENS.alice),
          deadline(),
        ),
      );
      expect(enumDenied.end.code).toBe(Code.PERMISSION_DENIED);
      expect(enumDenied.messages).toEqual([]);
    });
  });
});

describeWithTool(OPENSSL, 'TLS and mTLS', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makeTestPki(await mkdtemp(join(scratch, 'pki-')));
  }, 60_000);

  test('TLS: a client that trusts the CA talks; a plaintext client cannot', async () => {
    await withServer({ tls: { cert: pki.serverCert, key: pki.serverKey } }, async (server) => {
      const secure = new WbemServicesClient(server.address, credentials.createSsl(pki.ca), {
        'grpc.ssl_target_name_override': 'localhost',
      });
      const plain = new WbemServicesClient(server.address, credentials.createInsecure());
      try {
        expect(
          (
            await transcript(
              secure.putClassAsync(
                { namespace: 'root/cimv2', object: keyed('Ex_Tls'), flags: 0 },
                new Metadata(),
                deadline(),
              ),
            )
          ).end.code,
        ).toBe(Code.OK);
        expect(
          (
            await transcript(
              plain.enumNamespaces(
                { parent: 'root', deep: false },
                new Metadata(),
                deadline(3_000),
              ),
            )
          ).end.code,
        ).toBe(Code.UNAVAILABLE);
      } finally {
        secure.close();
        plain.close();
      }
    });
  });

  test('mTLS: the client certificate names the principal the ACL grants; no client certificate, no connection', async () => {
    const mtlsAcl: AclEntry[] = [
      {
        namespace: ['root', 'cimv2'],
        principal: 'alice',
        allow: R.WBEM_ENABLE | R.WBEM_FULL_WRITE_REP,
        deny: 0,
        inherit: true,
      },
    ];
    await withServer(
      { tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca }, acl: mtlsAcl },
      async (server) => {
        const alice = new WbemServicesClient(
          server.address,
          credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert),
          { 'grpc.ssl_target_name_override': 'localhost' },
        );
        const nobody = new WbemServicesClient(server.address, credentials.createSsl(pki.ca), {
          'grpc.ssl_target_name_override': 'localhost',
        });
        try {
          expect(
            (
              await transcript(
                alice.putClassAsync(
                  { namespace: 'root/cimv2', object: keyed('Ex_Mtls'), flags: 0 },
                  new Metadata(),
                  deadline(),
                ),
              )
            ).end.code,
          ).toBe(Code.OK);
          const denied = await transcript(
            alice.putClassAsync(
              { namespace: 'root/default', object: keyed('Ex_Mtls'), flags: 0 },
              new Metadata(),
              deadline(),
            ),
          );
          expect(denied.end.details).toContain('alice lacks');
          expect(
            (
              await transcript(
                nobody.enumNamespaces(
                  { parent: 'root', deep: false },
                  new Metadata(),
                  deadline(3_000),
                ),
              )
            ).end.code,
          ).toBe(Code.UNAVAILABLE);
        } finally {
          alice.close();
          nobody.close();
        }
      },
    );
  });
});

test('SIGHUP reloads tokens and the ACL of a running wbemd serve; a broken file keeps the running one', async () => {
  const dir = await mkdtemp(join(scratch, 'hup-'));
  const configPath = join(dir, 'wbemd.json');
  const fileWith = (aclEntries: unknown[]) =>
    JSON.stringify({
      listen: '127.0.0.1:0',
      data: join(dir, 'data'),
      tokens: tokens.map((t) => ({ ...t, groups: [...t.groups] })),
      acl: aclEntries,
    });
  await writeFile(
    configPath,
    fileWith([{ namespace: 'root', group: '*', allow: ['WBEM_ENABLE'] }]),
  );
  const child = spawn(
    process.execPath,
    [resolve(__dirname, '..', '..', 'bin', 'wbemd.js'), 'serve', '--config', configPath],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const address = line.replace('listening on ', '');
  const client = new WbemServicesClient(address, credentials.createInsecure());
  try {
    const before = await transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Ex_Hup'), flags: 0 },
        bearer(TOKENS.bob),
        deadline(),
      ),
    );
    expect(before.end.code).toBe(Code.PERMISSION_DENIED);
    await writeFile(
      configPath,
      fileWith([
        { namespace: 'root', principal: 'bob', allow: ['WBEM_ENABLE', 'WBEM_FULL_WRITE_REP'] },
      ]),
    );
    child.kill('SIGHUP');
    // The reload is asynchronous to us (a signal): poll until it shows, for at most 10 s.
    let after = await transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Ex_Hup'), flags: 0 },
        bearer(TOKENS.bob),
        deadline(),
      ),
    );
    for (let tries = 0; after.end.code !== Code.OK && tries < 100; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await transcript(
        client.putClassAsync(
          { namespace: 'root/cimv2', object: keyed('Ex_Hup'), flags: 0 },
          bearer(TOKENS.bob),
          deadline(),
        ),
      );
    }
    expect(after.end.code).toBe(Code.OK);
    await writeFile(configPath, '{ broken');
    child.kill('SIGHUP');
    // Wait for the server to say it kept the running configuration (logs are flushed every 250 ms).
    for (let tries = 0; !stderr.includes('keeping the running one') && tries < 100; tries++)
      await new Promise((r) => setTimeout(r, 100));
    expect(stderr).toContain(
      'SIGHUP: the configuration does not validate; keeping the running one',
    );
    const still = await transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Ex_Hup2'), flags: 0 },
        bearer(TOKENS.bob),
        deadline(),
      ),
    );
    expect(still.end.code).toBe(Code.OK);
  } finally {
    client.close();
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number];
    expect(code).toBe(0);
  }
}, 30_000);

test('local peers, as grpc-js spells them', () => {
  expect(
    ['127.0.0.1:5000', '[::1]:5000', '::ffff:127.0.0.1:5000', 'ipv4:127.0.0.1:1'].map(isLocalPeer),
  ).toEqual([true, true, true, true]);
  expect(['10.0.0.2:5000', '[2001:db8::1]:5000', '::ffff:10.0.0.1:1'].map(isLocalPeer)).toEqual([
    false,
    false,
    false,
  ]);
});
