/**
 * What a mesh and its operators see: Prometheus metrics scraped over HTTP, the access log with the
 * operation id the response headers carry and the caller's W3C trace id, and the loopback guard.
 */
import { credentials, Metadata, status as Code } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import {
  type HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
  HealthClient,
} from '../../generated/grpc/health/v1/health';
import { WbemServicesClient } from '../../generated/wbem/v1/services';
import { isLoopback, startServer } from '../../src/server';
import { keyed, SEND_STATUS } from '../e2e/fixtures';
import { deadline, failureOf, transcript, unary } from '../helpers/transcript';

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

/** The value of one sample line of a scrape (`name{labels} value`), or undefined when absent. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('the standard gRPC server metrics (grpc-ecosystem names, Go code names) count real calls exactly, next to wbemd_build_info and the event-loop delay', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-ops-'));
  const server = await startServer({
    listen: '127.0.0.1:0',
    dataDir,
    serverName: 'OPS',
    metricsListen: '127.0.0.1:0',
  });
  const client = new WbemServicesClient(server.address, credentials.createInsecure());
  const health = new HealthClient(server.address, credentials.createInsecure());
  try {
    const missing = await unary((cb) =>
      client.getClass(
        { namespace: 'root/cimv2', className: 'Ex_Missing', localOnly: false, asMof: false },
        new Metadata(),
        deadline(),
        cb,
      ),
    );
    expect(failureOf(missing).code).toBe(Code.NOT_FOUND);
    const put = await transcript(
      client.putClassAsync(
        { namespace: 'root/cimv2', object: keyed('Ex_Std'), flags: SEND_STATUS },
        new Metadata(),
        deadline(),
      ),
    );
    expect(put.end.code).toBe(Code.OK);
    const found = await unary((cb) =>
      client.getClass(
        { namespace: 'root/cimv2', className: 'Ex_Std', localOnly: false, asMof: false },
        new Metadata(),
        deadline(),
        cb,
      ),
    );
    expect(found.end).toBeUndefined();
    const enumerated = await transcript(
      client.enumClasses(
        { namespace: 'root/cimv2', superclass: '', deep: true, localOnly: true },
        new Metadata(),
        deadline(),
      ),
    );
    expect(enumerated.end.code).toBe(Code.OK);
    const checked = await unary<HealthCheckResponse>((cb) =>
      health.check({ service: '' }, new Metadata(), deadline(), cb),
    );
    expect(checked.response?.status).toBe(HealthCheckResponse_ServingStatus.SERVING);

    const { body } = await scrape(server.metricsAddress ?? '');
    const wbem = (type: string, method: string): string =>
      `grpc_type="${type}",grpc_service="wbem.v1.WbemServices",grpc_method="${method}"`;
    const getClass = wbem('unary', 'GetClass');
    expect(sample(body, `grpc_server_started_total{${getClass}}`)).toBe(2);
    expect(sample(body, `grpc_server_handled_total{${getClass},grpc_code="NotFound"}`)).toBe(1);
    expect(sample(body, `grpc_server_handled_total{${getClass},grpc_code="OK"}`)).toBe(1);
    expect(sample(body, `grpc_server_handling_seconds_count{${getClass}}`)).toBe(2);
    expect(sample(body, `grpc_server_handling_seconds_bucket{le="10",${getClass}}`)).toBe(2);
    expect(sample(body, `grpc_server_msg_received_total{${getClass}}`)).toBe(2);
    // A unary call that fails sends no message.
    expect(sample(body, `grpc_server_msg_sent_total{${getClass}}`)).toBe(1);
    const putAsync = wbem('server_stream', 'PutClassAsync');
    expect(sample(body, `grpc_server_handled_total{${putAsync},grpc_code="OK"}`)).toBe(1);
    expect(sample(body, `grpc_server_msg_sent_total{${putAsync}}`)).toBe(put.messages.length);
    const enumClasses = wbem('server_stream', 'EnumClasses');
    expect(sample(body, `grpc_server_msg_received_total{${enumClasses}}`)).toBe(1);
    expect(sample(body, `grpc_server_msg_sent_total{${enumClasses}}`)).toBe(
      enumerated.messages.length,
    );
    expect(enumerated.messages.length).toBeGreaterThan(1);
    // Every service is counted, as a Go server's interceptor counts it.
    expect(
      sample(
        body,
        'grpc_server_handled_total{grpc_type="unary",grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_code="OK"}',
      ),
    ).toBe(1);
    // wbemd's own metrics stay.
    expect(
      sample(
        body,
        'wbemd_calls_total{method="GetClass",code="NOT_FOUND",wbem_status="WBEM_E_NOT_FOUND"}',
      ),
    ).toBe(1);
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string })
      .version;
    expect(sample(body, `wbemd_build_info{version="${version}"}`)).toBe(1);
    expect(body).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
  } finally {
    health.close();
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
