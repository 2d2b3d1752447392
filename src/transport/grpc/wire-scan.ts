/**
 * How deep a request nests, read off its bytes without decoding it. ts-proto's decoders refuse to
 * go more than 100 messages deep, and one level of embedded object costs three messages (Value →
 * ClassObject → Property → Value) to seven, so a class whose default value nests 33 of the 64
 * levels WMI allows would not decode. This scan walks the bytes with an explicit stack (no
 * recursion, one pass) and stops at the first level beyond a limit: a request nesting 10,000 deep
 * costs no more than reading it. The nesting rule is the domain's (limits.ts); the scan only
 * measures and reports.
 */
import {
  createFileRegistry,
  fromBinary,
  type DescField,
  type DescMessage,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { checkObjectNesting, MAX_OBJECT_NESTING } from '../../domain/limits';
import { WbemError } from '../../domain/wbem-status';

/**
 * The most messages a request may nest. One embedded-object level is at most seven messages
 * (ClassObject → Method → Parameter → Qualifier → Value → ValueArray → Value → ClassObject), so
 * every request within MAX_OBJECT_NESTING fits; deeper is arrays within arrays, which no CIM value
 * is (from-proto.ts refuses them).
 */
export const MAX_MESSAGE_DEPTH = 8 * (MAX_OBJECT_NESTING + 1);

/** A message type as the scan needs it: which fields hold messages. */
export interface WireMessage {
  readonly name: string;
  /** Every field's name, by number: where a malformed request stopped is named by it. */
  readonly fields: ReadonlyMap<number, string>;
  readonly children: ReadonlyMap<number, WireChild>;
}

interface WireChild {
  readonly field: string;
  readonly message: WireMessage;
  /** The field holds an embedded object: a ClassObject inside a Value (CIM_OBJECT). */
  readonly embeddedObject: boolean;
}

const EMBEDDED_OBJECT = { holder: 'wbem.v1.Value', type: 'wbem.v1.ClassObject' } as const;

/** The message a field holds on the wire, if any: a map holds entries of {1: key, 2: value}. */
function childOf(
  field: DescField,
  resolve: (desc: DescMessage) => WireMessage,
): WireMessage | undefined {
  if (field.fieldKind === 'message') return resolve(field.message);
  if (field.fieldKind === 'list' && field.listKind === 'message') return resolve(field.message);
  if (field.fieldKind !== 'map' || field.mapKind !== 'message') return undefined;
  const value = resolve(field.message);
  return {
    name: `${field.parent.typeName}.${field.name} entry`,
    fields: new Map([
      [1, 'key'],
      [2, 'value'],
    ]),
    children: new Map([[2, { field: 'value', message: value, embeddedObject: false }]]),
  };
}

/** The message types of a descriptor set, as the scan walks them (built once per server). */
export class WireSchema {
  readonly #messages = new Map<string, WireMessage>();

  constructor(descriptorSet: Uint8Array) {
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
    for (const type of registry) if (type.kind === 'message') this.#resolve(type);
  }

  message(typeName: string): WireMessage | undefined {
    return this.#messages.get(typeName);
  }

  #resolve(desc: DescMessage): WireMessage {
    const known = this.#messages.get(desc.typeName);
    if (known !== undefined) return known;
    // Registered before its fields are: messages refer to each other (Value ↔ ClassObject).
    const fields = new Map(desc.fields.map((field) => [field.number, field.name]));
    const children = new Map<number, WireChild>();
    const message: WireMessage = { name: desc.typeName, fields, children };
    this.#messages.set(desc.typeName, message);
    for (const field of desc.fields) {
      const child = childOf(field, (d) => this.#resolve(d));
      if (child === undefined) continue;
      const embeddedObject =
        desc.typeName === EMBEDDED_OBJECT.holder && child.name === EMBEDDED_OBJECT.type;
      children.set(field.number, { field: field.name, message: child, embeddedObject });
    }
    return message;
  }
}

interface Frame {
  readonly message: WireMessage;
  readonly end: number;
  /** Embedded objects around this message. */
  readonly objects: number;
}

function malformed(root: WireMessage, at: number, length: number, where: string): WbemError {
  return new WbemError(
    'WBEM_E_INVALID_PARAMETER',
    `malformed request: the bytes are not a valid ${root.name} (decoding stopped at byte ${Math.min(at, length)} of ${length}, in ${where})`,
  );
}

/**
 * The deepest nesting of messages in `bytes` (1: the request holds no message), for a request
 * that is well-formed and within the limits; throws WbemError (WBEM_E_INVALID_PARAMETER) for one
 * that is not: bytes that do not parse, embedded objects beyond MAX_OBJECT_NESTING, messages
 * beyond MAX_MESSAGE_DEPTH.
 */
export function scanNesting(root: WireMessage, bytes: Uint8Array): number {
  const reader = new BinaryReader(bytes);
  const stack: Frame[] = [{ message: root, end: bytes.length, objects: 0 }];
  let deepest = 1;
  let where = root.name;
  try {
    for (let frame = stack[0]; frame !== undefined; frame = stack[stack.length - 1]) {
      where = frame.message.name;
      if (reader.pos >= frame.end) {
        if (reader.pos > frame.end) throw malformed(root, frame.end, bytes.length, where);
        stack.pop();
        continue;
      }
      const [fieldNo, wireType] = reader.tag();
      const name = frame.message.fields.get(fieldNo);
      where =
        name === undefined
          ? `field ${fieldNo} of ${frame.message.name}`
          : `${frame.message.name}.${name}`;
      const child =
        wireType === WireType.LengthDelimited ? frame.message.children.get(fieldNo) : undefined;
      if (child === undefined) {
        reader.skip(wireType, fieldNo);
        continue;
      }
      const end = reader.uint32() + reader.pos;
      if (end > frame.end) throw malformed(root, frame.end, bytes.length, where);
      const objects = frame.objects + (child.embeddedObject ? 1 : 0);
      checkObjectNesting(objects, `the request (${root.name})`);
      if (stack.length >= MAX_MESSAGE_DEPTH)
        throw new WbemError(
          'WBEM_E_INVALID_PARAMETER',
          `malformed request: ${root.name} nests messages deeper than ${MAX_MESSAGE_DEPTH}`,
        );
      stack.push({ message: child.message, end, objects });
      deepest = Math.max(deepest, stack.length);
    }
  } catch (failure) {
    if (failure instanceof WbemError) throw failure;
    // The reader's own words (premature EOF, illegal tag…) stay here: position and field say enough.
    throw malformed(root, reader.pos, bytes.length, where);
  }
  return deepest;
}
