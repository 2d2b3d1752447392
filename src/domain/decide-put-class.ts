/**
 * The PutClass decision (docs/wmi-semantics.md §3.3, §6): flags, creation rules C1–C17 and the
 * modification rules M1–M12 that concern subclasses, as one pure function over a loaded snapshot.
 * Throws WbemError; never touches storage. This file runs §3.3's steps in order and holds the
 * update gate (§6.3 important changes, §6.4, M8, M10); the rules against the superclass are in
 * superclass-rules.ts, those against the subclasses in subclass-rules.ts, and the stored form of
 * the definition in strip-definition.ts.
 */
import {
  FLAVOR,
  type ClassDefinition,
  type PropertyDef,
  type QualifierDef,
  type ResolvedClass,
} from './class-model';
import { checkDefinitionSyntax, findQualifier, hasTrue, sameSignature } from './class-rules';
import type { ClassRules } from './client-context';
import { checkClassName, classKey, findNamed, sameName, type ClassKey } from './names';
import type { PutClassFlags, PutMode, UpdateMode } from './put-class-flags';
import { deriveClass } from './resolve-class';
import { samePropertyAs, strip } from './strip-definition';
import { finish, type Steps } from './steps';
import { checkChildrenInSteps, conflictsWithChildrenInSteps } from './subclass-rules';
import { checkAgainstSuperclass, resolveSuperclass } from './superclass-rules';
import { WbemError } from './wbem-status';

export interface ClassWorld {
  /** The stored class with this name (case-insensitive), if any (local members). */
  readonly existing: ClassDefinition | undefined;
  /**
   * The requested superclass's chain, nearest first, as stored; 'missing' when a named superclass
   * (or one of its ancestors) is absent; [] for a root class. A chain that reaches the class
   * itself means the derivation would be circular. For a create given `superclass`, it may hold
   * only the nearest (the superclass as stored): the rest is read only to resolve the superclass
   * or, on update, to find the class on its own chain.
   */
  readonly ancestors: readonly ClassDefinition[] | 'missing';
  /**
   * The requested superclass resolved (the chain `ancestors` resolved), when the loader has it
   * cached; absent, the rules resolve it from `ancestors`. With it, a class's checks cost one
   * derivation step whatever its depth (a CompileMof of an n-level chain stays linear).
   */
  readonly superclass?: ResolvedClass;
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
  return finish(decidePutClassInSteps(input, world));
}

/**
 * decidePutClass as steps (steps.ts): one per subclass checked, so the service can let the event
 * loop turn while an update is judged against 10,000 subclasses (issue #13, L1).
 */
export function* decidePutClassInSteps(
  input: PutClassDecisionInput,
  world: ClassWorld,
): Steps<PutClassPlan> {
  const { definition, flags } = input;
  const rules = input.rules ?? 'wmi';
  checkIsClass(definition); // step 6 (C1)
  checkClassName(definition.name); // step 7 (C2, C3)
  checkDefinitionSyntax(definition); // step 8
  // step 9 (M1)
  const existing = world.existing;
  checkExistence(definition, existing, flags.mode);
  // step 10 (C4, C5, M6, §6.8)
  const parent = resolveSuperclass(
    definition,
    world.ancestors,
    existing !== undefined,
    world.superclass,
  );
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
  return yield* decideUpdate(existing, stored, parent, world, flags.update);
}

function checkIsClass(definition: ClassDefinition): void {
  // §3.3 step 6, C1: only a class may be put as a class.
  if (definition.genus !== undefined && definition.genus !== 0 && definition.genus !== 1) {
    throw new WbemError(
      'WBEM_E_INVALID_CLASS',
      `the object is not a class (__GENUS ${definition.genus})`,
    );
  }
}

/** §3.3 step 9 (M1): UPDATE_ONLY needs the class, CREATE_ONLY its absence. */
function checkExistence(
  definition: ClassDefinition,
  existing: ClassDefinition | undefined,
  mode: PutMode,
): void {
  if (existing === undefined && mode === 'updateOnly') {
    throw new WbemError(
      'WBEM_E_NOT_FOUND',
      `class ${definition.name} does not exist (WBEM_FLAG_UPDATE_ONLY)`,
    );
  }
  if (existing !== undefined && mode === 'createOnly') {
    throw new WbemError(
      'WBEM_E_ALREADY_EXISTS',
      `class ${existing.name} already exists (WBEM_FLAG_CREATE_ONLY)`,
    );
  }
}

/** §3.3 step 13: the update-mode gate over subclasses and instances, then the update's plan. */
function* decideUpdate(
  existing: ClassDefinition,
  stored: ClassDefinition,
  parent: ResolvedClass | undefined,
  world: ClassWorld,
  update: UpdateMode,
): Steps<PutClassPlan> {
  const important = isImportantChange(existing, stored);
  let childRewrites: ClassDefinition[] = [];
  if (world.hasSubclasses) {
    childRewrites = yield* checkSubclasses(existing, stored, parent, important, world, update);
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
 * The gate when the class has subclasses, in D39's order: COMPATIBLE's CLASS_HAS_CHILDREN, then
 * instances (M10), then SAFE's UPDATE_* conflicts or FORCE's rewrites. Returns the rewrites.
 */
function* checkSubclasses(
  existing: ClassDefinition,
  stored: ClassDefinition,
  parent: ResolvedClass | undefined,
  important: boolean,
  world: ClassWorld,
  update: UpdateMode,
): Steps<ClassDefinition[]> {
  // What the children inherited (approximated over the requested superclass when it changes)
  // and what they would inherit. A non-important change can still conflict with a child
  // (a new DisableOverride qualifier it overrides: scenarios 80/81), so conflicts are checked
  // whatever the importance.
  const before = deriveClass(parent, existing);
  const after = deriveClass(parent, stored);
  if (
    update === 'compatible' &&
    (important || (yield* conflictsWithChildrenInSteps(after, before, world.descendants)))
  ) {
    throw new WbemError(
      'WBEM_E_CLASS_HAS_CHILDREN',
      `class ${existing.name} has subclasses; this change needs WBEM_FLAG_UPDATE_SAFE_MODE or FORCE_MODE`,
    );
  }
  checkInstances(existing, important, world, propertyLayoutDiffers(before, after));
  let childRewrites: ClassDefinition[] = [];
  if (update !== 'compatible')
    childRewrites = yield* checkChildrenInSteps(after, before, world.descendants, update);
  for (const child of childRewrites) {
    // pragma classflags("forceupdate"): "If the child class has instances, the update fails".
    const count = world.instanceCounts.get(classKey(child.name)) ?? 0;
    if (count > 0)
      throw hasInstances(child.name, count, `FORCE mode would rewrite subclass ${child.name}`);
  }
  return childRewrites;
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
