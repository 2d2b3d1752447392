/**
 * TLS to etcd for real: one etcd member serving https with client certificate authentication
 * (--client-cert-auth, certificates from openssl), a wbemd server writing and reading a class
 * through it with the configured CA, certificate and key, and a start without the client
 * certificate, or with a CA that did not sign etcd's certificate, refused with the StartError
 * `wbemd serve` exits with, not a hang.
 */
import { Metadata } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GetClassResponse, ObjectSinkEvent } from '../../generated/wbem/v1/services';
import { WbemStatus } from '../../generated/wbem/v1/status';
import { startServer } from '../../src/server';
import type { EtcdTlsFiles } from '../../src/store/etcd/etcd-class-store';
import { StartError } from '../../src/startup';
import { etcdTool, startEtcd, type EtcdMember } from '../helpers/etcd';
import { describeWithTool } from '../helpers/external-tools';
import { makeTestPki, OPENSSL } from '../helpers/test-pki';
import { startTestServer } from '../helpers/test-server';
import { deadline, responseOf, transcript, unary } from '../helpers/transcript';
import { keyed, p } from './fixtures';

const NS = 'root/cimv2';

describeWithTool(OPENSSL, 'TLS to etcd', () => {
  describeWithTool(
    etcdTool,
    'a wbemd server over an etcd member that requires client certificates',
    () => {
      let pkiDir: string;
      let member: EtcdMember;
      const file = (name: string): string => join(pkiDir, name);
      beforeAll(async () => {
        pkiDir = await mkdtemp(join(tmpdir(), 'wbemd-etcd-pki-'));
        await makeTestPki(pkiDir);
        member = await startEtcd({
          tls: { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') },
        });
      }, 40_000);
      afterAll(async () => {
        await member?.stop();
        await rm(pkiDir, { recursive: true, force: true });
      });

      test('with the CA, client certificate and key: PutClassAsync writes a class, GetClass reads it back', async () => {
        expect(member.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const t = await startTestServer({
          etcd: {
            endpoints: [member.endpoint],
            prefix: `/tls/${randomUUID()}/`,
            tls: { ca: file('ca.pem'), cert: file('client.pem'), key: file('client.key') },
          },
        });
        try {
          const object = {
            ...keyed('Ex_OverTls'),
            properties: [...keyed('Ex_OverTls').properties, p('Note')],
          };
          const put = await transcript<ObjectSinkEvent>(
            t.client.putClassAsync({ namespace: NS, object, flags: 0 }, new Metadata(), deadline()),
          );
          const status = put.messages.at(-1)?.event;
          expect(status?.$case === 'status' && status.status.hresult).toBe(
            WbemStatus.WBEM_S_NO_ERROR,
          );
          const read = responseOf(
            await unary<GetClassResponse>((cb) =>
              t.client.getClass(
                { namespace: NS, className: 'Ex_OverTls', localOnly: true, asMof: false },
                new Metadata(),
                deadline(),
                cb,
              ),
            ),
          );
          expect(read.object?.className).toBe('Ex_OverTls');
          expect(read.object?.properties.map((x) => x.name)).toEqual(['Id', 'Note']);
          expect(status?.$case === 'status' && status.status.revision).toBe(read.revision);
        } finally {
          await t.close();
        }
      }, 40_000);

      /** startServer with these TLS files; what it was refused with, and after how long. */
      const refusedStart = async (
        tls: EtcdTlsFiles,
      ): Promise<{ refusal: unknown; elapsedMs: number }> => {
        const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-e2e-'));
        const started = Date.now();
        try {
          const refusal = await startServer({
            listen: '127.0.0.1:0',
            dataDir,
            etcd: {
              endpoints: [member.endpoint],
              prefix: `/tls/${randomUUID()}/`,
              tls,
              requestTimeoutMs: 3000,
            },
          }).then(
            async (server) => {
              await server.stop();
              return undefined;
            },
            (error: unknown) => error,
          );
          return { refusal, elapsedMs: Date.now() - started };
        } finally {
          await rm(dataDir, { recursive: true, force: true });
        }
      };

      const expectCannotReach = (refusal: unknown): void => {
        expect(refusal).toBeInstanceOf(StartError);
        expect(refusal).toMatchObject({
          kind: 'unavailable',
          fields: { endpoints: member.endpoint, code: 'STORE_UNAVAILABLE' },
        });
        expect((refusal as StartError).message).toContain(
          `cannot reach etcd at ${member.endpoint}`,
        );
        // Refused in the TLS handshake, not by an unreachable port.
        expect((refusal as StartError).message).toMatch(/certificate/i);
      };

      test('without the client certificate: the start is refused with "cannot reach etcd", promptly', async () => {
        const { refusal, elapsedMs } = await refusedStart({ ca: file('ca.pem') });
        expectCannotReach(refusal);
        // Bounded by the request deadline, not a hang.
        expect(elapsedMs).toBeLessThan(15_000);
      }, 40_000);

      test("with a CA that did not sign etcd's server certificate: the start is refused too", async () => {
        const otherDir = await mkdtemp(join(tmpdir(), 'wbemd-etcd-pki-'));
        try {
          await makeTestPki(otherDir);
          const { refusal, elapsedMs } = await refusedStart({
            ca: join(otherDir, 'ca.pem'),
            cert: file('client.pem'),
            key: file('client.key'),
          });
          expectCannotReach(refusal);
          expect(elapsedMs).toBeLessThan(15_000);
        } finally {
          await rm(otherDir, { recursive: true, force: true });
        }
      }, 40_000);
    },
  );
});
