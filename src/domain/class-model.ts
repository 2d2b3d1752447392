/**
 * The CIM class model of the domain (docs/wmi-semantics.md §5): wire-free, immutable shapes.
 * `ClassDefinition` is what a client sends and what the store keeps (local members and
 * overrides only); `ResolvedClass` is what a read returns (local plus inherited, with origins).
 * CIM types are the WMI numbers, kept as plain numbers so an undefined type can reach the rule
 * that reports it (WBEM_E_INVALID_PROPERTY_TYPE) instead of failing in a decoder.
 */

/** CIMTYPE_ENUMERATION (§5.2). */
export const CIM_TYPE = {
  SINT8: 16,
  UINT8: 17,
  SINT16: 2,
  UINT16: 18,
  SINT32: 3,
  UINT32: 19,
  SINT64: 20,
  UINT64: 21,
  REAL32: 4,
  REAL64: 5,
  BOOLEAN: 11,
  STRING: 8,
  DATETIME: 101,
  REFERENCE: 102,
  CHAR16: 103,
  OBJECT: 13,
} as const;

export type CimTypeName = keyof typeof CIM_TYPE;
export type CimTypeCode = (typeof CIM_TYPE)[CimTypeName];

/** The value kind each CIM type's values use. */
export type CimValueKind = CimValue['kind'];

export interface CimTypeInfo {
  readonly code: CimTypeCode;
  /** The MOF spelling: `uint32`, `string`, `datetime`… (`ref`/`object` for the two special ones). */
  readonly mofName: string;
  /** May carry Key (§5.2): not reals and not embedded objects (arrays are checked apart). */
  readonly keyable: boolean;
  readonly valueKind: Exclude<CimValueKind, 'array'>;
  /** Inclusive range for integer types. */
  readonly range?: { readonly min: bigint; readonly max: bigint };
}

const int = (bits: number, signed: boolean): { min: bigint; max: bigint } =>
  signed
    ? { min: -(1n << BigInt(bits - 1)), max: (1n << BigInt(bits - 1)) - 1n }
    : { min: 0n, max: (1n << BigInt(bits)) - 1n };

const TYPE_INFO: readonly CimTypeInfo[] = [
  { code: CIM_TYPE.SINT8, mofName: 'sint8', keyable: true, valueKind: 'sint', range: int(8, true) },
  {
    code: CIM_TYPE.UINT8,
    mofName: 'uint8',
    keyable: true,
    valueKind: 'uint',
    range: int(8, false),
  },
  {
    code: CIM_TYPE.SINT16,
    mofName: 'sint16',
    keyable: true,
    valueKind: 'sint',
    range: int(16, true),
  },
  {
    code: CIM_TYPE.UINT16,
    mofName: 'uint16',
    keyable: true,
    valueKind: 'uint',
    range: int(16, false),
  },
  {
    code: CIM_TYPE.SINT32,
    mofName: 'sint32',
    keyable: true,
    valueKind: 'sint',
    range: int(32, true),
  },
  {
    code: CIM_TYPE.UINT32,
    mofName: 'uint32',
    keyable: true,
    valueKind: 'uint',
    range: int(32, false),
  },
  {
    code: CIM_TYPE.SINT64,
    mofName: 'sint64',
    keyable: true,
    valueKind: 'sint',
    range: int(64, true),
  },
  {
    code: CIM_TYPE.UINT64,
    mofName: 'uint64',
    keyable: true,
    valueKind: 'uint',
    range: int(64, false),
  },
  { code: CIM_TYPE.REAL32, mofName: 'real32', keyable: false, valueKind: 'real' },
  { code: CIM_TYPE.REAL64, mofName: 'real64', keyable: false, valueKind: 'real' },
  { code: CIM_TYPE.BOOLEAN, mofName: 'boolean', keyable: true, valueKind: 'boolean' },
  { code: CIM_TYPE.STRING, mofName: 'string', keyable: true, valueKind: 'string' },
  { code: CIM_TYPE.DATETIME, mofName: 'datetime', keyable: true, valueKind: 'datetime' },
  { code: CIM_TYPE.REFERENCE, mofName: 'ref', keyable: true, valueKind: 'reference' },
  { code: CIM_TYPE.CHAR16, mofName: 'char16', keyable: true, valueKind: 'char16' },
  { code: CIM_TYPE.OBJECT, mofName: 'object', keyable: false, valueKind: 'object' },
];

const BY_CODE = new Map<number, CimTypeInfo>(TYPE_INFO.map((info) => [info.code, info]));

/** The type's facts, or undefined for a number that is not a property type (0, 1, 7, 0xFFF…). */
export function cimTypeInfo(code: number): CimTypeInfo | undefined {
  return BY_CODE.get(code);
}

const BY_MOF_NAME = new Map<string, CimTypeInfo>(TYPE_INFO.map((info) => [info.mofName, info]));

/** The type a MOF spelling names (case-insensitive): `uint32`, `string`, … `ref` and `object` too. */
export function cimTypeByMofName(name: string): CimTypeInfo | undefined {
  return BY_MOF_NAME.get(name.toLowerCase());
}

/** A CIM value. NULL is `null` where a value may be absent. */
export type CimValue =
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'sint'; readonly value: bigint }
  | { readonly kind: 'uint'; readonly value: bigint }
  | { readonly kind: 'real'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'datetime'; readonly value: string }
  | { readonly kind: 'reference'; readonly value: string }
  | { readonly kind: 'char16'; readonly value: string }
  | { readonly kind: 'object'; readonly value: ClassDefinition }
  | { readonly kind: 'array'; readonly value: readonly CimValue[] };

/** WBEM_FLAVOR_* bits (§5.4). */
export const FLAVOR = {
  TO_INSTANCE: 0x01,
  TO_SUBCLASS: 0x02,
  NOT_OVERRIDABLE: 0x10,
  ORIGIN_PROPAGATED: 0x20,
  ORIGIN_SYSTEM: 0x40,
  AMENDED: 0x80,
  /** The bits a client may set; origin bits are server-computed and ignored on input. */
  INPUT_MASK: 0x01 | 0x02 | 0x10 | 0x80,
} as const;

export interface QualifierDef {
  readonly name: string;
  readonly value: CimValue | null;
  /** WBEM_FLAVOR_* bits; on stored definitions only FLAVOR.INPUT_MASK bits. */
  readonly flavor: number;
}

export interface PropertyDef {
  readonly name: string;
  /** A CIM_TYPE code, or any number a client sent (validated by the rules). */
  readonly type: number;
  readonly array: boolean;
  /** Default value; null = NULL. */
  readonly value: CimValue | null;
  readonly qualifiers: readonly QualifierDef[];
  /** CIM_REFERENCE: `ref:Class`; '' = untyped `ref`. */
  readonly referenceClass: string;
  /** CIM_OBJECT: `object:Class`; '' = any object. */
  readonly embeddedClass: string;
  /** Input only: a member copied from the superclass, checked against it and never stored. */
  readonly propagated?: boolean;
}

export interface ParameterDef {
  readonly name: string;
  readonly type: number;
  readonly array: boolean;
  readonly referenceClass: string;
  readonly embeddedClass: string;
  readonly in: boolean;
  readonly out: boolean;
  readonly qualifiers: readonly QualifierDef[];
}

export interface MethodDef {
  readonly name: string;
  readonly returnType: number;
  readonly parameters: readonly ParameterDef[];
  readonly qualifiers: readonly QualifierDef[];
  /** Input only, as PropertyDef.propagated. */
  readonly propagated?: boolean;
}

/**
 * A list of exactly its items, for a definition the store keeps: a list filled by `push` keeps
 * spare capacity (V8 grows it to 17 slots at the first push), and a stored definition outlives
 * its call in the store's record cache (10 MB more live heap under M1's load without this,
 * docs/performance.md).
 */
export function fitted<T>(items: T[]): T[] {
  return items.length === 0 ? items : items.slice();
}

/** A class as sent by a client (pObject) and as stored: local members and overrides. */
export interface ClassDefinition {
  readonly name: string;
  /** '' for a root class. */
  readonly superclass: string;
  readonly qualifiers: readonly QualifierDef[];
  readonly properties: readonly PropertyDef[];
  readonly methods: readonly MethodDef[];
  /** Input only: __GENUS as the client declared it (0 = not said, 1 = class, 2 = instance). */
  readonly genus?: number;
}

export interface ResolvedQualifier extends QualifierDef {
  /** Inherited from an ancestor (flavor carries ORIGIN_PROPAGATED too). */
  readonly propagated: boolean;
}

export interface ResolvedProperty extends Omit<PropertyDef, 'qualifiers' | 'propagated'> {
  readonly qualifiers: readonly ResolvedQualifier[];
  /** __CLASS_ORIGIN: the class that introduced the property. */
  readonly classOrigin: string;
  /** Declared in an ancestor and not overridden here. */
  readonly propagated: boolean;
}

export interface ResolvedMethod extends Omit<MethodDef, 'qualifiers' | 'propagated'> {
  readonly qualifiers: readonly ResolvedQualifier[];
  readonly classOrigin: string;
  readonly propagated: boolean;
}

/** A class with everything it inherits: what GetClass returns (less the system properties). */
export interface ResolvedClass {
  readonly name: string;
  readonly superclass: string;
  readonly qualifiers: readonly ResolvedQualifier[];
  readonly properties: readonly ResolvedProperty[];
  readonly methods: readonly ResolvedMethod[];
  /** __DERIVATION: ancestors' names as stored, immediate parent first. */
  readonly derivation: Derivation;
  /** __DYNASTY: the top-most ancestor, or the class itself. */
  readonly dynasty: string;
}

/**
 * A __DERIVATION: ancestors' names, immediate parent first. Either the list itself, or — for a
 * class derived from its resolved parent — a link to that parent (its name, then its own
 * derivation), made into a list only when read (`derivationNames`, domain/resolve-class.ts). A
 * chain of n classes resolved one below the other then holds n links instead of n²/2 names
 * (docs/performance.md, D1; D79). `length` is the list's length either way.
 */
export type Derivation = readonly string[] | DerivationBelow;

/** The derivation of a subclass of `below`: below's name, then below's derivation. */
export interface DerivationBelow {
  readonly below: { readonly name: string; readonly derivation: Derivation };
  readonly length: number;
}

/**
 * A qualifier declaration (DSP0004 `Qualifier Name : type = default, Scope(...), Flavor(...)`),
 * kept per namespace by CompileMof. WMI itself has none; wbemd applies them to MOF only.
 */
export interface QualifierDeclaration {
  readonly name: string;
  /** A CIM_TYPE code (never OBJECT or REFERENCE). */
  readonly type: number;
  readonly array: boolean;
  readonly defaultValue: CimValue | null;
  /** Lower-case DSP0004 scope names: class, association, indication, property, reference, method, parameter, any. */
  readonly scopes: readonly string[];
  /** WBEM_FLAVOR_* bits the qualifier starts with. */
  readonly flavor: number;
}
