/**
 * A call's required arguments: the IWbemServices [in] parameters that may not be NULL (strClass,
 * strObjectPath, pObject, pInst…). Over protobuf an empty string cannot be told from an unset one,
 * so both are a missing argument: WBEM_E_INVALID_PARAMETER, refused at once, before the repository
 * is read (docs/wmi-semantics.md §3.3 step 4), with the same words on every call. An argument that
 * is present but wrong (a class that does not exist, a path that does not parse) is the rule's.
 */
import { WbemError, type WbemErrorSubject } from './wbem-status';

/**
 * `argument` names what is missing, then the request field that carries it: `the class name
 * (class_name)`.
 */
function missing(argument: string, subject: WbemErrorSubject): WbemError {
  return new WbemError('WBEM_E_INVALID_PARAMETER', `${argument} is missing`, subject);
}

/** Throws WBEM_E_INVALID_PARAMETER when a required string argument is empty. */
export function requireText(value: string, argument: string, subject: WbemErrorSubject = {}): void {
  if (value === '') throw missing(argument, subject);
}

/** The required object argument, or WBEM_E_INVALID_PARAMETER when it is absent. */
export function requireObject<T>(
  value: T | undefined,
  argument: string,
  subject: WbemErrorSubject = {},
): T {
  if (value === undefined) throw missing(argument, subject);
  return value;
}
