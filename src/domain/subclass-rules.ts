/**
 * The update rules against the subclasses (docs/wmi-semantics.md §6.4, its SAFE "conflict"
 * column and FORCE's rewrites): the key set cannot change, and each descendant's overrides are
 * checked against the updated class, refused in SAFE mode, rewritten in FORCE mode (the parent
 * wins). Throws WbemError; never touches storage.
 */
import {
  FLAVOR,
  type ClassDefinition,
  type QualifierDef,
  type ResolvedClass,
  type ResolvedQualifier,
} from './class-model';
import { sameSignature } from './class-rules';
import { findNamed } from './names';
import { isKey, propagatedOnly } from './superclass-rules';
import { sameValue } from './value-rules';
import { WbemError } from './wbem-status';

/**
 * §6.4 SAFE conflicts and FORCE rewrites against every descendant. SAFE throws the specific
 * UPDATE_* code; FORCE returns the rewritten children (the parent wins: the child's conflicting
 * local element is removed; a removed base member a child overrides stays the child's own).
 */
export function checkChildren(
  after: ResolvedClass,
  before: ResolvedClass,
  descendants: readonly ClassDefinition[],
  mode: 'safe' | 'force',
): ClassDefinition[] {
  const keysBefore = before.properties
    .filter((p) => isKey(p.qualifiers))
    .map((p) => p.name.toLowerCase())
    .sort()
    .join(',');
  const keysAfter = after.properties
    .filter((p) => isKey(p.qualifiers))
    .map((p) => p.name.toLowerCase())
    .sort()
    .join(',');
  if (keysBefore !== keysAfter) {
    throw new WbemError(
      'WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE',
      `${after.name} has subclasses; its key properties cannot change`,
    );
  }
  const rewrites: ClassDefinition[] = [];
  for (const child of descendants) {
    let properties = [...child.properties];
    let methods = [...child.methods];
    let qualifiers = [...child.qualifiers];
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
    const classConflicts = conflictingQualifiers(after.qualifiers, child.qualifiers);
    if (classConflicts.length > 0) {
      if (mode === 'safe')
        throw new WbemError(
          'WBEM_E_UPDATE_OVERRIDE_NOT_ALLOWED',
          `subclass ${child.name} overrides DisableOverride qualifier ${classConflicts[0]}`,
        );
      qualifiers = qualifiers.filter((q) => !classConflicts.includes(q.name));
    }
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
    if (
      properties.length !== child.properties.length ||
      methods.length !== child.methods.length ||
      qualifiers.length !== child.qualifiers.length ||
      properties.some((p, i) => p !== child.properties[i])
    ) {
      rewrites.push({ ...child, properties, methods, qualifiers });
    }
  }
  return rewrites;
}

/** Whether SAFE mode would refuse the change for a descendant (COMPATIBLE then refuses it too). */
export function conflictsWithChildren(
  after: ResolvedClass,
  before: ResolvedClass,
  descendants: readonly ClassDefinition[],
): boolean {
  try {
    checkChildren(after, before, descendants, 'safe');
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
