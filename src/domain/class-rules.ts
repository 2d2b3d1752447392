/**
 * The creation rules that need nothing but the definition itself (docs/wmi-semantics.md §6.2,
 * §3.3 step 8): member names and duplicates, CIM types, qualifier value types and scopes,
 * default values, property count, method signatures. Rules against the superclass live in
 * superclass-rules.ts.
 */
import {
  cimTypeInfo,
  CIM_TYPE,
  type ClassDefinition,
  type MethodDef,
  type ParameterDef,
  type PropertyDef,
  type QualifierDef,
} from './class-model';
import { checkMemberName, findNamed, isClassName, preview, sameName } from './names';
import { checkQualifierValue, checkValueFits, qualifierValueOk } from './value-rules';
import { checkClassLimits } from './limits';
import { WbemError } from './wbem-status';

/** WBEM_MAX_USER_PROPERTIES (§5.7, C12). */
export const MAX_PROPERTIES = 1024;

/** C15: qualifiers that only make sense on the class, and those only on properties. */
const CLASS_ONLY = [
  'abstract',
  'singleton',
  'dynamic',
  'provider',
  'association',
  'terminal',
  'amendment',
] as const;
const PROPERTY_ONLY = ['key', 'indexed', 'not_null'] as const;
/** C16: qualifiers that admit only TRUE; FALSE is accepted and means "absent". */
const TRUE_ONLY = ['key', 'indexed', 'not_null', 'singleton', 'dynamic'] as const;

/** Whether `name` is one of `names`, case-insensitively; unlike folding it first, allocates nothing. */
function isOneOf(name: string, names: readonly string[]): boolean {
  for (const candidate of names) if (sameName(candidate, name)) return true;
  return false;
}

export type QualifiedElement = 'class' | 'property' | 'method' | 'parameter';

/** The qualifier of that name, if any (case-insensitive). */
export function findQualifier<Q extends QualifierDef>(
  qualifiers: readonly Q[],
  name: string,
): Q | undefined {
  return findNamed(qualifiers, name);
}

/**
 * Whether a boolean qualifier is in force: present with TRUE, or present with no value (MOF's
 * bare `[Key]`). FALSE counts as absent (C16).
 */
export function hasTrue(qualifiers: readonly QualifierDef[], name: string): boolean {
  const q = findQualifier(qualifiers, name);
  if (q === undefined) return false;
  return q.value === null || (q.value.kind === 'boolean' && q.value.value);
}

function checkQualifiers(
  qualifiers: readonly QualifierDef[],
  element: QualifiedElement,
  owner: string,
): void {
  // Hot path (every PutClass): no Set and no message strings unless something is wrong.
  for (let i = 0; i < qualifiers.length; i++) {
    const qualifier = qualifiers[i] as QualifierDef;
    checkMemberName('qualifier', qualifier.name, owner);
    for (let j = 0; j < i; j++) {
      if (sameName((qualifiers[j] as QualifierDef).name, qualifier.name)) {
        throw new WbemError(
          'WBEM_E_INVALID_PARAMETER',
          `qualifier ${preview(qualifier.name)} appears twice on ${owner}`,
        );
      }
    }
    if (!qualifierValueOk(qualifier.value))
      checkQualifierValue(qualifier.value, `qualifier ${qualifier.name} on ${owner}`);
    if (
      (element !== 'class' && isOneOf(qualifier.name, CLASS_ONLY)) ||
      (element !== 'property' && isOneOf(qualifier.name, PROPERTY_ONLY))
    ) {
      throw new WbemError(
        'WBEM_E_INVALID_QUALIFIER',
        `qualifier ${qualifier.name} is not allowed on ${owner} (a ${element})`,
      );
    }
    if (
      qualifier.value !== null &&
      qualifier.value.kind !== 'boolean' &&
      isOneOf(qualifier.name, TRUE_ONLY)
    ) {
      throw new WbemError(
        'WBEM_E_INVALID_QUALIFIER_TYPE',
        `qualifier ${qualifier.name} on ${owner} takes a boolean`,
      );
    }
  }
}

function checkTypeExtras(
  type: number,
  referenceClass: string,
  embeddedClass: string,
  owner: string,
): void {
  if (referenceClass !== '' && type !== CIM_TYPE.REFERENCE) {
    throw new WbemError(
      'WBEM_E_INVALID_PARAMETER',
      `${owner}: reference_class is only for CIM_REFERENCE`,
    );
  }
  if (embeddedClass !== '' && type !== CIM_TYPE.OBJECT) {
    throw new WbemError(
      'WBEM_E_INVALID_PARAMETER',
      `${owner}: embedded_class is only for CIM_OBJECT`,
    );
  }
  // C17: a referenced class is not required to exist, only to be a name.
  checkClassNameSyntax(referenceClass, owner);
  checkClassNameSyntax(embeddedClass, owner);
}

function checkClassNameSyntax(className: string, owner: string): void {
  if (className !== '' && !isClassName(className)) {
    throw new WbemError(
      'WBEM_E_INVALID_PARAMETER',
      `${owner}: "${preview(className)}" is not a class name`,
    );
  }
}

function checkProperty(property: PropertyDef, className: string): void {
  const owner = `property ${property.name} of ${className}`;
  checkMemberName('property', property.name, className);
  if (cimTypeInfo(property.type) === undefined) {
    throw new WbemError(
      'WBEM_E_INVALID_PROPERTY_TYPE',
      `${owner}: ${property.type} is not a CIM type`,
    );
  }
  checkTypeExtras(property.type, property.referenceClass, property.embeddedClass, owner);
  checkQualifiers(property.qualifiers, 'property', owner);
  checkValueFits(property.type, property.array, property.value, owner);
}

function idOf(parameter: ParameterDef): QualifierDef | undefined {
  return findQualifier(parameter.qualifiers, 'ID');
}

/** C14: every parameter has an ID; IDs are 0..n-1 across in and out; ReturnValue is not a parameter. */
function checkMethod(method: MethodDef, className: string): void {
  const owner = `method ${method.name} of ${className}`;
  checkMemberName('method', method.name, className);
  // 0 (CIM_EMPTY) = no return value; anything else must be a CIM type.
  if (method.returnType !== 0 && cimTypeInfo(method.returnType) === undefined) {
    throw new WbemError(
      'WBEM_E_INVALID_CIM_TYPE',
      `${owner}: return type ${method.returnType} is not a CIM type`,
    );
  }
  checkQualifiers(method.qualifiers, 'method', owner);
  const names: string[] = [];
  const ids: number[] = [];
  for (const parameter of method.parameters) {
    const where = `parameter ${parameter.name} of ${owner}`;
    if (sameName(parameter.name, 'ReturnValue')) {
      const status =
        idOf(parameter) === undefined
          ? 'WBEM_E_INVALID_PARAMETER'
          : 'WBEM_E_PARAMETER_ID_ON_RETVAL';
      throw new WbemError(status, `${owner}: ReturnValue is reserved for the return value`);
    }
    checkMemberName('parameter', parameter.name, owner);
    if (names.some((name) => sameName(name, parameter.name))) {
      throw new WbemError(
        'WBEM_E_INVALID_DUPLICATE_PARAMETER',
        `${owner}: two parameters are named ${parameter.name}`,
      );
    }
    names.push(parameter.name);
    if (cimTypeInfo(parameter.type) === undefined) {
      throw new WbemError(
        'WBEM_E_INVALID_CIM_TYPE',
        `${where}: ${parameter.type} is not a CIM type`,
      );
    }
    checkTypeExtras(parameter.type, parameter.referenceClass, parameter.embeddedClass, where);
    checkQualifiers(parameter.qualifiers, 'parameter', where);
    const id = idOf(parameter);
    if (id === undefined || id.value === null) {
      throw new WbemError('WBEM_E_MISSING_PARAMETER_ID', `${where} has no ID qualifier`);
    }
    if (id.value.kind !== 'sint' || id.value.value < 0n) {
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER_ID',
        `${where}: ID must be a non-negative integer`,
      );
    }
    ids.push(Number(id.value.value));
  }
  const sorted = [...ids].sort((a, b) => a - b);
  if (sorted.some((id, index) => id !== index)) {
    throw new WbemError(
      'WBEM_E_NONCONSECUTIVE_PARAMETER_IDS',
      `${owner}: parameter IDs ${sorted.join(',')} are not 0..${ids.length - 1}`,
    );
  }
}

/**
 * The member names of one class seen so far, to find one repeated case-insensitively. Names get
 * here after checkMemberName, so they are ASCII identifiers and an ASCII-folded hash decides
 * nearly every pair with one integer comparison (sameName confirms equal hashes). The usual few
 * dozen members are compared pairwise that way; beyond 32 a Set of folded names is cheaper.
 */
class MemberNames {
  readonly #names: string[] = [];
  readonly #hashes: number[] = [];
  readonly #folded: Set<string> | undefined;

  constructor(count: number) {
    this.#folded = count > 32 ? new Set<string>() : undefined;
  }

  /** Records `name`; false when an earlier member has it already. */
  add(name: string): boolean {
    if (this.#folded !== undefined) {
      const key = name.toLowerCase();
      if (this.#folded.has(key)) return false;
      this.#folded.add(key);
      return true;
    }
    const hash = foldedHash(name);
    for (let i = 0; i < this.#hashes.length; i++) {
      if (this.#hashes[i] === hash && sameName(this.#names[i] as string, name)) return false;
    }
    this.#names.push(name);
    this.#hashes.push(hash);
    return true;
  }
}

/** FNV-1a over the ASCII-folded code units. */
function foldedHash(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    hash = Math.imul(hash ^ (c >= 65 && c <= 90 ? c + 32 : c), 0x01000193);
  }
  return hash;
}

/** §3.3 step 8 on the definition alone. Throws WbemError. */
export function checkDefinitionSyntax(definition: ClassDefinition): void {
  const className = definition.name;
  // First the counts: they bound the work every later check does.
  if (definition.properties.length > MAX_PROPERTIES) {
    throw new WbemError(
      'WBEM_E_TOO_MANY_PROPERTIES',
      `${className} declares ${definition.properties.length} properties; the limit is ${MAX_PROPERTIES}`,
    );
  }
  checkClassLimits(definition);
  checkQualifiers(definition.qualifiers, 'class', `class ${className}`);
  const names = new MemberNames(definition.properties.length + definition.methods.length);
  for (const property of definition.properties) {
    checkProperty(property, className);
    if (!names.add(property.name)) {
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER',
        `property ${preview(property.name)} appears twice on ${className}`,
      );
    }
  }
  for (const method of definition.methods) {
    checkMethod(method, className);
    if (!names.add(method.name)) {
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER',
        `member ${preview(method.name)} appears twice on ${className}`,
      );
    }
  }
}

/** Same signature (C11): return type, and parameters by name, type, array-ness, direction and ID. */
export function sameSignature(a: MethodDef, b: MethodDef): boolean {
  if (a.returnType !== b.returnType || a.parameters.length !== b.parameters.length) return false;
  return a.parameters.every((p) => {
    const q = findNamed(b.parameters, p.name);
    if (q === undefined) return false;
    const idA = idOf(p)?.value;
    const idB = idOf(q)?.value;
    return (
      p.type === q.type &&
      p.array === q.array &&
      p.in === q.in &&
      p.out === q.out &&
      (idA?.kind === 'sint' && idB?.kind === 'sint' ? idA.value === idB.value : idA === idB)
    );
  });
}
