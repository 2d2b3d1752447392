/**
 * Class resolution (docs/wmi-semantics.md §5.1, §6.2 C9–C11): a class's stored local definition
 * plus what it inherits, with __CLASS_ORIGIN and the propagated marks a read returns.
 */
import {
  FLAVOR,
  type ClassDefinition,
  type Derivation,
  type DerivationBelow,
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

/** Each resolved class's derivationBelow, made once: its subclasses and their events share it. */
const madeBelow = new WeakMap<ResolvedClass, DerivationBelow>();

/** The lists derivationNames made of links, once each (a link is shared by a parent's children). */
const namesOfLink = new WeakMap<DerivationBelow, readonly string[]>();

const isList = (derivation: Derivation): derivation is readonly string[] =>
  Array.isArray(derivation);

/**
 * The __DERIVATION of a subclass of `parent`: its name, then its list, as a link to `parent` (no
 * names copied). One link per parent, not per subclass, so a class's own resolved form and its
 * event share one object, which the log writer and the encoder compare by identity. A list per
 * class, each copying its parent's, kept O(n²) names of an n-class chain alive through its
 * CompileMof and in the resolved classes it hands over (docs/performance.md, D1).
 */
export function derivationBelow(parent: ResolvedClass): DerivationBelow {
  let derivation = madeBelow.get(parent);
  if (derivation === undefined) {
    derivation = { below: parent, length: parent.derivation.length + 1 };
    madeBelow.set(parent, derivation);
  }
  return derivation;
}

/**
 * The derivation as a list of names: a link is followed up to the first list (or a link made into
 * one before) in a loop, so a deep chain does not recurse; the list is kept with the link.
 */
export function derivationNames(derivation: Derivation): readonly string[] {
  if (isList(derivation)) return derivation;
  const made = namesOfLink.get(derivation);
  if (made !== undefined) return made;
  const names: string[] = [];
  let at: Derivation = derivation;
  while (!isList(at)) {
    const known = namesOfLink.get(at);
    if (known !== undefined) {
      at = known;
      break;
    }
    names.push(at.below.name);
    at = at.below.derivation;
  }
  for (const name of at) names.push(name);
  namesOfLink.set(derivation, names);
  return names;
}

/** The immediate parent's name: the derivation's first name (undefined for a root class). */
export function derivationFirst(derivation: Derivation): string | undefined {
  return isList(derivation) ? derivation[0] : derivation.below.name;
}

/** The grandparent's name: the derivation's second name, without making a link into a list. */
export function derivationSecond(derivation: Derivation): string | undefined {
  return isList(derivation) ? derivation[1] : derivationFirst(derivation.below.derivation);
}

/** Whether two derivations hold the same names (at once when they are one object). */
export function sameDerivation(a: Derivation, b: Derivation): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  const [x, y] = [derivationNames(a), derivationNames(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * Whether `derivation` is `parentName` followed by `parentDerivation`: at once when it is a link to
 * a class with that derivation (derivationBelow), else name by name.
 */
export function extendsDerivation(
  derivation: Derivation,
  parentName: string,
  parentDerivation: Derivation,
): boolean {
  if (derivationFirst(derivation) !== parentName) return false;
  if (derivation.length !== parentDerivation.length + 1) return false;
  if (!isList(derivation) && derivation.below.derivation === parentDerivation) return true;
  const names = derivationNames(derivation);
  const parentNames = derivationNames(parentDerivation);
  for (let i = 0; i < parentNames.length; i++) if (names[i + 1] !== parentNames[i]) return false;
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
  derivation: Derivation = parent === undefined ? [] : derivationBelow(parent),
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
const UNREAD_DERIVATION: Derivation = Object.freeze([]);

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
