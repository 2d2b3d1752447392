/**
 * What GetInstance and EnumInstances return for a stored instance, less the system properties
 * (docs/wmi-semantics.md §5.1, §5.4): every property of the class as it is now, with the
 * instance's value, and the qualifiers whose flavor carries them to instances (ToInstance).
 */
import {
  FLAVOR,
  type ResolvedClass,
  type ResolvedProperty,
  type ResolvedQualifier,
} from './class-model';
import type { PathKey, StoredInstance } from './instance-model';
import { isSingleton, keyPropertiesOf } from './instance-path';
import { findNamed } from './names';
import { WbemError } from './wbem-status';

export interface InstanceView {
  /** __CLASS as the class is spelled now (§5.6: the latest put's spelling). */
  readonly className: string;
  /** Class qualifiers with WBEM_FLAVOR_FLAG_PROPAGATE_TO_INSTANCE, marked propagated. */
  readonly qualifiers: readonly ResolvedQualifier[];
  /** The class's properties in its order; `value` is the instance's, qualifiers as above. */
  readonly properties: readonly ResolvedProperty[];
}

/** §5.4: only ToInstance (0x1) qualifiers reach an instance, where they are propagated (0x20). */
function reachingInstances(qualifiers: readonly ResolvedQualifier[]): ResolvedQualifier[] {
  return qualifiers
    .filter((q) => (q.flavor & FLAVOR.TO_INSTANCE) !== 0)
    .map((q) => ({ ...q, flavor: q.flavor | FLAVOR.ORIGIN_PROPAGATED, propagated: true }));
}

/**
 * The instance as read. A property the class gained after the write (important changes are
 * refused while instances exist, so this is rare) reads as the class default; a stored value
 * whose property the class no longer has is not shown.
 */
export function instanceView(resolved: ResolvedClass, stored: StoredInstance): InstanceView {
  return {
    className: resolved.name,
    qualifiers: reachingInstances(resolved.qualifiers),
    properties: resolved.properties.map((property) => {
      const held = findNamed(stored.values, property.name);
      return {
        ...property,
        value: held === undefined ? property.value : held.value,
        qualifiers: reachingInstances(property.qualifiers),
      };
    }),
  };
}

/**
 * The keys of a stored instance for formatRelPath (names as the class spells them, class key
 * order), or 'singleton'. A NULL or missing key cannot be written (WBEM_E_ILLEGAL_NULL at
 * PutInstance), so meeting one means the stored data no longer matches its class: WBEM_E_FAILED.
 */
export function instanceKeysOf(
  resolved: ResolvedClass,
  stored: StoredInstance,
): readonly PathKey[] | 'singleton' {
  if (isSingleton(resolved)) return 'singleton';
  const keyProperties = keyPropertiesOf(resolved);
  if (keyProperties.length === 0) {
    throw new WbemError(
      'WBEM_E_FAILED',
      `the stored instance of ${stored.className} has no key: class ${resolved.name} has no key properties`,
    );
  }
  return keyProperties.map((property): PathKey => {
    const value = findNamed(stored.values, property.name)?.value ?? property.value;
    if (value === null)
      throw new WbemError(
        'WBEM_E_FAILED',
        `the stored instance of ${stored.className} has no value for key ${property.name}`,
      );
    return { name: property.name, value };
  });
}
