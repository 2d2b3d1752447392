/**
 * The PutClass decision (docs/wmi-semantics.md §3.3, §6): flags, creation rules C1–C17 and the
 * modification rules M1–M12 that concern subclasses, as one pure function over a loaded snapshot.
 * Throws WbemError; never touches storage.
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
import {
  checkDefinitionSyntax,
  findQualifier,
  hasTrue,
  MAX_PROPERTIES,
  sameSignature,
} from './class-rules';
import type { ClassRules } from './client-context';
import { checkClassName, classKey, findNamed, sameName, type ClassKey } from './names';
import type { PutClassFlags } from './put-class-flags';
import { deriveClass, resolveClass } from './resolve-class';
import { sameValue } from './value-rules';
import { WbemError } from './wbem-status';

export interface ClassWorld {
  /** The stored class with this name (case-insensitive), if any (local members). */
  readonly existing: ClassDefinition | undefined;
  /**
   * The requested superclass's chain, nearest first, as stored; 'missing' when a named superclass
   * (or one of its ancestors) is absent; [] for a root class. A chain that reaches the class
   * itself means the derivation would be circular.
   */
  readonly ancestors: readonly ClassDefinition[] | 'missing';
  readonly hasSubclasses: boolean;
  /** Every stored descendant of the existing class (loaded only when it has subclasses). */
  readonly descendants: readonly ClassDefinition[];
  /**
   * Static instances of the existing class and of each descendant, by folded class name; a class
   * that is absent has none. Only the update gate reads it (§6.4, M10).
   */
  readonly instanceCounts: ReadonlyMap<ClassKey, number>;
}

export interface PutClassPlan {
  readonly kind: 'create' | 'update';
  /** What to store: local members and overrides only. */
  readonly definition: ClassDefinition;
  /** The stored definition an update replaces. */
  readonly previous?: ClassDefinition;
  /** §6.3: whether the update is an important change. */
  readonly important: boolean;
  /** FORCE mode: subclasses rewritten so they no longer conflict (parent wins, §6.4). */
  readonly childRewrites: readonly ClassDefinition[];
  /** An update that stores exactly what is stored (M8: allowed in every mode; still an update). */
  readonly unchanged: boolean;
}

export interface PutClassDecisionInput {
  readonly definition: ClassDefinition;
  readonly flags: PutClassFlags;
  /** WMI's class rules (the default) or DSP0004's where WMI is stricter (client-context.ts). */
  readonly rules?: ClassRules;
}

export function decidePutClass(input: PutClassDecisionInput, world: ClassWorld): PutClassPlan {
  const { definition, flags } = input;
  const rules = input.rules ?? 'wmi';
  // §3.3 step 6, C1: only a class may be put as a class.
  if (definition.genus !== undefined && definition.genus !== 0 && definition.genus !== 1) {
    throw new WbemError(
      'WBEM_E_INVALID_CLASS',
      `the object is not a class (__GENUS ${definition.genus})`,
    );
  }
  checkClassName(definition.name); // step 7 (C2, C3)
  checkDefinitionSyntax(definition); // step 8
  // step 9 (M1)
  const existing = world.existing;
  if (existing === undefined && flags.mode === 'updateOnly') {
    throw new WbemError(
      'WBEM_E_NOT_FOUND',
      `class ${definition.name} does not exist (WBEM_FLAG_UPDATE_ONLY)`,
    );
  }
  if (existing !== undefined && flags.mode === 'createOnly') {
    throw new WbemError(
      'WBEM_E_ALREADY_EXISTS',
      `class ${existing.name} already exists (WBEM_FLAG_CREATE_ONLY)`,
    );
  }
  // step 10 (C4, C5, M6, §6.8)
  const parent = resolveSuperclass(definition, world, existing !== undefined);
  // step 11 (C6–C12 against the resolved superclass)
  const stored = strip(definition, parent, flags.useAmendedQualifiers);
  checkAgainstSuperclass(stored, parent, rules);
  // step 12 (§5.8, K5): an update carrying amended qualifiers needs WBEM_FLAG_USE_AMENDED_QUALIFIERS.
  if (existing !== undefined && !flags.useAmendedQualifiers && carriesAmended(definition)) {
    throw new WbemError(
      'WBEM_E_AMENDED_OBJECT',
      `class ${definition.name} carries amended qualifiers; set WBEM_FLAG_USE_AMENDED_QUALIFIERS`,
    );
  }
  if (existing === undefined)
    return {
      kind: 'create',
      definition: stored,
      important: true,
      childRewrites: [],
      unchanged: false,
    };
  // step 13 (§6.4, M3): the update-mode gate.
  const important = isImportantChange(existing, stored);
  let childRewrites: ClassDefinition[] = [];
  if (world.hasSubclasses) {
    // What the children inherited (approximated over the requested superclass when it changes)
    // and what they would inherit. A non-important change can still conflict with a child
    // (a new DisableOverride qualifier it overrides: scenarios 80/81), so conflicts are checked
    // whatever the importance.
    const before = deriveClass(parent, existing);
    const after = deriveClass(parent, stored);
    if (
      flags.update === 'compatible' &&
      (important || conflictsWithChildren(after, before, world.descendants))
    ) {
      throw new WbemError(
        'WBEM_E_CLASS_HAS_CHILDREN',
        `class ${existing.name} has subclasses; this change needs WBEM_FLAG_UPDATE_SAFE_MODE or FORCE_MODE`,
      );
    }
    checkInstances(existing, important, world, propertyLayoutDiffers(before, after));
    if (flags.update !== 'compatible')
      childRewrites = checkChildren(after, before, world.descendants, flags.update);
    for (const child of childRewrites) {
      // pragma classflags("forceupdate"): "If the child class has instances, the update fails".
      const count = world.instanceCounts.get(classKey(child.name)) ?? 0;
      if (count > 0)
        throw hasInstances(child.name, count, `FORCE mode would rewrite subclass ${child.name}`);
    }
  } else {
    checkInstances(existing, important, world, false); // no subclasses: only the class's own instances matter
  }
  const unchanged = !important && sameStoredClass(existing, stored);
  return {
    kind: 'update',
    definition: stored,
    previous: existing,
    important,
    childRewrites,
    unchanged,
  };
}

/**
 * §6.4 and M10 (K4 adopted: FORCE does not delete instances, it fails like the other modes). An
 * important change is refused while the class has instances; and while any descendant has
 * instances when the change alters the layout the descendants inherit (properties, types, keys,
 * defaults, superclass), since their stored images would no longer match their class (§5.1).
 */
function checkInstances(
  existing: ClassDefinition,
  important: boolean,
  world: ClassWorld,
  layoutChanged: boolean,
): void {
  if (!important) return;
  const own = world.instanceCounts.get(classKey(existing.name)) ?? 0;
  if (own > 0) throw hasInstances(existing.name, own, 'this is an important change (§6.3)');
  if (!layoutChanged) return;
  for (const child of world.descendants) {
    const count = world.instanceCounts.get(classKey(child.name)) ?? 0;
    if (count > 0)
      throw hasInstances(
        child.name,
        count,
        `the change alters the properties subclass ${child.name} inherits`,
      );
  }
}

function hasInstances(className: string, count: number, why: string): WbemError {
  return new WbemError(
    'WBEM_E_CLASS_HAS_INSTANCES',
    `class ${className} has ${count} instance${count === 1 ? '' : 's'}; ${why}. Delete the instances first`,
  );
}

/**
 * Whether the superclass or the property layout differs: a property added, removed, retyped or
 * given another default, or gaining or losing Key/Indexed (§6.3's property part). Of a stored
 * definition for isImportantChange; of the resolved class for what subclasses inherit (M10).
 */
function propertyLayoutDiffers(
  previous: { readonly superclass: string; readonly properties: readonly PropertyDef[] },
  next: { readonly superclass: string; readonly properties: readonly PropertyDef[] },
): boolean {
  if (
    !sameName(previous.superclass, next.superclass) ||
    previous.properties.length !== next.properties.length
  )
    return true;
  return previous.properties.some((before) => {
    const after = findNamed(next.properties, before.name);
    return (
      after === undefined ||
      !samePropertyAs(after, before) ||
      IMPORTANT_PROPERTY_QUALIFIERS.some(
        (q) => hasTrue(before.qualifiers, q) !== hasTrue(after.qualifiers, q),
      )
    );
  });
}

/** M8: the new definition stores exactly what is stored (names as spelled, qualifiers, values). */
function sameStoredClass(a: ClassDefinition, b: ClassDefinition): boolean {
  const canonical = (definition: ClassDefinition): string =>
    JSON.stringify({ ...definition, genus: undefined }, (_key, value: unknown) =>
      typeof value === 'bigint' ? `${value}n` : value,
    );
  return canonical(a) === canonical(b);
}

function resolveSuperclass(
  definition: ClassDefinition,
  world: ClassWorld,
  updating: boolean,
): ResolvedClass | undefined {
  if (definition.superclass === '') return undefined;
  if (world.ancestors === 'missing') {
    throw new WbemError(
      'WBEM_E_INVALID_SUPERCLASS',
      `superclass ${definition.superclass} does not exist`,
    );
  }
  const self = classKey(definition.name);
  if (world.ancestors.some((ancestor) => classKey(ancestor.name) === self)) {
    // §6.8: on create the class cannot be its own ancestor (it does not exist: C4); on update it is a cycle.
    if (!updating)
      throw new WbemError(
        'WBEM_E_INVALID_SUPERCLASS',
        `superclass ${definition.superclass} does not exist`,
      );
    throw new WbemError(
      'WBEM_E_CIRCULAR_REFERENCE',
      `${definition.name} cannot derive from ${definition.superclass}: the derivation would be circular`,
    );
  }
  const chain = [...world.ancestors].reverse();
  if (chain.length === 0)
    throw new WbemError(
      'WBEM_E_INVALID_SUPERCLASS',
      `superclass ${definition.superclass} does not exist`,
    );
  const nearest = chain[chain.length - 1] as ClassDefinition;
  if (hasTrue(nearest.qualifiers, 'Terminal')) {
    throw new WbemError(
      'WBEM_E_INVALID_SUPERCLASS',
      `superclass ${nearest.name} is Terminal and cannot be derived from`,
    ); // C5
  }
  return resolveClass(chain);
}

/**
 * What is stored: members sent back as `propagated` are checked and dropped when unchanged (a
 * changed one is kept as a local override and checked as such); origin flavor bits are cleared;
 * amended qualifiers are stripped with WBEM_FLAG_USE_AMENDED_QUALIFIERS (§5.8).
 */
function strip(
  definition: ClassDefinition,
  parent: ResolvedClass | undefined,
  dropAmended: boolean,
): ClassDefinition {
  // Most inputs need no change: reuse their objects rather than copy every member (hot path).
  const qualifiers = (list: readonly QualifierDef[]): readonly QualifierDef[] =>
    list.every(
      (q) =>
        (q.flavor & ~FLAVOR.INPUT_MASK) === 0 &&
        !(dropAmended && (q.flavor & FLAVOR.AMENDED) !== 0),
    )
      ? list
      : list
          .filter((q) => !dropAmended || (q.flavor & FLAVOR.AMENDED) === 0)
          .map((q) => ({ name: q.name, value: q.value, flavor: q.flavor & FLAVOR.INPUT_MASK }));
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
    const kept = qualifiers(property.qualifiers);
    if (property.propagated === undefined && kept === property.qualifiers) {
      properties.push(property);
      continue;
    }
    const { propagated: _ignored, ...rest } = property;
    properties.push({ ...rest, qualifiers: kept });
  }
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
    const kept = qualifiers(method.qualifiers);
    if (method.propagated === undefined && kept === method.qualifiers) {
      methods.push(method);
      continue;
    }
    const { propagated: _ignored, ...rest } = method;
    methods.push({ ...rest, qualifiers: kept });
  }
  return {
    name: definition.name,
    superclass: definition.superclass,
    qualifiers: qualifiers(definition.qualifiers),
    properties,
    methods,
  };
}

function samePropertyAs(sent: PropertyDef, inherited: PropertyDef): boolean {
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

function propagatedOnly(qualifiers: readonly ResolvedQualifier[]): ResolvedQualifier[] {
  return qualifiers.filter((q) => (q.flavor & FLAVOR.TO_SUBCLASS) !== 0 || sameName(q.name, 'Key'));
}

function isKey(qualifiers: readonly QualifierDef[]): boolean {
  return hasTrue(qualifiers, 'Key');
}

function checkAgainstSuperclass(
  stored: ClassDefinition,
  parent: ResolvedClass | undefined,
  rules: ClassRules,
): void {
  const name = stored.name;
  if (parent !== undefined)
    checkOverrides(propagatedOnly(parent.qualifiers), stored.qualifiers, `class ${name}`);
  const parentHasKeys = parent?.properties.some((p) => isKey(p.qualifiers)) ?? false;
  for (const property of stored.properties) {
    const inherited =
      parent === undefined ? undefined : findNamed(parent.properties, property.name);
    const key = isKey(property.qualifiers);
    if (key && (property.array || !cimTypeKeyable(property.type))) {
      throw new WbemError(
        'WBEM_E_CANNOT_BE_KEY',
        `property ${property.name} of ${name} cannot be a key (arrays, reals and embedded objects cannot)`,
      ); // C8
    }
    if (inherited === undefined && !(key && parentHasKeys)) continue; // the common case: nothing to compare
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
  for (const method of stored.methods) {
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
  // C6 (K8, SDK reading): Abstract only below an abstract superclass. DSP0004 has no such rule.
  if (
    rules === 'wmi' &&
    parent !== undefined &&
    hasTrue(stored.qualifiers, 'Abstract') &&
    !hasTrue(parent.qualifiers, 'Abstract')
  ) {
    throw new WbemError(
      'WBEM_E_CANNOT_BE_ABSTRACT',
      `${name} cannot be abstract: its superclass ${parent.name} is not`,
    );
  }
  // C7: a singleton has no keys (own or inherited) and derives only from singletons.
  if (hasTrue(stored.qualifiers, 'Singleton')) {
    if (parentHasKeys || stored.properties.some((p) => isKey(p.qualifiers))) {
      throw new WbemError(
        'WBEM_E_CANNOT_BE_SINGLETON',
        `${name} cannot be a singleton: it has key properties`,
      );
    }
    if (parent !== undefined && !hasTrue(parent.qualifiers, 'Singleton')) {
      throw new WbemError(
        'WBEM_E_CANNOT_BE_SINGLETON',
        `${name} cannot be a singleton: its superclass ${parent.name} is not`,
      );
    }
  }
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
        `${name} is an Association but has ${references.size} reference propert${references.size === 1 ? 'y' : 'ies'}; an association needs at least two`,
      );
    }
  }
  // C12, counted without resolving: inherited ones plus the new local ones.
  const count =
    parent === undefined
      ? stored.properties.length
      : parent.properties.length +
        stored.properties.filter((p) => findNamed(parent.properties, p.name) === undefined).length;
  if (count > MAX_PROPERTIES) {
    throw new WbemError(
      'WBEM_E_TOO_MANY_PROPERTIES',
      `${name} has ${count} properties with the inherited ones; the limit is ${MAX_PROPERTIES}`,
    ); // C12
  }
}

function cimTypeKeyable(type: number): boolean {
  // Reals (4, 5) and embedded objects (13) cannot be keys (§5.2).
  return type !== 4 && type !== 5 && type !== 13;
}

function carriesAmended(definition: ClassDefinition): boolean {
  const amended = (list: readonly QualifierDef[]): boolean =>
    list.some((q) => (q.flavor & FLAVOR.AMENDED) !== 0);
  return (
    amended(definition.qualifiers) ||
    definition.properties.some((p) => amended(p.qualifiers)) ||
    definition.methods.some(
      (m) => amended(m.qualifiers) || m.parameters.some((p) => amended(p.qualifiers)),
    )
  );
}

/** Qualifiers whose addition, removal or change is important (§6.3). */
const IMPORTANT_CLASS_QUALIFIERS = [
  'Abstract',
  'Singleton',
  'Dynamic',
  'Association',
  'Provider',
  'Terminal',
];
const IMPORTANT_PROPERTY_QUALIFIERS = ['Key', 'Indexed'];

function qualifierValue(list: readonly QualifierDef[], name: string): string {
  const q = findQualifier(list, name);
  return q === undefined
    ? ''
    : JSON.stringify(q.value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * §6.3: superclass, property set, types, defaults (adopted: important, §12.2 q4), Key/Indexed, the
 * class-shaping qualifiers, and (for subclasses' sake) methods. Informational qualifiers are not.
 */
export function isImportantChange(previous: ClassDefinition, next: ClassDefinition): boolean {
  if (propertyLayoutDiffers(previous, next)) return true;
  if (
    IMPORTANT_CLASS_QUALIFIERS.some(
      (q) => qualifierValue(previous.qualifiers, q) !== qualifierValue(next.qualifiers, q),
    )
  )
    return true;
  if (previous.methods.length !== next.methods.length) return true;
  return previous.methods.some((before) => {
    const after = findNamed(next.methods, before.name);
    return after === undefined || !sameSignature(before, after);
  });
}

/**
 * §6.4 SAFE conflicts and FORCE rewrites against every descendant. SAFE throws the specific
 * UPDATE_* code; FORCE returns the rewritten children (the parent wins: the child's conflicting
 * local element is removed; a removed base member a child overrides stays the child's own).
 */
function checkChildren(
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

function conflictsWithChildren(
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

/**
 * Optimistic concurrency (issue #4; no WMI peer has it, D58): the class's revision must be the
 * one the client read (0 = the class must not exist). A mismatch is WBEM_E_RESERVED_001, the
 * SDK's WBEM_E_TRANSACTION_CONFLICT (gRPC ABORTED: re-read, then retry).
 */
export function checkExpectedRevision(
  className: string,
  expected: bigint | undefined,
  current: bigint | undefined,
): void {
  if (expected === undefined) return;
  const now = current ?? 0n;
  if (now === expected) return;
  const was = expected === 0n ? 'expected not to exist' : `expected at revision ${expected}`;
  const is = current === undefined ? 'it does not exist' : `it is at revision ${now}`;
  throw new WbemError(
    'WBEM_E_RESERVED_001',
    `class ${className} changed since it was read: ${was}, ${is} (transaction conflict: read it again, then retry)`,
  );
}
