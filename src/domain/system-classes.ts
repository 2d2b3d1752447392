/**
 * The system classes every namespace has (docs/wmi-semantics.md §5.6, §9, C4): built in, read-only
 * (their names start with `_`, which PutClass and DeleteClass refuse), resolvable as superclasses
 * (`MyEvt : __ExtrinsicEvent`, scenario 43) and listed by EnumClasses as WMI lists them. Only the
 * classes the spec names are here: the root of the system classes and the event hierarchy.
 */
import { CIM_TYPE, type ClassDefinition, type PropertyDef, type QualifierDef } from './class-model';
import { classKey, superclassKeyOf, type ClassKey } from './names';

const ABSTRACT: QualifierDef = {
  name: 'Abstract',
  value: { kind: 'boolean', value: true },
  flavor: 0,
};

const property = (name: string, type: number, array = false): PropertyDef => ({
  name,
  type,
  array,
  value: null,
  qualifiers: [],
  referenceClass: '',
  embeddedClass: '',
});

const systemClass = (
  name: string,
  superclass: string,
  abstract: boolean,
  properties: PropertyDef[] = [],
): ClassDefinition => ({
  name,
  superclass,
  qualifiers: abstract ? [ABSTRACT] : [],
  properties,
  methods: [],
});

/** Parents before children. */
export const SYSTEM_CLASSES: readonly ClassDefinition[] = [
  systemClass('__SystemClass', '', true),
  systemClass('__IndicationRelated', '__SystemClass', true),
  // §9: __Event is abstract and carries TIME_CREATED and SECURITY_DESCRIPTOR.
  systemClass('__Event', '__IndicationRelated', true, [
    property('SECURITY_DESCRIPTOR', CIM_TYPE.UINT8, true),
    property('TIME_CREATED', CIM_TYPE.UINT64),
  ]),
  systemClass('__ExtrinsicEvent', '__Event', true),
  systemClass('__ClassOperationEvent', '__Event', true, [property('TargetClass', CIM_TYPE.OBJECT)]),
  systemClass('__ClassCreationEvent', '__ClassOperationEvent', false),
  systemClass('__ClassDeletionEvent', '__ClassOperationEvent', false),
  systemClass('__ClassModificationEvent', '__ClassOperationEvent', false, [
    property('PreviousClass', CIM_TYPE.OBJECT),
  ]),
];

const BY_KEY = new Map<ClassKey, ClassDefinition>(
  SYSTEM_CLASSES.map((definition) => [classKey(definition.name), definition]),
);

/** The system class of that (folded) name, if it is one. */
export function findSystemClass(key: ClassKey): ClassDefinition | undefined {
  return BY_KEY.get(key);
}

/** The system classes below each parent ('' for the top level), in name order, made once. */
const SUBCLASSES = new Map<ClassKey | '', readonly ClassKey[]>();
for (const definition of SYSTEM_CLASSES) {
  const parent = superclassKeyOf(definition) ?? '';
  SUBCLASSES.set(parent, [...(SUBCLASSES.get(parent) ?? []), classKey(definition.name)].sort());
}
const NONE: readonly ClassKey[] = [];

/**
 * The system classes directly below `parent` (null = the top level), in name order: asked for
 * every class an enumeration returns, so a lookup.
 */
export function systemSubclasses(parent: ClassKey | null): readonly ClassKey[] {
  return SUBCLASSES.get(parent ?? '') ?? NONE;
}

/** Names beginning with `_` are the system's (§5.6): no user class can have one. */
export function isSystemClassName(name: string): boolean {
  return name.startsWith('_');
}
