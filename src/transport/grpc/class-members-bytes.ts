/**
 * A resolved class's members written straight to protobuf bytes: exactly ts-proto's
 * `ClassObject.encode(classMembersToProto(resolved))` (codec.ts), without building the proto
 * objects first. Building them and walking them again was a fifth of a cold 100,000-class
 * enumeration's CPU (docs/performance.md, R3). Field numbers and the rule that a field at its
 * default is left out follow proto/wbem/v1/cim.proto and the generated encoders; a oneof's
 * `Value.kind` is always written. test/e2e/encoded-reads.test.ts and
 * test/transport/class-members-bytes.test.ts compare the bytes with ts-proto's.
 */
import type {
  CimValue,
  ClassDefinition,
  MethodDef,
  ParameterDef,
  PropertyDef,
  QualifierDef,
  ResolvedClass,
  ResolvedMethod,
  ResolvedProperty,
} from '../../domain/class-model';
import type { WireWriter } from './wire-writer';

/** A field's tag: its number and wire type (0 varint, 1 64-bit, 2 length-delimited). */
const tag = (field: number, wireType: 0 | 1 | 2): number => (field << 3) | wireType;

const INT64_LIMIT = 1n << 63n;
const UINT64_LIMIT = 1n << 64n;

/** A string field, left out when empty. */
export function writeString(w: WireWriter, field: number, value: string): void {
  if (value !== '') w.uint32(tag(field, 2)).string(value);
}

function valueBytes(w: WireWriter, value: CimValue): void {
  switch (value.kind) {
    case 'boolean':
      w.uint32(tag(1, 0)).bool(value.value);
      return;
    case 'sint': {
      const n = value.value;
      if (n < -INT64_LIMIT || n >= INT64_LIMIT)
        throw new Error('value provided for field message.kind.sint of type sint64 too large');
      w.uint32(tag(2, 0)).varint64(n < 0n ? (-n << 1n) - 1n : n << 1n);
      return;
    }
    case 'uint':
      if (value.value < 0n || value.value >= UINT64_LIMIT)
        throw new Error('value provided for field message.kind.uint of type uint64 too large');
      w.uint32(tag(3, 0)).varint64(value.value);
      return;
    case 'real':
      w.uint32(tag(4, 1)).double(value.value);
      return;
    case 'string':
      w.uint32(tag(5, 2)).string(value.value);
      return;
    case 'datetime':
      w.uint32(tag(6, 2)).string(value.value);
      return;
    case 'reference':
      w.uint32(tag(7, 2)).string(value.value);
      return;
    case 'char16':
      w.uint32(tag(8, 2)).string(value.value);
      return;
    case 'object': {
      const at = w.uint32(tag(9, 2)).begin();
      writeDefinition(w, value.value);
      w.end(at);
      return;
    }
    case 'array': {
      const at = w.uint32(tag(10, 2)).begin();
      for (const element of value.value) {
        const elementAt = w.uint32(tag(1, 2)).begin();
        valueBytes(w, element);
        w.end(elementAt);
      }
      w.end(at);
      return;
    }
  }
}

/** Field `field` holding a Value, left out for NULL. */
function valueField(w: WireWriter, field: number, value: CimValue | null): void {
  if (value === null) return;
  const at = w.uint32(tag(field, 2)).begin();
  valueBytes(w, value);
  w.end(at);
}

/** Repeated Qualifier field `field` (ResolvedQualifier adds `propagated`; QualifierDef has none). */
function qualifiersField(w: WireWriter, field: number, qualifiers: readonly QualifierDef[]): void {
  for (const q of qualifiers) {
    const at = w.uint32(tag(field, 2)).begin();
    writeString(w, 1, q.name);
    valueField(w, 2, q.value);
    if (q.flavor !== 0) w.uint32(tag(3, 0)).uint32(q.flavor);
    if ('propagated' in q && q.propagated === true) w.uint32(tag(4, 0)).bool(true);
    w.end(at);
  }
}

function typeField(w: WireWriter, field: number, type: number): void {
  if (type !== 0) w.uint32(tag(field, 0)).int32(type);
}

function boolField(w: WireWriter, field: number, value: boolean): void {
  if (value) w.uint32(tag(field, 0)).bool(true);
}

function propertyBytes(
  w: WireWriter,
  p: PropertyDef | ResolvedProperty,
  classOrigin: string,
  propagated: boolean,
): void {
  writeString(w, 1, p.name);
  typeField(w, 2, p.type);
  boolField(w, 3, p.array);
  valueField(w, 4, p.value);
  qualifiersField(w, 5, p.qualifiers);
  writeString(w, 6, p.referenceClass);
  writeString(w, 7, p.embeddedClass);
  writeString(w, 8, classOrigin);
  boolField(w, 9, propagated);
}

function parameterBytes(w: WireWriter, p: ParameterDef): void {
  writeString(w, 1, p.name);
  typeField(w, 2, p.type);
  boolField(w, 3, p.array);
  writeString(w, 4, p.referenceClass);
  boolField(w, 5, p.in);
  boolField(w, 6, p.out);
  qualifiersField(w, 7, p.qualifiers);
  writeString(w, 8, p.embeddedClass);
}

function methodBytes(
  w: WireWriter,
  m: MethodDef | ResolvedMethod,
  classOrigin: string,
  propagated: boolean,
): void {
  writeString(w, 1, m.name);
  typeField(w, 2, m.returnType);
  for (const parameter of m.parameters) {
    const at = w.uint32(tag(3, 2)).begin();
    parameterBytes(w, parameter);
    w.end(at);
  }
  qualifiersField(w, 4, m.qualifiers);
  writeString(w, 5, classOrigin);
  boolField(w, 6, propagated);
}

/**
 * A plain definition's ClassObject fields 1–5 (an embedded object's value, a class `wbemd mofcomp`
 * puts): no origins, nothing propagated; the bytes of `ClassObject.encode(definitionToProto(d))`.
 */
export function writeDefinition(w: WireWriter, d: ClassDefinition): void {
  writeString(w, 1, d.name);
  writeString(w, 2, d.superclass);
  qualifiersField(w, 3, d.qualifiers);
  for (const p of d.properties) {
    const at = w.uint32(tag(4, 2)).begin();
    propertyBytes(w, p, '', false);
    w.end(at);
  }
  for (const m of d.methods) {
    const at = w.uint32(tag(5, 2)).begin();
    methodBytes(w, m, '', false);
    w.end(at);
  }
}

/**
 * The class's ClassObject fields 1–5 (no system properties) written to `w`: the bytes of
 * `ClassObject.encode(classMembersToProto(resolved))`.
 */
export function writeClassMembers(w: WireWriter, resolved: ResolvedClass): void {
  writeString(w, 1, resolved.name);
  writeString(w, 2, resolved.superclass);
  qualifiersField(w, 3, resolved.qualifiers);
  for (const p of resolved.properties) {
    const at = w.uint32(tag(4, 2)).begin();
    propertyBytes(w, p, p.classOrigin, p.propagated);
    w.end(at);
  }
  for (const m of resolved.methods) {
    const at = w.uint32(tag(5, 2)).begin();
    methodBytes(w, m, m.classOrigin, m.propagated);
    w.end(at);
  }
}
