/**
 * Renders docs/errors.md from the two status tables (the HRESULT table of the domain and the gRPC
 * code table of the transport) plus the one thing only people can write: when wbemd returns each
 * status. `npm run docs:errors` writes the file; test/e2e/status-map.test.ts fails when the file
 * and this rendering differ, so the page cannot drift from the code.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as Code } from '@grpc/grpc-js';
import {
  formatHresult,
  WBEM_STATUS,
  WBEM_STATUS_NAMES,
  type WbemStatusName,
} from '../src/domain/wbem-status';
import { GRPC_CODE } from '../src/transport/grpc/status-map';

const NOT_RAISED = 'Not returned by this version; kept so clients can decode every WMI status.';

/** When wbemd returns each status, and what a client can do about it. */
const WHEN: { readonly [S in WbemStatusName]: string } = {
  WBEM_S_NO_ERROR:
    'Every successful call. The final SetStatus of PutClassAsync carries the class path in `param`; the `wbem-status` trailer is set on success too.',
  WBEM_S_ALREADY_EXISTS: NOT_RAISED,
  WBEM_S_RESET_TO_DEFAULT: NOT_RAISED,
  WBEM_S_DIFFERENT: NOT_RAISED,
  WBEM_S_NEW_STYLE: NOT_RAISED,
  WBEM_E_FAILED:
    'An internal failure that is not a rule: a store that failed a synced write (nothing was acknowledged; the store then refuses all work until restarted and health turns NOT_SERVING), or a bug. The message names the operation id; the cause is in the server log under that id, never in the response.',
  WBEM_E_NOT_FOUND:
    'GetClass or DeleteClass of a class that does not exist; PutClass(Async) with WBEM_FLAG_UPDATE_ONLY of a class that does not exist; GetInstance or DeleteInstance of a path no instance has; PutInstance with WBEM_FLAG_UPDATE_ONLY of an instance that does not exist.',
  WBEM_E_ACCESS_DENIED:
    'Rejected at once, nothing read or written. The caller lacks a namespace right the operation needs (docs/configuration.md, Security): PERMISSION_DENIED. Or it sent no valid credentials where they are required (no token or client certificate, an unknown token): then the gRPC code is UNAUTHENTICATED, the one place the code differs from this table (docs/decisions.md D32).',
  WBEM_E_TYPE_MISMATCH:
    "A default value or qualifier value that does not fit its CIM type (range, sign, array-ness); a property override whose type differs from the inherited property; a PutInstance value that does not fit its property (or a stated type that is not the class's).",
  WBEM_E_OUT_OF_MEMORY:
    'Rejected at once: the server is serving its limit of calls (maxConcurrentCalls, docs/configuration.md); retry with backoff. A request larger than the receive limit is refused by gRPC itself with RESOURCE_EXHAUSTED, without this status.',
  WBEM_E_INVALID_CONTEXT:
    NOT_RAISED + ' A malformed context is WBEM_E_INVALID_PARAMETER (docs/decisions.md D12).',
  WBEM_E_INVALID_PARAMETER:
    "Rejected at once (zero sink events): a request body that does not decode, or whose embedded objects nest deeper than 64 (Malformed input, above); a required argument left empty or out, on every call alike (`the class name (class_name) is missing`: the namespace, GetClass's, DeleteClass's and EnumInstances' class_name, GetInstance's and DeleteInstance's path, the pObject of PutClass(Async), PutInstance's pInst and its class_name, CreateNamespace's name, CompileMof's sources); a flag bit outside the method's table (the reserved bits 0x1F000 and WBEM_FLAG_STRONG_VALIDATION 0x100000 are ignored by every call, DeleteClass and DeleteInstance included: docs/decisions.md D5, D6), CREATE_ONLY with UPDATE_ONLY, SAFE with FORCE, an unparseable namespace path or a foreign machine name, a malformed context, a missing class or instance object, CompileMof of MOF that does not compile (file:line:column in the message; Malformed input, above). Through the sink: an empty or ungrammatical class or member name, a duplicate member. PutInstance: a property the class lacks, a system property, a property sent twice, a key with control characters; an instance path whose namespace prefix names another namespace.",
  WBEM_E_CRITICAL_ERROR: NOT_RAISED,
  WBEM_E_NOT_SUPPORTED:
    'PutInstance with qualifiers on the instance or its properties (wbemd stores none and will not drop them silently).',
  WBEM_E_INVALID_SUPERCLASS:
    'PutClass(Async) of a class whose superclass does not exist in the namespace (docs/decisions.md D4).',
  WBEM_E_INVALID_NAMESPACE:
    'A well-formed namespace that does not exist: rejected at once, zero sink events (docs/decisions.md D1).',
  WBEM_E_INVALID_OBJECT: 'A class name that ends with an underscore.',
  WBEM_E_INVALID_CLASS:
    'The object sent to PutClass(Async) is not a class (`__GENUS` 2); EnumClasses under a superclass that does not exist (D14); PutInstance, GetInstance, DeleteInstance or EnumInstances naming a class that does not exist.',
  WBEM_E_PROVIDER_LOAD_FAILURE: NOT_RAISED + ' wbemd has no providers.',
  WBEM_E_TRANSPORT_FAILURE:
    'A long-lived stream (WatchClassEvents, or an enumeration still sending) on a connection the server is closing because it reached maxConnectionAgeMs: the server ends it before the connection goes. Call again; a watch with `since_revision` = the revision of the last event received loses nothing (docs/configuration.md, "Watches and the connection age").',
  WBEM_E_INVALID_OPERATION:
    'A class name that starts with an underscore (system classes are not writable); DeleteClass of a system class; DeleteNamespace of root, root\\cimv2 or root\\default; PutInstance of an Abstract or Amendment class, or in a locale namespace (`ms_409`).',
  WBEM_E_ALREADY_EXISTS:
    'PutClass(Async) with WBEM_FLAG_CREATE_ONLY of a class that exists (of two concurrent creates exactly one wins, the other gets this); CreateNamespace of a namespace that exists; PutInstance with WBEM_FLAG_CREATE_ONLY of an instance that exists, or of an instance whose path an instance of another class of the same keyed hierarchy already has.',
  WBEM_E_OVERRIDE_NOT_ALLOWED:
    'A qualifier the superclass declares DisableOverride is given another value.',
  WBEM_E_PROPAGATED_QUALIFIER:
    NOT_RAISED +
    ' Propagated members sent back are checked against the superclass and never stored.',
  WBEM_E_PROPAGATED_PROPERTY:
    NOT_RAISED +
    ' Propagated members sent back are checked against the superclass and never stored.',
  WBEM_E_UNEXPECTED: NOT_RAISED,
  WBEM_E_CANNOT_BE_KEY: 'A Key qualifier on an array, real or embedded-object property.',
  WBEM_E_INCOMPLETE_CLASS: NOT_RAISED,
  WBEM_E_PROVIDER_NOT_CAPABLE:
    'PutInstance of a Dynamic class (or one with a Provider): its instances come from a provider, and wbemd has none.',
  WBEM_E_CLASS_HAS_CHILDREN:
    'An update of a class with subclasses in WBEM_FLAG_UPDATE_COMPATIBLE mode (the default) that is an important change or conflicts with a subclass; in WBEM_FLAG_UPDATE_SAFE_MODE, an update that removes a member a subclass overrides.',
  WBEM_E_CLASS_HAS_INSTANCES:
    'An important change (docs/wmi-semantics.md §6.3) to a class that has static instances, or whose subclasses have instances when the change alters what they inherit, in every update mode (FORCE does not delete instances, K4); FORCE mode that would rewrite a subclass with instances. Delete the instances first; validate_only lists them.',
  WBEM_E_ILLEGAL_NULL:
    'PutInstance that leaves a Key, Indexed or Not_Null property NULL (after the class defaults are applied).',
  WBEM_E_INVALID_QUALIFIER_TYPE:
    'A qualifier value of a type the qualifier does not take (for example a string for Key).',
  WBEM_E_INVALID_PROPERTY_TYPE: 'A property whose type is not a CIM type.',
  WBEM_E_CANNOT_BE_SINGLETON:
    'A Singleton class with key properties, or under a superclass that is not Singleton.',
  WBEM_E_INVALID_CIM_TYPE: 'A method return type or parameter type that is not a CIM type.',
  WBEM_E_INVALID_METHOD_PARAMETERS: NOT_RAISED,
  WBEM_E_CALL_CANCELLED:
    'The client cancelled, or its deadline passed, before the commit point: nothing was written (docs/decisions.md D9). After the commit point the write stands.',
  WBEM_E_SHUTTING_DOWN:
    'A call that arrives while the server drains after SIGTERM/SIGINT. Retry on another replica or after restart.',
  WBEM_E_PROPAGATED_METHOD: 'A method redeclared with a signature other than the inherited one.',
  WBEM_E_MISSING_PARAMETER_ID: 'A method parameter without an ID qualifier.',
  WBEM_E_INVALID_PARAMETER_ID: 'A method parameter ID that is negative or not an integer.',
  WBEM_E_NONCONSECUTIVE_PARAMETER_IDS: 'Method parameter IDs that are not 0..n-1.',
  WBEM_E_PARAMETER_ID_ON_RETVAL: "An ID qualifier on a method's return value.",
  WBEM_E_INVALID_OBJECT_PATH:
    'GetInstance or DeleteInstance with a path that does not parse (`Class.Key="value"`, `Class="value"`, `Class=@`), whose keys are not exactly the class\'s keys, or whose values do not fit the key types. An empty path is a missing argument: WBEM_E_INVALID_PARAMETER.',
  WBEM_E_OUT_OF_DISK_SPACE: NOT_RAISED + ' A full disk currently surfaces as WBEM_E_FAILED.',
  WBEM_E_INVALID_QUALIFIER:
    'A qualifier on an element its scope excludes (for example Key on a method).',
  WBEM_E_INVALID_DUPLICATE_PARAMETER: 'Two parameters of one method with the same name.',
  WBEM_E_SERVER_TOO_BUSY: NOT_RAISED,
  WBEM_E_INVALID_FLAVOR: NOT_RAISED,
  WBEM_E_CIRCULAR_REFERENCE: 'An update whose new superclass derives from the class itself.',
  WBEM_E_UNSUPPORTED_CLASS_UPDATE: NOT_RAISED,
  WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE:
    'A subclass that adds keys under a keyed superclass or drops Key from an inherited key; an update that changes the keys of a class with subclasses.',
  WBEM_E_CANNOT_CHANGE_INDEX_INHERITANCE: NOT_RAISED,
  WBEM_E_TOO_MANY_PROPERTIES: 'A class with more than 1024 properties, inherited ones included.',
  WBEM_E_UPDATE_TYPE_MISMATCH:
    'WBEM_FLAG_UPDATE_SAFE_MODE: a subclass declares the updated property with another type.',
  WBEM_E_UPDATE_OVERRIDE_NOT_ALLOWED:
    'WBEM_FLAG_UPDATE_SAFE_MODE: a subclass overrides a qualifier the update makes DisableOverride.',
  WBEM_E_UPDATE_PROPAGATED_METHOD:
    'WBEM_FLAG_UPDATE_SAFE_MODE: a subclass declares the updated method with another signature.',
  WBEM_E_CANNOT_BE_ABSTRACT: 'An Abstract class under a concrete superclass.',
  WBEM_E_AMENDED_OBJECT:
    'A class with Amended qualifiers sent without WBEM_FLAG_USE_AMENDED_QUALIFIERS.',
  WBEM_E_QUEUE_OVERFLOW:
    'WatchClassEvents: at once, when `since_revision` is older than the event log retains (some events are gone) or ahead of the store (another history, e.g. a restored store): re-read the classes (GetClass/EnumClasses), then watch again from the `wbem-revision` header. During a watch, when the client fell more events behind than the server buffers: watch again with the last revision received (nothing is lost while the log retains it).',
  WBEM_E_QUOTA_VIOLATION:
    'A class or member name longer than 4096 characters; a class over one of the size limits of docs/configuration.md (qualifiers per element, methods, parameters, string length, array elements), checked before any other rule; a PutInstance whose class has more than 256 keys or whose values exceed those limits.',
  WBEM_E_RESERVED_001:
    "The SDK's WBEM_E_TRANSACTION_CONFLICT: a PutClass(Async) with `expected_revision` whose class changed since it was read (or exists when 0 said it must not, or is gone). Nothing was written: read the class again (GetClass gives its revision), then retry. gRPC ABORTED (docs/decisions.md D58).",
  WBEM_E_RESERVED_002: NOT_RAISED,
  WBEM_E_NO_KEY:
    'PutInstance of a class that has no key property and is not a Singleton: no instance path could name the instance. Give the class a key (while it has no instances) or mark it Singleton.',
  WBEM_E_VETO_PUT: NOT_RAISED,
  CO_E_SERVER_STOPPING: NOT_RAISED,
};

/**
 * What each kind of malformed input gets: a row per kind, the input in the first column, the
 * answer in the second. No input may end in WBEM_E_FAILED, a crash or a hang.
 */
const MALFORMED_INPUT: readonly (readonly [string, string])[] = [
  [
    "A request body that does not decode as its method's request message (truncated, a bit flipped, a wrong wire type, random bytes), on any WbemServices RPC",
    "WBEM_E_INVALID_PARAMETER (INVALID_ARGUMENT), rejected at once with zero stream messages, logged and counted like any other refusal. The message names the request type and where decoding stopped, never the decoder's own words: `malformed request: the bytes are not a valid wbem.v1.DeleteClassRequest (decoding stopped at byte 15 of 15, in wbem.v1.DeleteClassRequest.class_name)`. A unary call still gets its `wbem-operation-id` header; a stream gets none.",
  ],
  [
    'Embedded objects (CIM_OBJECT values: property defaults, qualifier values, context values, instance properties) nested deeper than 64 (WBEM_MAX_OBJECT_NESTING) in any request, however deep',
    "WBEM_E_INVALID_PARAMETER, rejected at once: `the request (wbem.v1.PutClassRequest): embedded objects nest deeper than 64`. Measured on the request's bytes before it is decoded, so 10,000 levels cost no more than reading them. 64 levels are accepted (docs/configuration.md, Limits, on clients reading them back).",
  ],
  [
    'Messages nested deeper than 520 in a request (arrays within arrays, which no CIM value is)',
    'WBEM_E_INVALID_PARAMETER, rejected at once: `malformed request: wbem.v1.PutClassRequest nests messages deeper than 520`.',
  ],
  [
    'A request larger than `maxReceiveMessageBytes` (docs/configuration.md)',
    'RESOURCE_EXHAUSTED from grpc-js itself, before any wbemd code runs: no WBEM trailers, no ErrorInfo, no access log line.',
  ],
  [
    'MOF (CompileMof, `wbemd mofcomp`) that does not tokenize or parse: a syntax error',
    'WBEM_E_INVALID_PARAMETER (INVALID_ARGUMENT), rejected at once with zero events; the status details read `file:line:column: reason`. `wbemd mofcomp` prints the same, sends nothing and exits 1.',
  ],
  [
    'MOF: an array value inside an array value (`{{1}}`), however deep',
    'As a syntax error, at the inner `{`: CIM has no arrays of arrays, so values never nest.',
  ],
  [
    'MOF: an embedded instance as a value (`A = instance of X { … };`), however deep',
    'As a syntax error, at the first `instance` used as a value: embedded instances are not compiled from MOF (over gRPC they nest at most 64 deep, WBEM_MAX_OBJECT_NESTING).',
  ],
  [
    'MOF: `#pragma include` of a file being compiled (a self-include, a cycle)',
    'As a syntax error, at the `#pragma` that closes the cycle, naming it (`a.mof → b.mof → a.mof`). A file included twice but not inside itself is compiled each time.',
  ],
  [
    'MOF: `#pragma include` more than 64 files deep',
    'As a syntax error, at the `#pragma` that names the 65th.',
  ],
  [
    'MOF: more than 10,000 files or 32 MiB read by one compile, a file counting each time it is included',
    'As a syntax error, at the `#pragma` that passes the limit (includes that fan out would otherwise take exponential time).',
  ],
  ['MOF: an alias declared twice', 'As a syntax error, at the second, naming the first.'],
  [
    'MOF: an alias used before its instance is declared (its own instance, a later one)',
    'WBEM_E_INVALID_PARAMETER through the sink, naming the instance by `file:line:column`; nothing of the MOF is written.',
  ],
];

const CODE_NAME: ReadonlyMap<number, string> = new Map(
  Object.entries(Code)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, value]) => [value, name]),
);

export function renderErrorsDoc(): string {
  const lines = [
    '# Errors',
    '',
    '<!-- Generated by `npm run docs:errors` from src/domain/wbem-status.ts, src/transport/grpc/status-map.ts',
    '     and scripts/errors-doc.ts; a test fails when this page and the code differ. -->',
    '',
    'Every wbemd status (every value of the `WbemStatus` enum), in HRESULT order. A failure reaches the client three',
    'ways at once: the final `SetStatus` event of PutClassAsync (`hresult`, `param`, `extended_status`),',
    'the `wbem-hresult` and `wbem-status` trailers (on success too), and `grpc-status-details-bin`:',
    'google.rpc.Status with one google.rpc.ErrorInfo (reason = the status name, domain `wbem.v1`,',
    'metadata `hresult`, and `namespace` / `class` when the failure is about one). A call refused',
    'before it starts ends with zero stream messages. Clients should branch on the status name',
    '(ErrorInfo.reason or the `wbem-status` trailer), not on the gRPC code, which several statuses share.',
    '',
    'gRPC codes: ALREADY_EXISTS, NOT_FOUND and the like where docs/api.md fixes them; otherwise',
    'INVALID_ARGUMENT when the request is wrong whatever the repository holds, FAILED_PRECONDITION',
    'when it conflicts with what is stored, RESOURCE_EXHAUSTED and UNAVAILABLE for limits and a',
    "stopping server, INTERNAL for failures that are not the caller's.",
    '',
    '## Malformed input',
    '',
    'What each kind of malformed input gets. None ends in WBEM_E_FAILED, a crash or a hang.',
    '',
    '| input | answer |',
    '| --- | --- |',
    ...MALFORMED_INPUT.map(([input, answer]) => `| ${input} | ${answer} |`),
    '',
  ];
  for (const name of WBEM_STATUS_NAMES) {
    lines.push(
      `## ${name}`,
      '',
      `\`${formatHresult(name)}\` · gRPC \`${CODE_NAME.get(GRPC_CODE[name]) ?? String(GRPC_CODE[name])}\` · ${WBEM_STATUS[name].summary}`,
      '',
      WHEN[name],
      '',
    );
  }
  return lines.join('\n');
}

if (require.main === module) {
  // Run from dist/scripts/errors-doc.js by `npm run docs:errors`.
  writeFileSync(join(__dirname, '..', '..', 'docs', 'errors.md'), renderErrorsDoc());
}
