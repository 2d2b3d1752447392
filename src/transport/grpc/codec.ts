/**
 * domain → proto, shape only (docs/style.md §2.1; from-proto.ts is the other direction): what the
 * service returns, as the wire carries it. No WMI rule is decided here.
 */
import type {
  ClassObject,
  Context,
  Instance,
  Method,
  Parameter,
  Property,
  Qualifier,
  QualifierDeclaration as QualifierDeclarationProto,
  Value,
} from '../../../generated/wbem/v1/cim';
import type {
  ChangeReport,
  ClassEvent,
  ObjectSinkEvent,
} from '../../../generated/wbem/v1/services';
import type { WbemStatus } from '../../../generated/wbem/v1/status';
import type {
  CimValue,
  ClassDefinition,
  MethodDef,
  ParameterDef,
  PropertyDef,
  QualifierDeclaration,
  QualifierDef,
  ResolvedClass,
  ResolvedMethod,
  ResolvedProperty,
  ResolvedQualifier,
} from '../../domain/class-model';
import type { ClientContext } from '../../domain/client-context';
import { derivationNames } from '../../domain/resolve-class';
import { toSignedHresult } from '../../domain/wbem-status';
import type { SinkEvent } from '../../service/object-sink';
import type {
  ChangeReportView,
  ClassEventView,
  ClassView,
  EventClassView,
  InstanceObjectView,
  SystemPropertiesView,
} from '../../service/views';

export function valueToProto(value: CimValue | null): Value | undefined {
  if (value === null) return undefined;
  switch (value.kind) {
    case 'boolean':
      return { kind: { $case: 'boolean', boolean: value.value } };
    case 'sint':
      return { kind: { $case: 'sint', sint: value.value } };
    case 'uint':
      return { kind: { $case: 'uint', uint: value.value } };
    case 'real':
      return { kind: { $case: 'real', real: value.value } };
    case 'string':
      return { kind: { $case: 'string', string: value.value } };
    case 'datetime':
      return { kind: { $case: 'datetime', datetime: value.value } };
    case 'reference':
      return { kind: { $case: 'reference', reference: value.value } };
    case 'char16':
      return { kind: { $case: 'char16', char16: value.value } };
    case 'object':
      return { kind: { $case: 'object', object: definitionToProto(value.value) } };
    case 'array':
      return {
        kind: { $case: 'array', array: { values: value.value.map((v) => valueToProto(v) ?? {}) } },
      };
  }
}

function qualifierToProto(q: QualifierDef | ResolvedQualifier): Qualifier {
  const propagated = 'propagated' in q && q.propagated;
  return { name: q.name, value: valueToProto(q.value), flavor: q.flavor, propagated };
}

export function qualifierDeclarationToProto(
  declaration: QualifierDeclaration,
): QualifierDeclarationProto {
  return {
    name: declaration.name,
    type: declaration.type,
    array: declaration.array,
    defaultValue: valueToProto(declaration.defaultValue),
    scopes: [...declaration.scopes],
    flavor: declaration.flavor,
  };
}

/** A plain definition (embedded objects): no origins, nothing propagated. */
export function definitionToProto(definition: ClassDefinition): ClassObject {
  return {
    className: definition.name,
    superclass: definition.superclass,
    qualifiers: definition.qualifiers.map(qualifierToProto),
    properties: definition.properties.map((p) => propertyToProto(p, NO_ORIGIN)),
    methods: definition.methods.map((m) => methodToProto(m, NO_ORIGIN)),
  };
}

/** Where a member comes from: empty for plain definitions, resolved for reads. */
interface MemberOrigin {
  readonly classOrigin: string;
  readonly propagated: boolean;
}

const NO_ORIGIN: MemberOrigin = { classOrigin: '', propagated: false };

function propertyToProto(p: PropertyDef | ResolvedProperty, origin: MemberOrigin): Property {
  return {
    name: p.name,
    type: p.type,
    array: p.array,
    value: valueToProto(p.value),
    qualifiers: p.qualifiers.map(qualifierToProto),
    referenceClass: p.referenceClass,
    embeddedClass: p.embeddedClass,
    classOrigin: origin.classOrigin,
    propagated: origin.propagated,
  };
}

function methodToProto(m: MethodDef | ResolvedMethod, origin: MemberOrigin): Method {
  return {
    name: m.name,
    returnType: m.returnType,
    parameters: m.parameters.map(parameterToProto),
    qualifiers: m.qualifiers.map(qualifierToProto),
    classOrigin: origin.classOrigin,
    propagated: origin.propagated,
  };
}

function parameterToProto(p: ParameterDef): Parameter {
  return {
    name: p.name,
    type: p.type,
    array: p.array,
    referenceClass: p.referenceClass,
    embeddedClass: p.embeddedClass,
    in: p.in,
    out: p.out,
    qualifiers: p.qualifiers.map(qualifierToProto),
  };
}

function systemToProto(system: SystemPropertiesView): NonNullable<ClassObject['system']> {
  return {
    genus: system.genus,
    class: system.className,
    superclass: system.superclass,
    dynasty: system.dynasty,
    derivation: [...derivationNames(system.derivation)],
    server: system.server,
    namespace: system.namespace,
    path: system.path,
    relpath: system.relpath,
    propertyCount: system.propertyCount,
  };
}

/** A class's resolved members with origins, without its system properties. */
export function classMembersToProto(resolved: ResolvedClass): ClassObject {
  return {
    className: resolved.name,
    superclass: resolved.superclass,
    qualifiers: resolved.qualifiers.map(qualifierToProto),
    properties: resolved.properties.map((p) => propertyToProto(p, p)),
    methods: resolved.methods.map((m) => methodToProto(m, m)),
    system: undefined,
  };
}

/**
 * A class as reads return it: resolved members with origins, plus the system properties. Reads no
 * longer build it (class-bytes.ts writes the same bytes straight from the view): it is the
 * reference those bytes are tested against (test/e2e/encoded-reads.test.ts).
 */
export function classViewToProto(view: ClassView): ClassObject {
  return { ...classMembersToProto(view.class), system: systemToProto(view.system) };
}

/** An instance as reads return it: every property with its value, origin and ToInstance qualifiers. */
export function instanceViewToProto(view: InstanceObjectView): Instance {
  return {
    className: view.instance.className,
    properties: view.instance.properties.map((p) => propertyToProto(p, p)),
    qualifiers: view.instance.qualifiers.map(qualifierToProto),
    system: systemToProto(view.system),
  };
}

/** ChangeReport on the wire (validate_only); undefined when there is none. */
export function changeReportToProto(
  report: ChangeReportView | undefined,
): ChangeReport | undefined {
  if (report === undefined) return undefined;
  return {
    kind: report.kind,
    important: report.important,
    instanceCount: BigInt(report.instanceCount),
    subclasses: report.subclasses.map((s) => ({
      className: s.className,
      instanceCount: BigInt(s.instanceCount),
      rewritten: s.rewritten,
    })),
  };
}

export function contextToProto(context: ClientContext | undefined): Context | undefined {
  if (context === undefined) return undefined;
  const values: Context['values'] = {};
  for (const [name, value] of context) {
    const encoded = valueToProto(value);
    // A NULL value is an absent Value, which a map entry cannot hold: it travels as an empty Value (contextFromProto reads it back as null).
    values[name] = encoded ?? {};
  }
  return { values };
}

const eventClassToProto = (view: EventClassView): ClassObject => ({
  ...definitionToProto(view.definition),
  system: systemToProto(view.system),
});

/** One intrinsic class event on the wire. */
export function classEventToProto(event: ClassEventView): ClassEvent {
  return {
    eventClass: event.eventClass,
    revision: event.revision,
    namespace: event.namespace,
    targetClass: eventClassToProto(event.target),
    previousClass: event.previous === undefined ? undefined : eventClassToProto(event.previous),
    timeCreated: event.timeCreated,
    context: contextToProto(event.context),
    operationId: event.operationId,
  };
}

/** One sink event on the wire. A failure carries __ExtendedStatus as pObjParam. */
export function sinkEventToProto(event: SinkEvent, operation: string): ObjectSinkEvent {
  if (event.kind === 'progress') {
    return {
      event: {
        $case: 'progress',
        progress: { current: event.current, total: event.total, message: event.message },
      },
    };
  }
  const outcome = event.outcome;
  if (outcome.ok) {
    return {
      event: {
        $case: 'status',
        status: {
          hresult: toSignedHresult('WBEM_S_NO_ERROR'),
          param: outcome.path,
          revision: outcome.revision,
          report: changeReportToProto(outcome.report),
        },
      },
    };
  }
  const hresult = toSignedHresult(outcome.error.status) as WbemStatus;
  return {
    event: {
      $case: 'status',
      status: {
        hresult,
        param: outcome.error.param,
        extendedStatus: {
          operation,
          parameterInfo: outcome.error.subject.className ?? '',
          description: outcome.error.param,
          // §4.1: "Windows Management" when no provider is involved, which is always true here.
          providerName: 'Windows Management',
          statusCode: hresult,
        },
        revision: 0n,
      },
    },
  };
}
