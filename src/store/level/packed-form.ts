/**
 * The positional form of CIM values and class definitions inside stored records (record-codec.ts
 * lists the forms and says why they are positional).
 */
import type {
  CimValue,
  ClassDefinition,
  MethodDef,
  ParameterDef,
  PropertyDef,
  QualifierDef,
} from '../../domain/class-model';
import { NameTable } from '../../domain/names';
import { StoreError } from '../class-store';

export type Packed = unknown[];

/** Member and qualifier names, one string each: decoded records are kept (names.ts). */
const NAMES = new NameTable();

export function packValue(value: CimValue | null): Packed | null {
  if (value === null) return null;
  switch (value.kind) {
    case 'boolean':
      return ['b', value.value];
    case 'sint':
      return ['s', value.value.toString()];
    case 'uint':
      return ['u', value.value.toString()];
    case 'real':
      return [
        'r',
        Number.isFinite(value.value) && !Object.is(value.value, -0)
          ? value.value
          : Object.is(value.value, -0)
            ? '-0'
            : String(value.value),
      ];
    case 'string':
      return ['S', value.value];
    case 'datetime':
      return ['d', value.value];
    case 'reference':
      return ['R', value.value];
    case 'char16':
      return ['c', value.value];
    case 'object':
      return ['o', packClass(value.value)];
    case 'array':
      return ['a', value.value.map(packValue)];
  }
}

export function corrupt(what: string): StoreError {
  return new StoreError('STORE_CORRUPT_RECORD', `damaged record: ${what}`);
}

export function unpackValue(packed: unknown): CimValue | null {
  if (packed === null) return null;
  if (!Array.isArray(packed)) throw corrupt('value');
  const [kind, payload] = packed as [string, unknown];
  switch (kind) {
    case 'b':
      return { kind: 'boolean', value: payload as boolean };
    case 's':
      return { kind: 'sint', value: BigInt(payload as string) };
    case 'u':
      return { kind: 'uint', value: BigInt(payload as string) };
    case 'r':
      return {
        kind: 'real',
        value:
          typeof payload === 'string'
            ? payload === '-0'
              ? -0
              : Number(payload)
            : (payload as number),
      };
    case 'S':
      return { kind: 'string', value: payload as string };
    case 'd':
      return { kind: 'datetime', value: payload as string };
    case 'R':
      return { kind: 'reference', value: payload as string };
    case 'c':
      return { kind: 'char16', value: payload as string };
    case 'o':
      return { kind: 'object', value: unpackClass(payload) };
    case 'a':
      return {
        kind: 'array',
        value: (payload as unknown[]).map((element) => unpackValue(element) as CimValue),
      };
    default:
      throw corrupt(`value kind ${String(kind)}`);
  }
}

const packQualifier = (q: QualifierDef): Packed => [q.name, packValue(q.value), q.flavor];
function unpackQualifier(packed: unknown): QualifierDef {
  const [name, value, flavor] = packed as [string, unknown, number];
  return { name: NAMES.shared(name), value: unpackValue(value), flavor };
}

const packProperty = (p: PropertyDef): Packed => [
  p.name,
  p.type,
  p.array ? 1 : 0,
  packValue(p.value),
  p.qualifiers.map(packQualifier),
  p.referenceClass,
  p.embeddedClass,
];
function unpackProperty(packed: unknown): PropertyDef {
  const [name, type, array, value, qualifiers, referenceClass, embeddedClass] = packed as [
    string,
    number,
    number,
    unknown,
    unknown[],
    string,
    string,
  ];
  return {
    name: NAMES.shared(name),
    type,
    array: array === 1,
    value: unpackValue(value),
    qualifiers: qualifiers.map(unpackQualifier),
    referenceClass,
    embeddedClass,
  };
}

const packParameter = (p: ParameterDef): Packed => [
  p.name,
  p.type,
  p.array ? 1 : 0,
  p.referenceClass,
  p.embeddedClass,
  p.in ? 1 : 0,
  p.out ? 1 : 0,
  p.qualifiers.map(packQualifier),
];
function unpackParameter(packed: unknown): ParameterDef {
  const [name, type, array, referenceClass, embeddedClass, isIn, isOut, qualifiers] = packed as [
    string,
    number,
    number,
    string,
    string,
    number,
    number,
    unknown[],
  ];
  return {
    name: NAMES.shared(name),
    type,
    array: array === 1,
    referenceClass,
    embeddedClass,
    in: isIn === 1,
    out: isOut === 1,
    qualifiers: qualifiers.map(unpackQualifier),
  };
}

const packMethod = (m: MethodDef): Packed => [
  m.name,
  m.returnType,
  m.parameters.map(packParameter),
  m.qualifiers.map(packQualifier),
];
function unpackMethod(packed: unknown): MethodDef {
  const [name, returnType, parameters, qualifiers] = packed as [
    string,
    number,
    unknown[],
    unknown[],
  ];
  return {
    name: NAMES.shared(name),
    returnType,
    parameters: parameters.map(unpackParameter),
    qualifiers: qualifiers.map(unpackQualifier),
  };
}

export function packClass(d: ClassDefinition): Packed {
  return [
    d.name,
    d.superclass,
    d.qualifiers.map(packQualifier),
    d.properties.map(packProperty),
    d.methods.map(packMethod),
  ];
}

export function unpackClass(packed: unknown): ClassDefinition {
  if (!Array.isArray(packed) || packed.length !== 5) throw corrupt('class');
  const [name, superclass, qualifiers, properties, methods] = packed as [
    string,
    string,
    unknown[],
    unknown[],
    unknown[],
  ];
  return {
    name,
    superclass,
    qualifiers: qualifiers.map(unpackQualifier),
    properties: properties.map(unpackProperty),
    methods: methods.map(unpackMethod),
  };
}
