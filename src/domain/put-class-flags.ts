/**
 * lFlags of PutClass / PutClassAsync / DeleteClass / PutInstance / DeleteInstance, parsed once into
 * a typed value (docs/wmi-semantics.md §2.2). Nothing downstream looks at raw bits again.
 */
import { WbemError } from './wbem-status';

export const WBEM_FLAG = {
  CREATE_OR_UPDATE: 0x0,
  UPDATE_ONLY: 0x1,
  CREATE_ONLY: 0x2,
  RETURN_IMMEDIATELY: 0x10,
  UPDATE_SAFE_MODE: 0x20,
  UPDATE_FORCE_MODE: 0x40,
  SEND_STATUS: 0x80,
  OWNER_UPDATE: 0x1_0000,
  USE_AMENDED_QUALIFIERS: 0x2_0000,
  STRONG_VALIDATION: 0x10_0000,
} as const;

/** WBEM_MASK_RESERVED_FLAGS | WBEM_FLAG_STRONG_VALIDATION: "MUST be ignored on receipt" (§2.2). */
const IGNORED_BITS = 0x1_f000 | WBEM_FLAG.STRONG_VALIDATION;

const COMMON_BITS =
  WBEM_FLAG.UPDATE_ONLY |
  WBEM_FLAG.CREATE_ONLY |
  WBEM_FLAG.UPDATE_SAFE_MODE |
  WBEM_FLAG.UPDATE_FORCE_MODE |
  WBEM_FLAG.USE_AMENDED_QUALIFIERS;

/** The two methods that put a class; each has its own table of flags. */
export type PutClassMethod = 'PutClass' | 'PutClassAsync';

/** MS-WMI 3.1.4.3.7 (async) allows SEND_STATUS; 3.1.4.3.6 (sync) does not (K13). */
const ALLOWED_BITS: { readonly [M in PutClassMethod]: number } = {
  PutClassAsync: COMMON_BITS | WBEM_FLAG.SEND_STATUS,
  PutClass: COMMON_BITS,
};

export type PutMode = 'createOrUpdate' | 'updateOnly' | 'createOnly';
export type UpdateMode = 'compatible' | 'safe' | 'force';

export interface PutClassFlags {
  readonly mode: PutMode;
  readonly update: UpdateMode;
  /** WBEM_FLAG_SEND_STATUS: the sink forwards progress events. */
  readonly sendStatus: boolean;
  /** WBEM_FLAG_USE_AMENDED_QUALIFIERS (§5.8). */
  readonly useAmendedQualifiers: boolean;
}

function flagError(bits: number, why: string): WbemError {
  return new WbemError(
    'WBEM_E_INVALID_PARAMETER',
    `flags 0x${(bits >>> 0).toString(16).padStart(8, '0')}: ${why}`,
  );
}

/**
 * Throws WBEM_E_INVALID_PARAMETER for bits outside the method's table (RETURN_IMMEDIATELY on a
 * gRPC call included: there is no IWbemCallResult to return), CREATE_ONLY with UPDATE_ONLY, or
 * SAFE with FORCE. Reserved bits are ignored.
 */
export function parsePutClassFlags(raw: number, method: PutClassMethod): PutClassFlags {
  const bits = raw >>> 0;
  const considered = bits & ~IGNORED_BITS;
  const unknown = (considered & ~ALLOWED_BITS[method]) >>> 0;
  if (unknown !== 0)
    throw flagError(bits, `bits 0x${unknown.toString(16)} are not flags of ${method}`);
  const mode = putModeOf(bits, considered);
  const updateBits = considered & (WBEM_FLAG.UPDATE_SAFE_MODE | WBEM_FLAG.UPDATE_FORCE_MODE);
  if (updateBits === (WBEM_FLAG.UPDATE_SAFE_MODE | WBEM_FLAG.UPDATE_FORCE_MODE)) {
    throw flagError(
      bits,
      'WBEM_FLAG_UPDATE_SAFE_MODE and WBEM_FLAG_UPDATE_FORCE_MODE exclude each other',
    );
  }
  return {
    mode,
    update:
      updateBits === WBEM_FLAG.UPDATE_SAFE_MODE
        ? 'safe'
        : updateBits === WBEM_FLAG.UPDATE_FORCE_MODE
          ? 'force'
          : 'compatible',
    sendStatus: (considered & WBEM_FLAG.SEND_STATUS) !== 0,
    useAmendedQualifiers: (considered & WBEM_FLAG.USE_AMENDED_QUALIFIERS) !== 0,
  };
}

/**
 * MS-WMI 3.1.4.3.12's table less WBEM_FLAG_RETURN_IMMEDIATELY (a gRPC call has no
 * IWbemCallResult, as for PutClass). USE_AMENDED_QUALIFIERS is accepted and changes nothing:
 * wbemd stores no instance qualifiers (prepareInstance refuses them).
 */
const PUT_INSTANCE_BITS =
  WBEM_FLAG.UPDATE_ONLY | WBEM_FLAG.CREATE_ONLY | WBEM_FLAG.USE_AMENDED_QUALIFIERS;

/** lFlags of PutInstance. Throws WBEM_E_INVALID_PARAMETER for other bits and for CREATE_ONLY|UPDATE_ONLY. */
export function parsePutInstanceFlags(raw: number): PutMode {
  const bits = raw >>> 0;
  const considered = bits & ~IGNORED_BITS;
  const unknown = (considered & ~PUT_INSTANCE_BITS) >>> 0;
  if (unknown !== 0)
    throw flagError(bits, `bits 0x${unknown.toString(16)} are not flags of PutInstance`);
  return putModeOf(bits, considered);
}

/** CREATE_ONLY, UPDATE_ONLY or neither (both: WBEM_E_INVALID_PARAMETER), as PutClass and PutInstance read them. */
function putModeOf(bits: number, considered: number): PutMode {
  const modeBits = considered & (WBEM_FLAG.UPDATE_ONLY | WBEM_FLAG.CREATE_ONLY);
  if (modeBits === (WBEM_FLAG.UPDATE_ONLY | WBEM_FLAG.CREATE_ONLY)) {
    throw flagError(bits, 'WBEM_FLAG_CREATE_ONLY and WBEM_FLAG_UPDATE_ONLY exclude each other');
  }
  return modeBits === WBEM_FLAG.UPDATE_ONLY
    ? 'updateOnly'
    : modeBits === WBEM_FLAG.CREATE_ONLY
      ? 'createOnly'
      : 'createOrUpdate';
}

/** DeleteClass defines no bits a repository uses; reserved bits are ignored, others refused. */
export function parseDeleteClassFlags(raw: number): void {
  parseFlaglessCall(raw, 'DeleteClass');
}

/** lFlags of DeleteInstance: as DeleteClass, a repository defines no bit. */
export function parseDeleteInstanceFlags(raw: number): void {
  parseFlaglessCall(raw, 'DeleteInstance');
}

/** Reserved bits are ignored; any other bit is WBEM_E_INVALID_PARAMETER. */
function parseFlaglessCall(raw: number, method: string): void {
  const bits = raw >>> 0;
  const unknown = (bits & ~IGNORED_BITS) >>> 0;
  if (unknown !== 0)
    throw flagError(bits, `bits 0x${unknown.toString(16)} are not flags of ${method}`);
}
