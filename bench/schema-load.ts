/**
 * Issue #3's benchmark: the whole DMTF CIM Schema 2.41 (from schemas/) into a fresh, durable
 * LevelDB repository — over gRPC (the server in a child process) as one CompileMof call and as
 * `wbemd mofcomp` does it (local compile, then PutClassAsync in dependency order, 64 in flight),
 * and through the in-process service. Wall time includes compiling the MOF.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { WbemStatus } from '../generated/wbem/v1/status';
import { WbemServicesClient, type ObjectSinkEvent } from '../generated/wbem/v1/services';
import { dependencyPlan, putAll } from '../src/cli/mofcomp';
import { DMTF_CONTEXT } from '../src/cli/mofcomp-send';
import { grpcJsSender } from '../src/cli/mofcomp-grpc';
import { DMTF_RULES } from '../src/domain/client-context';
import { compileMof } from '../src/mof/parser';
import { WbemService } from '../src/service/wbem-service';
import { LevelClassStore } from '../src/store/level/level-class-store';
import { startWbemd } from './child-server';

const ROOT = resolve(__dirname, '../../schemas/cim-schema-2.41/DMTF');
const ENTRY = 'cim_schema_2.41.0.mof';

function schemaSources(): { name: string; text: string }[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : name.endsWith('.mof') ? [path] : [];
    });
  const files = walk(ROOT).map((path) => ({
    name: relative(ROOT, path),
    text: readFileSync(path, 'utf8'),
  }));
  return [...files.filter((f) => f.name === ENTRY), ...files.filter((f) => f.name !== ENTRY)];
}

async function withServer<T>(body: (client: WbemServicesClient) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-bench-schema-'));
  const server = await startWbemd(dataDir);
  const client = new WbemServicesClient(server.address, credentials.createInsecure());
  try {
    return await body(client);
  } finally {
    client.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function row(label: string, classes: number, ms: number): string {
  return `${label.padEnd(44)} ${String(classes).padStart(5)} classes  ${ms.toFixed(0).padStart(6)} ms  ${((classes * 1000) / ms).toFixed(0).padStart(6)} classes/s`;
}

export async function benchSchemaLoad(): Promise<void> {
  const sources = schemaSources();
  const bytes = sources.reduce((sum, s) => sum + s.text.length, 0);
  console.log(
    `\nCIM Schema 2.41 load — ${sources.length} files, ${(bytes / 1e6).toFixed(1)} MB of MOF, durable LevelDB, DMTF rules (D25)`,
  );

  const viaCompileMof = await withServer(async (client) => {
    const started = process.hrtime.bigint();
    const final = await new Promise<ObjectSinkEvent | undefined>((resolvePromise, reject) => {
      let last: ObjectSinkEvent | undefined;
      const call = client.compileMof(
        {
          namespace: 'root/cimv2',
          sources,
          flags: 2,
          context: DMTF_CONTEXT,
          continueOnError: false,
        },
        new Metadata(),
      );
      call.on('data', (event: ObjectSinkEvent) => (last = event));
      call.on('error', reject);
      call.on('end', () => resolvePromise(last));
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (
      final?.event?.$case !== 'status' ||
      final.event.status.hresult !== WbemStatus.WBEM_S_NO_ERROR
    )
      throw new Error('CompileMof failed');
    return ms;
  });
  const classCount = compileMof(ENTRY, (path) => readFileSync(join(ROOT, path), 'utf8')).classes
    .length;
  console.log(row('gRPC CompileMof (one call, one batch)', classCount, viaCompileMof));

  const viaMofcomp = await withServer(async (client) => {
    const started = process.hrtime.bigint();
    const unit = compileMof(ENTRY, (path) => readFileSync(join(ROOT, path), 'utf8'));
    const result = await putAll(
      grpcJsSender(client),
      dependencyPlan(unit.classes),
      {
        namespace: 'root/cimv2',
        flags: 2,
        context: DMTF_CONTEXT,
        window: 64,
        continueOnError: false,
      },
      () => undefined,
    );
    if (result.failures.length > 0 || result.written !== unit.classes.length)
      throw new Error(`mofcomp path failed: ${result.failures[0] ?? ''}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  });
  console.log(row('gRPC mofcomp (PutClassAsync, 64 in flight)', classCount, viaMofcomp));

  const dataDir = await mkdtemp(join(tmpdir(), 'wbemd-bench-schema-'));
  const store = new LevelClassStore(dataDir);
  try {
    await store.open();
    const service = new WbemService({ store, serverName: 'BENCH' });
    await service.initialize();
    const started = process.hrtime.bigint();
    const accepted = service.beginCompileMof(
      {
        namespace: 'root/cimv2',
        sources,
        flags: 2,
        context: new Map([[DMTF_RULES, { kind: 'boolean', value: true }]]),
        continueOnError: false,
      },
      { operationId: 'bench', signal: new AbortController().signal, peer: 'bench' },
      { send: () => Promise.resolve() },
    );
    const outcome = await accepted.run();
    if (!outcome.ok) throw outcome.error;
    console.log(
      row(
        'in-process service CompileMof',
        classCount,
        Number(process.hrtime.bigint() - started) / 1e6,
      ),
    );
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  const best = Math.min(viaCompileMof, viaMofcomp);
  console.log(`RESULT schema-load over gRPC ${(best / 1000).toFixed(2)} s (target <= 1.5 s)`);
}
