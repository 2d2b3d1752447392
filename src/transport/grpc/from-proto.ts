/**
 * proto → domain, shape only (docs/style.md §2.1; codec.ts is the other direction): a request as
 * the service takes it. No WMI rule is decided here: CIM types travel as raw numbers so an
 * undefined type reaches the rule that names it. Only what cannot be represented at all is
 * refused (WBEM_E_INVALID_PARAMETER, at once).
 */
import type {
  ClassObject,
  Context,
  Instance,
  Method,
  Parameter,
  Property,
  Qualifier,
  Value,
} from '../../../generated/wbem/v1/cim';
import type {
  CimValue,
  ClassDefinition,
  MethodDef,
  ParameterDef,
  PropertyDef,
  QualifierDef,
} from '../../domain/class-model';
import type { ClientContext } from '../../domain/client-context';
import type { InstanceInput } from '../../domain/instance-model';
import { WbemError } from '../../domain/wbem-status';

/** Values nest (arrays, embedded objects); refuse absurd depth before any recursion can hurt. */
const MAX_DECODE_DEPTH = 200;

function malformed(what: string): WbemError {
  return new WbemError('WBEM_E_INVALID_PARAMETER', `malformed request: ${what}`);
}

export function valueFromProto(value: Value | undefined, depth = 0): CimValue | null {
  if (value === undefined || value.kind === undefined) return null;
  if (depth > MAX_DECODE_DEPTH) throw malformed('values nest too deep');
  const kind = value.kind;
  switch (kind.$case) {
    case 'boolean':
      return { kind: 'boolean', value: kind.boolean };
    case 'sint':
      return { kind: 'sint', value: kind.sint };
    case 'uint':
      return { kind: 'uint', value: kind.uint };
    case 'real':
      return { kind: 'real', value: kind.real };
    case 'string':
      return { kind: 'string', value: kind.string };
    case 'datetime':
      return { kind: 'datetime', value: kind.datetime };
    case 'reference':
      return { kind: 'reference', value: kind.reference };
    case 'char16':
      return { kind: 'char16', value: kind.char16 };
    case 'object':
      return { kind: 'object', value: classFromProto(kind.object, depth + 1) };
    case 'array':
      return {
        kind: 'array',
        value: kind.array.values.map((element) => {
          const decoded = valueFromProto(element, depth + 1);
          if (decoded === null) throw malformed('an array element has no value');
          if (decoded.kind === 'array') throw malformed('an array element is itself an array');
          return decoded;
        }),
      };
  }
}

function qualifierFromProto(q: Qualifier, depth: number): QualifierDef {
  return { name: q.name, value: valueFromProto(q.value, depth + 1), flavor: q.flavor };
}

function propertyFromProto(p: Property, depth: number): PropertyDef {
  const qualifiers = p.qualifiers.map((q) => qualifierFromProto(q, depth));
  const value = valueFromProto(p.value, depth + 1);
  // Two literal shapes rather than a spread: this runs for every property of every request.
  return p.propagated
    ? {
        name: p.name,
        type: p.type,
        array: p.array,
        value,
        qualifiers,
        referenceClass: p.referenceClass,
        embeddedClass: p.embeddedClass,
        propagated: true,
      }
    : {
        name: p.name,
        type: p.type,
        array: p.array,
        value,
        qualifiers,
        referenceClass: p.referenceClass,
        embeddedClass: p.embeddedClass,
      };
}

function parameterFromProto(p: Parameter, depth: number): ParameterDef {
  return {
    name: p.name,
    type: p.type,
    array: p.array,
    referenceClass: p.referenceClass,
    embeddedClass: p.embeddedClass,
    in: p.in,
    out: p.out,
    qualifiers: p.qualifiers.map((q) => qualifierFromProto(q, depth)),
  };
}

function methodFromProto(m: Method, depth: number): MethodDef {
  return {
    name: m.name,
    returnType: m.returnType,
    parameters: m.parameters.map((p) => parameterFromProto(p, depth)),
    qualifiers: m.qualifiers.map((q) => qualifierFromProto(q, depth)),
    ...(m.propagated ? { propagated: true } : {}),
  };
}

/** pObject as the domain sees it; output-only fields are dropped, `system.genus` is kept (C1). */
export function classFromProto(object: ClassObject, depth = 0): ClassDefinition {
  if (depth > MAX_DECODE_DEPTH) throw malformed('embedded objects nest too deep');
  return {
    name: object.className,
    superclass: object.superclass,
    qualifiers: object.qualifiers.map((q) => qualifierFromProto(q, depth)),
    properties: object.properties.map((p) => propertyFromProto(p, depth)),
    methods: object.methods.map((m) => methodFromProto(m, depth)),
    ...(object.system !== undefined && object.system.genus !== 0
      ? { genus: object.system.genus }
      : {}),
  };
}

export function contextFromProto(context: Context | undefined): ClientContext | undefined {
  if (context === undefined) return undefined;
  return new Map(
    Object.entries(context.values).map(([name, value]) => [name, valueFromProto(value)]),
  );
}

/** pInst as the domain sees it: values by name; qualifiers are counted so the rules can refuse them. */
export function instanceFromProto(instance: Instance): InstanceInput {
  return {
    className: instance.className,
    properties: instance.properties.map((p) => ({
      name: p.name,
      type: p.type,
      array: p.array,
      value: valueFromProto(p.value),
      qualifierCount: p.qualifiers.length,
    })),
    qualifierCount: instance.qualifiers.length,
  };
}
