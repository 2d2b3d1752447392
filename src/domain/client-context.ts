/**
 * IWbemContext (pCtx): named values the server forwards unchanged (docs/wmi-semantics.md §7).
 * A repository class has no provider to interpret them, so only their shape is checked here;
 * a malformed context is a malformed parameter, rejected at once (§3.1 "object encoding well-formed").
 */
import type { CimValue } from './class-model';
import { MAX_OBJECT_NESTING, nestingDepth } from './limits';
import { hasControlCharacter, MAX_IDENTIFIER, preview } from './names';
import { WbemError } from './wbem-status';

export type ClientContext = ReadonlyMap<string, CimValue | null>;

/** Throws WBEM_E_INVALID_PARAMETER for an empty or over-long name or a value nested too deep. */
export function checkClientContext(context: ClientContext): void {
  for (const [name, value] of context) {
    if (name.toLowerCase() === DMTF_RULES.toLowerCase() && value?.kind !== 'boolean') {
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER',
        `context value ${DMTF_RULES} must be a boolean`,
      );
    }
    if (name.length === 0 || name.length > MAX_IDENTIFIER || hasControlCharacter(name)) {
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER',
        `context value name "${preview(name)}" is not a valid name`,
      );
    }
    if (value !== null && nestingDepth(value) > MAX_OBJECT_NESTING) {
      throw new WbemError(
        'WBEM_E_INVALID_PARAMETER',
        `context value "${preview(name)}" nests embedded objects deeper than ${MAX_OBJECT_NESTING}`,
      );
    }
  }
}

/** `__CorrelationId` (MS-WMI 2.2.13): SHOULD be logged and passed on. */
export function correlationIdOf(context: ClientContext | undefined): string | undefined {
  const value = context?.get('__CorrelationId');
  return value?.kind === 'string' ? value.value : undefined;
}

/**
 * The one context value wbemd interprets (docs/decisions.md D25): `__wbemd_DMTFRules` = TRUE asks
 * for DSP0004's class rules where WMI's are stricter. Today that is rule C6 only: an Abstract class
 * may derive from a concrete one, as in DMTF's own CIM Schema (CIM_PolicyInSystem), OpenPegasus
 * and pywbem. Absent or FALSE: WMI's rules.
 */
export const DMTF_RULES = '__wbemd_DMTFRules';

export type ClassRules = 'wmi' | 'dmtf';

export function classRulesOf(context: ClientContext | undefined): ClassRules {
  if (context === undefined) return 'wmi';
  for (const [name, value] of context) {
    if (name.toLowerCase() === DMTF_RULES.toLowerCase())
      return value?.kind === 'boolean' && value.value ? 'dmtf' : 'wmi';
  }
  return 'wmi';
}
