/**
 * Size limits of one class definition (issue #5 "no input may bring it down"), checked before any
 * other rule so the work a request can cause is bounded. Each is generous for real schemas (the
 * whole CIM Schema 2.41 is far inside them) and answers WBEM_E_QUOTA_VIOLATION
 * (RESOURCE_EXHAUSTED) naming the limit. WBEM_E_TOO_MANY_PROPERTIES (1024, C12) stays WMI's own.
 */
import type { CimValue, ClassDefinition, QualifierDef } from './class-model';
import { WbemError } from './wbem-status';

export const CLASS_LIMITS = {
  /** Qualifiers on one class, property, method or parameter. */
  qualifiersPerElement: 256,
  methods: 1024,
  parametersPerMethod: 256,
  /** Characters in one string value (defaults, qualifier values, array elements). */
  stringLength: 1_048_576,
  /** Elements in one array value. */
  arrayElements: 65_536,
} as const;

/**
 * WBEM_MAX_OBJECT_NESTING (docs/wmi-semantics.md §5.7): an embedded object (a CIM_OBJECT value)
 * may hold embedded objects down to this depth, in every value a request carries (defaults,
 * qualifiers, context values, instance properties). Deeper is WBEM_E_INVALID_PARAMETER (scenario 124).
 */
export const MAX_OBJECT_NESTING = 64;

/** Throws WBEM_E_INVALID_PARAMETER when embedded objects nest `depth` deep, beyond MAX_OBJECT_NESTING. */
export function checkObjectNesting(depth: number, where: string): void {
  if (depth > MAX_OBJECT_NESTING)
    throw new WbemError(
      'WBEM_E_INVALID_PARAMETER',
      `${where}: embedded objects nest deeper than ${MAX_OBJECT_NESTING}`,
    );
}

/** How deep embedded objects nest inside a value (0 for a scalar). */
export function nestingDepth(value: CimValue): number {
  switch (value.kind) {
    case 'array':
      return value.value.reduce((deepest, element) => Math.max(deepest, nestingDepth(element)), 0);
    case 'object': {
      let deepest = 0;
      for (const property of value.value.properties) {
        if (property.value !== null) deepest = Math.max(deepest, nestingDepth(property.value));
      }
      return deepest + 1;
    }
    default:
      return 0;
  }
}

function quota(what: string, limit: number, where: string): WbemError {
  return new WbemError('WBEM_E_QUOTA_VIOLATION', `${where}: more than ${limit} ${what}`);
}

/** A value's string lengths, array sizes and embedded classes within CLASS_LIMITS; `where` names it in the error. */
export function checkValueLimits(value: CimValue | null, where: string): void {
  if (value === null) return;
  switch (value.kind) {
    case 'string':
    case 'datetime':
    case 'reference':
      if (value.value.length > CLASS_LIMITS.stringLength)
        throw quota('characters in a string value', CLASS_LIMITS.stringLength, where);
      return;
    case 'array':
      if (value.value.length > CLASS_LIMITS.arrayElements)
        throw quota('array elements', CLASS_LIMITS.arrayElements, where);
      for (const element of value.value) checkValueLimits(element, where);
      return;
    case 'object':
      checkClassLimits(value.value);
      return;
    default:
      return;
  }
}

function checkQualifierList(qualifiers: readonly QualifierDef[], where: string): void {
  if (qualifiers.length > CLASS_LIMITS.qualifiersPerElement)
    throw quota('qualifiers', CLASS_LIMITS.qualifiersPerElement, where);
  for (const qualifier of qualifiers) checkValueLimits(qualifier.value, where);
}

/** Throws WBEM_E_QUOTA_VIOLATION when the definition exceeds a limit of CLASS_LIMITS. */
export function checkClassLimits(definition: ClassDefinition): void {
  const owner = `class ${definition.name.slice(0, 256)}`;
  checkQualifierList(definition.qualifiers, owner);
  for (const property of definition.properties) {
    checkQualifierList(property.qualifiers, owner);
    checkValueLimits(property.value, owner);
  }
  if (definition.methods.length > CLASS_LIMITS.methods)
    throw quota('methods', CLASS_LIMITS.methods, owner);
  for (const method of definition.methods) {
    checkQualifierList(method.qualifiers, owner);
    if (method.parameters.length > CLASS_LIMITS.parametersPerMethod)
      throw quota('parameters in a method', CLASS_LIMITS.parametersPerMethod, owner);
    for (const parameter of method.parameters) checkQualifierList(parameter.qualifiers, owner);
  }
}
