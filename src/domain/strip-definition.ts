/**
 * The definition as it is stored (docs/wmi-semantics.md §3.3 step 11, §5.4 C16, §5.8; decision
 * D18): members sent back as `propagated` are compared with the superclass and dropped when
 * unchanged, origin flavor bits are cleared, amended qualifiers are stripped on request. Throws
 * WbemError; never touches storage.
 */
import {
  fitted,
  FLAVOR,
  type ClassDefinition,
  type MethodDef,
  type PropertyDef,
  type QualifierDef,
  type ResolvedClass,
} from './class-model';
import { sameSignature } from './class-rules';
import { findNamed, sameName } from './names';
import { sameValue } from './value-rules';
import { WbemError } from './wbem-status';

/**
 * What is stored: members sent back as `propagated` are checked and dropped when unchanged (a
 * changed one is kept as a local override and checked as such); origin flavor bits are cleared;
 * amended qualifiers are stripped with WBEM_FLAG_USE_AMENDED_QUALIFIERS (§5.8).
 */
export function strip(
  definition: ClassDefinition,
  parent: ResolvedClass | undefined,
  dropAmended: boolean,
): ClassDefinition {
  const properties = fitted(stripProperties(definition, parent, dropAmended));
  const methods = fitted(stripMethods(definition, parent, dropAmended));
  return {
    name: definition.name,
    superclass: definition.superclass,
    qualifiers: storedQualifiers(definition.qualifiers, dropAmended),
    properties,
    methods,
  };
}

/** Origin flavor bits cleared; amended qualifiers dropped when asked (§5.8). */
function storedQualifiers(
  list: readonly QualifierDef[],
  dropAmended: boolean,
): readonly QualifierDef[] {
  // Most inputs need no change: reuse their objects rather than copy every member (hot path).
  return list.every(
    (q) =>
      (q.flavor & ~FLAVOR.INPUT_MASK) === 0 && !(dropAmended && (q.flavor & FLAVOR.AMENDED) !== 0),
  )
    ? list
    : list
        .filter((q) => !dropAmended || (q.flavor & FLAVOR.AMENDED) === 0)
        .map((q) => ({ name: q.name, value: q.value, flavor: q.flavor & FLAVOR.INPUT_MASK }));
}

/** The properties to store: a `propagated` one equal to the inherited one is dropped (D18). */
function stripProperties(
  definition: ClassDefinition,
  parent: ResolvedClass | undefined,
  dropAmended: boolean,
): PropertyDef[] {
  const properties: PropertyDef[] = [];
  for (const property of definition.properties) {
    if (property.propagated === true) {
      const inherited =
        parent === undefined ? undefined : findNamed(parent.properties, property.name);
      if (inherited === undefined) {
        throw new WbemError(
          'WBEM_E_INVALID_PARAMETER',
          `property ${property.name} is marked propagated but ${definition.superclass || 'no superclass'} has no such property`,
        );
      }
      if (samePropertyAs(property, inherited)) continue;
    }
    const kept = storedQualifiers(property.qualifiers, dropAmended);
    if (property.propagated === undefined && kept === property.qualifiers) {
      properties.push(property);
      continue;
    }
    const { propagated: _ignored, ...rest } = property;
    properties.push({ ...rest, qualifiers: kept });
  }
  return properties;
}

/** The methods to store: a `propagated` one equal to the inherited one is dropped (D18). */
function stripMethods(
  definition: ClassDefinition,
  parent: ResolvedClass | undefined,
  dropAmended: boolean,
): MethodDef[] {
  const methods: MethodDef[] = [];
  for (const method of definition.methods) {
    if (method.propagated === true) {
      const inherited = parent === undefined ? undefined : findNamed(parent.methods, method.name);
      if (inherited === undefined) {
        throw new WbemError(
          'WBEM_E_INVALID_PARAMETER',
          `method ${method.name} is marked propagated but ${definition.superclass || 'no superclass'} has no such method`,
        );
      }
      if (
        sameSignature(method, inherited) &&
        sameQualifiers(
          method.qualifiers,
          inherited.qualifiers.filter((q) => !q.propagated),
        )
      )
        continue;
    }
    const kept = storedQualifiers(method.qualifiers, dropAmended);
    if (method.propagated === undefined && kept === method.qualifiers) {
      methods.push(method);
      continue;
    }
    const { propagated: _ignored, ...rest } = method;
    methods.push({ ...rest, qualifiers: kept });
  }
  return methods;
}

/** Same type, array-ness, default and reference or embedded class (qualifiers aside). */
export function samePropertyAs(sent: PropertyDef, inherited: PropertyDef): boolean {
  return (
    sent.type === inherited.type &&
    sent.array === inherited.array &&
    sameValue(sent.value, inherited.value) &&
    sameName(sent.referenceClass, inherited.referenceClass) &&
    sameName(sent.embeddedClass, inherited.embeddedClass)
  );
}

function sameQualifiers(a: readonly QualifierDef[], b: readonly QualifierDef[]): boolean {
  return (
    a.length === b.length &&
    a.every((q) =>
      b.some(
        (r) =>
          sameName(q.name, r.name) &&
          sameValue(q.value, r.value) &&
          (q.flavor & FLAVOR.INPUT_MASK) === (r.flavor & FLAVOR.INPUT_MASK),
      ),
    )
  );
}
