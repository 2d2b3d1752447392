/**
 * Class resolution (docs/wmi-semantics.md §5.1, §6.2 C9–C11): a class's stored local definition
 * plus what it inherits, with __CLASS_ORIGIN and the propagated marks a read returns.
 */
import {
  FLAVOR,
  type ClassDefinition,
  type MethodDef,
  type PropertyDef,
  type QualifierDef,
  type ResolvedClass,
  type ResolvedMethod,
  type ResolvedProperty,
  type ResolvedQualifier,
} from './class-model';
import { findNamed, sameName } from './names';

/**
 * C10 and §5.4 rule 4: a qualifier reaches subclasses when its flavor has ToSubclass (0x2);
 * Key is inherited whatever its flavor. WMI's default flavor 0 does not propagate.
 */
export function propagatesToSubclass(qualifier: QualifierDef): boolean {
  return (qualifier.flavor & FLAVOR.TO_SUBCLASS) !== 0 || sameName(qualifier.name, 'Key');
}

function inherited(qualifiers: readonly ResolvedQualifier[]): ResolvedQualifier[] {
  return qualifiers
    .filter(propagatesToSubclass)
    .map((q) => ({ ...q, flavor: q.flavor | FLAVOR.ORIGIN_PROPAGATED, propagated: true }));
}

function local(qualifiers: readonly QualifierDef[]): ResolvedQualifier[] {
  return qualifiers.map((q) => ({
    name: q.name,
    value: q.value,
    flavor: q.flavor & FLAVOR.INPUT_MASK,
    propagated: false,
  }));
}

/** Inherited qualifiers in their order, a local one replacing its namesake in place, new ones after. */
export function mergeQualifiers(
  fromParent: readonly ResolvedQualifier[],
  own: readonly QualifierDef[],
): ResolvedQualifier[] {
  const merged = inherited(fromParent);
  for (const qualifier of local(own)) {
    const at = merged.findIndex((q) => sameName(q.name, qualifier.name));
    if (at >= 0) merged[at] = qualifier;
    else merged.push(qualifier);
  }
  return merged;
}

function resolveProperty(
  parent: ResolvedProperty | undefined,
  own: PropertyDef,
  className: string,
): ResolvedProperty {
  return {
    name: own.name,
    type: own.type,
    array: own.array,
    value: own.value,
    referenceClass: own.referenceClass,
    embeddedClass: own.embeddedClass,
    qualifiers: mergeQualifiers(parent?.qualifiers ?? [], own.qualifiers),
    // C9: an override keeps the class that introduced the property as its origin.
    classOrigin: parent?.classOrigin ?? className,
    propagated: false,
  };
}

function resolveMethod(
  parent: ResolvedMethod | undefined,
  own: MethodDef,
  className: string,
): ResolvedMethod {
  return {
    name: own.name,
    returnType: own.returnType,
    parameters: own.parameters,
    qualifiers: mergeQualifiers(parent?.qualifiers ?? [], own.qualifiers),
    classOrigin: parent?.classOrigin ?? className,
    propagated: false,
  };
}

/**
 * Each __DERIVATION list deriveClass made as a parent's name and the parent's list: that list. An
 * encoder that already holds the parent's list encoded reuses it without comparing a deep chain's
 * names one by one (extendsDerivation).
 */
const extendedFrom = new WeakMap<readonly string[], readonly string[]>();

/** Each resolved class's derivationBelow, made once: its subclasses and their events share it. */
const madeBelow = new WeakMap<ResolvedClass, readonly string[]>();

/**
 * The __DERIVATION of a subclass of `parent`: its name, then its list. One list per parent, not
 * per subclass: a CompileMof of an n-class chain made one for a class's event and another when the
 * class was resolved for its subclass, each O(depth), O(n²) names alive until the commit
 * (docs/performance.md, D1). Lists are never changed once made.
 */
export function derivationBelow(parent: ResolvedClass): readonly string[] {
  let derivation = madeBelow.get(parent);
  if (derivation === undefined) {
    derivation = [parent.name].concat(parent.derivation);
    extendedFrom.set(derivation, parent.derivation);
    madeBelow.set(parent, derivation);
  }
  return derivation;
}

/**
 * Whether `derivation` is `parentName` followed by `parentDerivation`: at once when deriveClass made
 * it from that list, else name by name.
 */
export function extendsDerivation(
  derivation: readonly string[],
  parentName: string,
  parentDerivation: readonly string[],
): boolean {
  if (derivation[0] !== parentName) return false;
  if (extendedFrom.get(derivation) === parentDerivation) return true;
  if (derivation.length !== parentDerivation.length + 1) return false;
  for (let i = 0; i < parentDerivation.length; i++)
    if (derivation[i + 1] !== parentDerivation[i]) return false;
  return true;
}

/**
 * One derivation step: `definition` on top of its resolved superclass (undefined for a root class).
 * `derivation` is the class's __DERIVATION, its ancestors nearest first (by default the parent's
 * name and derivation).
 */
export function deriveClass(
  parent: ResolvedClass | undefined,
  definition: ClassDefinition,
  derivation: readonly string[] = parent === undefined ? [] : derivationBelow(parent),
): ResolvedClass {
  const properties: ResolvedProperty[] = [];
  for (const inheritedProperty of parent?.properties ?? []) {
    const override = findNamed(definition.properties, inheritedProperty.name);
    properties.push(
      override !== undefined
        ? resolveProperty(inheritedProperty, override, definition.name)
        : {
            ...inheritedProperty,
            qualifiers: inherited(inheritedProperty.qualifiers),
            propagated: true,
          },
    );
  }
  for (const own of definition.properties) {
    if (findNamed(properties, own.name) === undefined)
      properties.push(resolveProperty(undefined, own, definition.name));
  }
  const methods: ResolvedMethod[] = [];
  for (const inheritedMethod of parent?.methods ?? []) {
    const override = findNamed(definition.methods, inheritedMethod.name);
    methods.push(
      override !== undefined
        ? resolveMethod(inheritedMethod, override, definition.name)
        : {
            ...inheritedMethod,
            qualifiers: inherited(inheritedMethod.qualifiers),
            propagated: true,
          },
    );
  }
  for (const own of definition.methods) {
    if (findNamed(methods, own.name) === undefined)
      methods.push(resolveMethod(undefined, own, definition.name));
  }
  return {
    name: definition.name,
    // __SUPERCLASS as the superclass is stored, whatever case the definition used (scenario 41).
    superclass: parent?.name ?? '',
    qualifiers: mergeQualifiers(parent?.qualifiers ?? [], definition.qualifiers),
    properties,
    methods,
    derivation,
    dynasty: parent?.dynasty ?? definition.name,
  };
}

/** What an intermediate level of resolveClass carries as its derivation: it is never returned. */
const UNREAD_DERIVATION: readonly string[] = Object.freeze([]);

/**
 * chain = the class's ancestors and the class, top-most first, the class last. Only the class's
 * own __DERIVATION is built (once, from the chain's names): a list per level, each copying its
 * parent's, made resolving a class d levels deep cost O(d²), and a CompileMof of a chain O(n³)
 * (docs/performance.md, "Class resolution").
 */
export function resolveClass(chain: readonly ClassDefinition[]): ResolvedClass {
  const last = chain.length - 1;
  let resolved: ResolvedClass | undefined;
  for (let index = 0; index < last; index++)
    resolved = deriveClass(resolved, chain[index] as ClassDefinition, UNREAD_DERIVATION);
  const definition = chain[last];
  if (definition === undefined) throw new Error('resolveClass: empty chain');
  const derivation: string[] = [];
  for (let index = last - 1; index >= 0; index--)
    derivation.push((chain[index] as ClassDefinition).name);
  return deriveClass(resolved, definition, derivation);
}

/** The local view (GetClass local_only): members defined or overridden in the class itself. */
export function localView(resolved: ResolvedClass): ResolvedClass {
  return {
    ...resolved,
    qualifiers: resolved.qualifiers.filter((q) => !q.propagated),
    properties: resolved.properties.filter((p) => !p.propagated),
    methods: resolved.methods.filter((m) => !m.propagated),
  };
}

/**
 * What PutClass would have to receive to store this class again: its local members with their
 * local qualifiers, flavors without the server-set origin bits (the export of `as_mof`/mofgen).
 */
export function storedDefinitionOf(resolved: ResolvedClass): ClassDefinition {
  const local = (qualifiers: readonly ResolvedQualifier[]): QualifierDef[] =>
    qualifiers
      .filter((q) => !q.propagated)
      .map((q) => ({ name: q.name, value: q.value, flavor: q.flavor & FLAVOR.INPUT_MASK }));
  return {
    name: resolved.name,
    superclass: resolved.superclass,
    qualifiers: local(resolved.qualifiers),
    properties: resolved.properties
      .filter((p) => !p.propagated)
      .map((p) => ({
        name: p.name,
        type: p.type,
        array: p.array,
        value: p.value,
        qualifiers: local(p.qualifiers),
        referenceClass: p.referenceClass,
        embeddedClass: p.embeddedClass,
      })),
    methods: resolved.methods
      .filter((m) => !m.propagated)
      .map((m) => ({
        name: m.name,
        returnType: m.returnType,
        parameters: m.parameters,
        qualifiers: local(m.qualifiers),
      })),
  };
}

/** __PROPERTY_COUNT: non-system properties, inherited ones included (§5.3). */
export function propertyCount(resolved: ResolvedClass): number {
  return resolved.properties.length;
}
