/**
 * `wbemd mofcomp --check`: each file compiled and judged by the code the server runs for CompileMof
 * (the parser, every class rule of src/domain through the service's decide step, qualifier
 * declarations and scopes, instance values), over an in-memory store in this process: a duplicate
 * property or `uint8 X = 300` fails at its own file:line without a server. The files are checked in
 * order into one namespace, so a later file may build on an earlier one; classes that only the
 * real server has are unknown here (their subclasses fail with WBEM_E_INVALID_SUPERCLASS).
 */
import { randomUUID } from 'node:crypto';
import type { ClientContext } from '../domain/client-context';
import { parseNamespacePath } from '../domain/namespace-path';
import type { Outcome, SinkEvent, SinkPort } from '../service/object-sink';
import type { OperationContext } from '../service/operation-context';
import { WbemService } from '../service/wbem-service';
import { MemoryClassStore } from '../store/memory/memory-class-store';
import { WbemError } from '../domain/wbem-status';
import { memberPosition } from './mof-positions';

/** One file to check: its sources (entry first, then what it includes), as CompileMof takes them. */
export interface CheckedFile {
  readonly sources: readonly { readonly name: string; readonly text: string }[];
  /** Turns a position the service names (`name:line:column: …`) into the file's path on disk. */
  readonly locate: (message: string) => string;
}

export interface CheckOptions {
  readonly namespace: string;
  readonly flags: number;
  readonly context: ClientContext | undefined;
  readonly continueOnError: boolean;
}

/** The last status event a CompileMof sent. */
class FinalStatus implements SinkPort {
  outcome: Outcome | undefined;
  async send(event: SinkEvent): Promise<void> {
    if (event.kind === 'status') this.outcome = event.outcome;
  }
}

const context = (): OperationContext => ({
  operationId: randomUUID(),
  signal: new AbortController().signal,
  peer: 'mofcomp --check',
});

/** Creates `namespace` and its parents when they do not exist yet (root always does). */
async function ensureNamespace(service: WbemService, namespace: string): Promise<void> {
  const elements = parseNamespacePath(namespace, () => true).elements;
  for (let depth = 1; depth < elements.length; depth++) {
    try {
      await service.createNamespace(
        elements.slice(0, depth).join('\\'),
        elements[depth] as string,
        context(),
      );
    } catch (error) {
      if (!(error instanceof WbemError && error.status === 'WBEM_E_ALREADY_EXISTS')) throw error;
    }
  }
}

/** Checks each file in order; resolves with the failure lines (empty: every file passed). */
export async function checkLocally(
  files: readonly CheckedFile[],
  options: CheckOptions,
): Promise<string[]> {
  const store = new MemoryClassStore();
  await store.open();
  const service = new WbemService({ store, serverName: 'localhost' });
  try {
    await service.initialize();
    await ensureNamespace(service, options.namespace);
    const failures: string[] = [];
    for (const file of files) {
      const texts = new Map(file.sources.map((source) => [source.name, source.text]));
      const report = (error: WbemError): string =>
        `${file.locate(memberPosition(error.param, texts))} (${error.status})`;
      const port = new FinalStatus();
      try {
        const accepted = service.beginCompileMof(
          { ...options, sources: file.sources },
          context(),
          port,
        );
        await accepted.run();
      } catch (error) {
        if (!(error instanceof WbemError)) throw error;
        failures.push(report(error));
        continue;
      }
      const outcome = port.outcome;
      if (outcome !== undefined && !outcome.ok) failures.push(report(outcome.error));
    }
    return failures;
  } finally {
    service.beginShutdown();
    await store.close();
  }
}
