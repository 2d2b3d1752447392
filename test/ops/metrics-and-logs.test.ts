/**
 * What a mesh and its operators see: Prometheus metrics scraped over HTTP, the access log with the
 * operation id the response headers carry and the caller's W3C trace id, and the loopback guard.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { WbemServicesClient } from '../../generated/wbem/v1/services';
import { isLoopback, startServer } from '../../src/server';
import { keyed, SEND_STATUS } from '../e2e/fixtures';
import { deadline, transcript } from '../helpers/transcript';

function scrape(
  address: string,
  path = '/metrics',
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolvePromise, reject) => {
    get(`http://${address}${path}`, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        resolvePromise({
          status: response.statusCode ?? 0,
          type: String(response.headers['content-type']),
          body,
        }),
      );
    }).on('error', reject);
  });
}

test('metrics: calls by method, code and WbemStatus, latency, in-flight, store batches and sync time, over HTTP', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-ops-'));
  const server = await startServer({
    listen: '127.0.0.1:0',
    dataDir,
    serverName: 'OPS',
    metricsListen: '127.0.0.1:0',
  });
  const client = new WbemServicesClient(server.address, credentials.createInsecure());
  try {
    expect(server.metricsAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const ok = await transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Ex_Metric'), flags: SEND_STATUS },
        new Metadata(),
        deadline(),
      ),
    );
    expect(ok.end.code).toBe(0);
    await transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Ex_Metric'), flags: 2 },
        new Metadata(),
        deadline(),
      ),
    );
    const scraped = await scrape(server.metricsAddress ?? '');
    expect(scraped.status).toBe(200);
    expect(scraped.type).toContain('text/plain');
    expect(scraped.body).toContain(
      'wbemd_calls_total{method="PutClassAsync",code="OK",wbem_status="WBEM_S_NO_ERROR"} 1',
    );
    expect(scraped.body).toContain(
      'wbemd_calls_total{method="PutClassAsync",code="ALREADY_EXISTS",wbem_status="WBEM_E_ALREADY_EXISTS"} 1',
    );
    expect(scraped.body).toContain('wbemd_call_duration_seconds_count{method="PutClassAsync"} 2');
    expect(scraped.body).toContain('wbemd_calls_in_flight{method="PutClassAsync"} 0');
    expect(scraped.body).toMatch(/wbemd_store_batch_commits_count [1-9]/);
    expect(scraped.body).toMatch(/wbemd_store_sync_seconds_count [1-9]/);
    expect(scraped.body).toContain('process_cpu_user_seconds_total');
    expect((await scrape(server.metricsAddress ?? '', '/other')).status).toBe(404);
  } finally {
    client.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("the access log line carries the operation id of the response header and the caller's traceparent trace id", async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-ops-'));
  const server = await startServer({
    listen: '127.0.0.1:0',
    dataDir,
    serverName: 'OPS',
    logger: pino({ level: 'info' }, sink),
  });
  const client = new WbemServicesClient(server.address, credentials.createInsecure());
  try {
    const metadata = new Metadata();
    metadata.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    const call = await transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Ex_Traced'), flags: 0 },
        metadata,
        deadline(),
      ),
    );
    const malformed = new Metadata();
    malformed.set('traceparent', 'not-a-trace');
    await transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Ex_Untraced'), flags: 0 },
        malformed,
        deadline(),
      ),
    );
    const ended = lines.filter((l) => l.msg === 'call ended');
    expect(ended[0]).toMatchObject({
      method: 'PutClassAsync',
      operationId: call.headers['wbem-operation-id'],
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      code: 'OK',
      wbemStatus: 'WBEM_S_NO_ERROR',
    });
    expect(ended[1]).not.toHaveProperty('traceId');
    // Durations are logged to the microsecond: at most three decimals of a millisecond.
    for (const line of ended) expect(String(line.ms)).toMatch(/^\d+(\.\d{1,3})?$/);
  } finally {
    client.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

describe('safe defaults: loopback unless asked', () => {
  test.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['[::]', false],
    ['10.0.0.5', false],
    ['example.com', false],
  ])('%s is loopback: %s', (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });

  test('a non-loopback address is refused without --insecure, with a reason; with it the server starts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-ops-'));
    try {
      await expect(startServer({ listen: '0.0.0.0:0', dataDir })).rejects.toThrow(
        /refusing to listen on 0\.0\.0\.0:0: it is not a loopback address, and without TLS and an ACL.*--insecure/,
      );
      const open = await startServer({ listen: '0.0.0.0:0', dataDir, insecure: true });
      expect(open.address).toMatch(/^0\.0\.0\.0:\d+$/);
      await open.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
