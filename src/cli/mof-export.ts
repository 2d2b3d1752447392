/**
 * What `wbemd mofgen` exports of a namespace, read with as few calls as the API allows: every
 * class from one EnumClasses stream (deep, local members only: breadth-first, so parents come
 * before children, docs/decisions.md D15), and the static instances from one EnumInstances (deep)
 * per root class; written as MOF that compiles back to the same namespace.
 */
import { Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import type { ClassObject, Instance, Qualifier } from '../../generated/wbem/v1/cim';
import type { WbemServicesClient } from '../../generated/wbem/v1/services';
import {
  FLAVOR,
  type CimValue,
  type ClassDefinition,
  type QualifierDeclaration,
  type QualifierDef,
} from '../domain/class-model';
import { classKey } from '../domain/names';
import { isSystemClassName } from '../domain/system-classes';
import {
  writeClass,
  writeInstance,
  writeQualifierDeclaration,
  type InstanceValues,
} from '../mof/writer';
import { classFromProto, valueFromProto } from '../transport/grpc/from-proto';
import type { QualifierDeclaration as QualifierDeclarationProto } from '../../generated/wbem/v1/cim';

/** Every message of a server stream, or its error. */
function drain<T>(call: ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolvePromise, reject) => {
    const messages: T[] = [];
    call.on('data', (message: T) => messages.push(message));
    call.on('error', reject);
    call.on('end', () => resolvePromise(messages));
  });
}

/** Only the qualifiers set on the member itself (a propagated one comes from the superclass). */
const ownQualifiers = (qualifiers: readonly Qualifier[]): Qualifier[] =>
  qualifiers.filter((q) => !q.propagated);

/** The definition PutClass would have to receive: local members, flavors without origin bits. */
export function exportableDefinition(object: ClassObject): ClassDefinition {
  const definition = classFromProto({
    ...object,
    qualifiers: ownQualifiers(object.qualifiers),
    properties: object.properties.map((p) => ({ ...p, qualifiers: ownQualifiers(p.qualifiers) })),
    methods: object.methods.map((m) => ({
      ...m,
      qualifiers: ownQualifiers(m.qualifiers),
      parameters: m.parameters.map((p) => ({ ...p, qualifiers: ownQualifiers(p.qualifiers) })),
    })),
  });
  const input = (qualifiers: readonly QualifierDef[]): QualifierDef[] =>
    qualifiers.map((q) => ({ name: q.name, value: q.value, flavor: q.flavor & FLAVOR.INPUT_MASK }));
  return {
    name: definition.name,
    superclass: definition.superclass,
    qualifiers: input(definition.qualifiers),
    properties: definition.properties
      .filter((p) => p.propagated !== true)
      .map((p) => ({
        name: p.name,
        type: p.type,
        array: p.array,
        value: p.value,
        qualifiers: input(p.qualifiers),
        referenceClass: p.referenceClass,
        embeddedClass: p.embeddedClass,
      })),
    methods: definition.methods
      .filter((m) => m.propagated !== true)
      .map((m) => ({
        name: m.name,
        returnType: m.returnType,
        qualifiers: input(m.qualifiers),
        parameters: m.parameters.map((parameter) => ({
          ...parameter,
          qualifiers: input(parameter.qualifiers),
        })),
      })),
  };
}

/** Every user class of the namespace, parents first: one EnumClasses call. */
export async function exportClasses(
  client: WbemServicesClient,
  namespace: string,
): Promise<ClassDefinition[]> {
  const objects = await drain(
    client.enumClasses({ namespace, superclass: '', deep: true, localOnly: true }, new Metadata()),
  );
  // System classes (`__…`) are built into every namespace and cannot be compiled: not exported.
  return objects.filter((o) => !isSystemClassName(o.className)).map(exportableDefinition);
}

/** A property's default as the class sees it: the nearest definition up the chain. */
function defaultOf(
  byKey: ReadonlyMap<string, ClassDefinition>,
  className: string,
  property: string,
): CimValue | null {
  const wanted = property.toLowerCase();
  for (let at = byKey.get(classKey(className)); at !== undefined;) {
    const found = at.properties.find((p) => p.name.toLowerCase() === wanted);
    if (found !== undefined) return found.value;
    at = at.superclass === '' ? undefined : byKey.get(classKey(at.superclass));
  }
  return null;
}

/** An instance as `instance of` writes it: values set, and NULL where it hides a default. */
function instanceValues(
  byKey: ReadonlyMap<string, ClassDefinition>,
  instance: Instance,
): InstanceValues {
  return {
    className: instance.className,
    values: instance.properties.flatMap((property): InstanceValues['values'] => {
      const value = valueFromProto(property.value);
      if (value !== null) return [{ name: property.name, value }];
      return defaultOf(byKey, instance.className, property.name) === null
        ? []
        : [{ name: property.name, value: null }];
    }),
  };
}

/** Every static instance of the namespace: one EnumInstances (deep) per root class. */
export async function exportInstances(
  client: WbemServicesClient,
  namespace: string,
  classes: readonly ClassDefinition[],
): Promise<InstanceValues[]> {
  const byKey = new Map(classes.map((c) => [classKey(c.name) as string, c]));
  const found: InstanceValues[] = [];
  for (const root of classes.filter((c) => c.superclass === '')) {
    const instances = await drain(
      client.enumInstances({ namespace, className: root.name, deep: true }, new Metadata()),
    );
    found.push(...instances.map((instance) => instanceValues(byKey, instance)));
  }
  return found;
}

/** The namespace's qualifier declarations, by name: one EnumQualifiers call. */
export async function exportQualifierDeclarations(
  client: WbemServicesClient,
  namespace: string,
): Promise<QualifierDeclaration[]> {
  const declarations = await drain(client.enumQualifiers({ namespace }, new Metadata()));
  return declarations.map((d: QualifierDeclarationProto) => ({
    name: d.name,
    type: d.type,
    array: d.array,
    defaultValue: valueFromProto(d.defaultValue),
    scopes: d.scopes,
    flavor: d.flavor,
  }));
}

/** What one namespace holds, as mofgen writes it. */
export interface NamespaceExport {
  readonly namespace: string;
  readonly qualifiers: readonly QualifierDeclaration[];
  readonly classes: readonly ClassDefinition[];
  readonly instances: readonly InstanceValues[];
}

/**
 * The export's text: a header, the qualifier declarations (the classes' qualifiers are checked
 * against them), the classes, then the instances (which need their classes).
 */
export function exportText({ namespace, qualifiers, classes, instances }: NamespaceExport): string {
  const counts = [
    ...(qualifiers.length > 0 ? [`${qualifiers.length} qualifier declarations`] : []),
    `${classes.length} classes`,
    ...(instances.length > 0 ? [`${instances.length} instances`] : []),
  ].join(', ');
  return [
    `// wbemd mofgen: ${namespace}\n// ${counts}\n`,
    ...qualifiers.map(writeQualifierDeclaration),
    ...classes.map(writeClass),
    ...instances.map(writeInstance),
  ].join('\n');
}
