/**
 * Values against their CIM types (§5.2) and qualifier value types (§5.4 rule 6).
 */
import { cimTypeInfo, CIM_TYPE, type CimValue } from './class-model';
import { checkObjectNesting, nestingDepth } from './limits';
import { WbemError } from './wbem-status';

const REAL32_MAX = 3.4028234663852886e38;
/** DMTF datetime: timestamp `yyyymmddHHMMSS.mmmmmmsUUU` or interval `ddddddddHHMMSS.mmmmmm:000`; `*` wildcards. */
const DATETIME = /^(?:[\d*]{14}\.[\d*]{6}[+-][\d*]{3}|[\d*]{14}\.[\d*]{6}:000)$/;

/** Whether `value` (not an array) fits CIM type `type`. */
function scalarFits(type: number, value: CimValue): boolean {
  const info = cimTypeInfo(type);
  if (info === undefined || value.kind !== info.valueKind) return false;
  switch (value.kind) {
    case 'sint':
    case 'uint':
      return (
        info.range !== undefined && value.value >= info.range.min && value.value <= info.range.max
      );
    case 'real':
      return (
        type !== CIM_TYPE.REAL32 ||
        !Number.isFinite(value.value) ||
        Math.abs(value.value) <= REAL32_MAX
      );
    case 'char16':
      return value.value.length === 1;
    case 'datetime':
      return DATETIME.test(value.value);
    default:
      return true;
  }
}

/**
 * A default value must fit the property's type and array-ness: WBEM_E_TYPE_MISMATCH otherwise
 * (what IWbemClassObject::Put reports); embedded objects nest at most 64 deep
 * (WBEM_MAX_OBJECT_NESTING, scenario 124: WBEM_E_INVALID_PARAMETER).
 */
export function checkValueFits(
  type: number,
  array: boolean,
  value: CimValue | null,
  where: string,
): void {
  if (value === null) return;
  checkObjectNesting(nestingDepth(value), where);
  const mofName = cimTypeInfo(type)?.mofName ?? String(type);
  if (array) {
    if (value.kind !== 'array')
      throw new WbemError(
        'WBEM_E_TYPE_MISMATCH',
        `${where}: an array of ${mofName} needs an array value`,
      );
    value.value.forEach((element, index) => {
      if (!scalarFits(type, element)) {
        throw new WbemError(
          'WBEM_E_TYPE_MISMATCH',
          `${where}: element ${index} does not fit ${mofName}`,
        );
      }
    });
    return;
  }
  if (!scalarFits(type, value)) {
    throw new WbemError('WBEM_E_TYPE_MISMATCH', `${where}: the value does not fit ${mofName}`);
  }
}

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

function qualifierScalarOk(value: CimValue): boolean {
  switch (value.kind) {
    case 'boolean':
    case 'string':
    case 'real':
      return true;
    case 'sint':
      return value.value >= INT32_MIN && value.value <= INT32_MAX;
    default:
      return false;
  }
}

/**
 * §5.4 rule 6: qualifier values are VT_I4, VT_R8, VT_BSTR, VT_BOOL or arrays of one of them.
 * Throws WBEM_E_INVALID_QUALIFIER_TYPE.
 */
/** Whether WMI can hold the value as a qualifier value (VT_I4, VT_R8, VT_BSTR, VT_BOOL or an array of one). */
export function qualifierValueOk(value: CimValue | null): boolean {
  if (value === null) return true;
  if (value.kind !== 'array') return qualifierScalarOk(value);
  const first = value.value[0];
  return value.value.every((element) => qualifierScalarOk(element) && element.kind === first?.kind);
}

export function checkQualifierValue(value: CimValue | null, where: string): void {
  if (qualifierValueOk(value)) return;
  throw new WbemError(
    'WBEM_E_INVALID_QUALIFIER_TYPE',
    `${where}: qualifier values are sint32, real64, string, boolean or arrays of one of them`,
  );
}

/** Structural equality of values (bigint-safe), for override and change checks. */
export function sameValue(a: CimValue | null, b: CimValue | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'array' && b.kind === 'array') {
    return (
      a.value.length === b.value.length &&
      a.value.every((element, i) => sameValue(element, b.value[i] ?? null))
    );
  }
  if (a.kind === 'object' && b.kind === 'object')
    return JSON.stringify(a.value, bigintSafe) === JSON.stringify(b.value, bigintSafe);
  if (a.kind === 'real' && b.kind === 'real') return Object.is(a.value, b.value);
  return a.value === b.value;
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}
