/**
 * What a decided PutClass writes and reports, as pure functions of the plan and the loaded world:
 * the store writes with their events (§9), the subclass progress stages (D49) and the ChangeReport
 * of validate_only (D48). The service only sequences them.
 */
import type { ClientContext } from '../domain/client-context';
import type { ClassDefinition, Derivation } from '../domain/class-model';
import type { ClassWorld, PutClassPlan } from '../domain/decide-put-class';
import { classKey, superclassKeyOf, type ClassKey, type NamespaceKey } from '../domain/names';
import { derivationBelow, derivationNames } from '../domain/resolve-class';
import { finish, type Steps } from '../domain/steps';
import type { ChangeEventInfo, StoreWrite } from '../store/class-store';
import type { OperationContext } from './operation-context';
import type { ChangeReportView } from './views';

/**
 * Subclasses re-derived by an update are reported in groups of this many (one progress event per
 * group), so a class with 10,000 subclasses sends 40 subclass events, not 10,000.
 */
export const SUBCLASS_PROGRESS_GROUP = 256;

/**
 * One stage per group of subclasses an update re-derived (M7): every descendant is checked
 * against the new definition (SAFE/FORCE conflicts, COMPATIBLE's child conflicts), and FORCE
 * rewrites the conflicting ones. Creates and updates of leaf classes have none.
 */
export function subclassStages(plan: PutClassPlan, world: ClassWorld): string[] {
  if (plan.kind === 'create' || world.descendants.length === 0) return [];
  const rewritten = new Set(plan.childRewrites.map((c) => classKey(c.name)));
  const total = world.descendants.length;
  const stages: string[] = [];
  for (let from = 0; from < total; from += SUBCLASS_PROGRESS_GROUP) {
    const group = world.descendants.slice(from, from + SUBCLASS_PROGRESS_GROUP);
    const changed = group.filter((c) => rewritten.has(classKey(c.name))).length;
    stages.push(
      `checked subclasses ${from + 1}-${from + group.length} of ${total}${changed > 0 ? ` (${changed} rewritten)` : ''}`,
    );
  }
  return stages;
}

/** What a PutClass touches (validate_only reports it): the class, every subclass, their instances. */
export function changeReport(plan: PutClassPlan, world: ClassWorld): ChangeReportView {
  const rewritten = new Set(plan.childRewrites.map((c) => classKey(c.name)));
  return {
    kind: plan.kind === 'create' ? 'create' : plan.unchanged ? 'unchanged' : 'update',
    important: plan.important,
    instanceCount: world.instanceCounts.get(classKey(plan.definition.name)) ?? 0,
    subclasses: world.descendants.map((child) => ({
      className: child.name,
      instanceCount: world.instanceCounts.get(classKey(child.name)) ?? 0,
      rewritten: rewritten.has(classKey(child.name)),
    })),
  };
}

/** What every event of one operation shares (§9): the writer's pCtx, its operation id, TIME_CREATED. */
export type OperationChange = Omit<ChangeEventInfo, 'derivation'>;

export function changeInfo(
  context: ClientContext | undefined,
  ctx: OperationContext,
): OperationChange {
  return { context, operationId: ctx.operationId, timeCreated: fileTimeNow() };
}

/** 100-ns intervals between 1601-01-01 and 1970-01-01 UTC (FILETIME's epoch and Unix's). */
const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n;

/** TIME_CREATED: 100-ns intervals since 1601-01-01 UTC (millisecond precision). */
function fileTimeNow(): bigint {
  return BigInt(Date.now()) * 10_000n + FILETIME_UNIX_EPOCH;
}

/**
 * The store writes of one decided PutClass, each with its event (§9): the class (created, or
 * modified with the stored class as PreviousClass) and, for an important update, every subclass
 * (rewritten by FORCE mode or re-derived as stored; each a modification with its stored
 * definition as PreviousClass).
 */
export function putClassWrites(
  namespace: NamespaceKey,
  plan: PutClassPlan,
  world: ClassWorld,
  change: OperationChange,
): StoreWrite[] {
  const writes = putClassWritesInSteps(namespace, plan, world, change);
  return Array.isArray(writes) ? writes : finish(writes);
}

/** The class's own write: created, or modified with the stored class as PreviousClass. */
function classWrite(
  namespace: NamespaceKey,
  plan: PutClassPlan,
  derivation: Derivation,
  change: OperationChange,
): StoreWrite {
  // Field by field rather than a spread of `change`: this runs for every PutClass.
  return {
    op: 'putClass',
    namespace,
    definition: plan.definition,
    previousSuperclass: plan.previous === undefined ? undefined : superclassKeyOf(plan.previous),
    event: {
      context: change.context,
      operationId: change.operationId,
      timeCreated: change.timeCreated,
      derivation,
      previous: plan.previous,
    },
  };
}

/**
 * putClassWrites, as steps (domain/steps.ts) when subclasses are written too, one per descendant
 * (a FORCE over 10,000 subclasses); at once for a class without any (every create), which then
 * takes no generator (W1: the create path's generators cost more than its plain calls).
 */
export function putClassWritesInSteps(
  namespace: NamespaceKey,
  plan: PutClassPlan,
  world: ClassWorld,
  change: OperationChange,
): StoreWrite[] | Steps<StoreWrite[]> {
  // A link to the superclass when the loader resolved it (shared with the class's own resolved
  // form, and O(1) for the log record to refer to), else the chain's names.
  const derivation: Derivation =
    world.superclass !== undefined
      ? derivationBelow(world.superclass)
      : world.ancestors === 'missing'
        ? []
        : world.ancestors.map((c) => c.name);
  const writes: StoreWrite[] = [classWrite(namespace, plan, derivation, change)];
  const rederived = rederivesSubclasses(plan) && world.descendants.length > 0;
  if (plan.childRewrites.length === 0 && !rederived) return writes;
  return descendantWritesInSteps(
    namespace,
    plan,
    world,
    change,
    derivationNames(derivation),
    writes,
  );
}

/**
 * M7: an important update re-derives every subclass, and each raises its own modification event
 * (§9 [I], scenario 77); FORCE's rewrites are among them. A re-derived subclass is written again
 * as stored, so its revision moves with what it now inherits (an expected_revision taken before
 * the update no longer matches). A non-important update changes no subclass's layout.
 */
const rederivesSubclasses = (plan: PutClassPlan): boolean =>
  plan.kind === 'update' && plan.important;

/** `writes` (the class's) followed by its descendants' writes, one step per descendant. */
function* descendantWritesInSteps(
  namespace: NamespaceKey,
  plan: PutClassPlan,
  world: ClassWorld,
  change: OperationChange,
  derivation: readonly string[],
  writes: StoreWrite[],
): Steps<StoreWrite[]> {
  const rederived = rederivesSubclasses(plan);
  const derivations = yield* descendantDerivationsInSteps(
    plan.definition,
    derivation,
    world.descendants,
  );
  const rewritten = new Map(plan.childRewrites.map((c) => [classKey(c.name), c]));
  for (const child of world.descendants) {
    yield;
    const key = classKey(child.name);
    const definition = rewritten.get(key) ?? (rederived ? child : undefined);
    if (definition === undefined) continue;
    writes.push({
      op: 'putClass',
      namespace,
      definition,
      previousSuperclass: superclassKeyOf(child),
      event: { ...change, derivation: derivations.get(key) ?? [], previous: child },
    });
  }
  return writes;
}

/**
 * __DERIVATION of every descendant (immediate parent first), from the root's own derivation and
 * the descendants listed parents before children.
 */
export function descendantDerivations(
  root: ClassDefinition,
  rootDerivation: readonly string[],
  descendants: readonly ClassDefinition[],
): Map<ClassKey, readonly string[]> {
  return finish(descendantDerivationsInSteps(root, rootDerivation, descendants));
}

/** descendantDerivations as steps, one per descendant. */
function* descendantDerivationsInSteps(
  root: ClassDefinition,
  rootDerivation: readonly string[],
  descendants: readonly ClassDefinition[],
): Steps<Map<ClassKey, readonly string[]>> {
  const derivations = new Map<ClassKey, readonly string[]>([[classKey(root.name), rootDerivation]]);
  const names = new Map<ClassKey, string>([[classKey(root.name), root.name]]);
  for (const descendant of descendants) {
    yield;
    const parent = superclassKeyOf(descendant);
    const parentDerivation = parent === null ? undefined : derivations.get(parent);
    if (parent === null || parentDerivation === undefined) continue;
    derivations.set(classKey(descendant.name), [
      names.get(parent) ?? descendant.superclass,
      ...parentDerivation,
    ]);
    names.set(classKey(descendant.name), descendant.name);
  }
  return derivations;
}
