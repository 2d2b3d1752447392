/** Terse builders of domain values and class definitions, for the table-driven domain tests. */
import {
  CIM_TYPE,
  type ClassDefinition,
  type CimValue,
  type PropertyDef,
  type QualifierDef,
} from '../../src/domain/class-model';

export const T = CIM_TYPE;
export const bool = (value: boolean): CimValue => ({ kind: 'boolean', value });
export const str = (value: string): CimValue => ({ kind: 'string', value });
export const uint = (value: bigint | number): CimValue => ({ kind: 'uint', value: BigInt(value) });
export const sint = (value: bigint | number): CimValue => ({ kind: 'sint', value: BigInt(value) });
export const qual = (
  name: string,
  value: CimValue | null = bool(true),
  flavor = 0,
): QualifierDef => ({ name, value, flavor });
export const KEY = qual('Key');
export const prop = (
  name: string,
  type: number = T.STRING,
  extra: Partial<PropertyDef> = {},
): PropertyDef => ({
  name,
  type,
  array: false,
  value: null,
  qualifiers: [],
  referenceClass: '',
  embeddedClass: '',
  ...extra,
});
/** A Key property. */
export const key = (name: string, type: number = T.STRING): PropertyDef =>
  prop(name, type, { qualifiers: [KEY] });
export const cls = (
  name: string,
  superclass = '',
  properties: PropertyDef[] = [],
  extra: Partial<ClassDefinition> = {},
): ClassDefinition => ({
  name,
  superclass,
  qualifiers: [],
  properties,
  methods: [],
  ...extra,
});
