import type {
  ClassDefinition,
  CimValue,
  PropertyDef,
  QualifierDef,
} from '../../src/domain/class-model';
import { CIM_TYPE } from '../../src/domain/class-model';
import type { ClientContext } from '../../src/domain/client-context';
import type { Outcome, SinkPort } from '../../src/service/object-sink';
import type { OperationContext } from '../../src/service/operation-context';
import { WbemService, type ClassChange } from '../../src/service/wbem-service';
import type { PutClassCall } from '../../src/service/wbem-service-api';
import type { ClassStore } from '../../src/store/class-store';
import { MemoryClassStore } from '../../src/store/memory/memory-class-store';
import { RecordingPort } from '../helpers/recording-port';
import type { ClassPages, ClassView } from '../../src/service/views';

export const str = (value: string): CimValue => ({ kind: 'string', value });
export const key: QualifierDef = {
  name: 'Key',
  value: { kind: 'boolean', value: true },
  flavor: 0,
};

export function prop(
  name: string,
  type: number = CIM_TYPE.STRING,
  extra: Partial<PropertyDef> = {},
): PropertyDef {
  return {
    name,
    type,
    array: false,
    value: null,
    qualifiers: [],
    referenceClass: '',
    embeddedClass: '',
    ...extra,
  };
}

export function cls(
  name: string,
  superclass = '',
  properties: PropertyDef[] = [],
  qualifiers: QualifierDef[] = [],
): ClassDefinition {
  return { name, superclass, qualifiers, properties, methods: [] };
}

export function ctx(signal: AbortSignal = new AbortController().signal): OperationContext {
  return { operationId: `op-${Math.random().toString(16).slice(2)}`, signal, peer: 'test' };
}

export interface ServiceFixture {
  readonly service: WbemService;
  readonly store: ClassStore;
  readonly changes: ClassChange[];
  /** Runs PutClassAsync to its end and returns the recorded transcript. */
  put(
    definition: ClassDefinition,
    flags?: number,
    options?: {
      namespace?: string;
      context?: ClientContext;
      signal?: AbortSignal;
      validateOnly?: boolean;
    },
  ): Promise<{ outcome: Outcome; port: RecordingPort }>;
}

/** Runs a CompileMof of one MOF source into `namespace` (no flags, no context) to its end. */
export function compileSource(
  fixture: ServiceFixture,
  namespace: string,
  source: { readonly name: string; readonly text: string },
): Promise<Outcome> {
  return fixture.service
    .beginCompileMof(
      { namespace, sources: [source], flags: 0, context: undefined, continueOnError: false },
      ctx(),
      new RecordingPort(),
    )
    .run();
}

export async function serviceFixture(
  store: ClassStore = new MemoryClassStore(),
): Promise<ServiceFixture> {
  await store.open();
  const changes: ClassChange[] = [];
  const service = new WbemService({
    store,
    serverName: 'TESTHOST',
    onClassChange: (change) => changes.push(change),
  });
  await service.initialize();
  return {
    service,
    store,
    changes,
    async put(definition, flags = 0, options = {}) {
      const port = new RecordingPort();
      const accepted = service.beginPutClass(
        {
          namespace: options.namespace ?? 'root/cimv2',
          definition,
          flags,
          context: options.context,
          validateOnly: options.validateOnly,
        },
        ctx(options.signal),
        putClassAsync(port),
      );
      const outcome = await accepted.run();
      return { outcome, port };
    },
  };
}

/** A PutClassAsync call whose sink events go to `port`. */
export function putClassAsync(port: SinkPort = new RecordingPort()): PutClassCall {
  return { method: 'PutClassAsync', port };
}

/** The status name of a failed outcome; throws when the outcome succeeded (so a wrong success fails the test). */
export function failureOf(outcome: Outcome): string {
  if (outcome.ok) throw new Error(`expected a failure, got success (${outcome.path})`);
  return outcome.error.status;
}

/** Every class of an enumeration, its pages read to the end. */
export async function allClasses(pages: Promise<ClassPages>): Promise<ClassView[]> {
  const views: ClassView[] = [];
  for await (const page of await pages) views.push(...page);
  return views;
}
