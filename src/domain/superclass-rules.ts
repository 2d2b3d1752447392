/**
 * The rules a class definition meets against its superclass (docs/wmi-semantics.md §3.3 steps 10
 * and 11): the superclass exists, is not Terminal and does not make the derivation circular (C4,
 * C5, §6.8); the definition keeps what the superclass fixes (C6–C12: Abstract, Singleton, keys,
 * override types, DisableOverride qualifiers, method signatures, the property count) and an
 * Association has its references (§5.5). Throws WbemError; never touches storage.
 */
import {
  CIM_TYPE,
  FLAVOR,
  type ClassDefinition,
  type MethodDef,
  type PropertyDef,
  type QualifierDef,
  type ResolvedClass,
  type ResolvedQualifier,
} from './class-model';
import { findQualifier, hasTrue, MAX_PROPERTIES, sameSignature } from './class-rules';
import type { ClassRules } from './client-context';
import { findNamed, sameName } from './names';
import { resolveClass } from './resolve-class';
import { sameValue } from './value-rules';
import { WbemError } from './wbem-status';

/**
 * §3.3 step 10 (C4, C5, M6, §6.8): the requested superclass resolved from its stored chain
 * (ClassWorld.ancestors, nearest first), or `resolved` when the loader had it (ClassWorld.superclass);
 * undefined for a root class.
 */
export function resolveSuperclass(
  definition: ClassDefinition,
  ancestors: readonly ClassDefinition[] | 'missing',
  updating: boolean,
  resolved?: ResolvedClass,
): ResolvedClass | undefined {
  if (definition.superclass === '') return undefined;
  if (ancestors === 'missing') {
    throw new WbemError(
      'WBEM_E_INVALID_SUPERCLASS',
      `superclass ${definition.superclass} does not exist`,
    );
  }
  // §6.8: on update the class may not become its own ancestor. On create it does not exist, so a
  // chain read from the same classes cannot hold it (`A : A` is a missing superclass, C4), and a
  // create does not compare its name with every class of a deep chain.
  if (updating && ancestors.some((ancestor) => sameName(ancestor.name, definition.name))) {
    throw new WbemError(
      'WBEM_E_CIRCULAR_REFERENCE',
      `${definition.name} cannot derive from ${definition.superclass}: the derivation would be circular`,
    );
  }
  const nearest = ancestors[0];
  if (nearest === undefined)
    throw new WbemError(
      'WBEM_E_INVALID_SUPERCLASS',
      `superclass ${definition.superclass} does not exist`,
    );
  if (hasTrue(nearest.qualifiers, 'Terminal')) {
    throw new WbemError(
      'WBEM_E_INVALID_SUPERCLASS',
      `superclass ${nearest.name} is Terminal and cannot be derived from`,
    ); // C5
  }
  return resolved ?? resolveClass([...ancestors].reverse());
}

/** C10: a local qualifier may not change the value of a propagated DisableOverride one. */
function checkOverrides(
  inherited: readonly ResolvedQualifier[],
  own: readonly QualifierDef[],
  owner: string,
): void {
  for (const qualifier of own) {
    const from = findNamed(inherited, qualifier.name);
    if (
      from !== undefined &&
      (from.flavor & FLAVOR.NOT_OVERRIDABLE) !== 0 &&
      !sameValue(from.value, qualifier.value)
    ) {
      throw new WbemError(
        'WBEM_E_OVERRIDE_NOT_ALLOWED',
        `qualifier ${qualifier.name} on ${owner} is DisableOverride in the superclass and cannot change`,
      );
    }
  }
}

/** The qualifiers that propagate to subclasses: those with the ToSubclass flavor, and Key. */
export function propagatedOnly(qualifiers: readonly ResolvedQualifier[]): ResolvedQualifier[] {
  return qualifiers.filter((q) => (q.flavor & FLAVOR.TO_SUBCLASS) !== 0 || sameName(q.name, 'Key'));
}

/** Whether Key is in force (C8). */
export function isKey(qualifiers: readonly QualifierDef[]): boolean {
  return hasTrue(qualifiers, 'Key');
}

/** §3.3 step 11: the stored definition against its resolved superclass (none: a root class). */
export function checkAgainstSuperclass(
  stored: ClassDefinition,
  parent: ResolvedClass | undefined,
  rules: ClassRules,
): void {
  const name = stored.name;
  if (parent !== undefined)
    checkOverrides(propagatedOnly(parent.qualifiers), stored.qualifiers, `class ${name}`);
  const parentHasKeys = parent?.properties.some((p) => isKey(p.qualifiers)) ?? false;
  for (const property of stored.properties) checkProperty(property, name, parent, parentHasKeys);
  for (const method of stored.methods) checkMethod(method, name, parent);
  checkAbstract(stored, parent, rules);
  checkSingleton(stored, parent, parentHasKeys);
  checkAssociation(stored, parent);
  checkPropertyCount(stored, parent);
}

/** C8–C10 for one property: a key's type, an override's type and qualifiers, key inheritance. */
function checkProperty(
  property: PropertyDef,
  name: string,
  parent: ResolvedClass | undefined,
  parentHasKeys: boolean,
): void {
  const inherited = parent === undefined ? undefined : findNamed(parent.properties, property.name);
  const key = isKey(property.qualifiers);
  if (key && (property.array || !cimTypeKeyable(property.type))) {
    throw new WbemError(
      'WBEM_E_CANNOT_BE_KEY',
      `property ${property.name} of ${name} cannot be a key (arrays, reals and embedded objects cannot)`,
    ); // C8
  }
  if (inherited === undefined && !(key && parentHasKeys)) return; // the common case: nothing to compare
  const owner = `property ${property.name} of ${name}`;
  if (inherited !== undefined) {
    // C9: an override keeps the inherited type (a reference may name another class: DMTF narrows them).
    if (inherited.type !== property.type || inherited.array !== property.array) {
      throw new WbemError(
        'WBEM_E_TYPE_MISMATCH',
        `${owner} overrides ${inherited.classOrigin}.${inherited.name} with another type`,
      );
    }
    checkOverrides(propagatedOnly(inherited.qualifiers), property.qualifiers, owner);
    const explicitKey = findQualifier(property.qualifiers, 'Key');
    if (isKey(inherited.qualifiers) && explicitKey !== undefined && !key) {
      throw new WbemError(
        'WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE',
        `${owner} cannot drop Key from an inherited key`,
      ); // C8, scenario 48
    }
    if (!isKey(inherited.qualifiers) && key && parentHasKeys) {
      throw new WbemError(
        'WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE',
        `${owner}: ${parent?.name ?? ''} has keys, so its subclasses cannot add any`,
      );
    }
  } else if (key && parentHasKeys) {
    throw new WbemError(
      'WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE',
      `${owner}: ${parent?.name ?? ''} has keys, so its subclasses cannot add any`,
    ); // C8, scenario 47
  }
}

/** C11 and C10 for one method: an override keeps the signature and DisableOverride qualifiers. */
function checkMethod(method: MethodDef, name: string, parent: ResolvedClass | undefined): void {
  const inherited = parent === undefined ? undefined : findNamed(parent.methods, method.name);
  if (inherited !== undefined) {
    if (!sameSignature(method, inherited)) {
      throw new WbemError(
        'WBEM_E_PROPAGATED_METHOD',
        `method ${method.name} of ${name} changes the signature inherited from ${inherited.classOrigin}`,
      ); // C11
    }
    checkOverrides(
      propagatedOnly(inherited.qualifiers),
      method.qualifiers,
      `method ${method.name} of ${name}`,
    );
  }
}

function checkAbstract(
  stored: ClassDefinition,
  parent: ResolvedClass | undefined,
  rules: ClassRules,
): void {
  // C6 (K8, SDK reading): Abstract only below an abstract superclass. DSP0004 has no such rule.
  if (
    rules === 'wmi' &&
    parent !== undefined &&
    hasTrue(stored.qualifiers, 'Abstract') &&
    !hasTrue(parent.qualifiers, 'Abstract')
  ) {
    throw new WbemError(
      'WBEM_E_CANNOT_BE_ABSTRACT',
      `${stored.name} cannot be abstract: its superclass ${parent.name} is not`,
    );
  }
}

function checkSingleton(
  stored: ClassDefinition,
  parent: ResolvedClass | undefined,
  parentHasKeys: boolean,
): void {
  // C7: a singleton has no keys (own or inherited) and derives only from singletons.
  if (hasTrue(stored.qualifiers, 'Singleton')) {
    if (parentHasKeys || stored.properties.some((p) => isKey(p.qualifiers))) {
      throw new WbemError(
        'WBEM_E_CANNOT_BE_SINGLETON',
        `${stored.name} cannot be a singleton: it has key properties`,
      );
    }
    if (parent !== undefined && !hasTrue(parent.qualifiers, 'Singleton')) {
      throw new WbemError(
        'WBEM_E_CANNOT_BE_SINGLETON',
        `${stored.name} cannot be a singleton: its superclass ${parent.name} is not`,
      );
    }
  }
}

function checkAssociation(stored: ClassDefinition, parent: ResolvedClass | undefined): void {
  // §5.5 Association (issue #4: references required): an association relates objects, so it has
  // at least two reference properties, own or inherited (DSP0004 "two or more references"; WMI
  // names no code: INVALID_QUALIFIER, the qualifier is not valid on this class, D41).
  if (hasTrue(stored.qualifiers, 'Association')) {
    const references = new Set<string>();
    for (const property of [...(parent?.properties ?? []), ...stored.properties]) {
      if (property.type === CIM_TYPE.REFERENCE && !property.array)
        references.add(property.name.toLowerCase());
    }
    if (references.size < 2) {
      throw new WbemError(
        'WBEM_E_INVALID_QUALIFIER',
        `${stored.name} is an Association but has ${references.size} reference propert${references.size === 1 ? 'y' : 'ies'}; an association needs at least two`,
      );
    }
  }
}

function checkPropertyCount(stored: ClassDefinition, parent: ResolvedClass | undefined): void {
  // C12, counted without resolving: inherited ones plus the new local ones.
  const count =
    parent === undefined
      ? stored.properties.length
      : parent.properties.length +
        stored.properties.filter((p) => findNamed(parent.properties, p.name) === undefined).length;
  if (count > MAX_PROPERTIES) {
    throw new WbemError(
      'WBEM_E_TOO_MANY_PROPERTIES',
      `${stored.name} has ${count} properties with the inherited ones; the limit is ${MAX_PROPERTIES}`,
    ); // C12
  }
}

function cimTypeKeyable(type: number): boolean {
  // Reals (4, 5) and embedded objects (13) cannot be keys (§5.2).
  return type !== 4 && type !== 5 && type !== 13;
}
