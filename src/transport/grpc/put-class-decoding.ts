/**
 * PutClass(Async) requests read in one pass, from the request's bytes straight into the service's
 * input. The reference way (request-decoding.ts: ts-proto's message, then from-proto.ts's copy of
 * it) builds every class twice; for W1's 2 KB class that was ≈ 24 KB of the ≈ 81 KB a call
 * allocated (docs/performance.md, "What survives a scavenge under W1").
 *
 * It reads only the shapes a well-formed request takes, and gives up on anything else: an unknown
 * field or wire type, a varint longer than it reads, a field that runs past its
 * message, nesting deeper than FAST_MESSAGE_DEPTH, a value from-proto.ts would refuse. A request
 * it gives up on is decoded the reference way, which decides what it is (the refusal and its
 * words, or the input). So what it returns is always what the reference gives for the same
 * bytes, and every refusal is the reference's (test/transport/put-class-decoding.test.ts).
 */
import {
  fitted,
  type CimValue,
  type ClassDefinition,
  type MethodDef,
  type ParameterDef,
  type PropertyDef,
  type QualifierDef,
} from '../../domain/class-model';
import type { ClientContext } from '../../domain/client-context';
import { NameTable } from '../../domain/names';
import type { PutClassInput } from '../../service/wbem-service-api';
import { readContext, type ValueReader } from './context-decoding';
import { giveUp, readInOnePass, type WireCursor } from './wire-cursor';

/**
 * Messages deep before giving up (to the reference path). Far below both of the reference's own
 * limits (ts-proto's 100 messages, from-proto.ts's 200 levels), so none of their refusals can be
 * missed; W1's class is 5 deep, a class with one embedded-object default about 8.
 */
const FAST_MESSAGE_DEPTH = 40;

/** `wbem.v1.Value` as valueFromProto makes it (null when no kind is set). */
function value(c: WireCursor, end: number, depth: number): CimValue | null {
  if (depth > FAST_MESSAGE_DEPTH) giveUp();
  let decoded: CimValue | null = null;
  while (c.pos < end) {
    switch (c.tag()) {
      case 8:
        decoded = { kind: 'boolean', value: c.bool(end) };
        break;
      case 16:
        decoded = { kind: 'sint', value: c.sint64(end) };
        break;
      case 24:
        decoded = { kind: 'uint', value: c.uint64(end) };
        break;
      case 33:
        decoded = { kind: 'real', value: c.double(end) };
        break;
      case 42:
        decoded = { kind: 'string', value: c.string(end) };
        break;
      case 50:
        decoded = { kind: 'datetime', value: c.string(end) };
        break;
      case 58:
        decoded = { kind: 'reference', value: c.string(end) };
        break;
      case 66:
        decoded = { kind: 'char16', value: c.string(end) };
        break;
      case 74:
        decoded = { kind: 'object', value: classObject(c, c.fieldEnd(end), depth + 1) };
        break;
      case 82:
        decoded = { kind: 'array', value: valueArray(c, c.fieldEnd(end), depth + 1) };
        break;
      default:
        giveUp();
    }
  }
  return c.closed(end, decoded);
}

/** Member and qualifier names, one string each: the stored definition keeps them (names.ts). */
const NAMES = new NameTable();

/** The one-pass reader of `wbem.v1.Value`, for the other one-pass decoders' contexts. */
export const readValue: ValueReader = value;

/** `wbem.v1.ValueArray`; an element without a value, or itself an array, is the reference's to refuse. */
function valueArray(c: WireCursor, end: number, depth: number): CimValue[] {
  const elements: CimValue[] = [];
  while (c.pos < end) {
    if (c.tag() !== 10) giveUp();
    const element = value(c, c.fieldEnd(end), depth + 1);
    if (element === null || element.kind === 'array') giveUp();
    elements.push(element);
  }
  return c.closed(end, fitted(elements));
}

function qualifier(c: WireCursor, end: number, depth: number): QualifierDef {
  if (depth > FAST_MESSAGE_DEPTH) giveUp();
  let name = '';
  let decodedValue: CimValue | null = null;
  let flavor = 0;
  while (c.pos < end) {
    switch (c.tag()) {
      case 10:
        name = NAMES.shared(c.string(end));
        break;
      case 18:
        decodedValue = value(c, c.fieldEnd(end), depth + 1);
        break;
      case 24:
        flavor = c.smallInt(end);
        break;
      case 32:
        c.bool(end); // `propagated`: not part of a QualifierDef
        break;
      default:
        giveUp();
    }
  }
  return c.closed(end, { name, value: decodedValue, flavor });
}

/** The repeated qualifier field that starts here, appended to `into`. */
function pushQualifier(c: WireCursor, end: number, depth: number, into: QualifierDef[]): void {
  into.push(qualifier(c, c.fieldEnd(end), depth + 1));
}

function property(c: WireCursor, end: number, depth: number): PropertyDef {
  let name = '';
  let type = 0;
  let array = false;
  let decodedValue: CimValue | null = null;
  const pushed: QualifierDef[] = [];
  let referenceClass = '';
  let embeddedClass = '';
  let propagated = false;
  while (c.pos < end) {
    switch (c.tag()) {
      case 10:
        name = NAMES.shared(c.string(end));
        break;
      case 16:
        type = c.smallInt(end);
        break;
      case 24:
        array = c.bool(end);
        break;
      case 34:
        decodedValue = value(c, c.fieldEnd(end), depth + 1);
        break;
      case 42:
        pushQualifier(c, end, depth, pushed);
        break;
      case 50:
        referenceClass = c.string(end);
        break;
      case 58:
        embeddedClass = c.string(end);
        break;
      case 66:
        c.skip(end); // `class_origin`: output only
        break;
      case 72:
        propagated = c.bool(end);
        break;
      default:
        giveUp();
    }
  }
  if (c.pos !== end) giveUp();
  const qualifiers = fitted(pushed);
  // The same two literal shapes as from-proto.ts's propertyFromProto.
  return propagated
    ? {
        name,
        type,
        array,
        value: decodedValue,
        qualifiers,
        referenceClass,
        embeddedClass,
        propagated,
      }
    : { name, type, array, value: decodedValue, qualifiers, referenceClass, embeddedClass };
}

function parameter(c: WireCursor, end: number, depth: number): ParameterDef {
  let name = '';
  let type = 0;
  let array = false;
  let referenceClass = '';
  let embeddedClass = '';
  let isIn = false;
  let isOut = false;
  const qualifiers: QualifierDef[] = [];
  while (c.pos < end) {
    switch (c.tag()) {
      case 10:
        name = NAMES.shared(c.string(end));
        break;
      case 16:
        type = c.smallInt(end);
        break;
      case 24:
        array = c.bool(end);
        break;
      case 34:
        referenceClass = c.string(end);
        break;
      case 40:
        isIn = c.bool(end);
        break;
      case 48:
        isOut = c.bool(end);
        break;
      case 58:
        pushQualifier(c, end, depth, qualifiers);
        break;
      case 66:
        embeddedClass = c.string(end);
        break;
      default:
        giveUp();
    }
  }
  return c.closed(end, {
    name,
    type,
    array,
    referenceClass,
    embeddedClass,
    in: isIn,
    out: isOut,
    qualifiers: fitted(qualifiers),
  });
}

function method(c: WireCursor, end: number, depth: number): MethodDef {
  let name = '';
  let returnType = 0;
  const parameters: ParameterDef[] = [];
  const qualifiers: QualifierDef[] = [];
  let propagated = false;
  while (c.pos < end) {
    switch (c.tag()) {
      case 10:
        name = NAMES.shared(c.string(end));
        break;
      case 16:
        returnType = c.smallInt(end);
        break;
      case 26:
        parameters.push(parameter(c, c.fieldEnd(end), depth + 1));
        break;
      case 34:
        pushQualifier(c, end, depth, qualifiers);
        break;
      case 42:
        c.skip(end); // `class_origin`: output only
        break;
      case 48:
        propagated = c.bool(end);
        break;
      default:
        giveUp();
    }
  }
  if (c.pos !== end) giveUp();
  return propagated
    ? {
        name,
        returnType,
        parameters: fitted(parameters),
        qualifiers: fitted(qualifiers),
        propagated: true,
      }
    : { name, returnType, parameters: fitted(parameters), qualifiers: fitted(qualifiers) };
}

/** `wbem.v1.SystemProperties`: only `genus` is input; the rest is read past. */
function systemGenus(c: WireCursor, end: number): number {
  let genus = 0;
  while (c.pos < end) {
    const fieldTag = c.tag();
    if (fieldTag === 8) genus = c.smallInt(end);
    else if (fieldTag === 80) c.smallInt(end);
    else if ((fieldTag & 7) === 2 && fieldTag >>> 3 >= 2 && fieldTag >>> 3 <= 9) c.skip(end);
    else giveUp();
  }
  return c.closed(end, genus);
}

/** `wbem.v1.ClassObject` as classFromProto makes it. */
function classObject(c: WireCursor, end: number, depth: number): ClassDefinition {
  if (depth > FAST_MESSAGE_DEPTH) giveUp();
  let name = '';
  let superclass = '';
  const qualifiers: QualifierDef[] = [];
  const properties: PropertyDef[] = [];
  const methods: MethodDef[] = [];
  let genus = 0;
  while (c.pos < end) {
    switch (c.tag()) {
      case 10:
        name = c.string(end);
        break;
      case 18:
        superclass = c.string(end);
        break;
      case 26:
        pushQualifier(c, end, depth, qualifiers);
        break;
      case 34:
        properties.push(property(c, c.fieldEnd(end), depth + 1));
        break;
      case 42:
        methods.push(method(c, c.fieldEnd(end), depth + 1));
        break;
      case 50:
        // A later `system` replaces an earlier one, as in the generated decoder.
        genus = systemGenus(c, c.fieldEnd(end));
        break;
      default:
        giveUp();
    }
  }
  if (c.pos !== end) giveUp();
  // Properties and methods are not fitted here: the stored form lists them anew (strip-definition.ts).
  return genus !== 0
    ? { name, superclass, qualifiers: fitted(qualifiers), properties, methods, genus }
    : { name, superclass, qualifiers: fitted(qualifiers), properties, methods };
}

function putClassFields(c: WireCursor, end: number): PutClassInput {
  let namespace = '';
  let definition: ClassDefinition | undefined;
  let flags = 0;
  let clientContext: ClientContext | undefined;
  let validateOnly = false;
  let expectedRevision: bigint | undefined;
  while (c.pos < end) {
    switch (c.tag()) {
      case 10:
        namespace = c.string(end);
        break;
      case 18:
        definition = classObject(c, c.fieldEnd(end), 1);
        break;
      case 24:
        flags = c.smallInt(end);
        break;
      case 34:
        // A later context replaces an earlier one, as in the generated decoder (no merge).
        clientContext = readContext(c, c.fieldEnd(end), value);
        break;
      case 40:
        validateOnly = c.bool(end);
        break;
      case 48:
        expectedRevision = c.uint64(end);
        break;
      default:
        giveUp();
    }
  }
  if (c.pos !== end) giveUp();
  // The same shapes as wbem-services-definition.ts's putClassInput.
  return expectedRevision === undefined
    ? { namespace, definition, flags, context: clientContext, validateOnly }
    : { namespace, definition, flags, context: clientContext, validateOnly, expectedRevision };
}

/**
 * The service's input for PutClass(Async) request bytes, or undefined when the request must be
 * decoded the reference way (see the header).
 */
export function decodePutClassInOnePass(bytes: Buffer): PutClassInput | undefined {
  return readInOnePass(bytes, putClassFields);
}
