/**
 * The PutInstance decision for static instances (issue #4 item 4; docs/wmi-semantics.md §5.1,
 * §5.2, §5.5, §6.9): the flags, every rule an instance meets against its resolved class, and
 * the create/update choice. Pure: the service loads the class and what is stored at the
 * instance's location, then calls these. Throws WbemError only.
 */
import { isSystemClassName } from './system-classes';
import {
  cimTypeInfo,
  type CimValue,
  type ResolvedClass,
  type ResolvedProperty,
} from './class-model';
import { findQualifier, hasTrue } from './class-rules';
import type {
  InstanceInput,
  InstanceLocation,
  InstancePropertyInput,
  PathKey,
  StoredInstance,
} from './instance-model';
import { formatRelPath, instanceLocation, isSingleton, keyPropertiesOf } from './instance-path';
import { checkValueLimits } from './limits';
import { hasControlCharacter, preview, sameName } from './names';
import type { PutMode } from './put-class-flags';
import { checkValueFits } from './value-rules';
import { WbemError, type WbemErrorName } from './wbem-status';

/** "You cannot create an instance with more than 256 keys" (SDK, Creating an Instance Using MOF). */
export const MAX_INSTANCE_KEYS = 256;

/**
 * The status for an instance of a class that has neither keys nor Singleton: WMI's
 * WBEM_E_NO_KEY (0x80041089, "User attempted to put an instance with no defined key", WMI error
 * constants, learn.microsoft.com wmi-error-constants); it names the condition exactly.
 */
const KEYLESS_CLASS_STATUS: WbemErrorName = 'WBEM_E_NO_KEY';

/** SDK PutInstance, WBEM_E_ILLEGAL_NULL: "such as one that is marked by a Key, Indexed, or Not_Null qualifier". */
const NOT_NULL_QUALIFIERS = ['Key', 'Indexed', 'Not_Null'];

/** What a PutInstance stores, where, and under which __RELPATH. */
export interface PreparedInstance {
  readonly stored: StoredInstance;
  readonly location: InstanceLocation;
  readonly relpath: string;
}

/**
 * Every rule of a static instance against its resolved class, first failure wins:
 *  1. the class can hold static instances: `input.className` names `resolved`
 *     (WBEM_E_INVALID_CLASS); not in a locale namespace `ms_xxx` (§6.9), not abstract (own
 *     `Abstract`; it is not inherited), not an `Amendment` class (§5.5), not dynamic
 *     (`Dynamic`/`Provider`: WBEM_E_PROVIDER_NOT_CAPABLE, wbemd has no providers), keyed or a
 *     singleton (WBEM_E_NO_KEY), at most 256 keys (WBEM_E_QUOTA_VIOLATION);
 *  2. nothing would be dropped: instance qualifiers are not stored (WBEM_E_NOT_SUPPORTED);
 *  3. the sent values within the size limits of class values (WBEM_E_QUOTA_VIOLATION);
 *  4. each sent property, in the order sent: not a system property, a property of the class,
 *     not sent twice (WBEM_E_INVALID_PARAMETER), no qualifiers (WBEM_E_NOT_SUPPORTED), a stated
 *     type equal to the class's type and array-ness, a value that fits (WBEM_E_TYPE_MISMATCH);
 *  5. after the class defaults fill what was not sent: no NULL in a Key, Indexed or Not_Null
 *     property (WBEM_E_ILLEGAL_NULL);
 *  6. key values printable (§5.2): strings without characters below U+0020, char16 above
 *     U+0020 (WBEM_E_INVALID_PARAMETER).
 * WBEM_E_INVALID_OPERATION in step 1 answers "this class holds no static instances": §5.5 gives it
 * for Amendment classes, and abstract and locale classes get the same answer; a keyless class
 * gets WMI's own WBEM_E_NO_KEY.
 */
export function prepareInstance(
  input: InstanceInput,
  resolved: ResolvedClass,
  namespaceIsLocale: boolean,
): PreparedInstance {
  checkClassTakesInstances(input.className, resolved, namespaceIsLocale);
  if (input.qualifierCount > 0) {
    throw new WbemError(
      'WBEM_E_NOT_SUPPORTED',
      `instance qualifiers are not stored; ${input.qualifierCount} were sent for ${resolved.name}`,
    );
  }
  checkSentSizes(input, resolved.name);
  const sent = matchSentProperties(input.properties, resolved);
  // Not sent = the class default (§5.1: an instance starts as a copy of its class's image).
  const valueOf = (property: ResolvedProperty): CimValue | null =>
    sent.has(property) ? (sent.get(property) ?? null) : property.value;
  for (const property of resolved.properties) {
    if (valueOf(property) !== null) continue;
    const required = NOT_NULL_QUALIFIERS.find((name) => hasTrue(property.qualifiers, name));
    if (required !== undefined) {
      throw new WbemError(
        'WBEM_E_ILLEGAL_NULL',
        `property ${property.name} of ${resolved.name} is ${required} and cannot be NULL`,
      );
    }
  }
  const keys = isSingleton(resolved) ? 'singleton' : keyValues(resolved, valueOf);
  return {
    stored: {
      className: resolved.name,
      values: resolved.properties.map((property) => ({
        name: property.name,
        value: valueOf(property),
      })),
    },
    location: instanceLocation(resolved, keys),
    relpath: formatRelPath(resolved.name, keys),
  };
}

function checkClassTakesInstances(
  className: string,
  resolved: ResolvedClass,
  namespaceIsLocale: boolean,
): void {
  const refuse = (status: WbemErrorName, why: string): WbemError =>
    new WbemError(status, `no static instance of ${resolved.name} can be stored: ${why}`);
  if (!sameName(className, resolved.name)) {
    throw new WbemError(
      'WBEM_E_INVALID_CLASS',
      `the instance names class ${preview(className)}, not ${resolved.name}`,
    );
  }
  // System classes (§5.6) are written by the system only: events are raised, not stored.
  if (isSystemClassName(resolved.name))
    throw refuse('WBEM_E_INVALID_OPERATION', 'it is a system class');
  if (namespaceIsLocale)
    throw refuse(
      'WBEM_E_INVALID_OPERATION',
      'classes of a locale namespace (ms_xxx) are treated as abstract',
    );
  // Abstract is not inherited (DMTF flavor Restricted, §5.5): only the class's own counts.
  if (
    hasTrue(
      resolved.qualifiers.filter((q) => !q.propagated),
      'Abstract',
    )
  )
    throw refuse('WBEM_E_INVALID_OPERATION', 'the class is abstract');
  if (hasTrue(resolved.qualifiers, 'Amendment'))
    throw refuse('WBEM_E_INVALID_OPERATION', 'the class is an Amendment class');
  const provider = findQualifier(resolved.qualifiers, 'Provider');
  if (
    hasTrue(resolved.qualifiers, 'Dynamic') ||
    (provider !== undefined && provider.value !== null)
  ) {
    throw refuse(
      'WBEM_E_PROVIDER_NOT_CAPABLE',
      'the class is dynamic; its instances come from a provider, and wbemd has none',
    );
  }
  if (isSingleton(resolved)) return;
  const keyCount = keyPropertiesOf(resolved).length;
  if (keyCount === 0)
    throw refuse(KEYLESS_CLASS_STATUS, 'the class has no key properties and is not a singleton');
  if (keyCount > MAX_INSTANCE_KEYS)
    throw refuse(
      'WBEM_E_QUOTA_VIOLATION',
      `the class has ${keyCount} keys; an instance has at most ${MAX_INSTANCE_KEYS}`,
    );
}

/**
 * The limits of class definitions (limits.ts: string length, array elements, nesting of embedded
 * objects) bound instance values too, with the same errors as for a class's defaults.
 */
function checkSentSizes(input: InstanceInput, className: string): void {
  const where = `class ${className.slice(0, 256)}`;
  for (const property of input.properties) checkValueLimits(property.value, where);
}

/** The sent values by the class property they set; throws for the rules of step 4. */
function matchSentProperties(
  properties: readonly InstancePropertyInput[],
  resolved: ResolvedClass,
): Map<ResolvedProperty, CimValue | null> {
  const sent = new Map<ResolvedProperty, CimValue | null>();
  // Folded names, so a 1024-property instance costs a map lookup per property, not a scan.
  const byName = new Map(
    resolved.properties.map((property) => [property.name.toLowerCase(), property]),
  );
  for (const input of properties) {
    const where = `property ${preview(input.name)} of ${resolved.name}`;
    if (input.name.startsWith('__')) {
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER',
        `${where}: system properties are computed by the server and cannot be sent`,
      );
    }
    const property = byName.get(input.name.toLowerCase());
    if (property === undefined)
      throw new WbemError('WBEM_E_INVALID_PARAMETER', `${where}: the class has no such property`);
    if (sent.has(property))
      throw new WbemError('WBEM_E_INVALID_PARAMETER', `${where}: the property is sent twice`);
    if (input.qualifierCount > 0) {
      throw new WbemError(
        'WBEM_E_NOT_SUPPORTED',
        `${where}: instance property qualifiers are not stored; ${input.qualifierCount} were sent`,
      );
    }
    if (input.type !== 0 && (input.type !== property.type || input.array !== property.array)) {
      const said = `${cimTypeInfo(input.type)?.mofName ?? String(input.type)}${input.array ? '[]' : ''}`;
      const actual = `${cimTypeInfo(property.type)?.mofName ?? String(property.type)}${property.array ? '[]' : ''}`;
      throw new WbemError(
        'WBEM_E_TYPE_MISMATCH',
        `${where}: sent as ${said}, but the class declares ${actual}`,
      );
    }
    checkValueFits(property.type, property.array, input.value, where);
    sent.set(property, input.value);
  }
  return sent;
}

/** The key values in the class's key order, checked printable (§5.2: they go into object paths). */
function keyValues(
  resolved: ResolvedClass,
  valueOf: (property: ResolvedProperty) => CimValue | null,
): PathKey[] {
  return keyPropertiesOf(resolved).map((property): PathKey => {
    const value = valueOf(property);
    const where = `key ${property.name} of ${resolved.name}`;
    if (value === null) throw new WbemError('WBEM_E_ILLEGAL_NULL', `${where} cannot be NULL`); // refused above already
    if (
      (value.kind === 'string' || value.kind === 'reference') &&
      hasControlCharacter(value.value)
    ) {
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER',
        `${where}: key values cannot hold characters below U+0020`,
      );
    }
    if (value.kind === 'char16' && value.value.charCodeAt(0) <= 0x20) {
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER',
        `${where}: a char16 key must be above U+0020`,
      );
    }
    return { name: property.name, value };
  });
}

/** The write a PutInstance makes. */
export type InstanceWrite = 'create' | 'update';

/**
 * Create or update, from the mode and what is stored at the location. An instance there of
 * another class of the hierarchy (`B.Id="x"` put while an `A.Id="x"` exists) is refused with
 * WBEM_E_ALREADY_EXISTS in every mode: PutInstance creates and updates, it does not move an
 * instance to another class (SDK PutInstance remarks; "Changing the Inheritance of an Instance").
 * `className` is the class of the instance being put; `existing` is what the service found at
 * its location, in whichever class of the key-root hierarchy it is filed.
 */
export function decideInstanceWrite(
  mode: PutMode,
  className: string,
  existing: StoredInstance | undefined,
): InstanceWrite {
  if (existing === undefined) {
    if (mode === 'updateOnly')
      throw new WbemError(
        'WBEM_E_NOT_FOUND',
        `no instance of ${className} has this path (WBEM_FLAG_UPDATE_ONLY)`,
      );
    return 'create';
  }
  if (!sameName(existing.className, className)) {
    throw new WbemError(
      'WBEM_E_ALREADY_EXISTS',
      `an instance of ${existing.className} has this path; delete it before creating one of ${className}`,
    );
  }
  if (mode === 'createOnly')
    throw new WbemError(
      'WBEM_E_ALREADY_EXISTS',
      `the instance of ${existing.className} already exists (WBEM_FLAG_CREATE_ONLY)`,
    );
  return 'update';
}
