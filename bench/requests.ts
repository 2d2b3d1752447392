/**
 * The requests the load generator sends, encoded once here with the generated ts-proto types, and
 * the MOF the scenarios compile. Fields that change per call (class names) are fixed-width decimal
 * digits, found by their byte offset and patched by loadgen with each call's serial number.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CimType, type ClassObject } from '../generated/wbem/v1/cim';
import { WbemStatus } from '../generated/wbem/v1/status';
import {
  CompileMofRequest,
  EnumClassesRequest,
  GetClassRequest,
  ObjectSinkEvent,
  PutClassRequest,
  type MofSource,
} from '../generated/wbem/v1/services';
import { DMTF_CONTEXT } from '../src/cli/mofcomp-send';
import { twoKilobyteClass } from './put-class-async';

export const WBEM = '/wbem.v1.WbemServices/';
export const HEALTH_CHECK = '/grpc.health.v1.Health/Check';
export const ETCD_PUT = '/etcdserverpb.KV/Put';
export const NAMESPACE = 'root/cimv2';
export const FLAG = {
  CREATE_OR_UPDATE: 0,
  CREATE_ONLY: 2,
  FORCE: 0x40,
  SEND_STATUS: 0x80,
} as const;
/** The context `wbemd mofcomp --dmtf` sends (the command's own). */
export { DMTF_CONTEXT };

/** A request with the places where loadgen writes each call's serial number. */
export interface Patched {
  readonly bytes: Uint8Array;
  readonly patches: (readonly [number, number, number?])[];
}

const DIGITS = 8;

/** Offset of the `width` digits that end `marker` in `bytes` (the marker must occur once). */
function digitsAt(bytes: Uint8Array, marker: string, width: number): number {
  const buffer = Buffer.from(bytes);
  const at = buffer.indexOf(marker);
  if (at < 0 || buffer.indexOf(marker, at + 1) >= 0)
    throw new Error(`marker ${marker} must occur once in the request`);
  return at + marker.length - width;
}

/** PutClassAsync of a 2 KB class `<prefix>00000000` (serial-numbered), durable. */
export function putClassRequest(
  prefix: string,
  flags: number,
  nameModulo?: number,
  withRevisionField = false,
): Patched {
  const name = `${prefix}${'0'.repeat(DIGITS)}`;
  const object = twoKilobyteClass(name);
  const revisionMarker = 'Revision 0000000000';
  if (withRevisionField)
    object.qualifiers = [
      {
        name: 'Description',
        value: { kind: { $case: 'string', string: revisionMarker } },
        flavor: 2,
        propagated: false,
      },
    ];
  const bytes = PutClassRequest.encode({ namespace: NAMESPACE, object, flags }).finish();
  const nameAt = digitsAt(bytes, name, DIGITS);
  const patches: (readonly [number, number, number?])[] = [
    nameModulo === undefined ? [nameAt, DIGITS] : [nameAt, DIGITS, nameModulo],
  ];
  if (withRevisionField) patches.push([digitsAt(bytes, revisionMarker, 10), 10]);
  return { bytes, patches };
}

export function getClassRequest(className: string, namespace = NAMESPACE): Uint8Array {
  return GetClassRequest.encode({ namespace, className, localOnly: false, asMof: false }).finish();
}

/** GetClass of `<prefix>00000000`, the serial (mod `modulo`) patched in. */
export function getClassPatched(prefix: string, modulo: number): Patched {
  const name = `${prefix}${'0'.repeat(DIGITS)}`;
  const bytes = getClassRequest(name);
  return { bytes, patches: [[digitsAt(bytes, name, DIGITS), DIGITS, modulo]] };
}

export function enumClassesRequest(superclass: string, namespace = NAMESPACE): Uint8Array {
  return EnumClassesRequest.encode({
    namespace,
    superclass,
    deep: true,
    localOnly: false,
  }).finish();
}

export function compileMofRequest(
  sources: MofSource[],
  options: { namespace?: string; flags?: number; dmtf?: boolean } = {},
): Uint8Array {
  return CompileMofRequest.encode({
    namespace: options.namespace ?? NAMESPACE,
    sources,
    flags: options.flags ?? FLAG.CREATE_ONLY,
    ...(options.dmtf === true ? { context: DMTF_CONTEXT } : {}),
    continueOnError: false,
  }).finish();
}

/** PutClassAsync of one class given as an object (FORCE updates). */
export function putClassObject(object: ClassObject, flags: number): Uint8Array {
  return PutClassRequest.encode({ namespace: NAMESPACE, object, flags }).finish();
}

/** Whether a PutClassAsync/CompileMof stream's last message is a successful SetStatus. */
export function isSuccessfulSetStatus(hex: string | undefined): boolean {
  if (hex === undefined || hex === '') return false;
  const event = ObjectSinkEvent.decode(Buffer.from(hex, 'hex'));
  return (
    event.event?.$case === 'status' && event.event.status.hresult === WbemStatus.WBEM_S_NO_ERROR
  );
}

export function setStatusText(hex: string | undefined): string {
  if (hex === undefined || hex === '') return 'no SetStatus';
  const event = ObjectSinkEvent.decode(Buffer.from(hex, 'hex'));
  return event.event?.$case === 'status'
    ? `${WbemStatus[event.event.status.hresult] ?? event.event.status.hresult} ${event.event.status.param}`
    : 'progress';
}

/** A chain `<prefix>0 : … : <prefix>(n-1)`, each class a subclass of the one before. */
export function chainMof(prefix: string, n: number): MofSource[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const parent = i === 0 ? '' : ` : ${prefix}${i - 1}`;
    lines.push(
      `[Description("Level ${i} of a benchmark chain.")]\nclass ${prefix}${i}${parent}\n{\n${i === 0 ? '  [Key] string Id;\n' : ''}};\n`,
    );
  }
  return [{ name: `${prefix}.mof`, text: lines.join('\n') }];
}

/** A root `<prefix>Base {Id [Key]}` and `n` direct subclasses that each declare `string Z`. */
export function fanOutMof(prefix: string, n: number): MofSource[] {
  const lines = [`class ${prefix}Base\n{\n  [Key] string Id;\n};\n`];
  for (let i = 0; i < n; i++)
    lines.push(`class ${prefix}Sub${i} : ${prefix}Base\n{\n  string Z;\n  uint32 Q${i};\n};\n`);
  return [{ name: `${prefix}.mof`, text: lines.join('\n') }];
}

/** The FORCE update of fanOutMof's root: it adds `uint32 Z`, which every subclass declares as string. */
export function forceUpdateRequest(prefix: string): Uint8Array {
  const object: ClassObject = {
    className: `${prefix}Base`,
    superclass: '',
    qualifiers: [],
    properties: [
      {
        name: 'Id',
        type: CimType.CIM_STRING,
        array: false,
        qualifiers: [
          {
            name: 'Key',
            value: { kind: { $case: 'boolean', boolean: true } },
            flavor: 0,
            propagated: false,
          },
        ],
        referenceClass: '',
        embeddedClass: '',
        classOrigin: '',
        propagated: false,
      },
      {
        name: 'Z',
        type: CimType.CIM_UINT32,
        array: false,
        qualifiers: [],
        referenceClass: '',
        embeddedClass: '',
        classOrigin: '',
        propagated: false,
      },
    ],
    methods: [],
  };
  return putClassObject(object, FLAG.FORCE);
}

export const CIM_ROOT = resolve(__dirname, '../../schemas/cim-schema-2.41/DMTF');
export const CIM_ENTRY = 'cim_schema_2.41.0.mof';

/** The DMTF CIM Schema 2.41 as CompileMof sources, the entry file first. */
export function cimSources(): MofSource[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : name.endsWith('.mof') ? [path] : [];
    });
  const files = walk(CIM_ROOT).map((path) => ({
    name: relative(CIM_ROOT, path),
    text: readFileSync(path, 'utf8'),
  }));
  return [
    ...files.filter((f) => f.name === CIM_ENTRY),
    ...files.filter((f) => f.name !== CIM_ENTRY),
  ];
}
