/**
 * The update rules against the subclasses (docs/wmi-semantics.md §6.4, its SAFE "conflict"
 * column and FORCE's rewrites): the key set cannot change, and each descendant's overrides are
 * checked against the updated class, refused in SAFE mode, rewritten in FORCE mode (the parent
 * wins). Throws WbemError; never touches storage.
 */
import {
  FLAVOR,
  type ClassDefinition,
  type MethodDef,
  type PropertyDef,
  type QualifierDef,
  type ResolvedClass,
  type ResolvedQualifier,
} from './class-model';
import { sameSignature } from './class-rules';
import { findNamed } from './names';
import type { Steps } from './steps';
import { isKey, propagatedOnly } from './superclass-rules';
import { sameValue } from './value-rules';
import { WbemError } from './wbem-status';

/**
 * §6.4 SAFE conflicts and FORCE rewrites against every descendant. SAFE throws the specific
 * UPDATE_* code; FORCE returns the rewritten children (the parent wins: the child's conflicting
 * local element is removed; a removed base member a child overrides stays the child's own).
 * One step per descendant (steps.ts).
 */
export function* checkChildrenInSteps(
  after: ResolvedClass,
  before: ResolvedClass,
  descendants: readonly ClassDefinition[],
  mode: 'safe' | 'force',
): Steps<ClassDefinition[]> {
  const keysBefore = keyNames(before);
  const keysAfter = keyNames(after);
  if (keysBefore !== keysAfter) {
    throw new WbemError(
      'WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE',
      `${after.name} has subclasses; its key properties cannot change`,
    );
  }
  const rewrites: ClassDefinition[] = [];
  for (const child of descendants) {
    const rewrite = checkChild(child, after, before, mode);
    if (rewrite !== undefined) rewrites.push(rewrite);
    yield;
  }
  return rewrites;
}

/** The class's key properties, folded and sorted, as one string to compare. */
function keyNames(resolved: ResolvedClass): string {
  return resolved.properties
    .filter((p) => isKey(p.qualifiers))
    .map((p) => p.name.toLowerCase())
    .sort()
    .join(',');
}

/** One descendant: properties, class qualifiers, then methods. FORCE: its rewrite, if any. */
function checkChild(
  child: ClassDefinition,
  after: ResolvedClass,
  before: ResolvedClass,
  mode: 'safe' | 'force',
): ClassDefinition | undefined {
  const properties = checkChildProperties(child, after, before, mode);
  const qualifiers = checkChildQualifiers(child, after, mode);
  const methods = checkChildMethods(child, after, before, mode);
  if (
    properties.length !== child.properties.length ||
    methods.length !== child.methods.length ||
    qualifiers.length !== child.qualifiers.length ||
    properties.some((p, i) => p !== child.properties[i])
  ) {
    return { ...child, properties, methods, qualifiers };
  }
  return undefined;
}

function checkChildProperties(
  child: ClassDefinition,
  after: ResolvedClass,
  before: ResolvedClass,
  mode: 'safe' | 'force',
): PropertyDef[] {
  let properties = [...child.properties];
  for (const property of child.properties) {
    const base = findNamed(after.properties, property.name);
    const wasInherited = findNamed(before.properties, property.name) !== undefined;
    if (base === undefined) {
      if (wasInherited && mode === 'safe') {
        throw new WbemError(
          'WBEM_E_CLASS_HAS_CHILDREN',
          `subclass ${child.name} overrides ${property.name}, which the update removes`,
        );
      }
      continue; // FORCE: the override becomes the child's own property
    }
    if (base.type !== property.type || base.array !== property.array) {
      if (mode === 'safe')
        throw new WbemError(
          'WBEM_E_UPDATE_TYPE_MISMATCH',
          `subclass ${child.name} declares ${property.name} with another type`,
        );
      properties = properties.filter((p) => p !== property);
      continue;
    }
    const conflicting = conflictingQualifiers(base.qualifiers, property.qualifiers);
    if (conflicting.length > 0) {
      if (mode === 'safe')
        throw new WbemError(
          'WBEM_E_UPDATE_OVERRIDE_NOT_ALLOWED',
          `subclass ${child.name} overrides DisableOverride qualifier ${conflicting[0]} of ${property.name}`,
        );
      properties = properties.map((p) =>
        p === property
          ? { ...p, qualifiers: p.qualifiers.filter((q) => !conflicting.includes(q.name)) }
          : p,
      );
    }
  }
  return properties;
}

function checkChildQualifiers(
  child: ClassDefinition,
  after: ResolvedClass,
  mode: 'safe' | 'force',
): QualifierDef[] {
  let qualifiers = [...child.qualifiers];
  const classConflicts = conflictingQualifiers(after.qualifiers, child.qualifiers);
  if (classConflicts.length > 0) {
    if (mode === 'safe')
      throw new WbemError(
        'WBEM_E_UPDATE_OVERRIDE_NOT_ALLOWED',
        `subclass ${child.name} overrides DisableOverride qualifier ${classConflicts[0]}`,
      );
    qualifiers = qualifiers.filter((q) => !classConflicts.includes(q.name));
  }
  return qualifiers;
}

function checkChildMethods(
  child: ClassDefinition,
  after: ResolvedClass,
  before: ResolvedClass,
  mode: 'safe' | 'force',
): MethodDef[] {
  let methods = [...child.methods];
  for (const method of child.methods) {
    const base = findNamed(after.methods, method.name);
    const wasInherited = findNamed(before.methods, method.name) !== undefined;
    if (base === undefined) {
      if (wasInherited && mode === 'safe') {
        throw new WbemError(
          'WBEM_E_CLASS_HAS_CHILDREN',
          `subclass ${child.name} overrides method ${method.name}, which the update removes`,
        );
      }
      continue;
    }
    if (!sameSignature(base, method)) {
      if (mode === 'safe')
        throw new WbemError(
          'WBEM_E_UPDATE_PROPAGATED_METHOD',
          `subclass ${child.name} declares method ${method.name} with another signature`,
        );
      methods = methods.filter((m) => m !== method);
    }
  }
  return methods;
}

/** Whether SAFE mode would refuse the change for a descendant (COMPATIBLE then refuses it too). */
export function* conflictsWithChildrenInSteps(
  after: ResolvedClass,
  before: ResolvedClass,
  descendants: readonly ClassDefinition[],
): Steps<boolean> {
  try {
    yield* checkChildrenInSteps(after, before, descendants, 'safe');
    return false;
  } catch (error) {
    if (error instanceof WbemError) return true;
    throw error;
  }
}

/** Names of the child's qualifiers that change the value of a propagated DisableOverride one. */
function conflictingQualifiers(
  base: readonly ResolvedQualifier[],
  own: readonly QualifierDef[],
): string[] {
  return own
    .filter((q) => {
      const from = findNamed(base, q.name);
      return (
        from !== undefined &&
        (from.flavor & FLAVOR.NOT_OVERRIDABLE) !== 0 &&
        propagatedOnly([from]).length > 0 &&
        !sameValue(from.value, q.value)
      );
    })
    .map((q) => q.name);
}
