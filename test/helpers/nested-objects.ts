/**
 * Classes whose CIM_OBJECT default value nests embedded objects `depth` deep (WMI allows 64), as
 * messages for the generated client, and as request bytes built without recursion for depths no
 * recursive encoder (nor decoder) survives.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { CimType, type ClassObject, type Value } from '../../generated/wbem/v1/cim';
import { cls, p } from '../e2e/fixtures';

/** A Value holding an embedded object nested `depth` deep (1: an object with no embedded object). */
export function nestedValue(depth: number): Value {
  let value: Value = { kind: { $case: 'object', object: cls('Ex_Leaf') } };
  for (let level = 1; level < depth; level++)
    value = {
      kind: {
        $case: 'object',
        object: cls(`Ex_Level${level}`, '', [p('Inner', CimType.CIM_OBJECT, { value })]),
      },
    };
  return value;
}

/** Class `name` whose property `Nested` (CIM_OBJECT) defaults to an object nested `depth` deep. */
export function nestedClass(name: string, depth: number): ClassObject {
  return cls(name, '', [p('Nested', CimType.CIM_OBJECT, { value: nestedValue(depth) })]);
}

const LENGTH_DELIMITED = 2;
const VARINT = 0;

/** The bytes of one message's fields before its last field, whose length they end with. */
function prefix(fields: (writer: BinaryWriter) => void, tag: number, rest: number): Uint8Array {
  const writer = new BinaryWriter();
  fields(writer);
  writer.tag(tag, LENGTH_DELIMITED).uint32(rest);
  return writer.finish();
}

/**
 * A PutClassRequest for `nestedClass(name, depth)`, written outermost first: every message is
 * given its nested message as its last field, so the request is the prefixes of all levels
 * followed by the innermost object, and each prefix needs only the length of what follows it.
 */
export function nestedPutClassRequest(name: string, depth: number): Buffer {
  const leaf = new BinaryWriter().tag(1, LENGTH_DELIMITED).string('Ex_Leaf').finish();
  // Each level, outermost first: Value(object) → ClassObject(properties) → Property(value).
  const levels: ((rest: number) => Uint8Array)[] = [];
  for (let level = depth - 1; level >= 1; level--) {
    levels.push((rest) => prefix(() => undefined, 9, rest));
    levels.push((rest) =>
      prefix((w) => w.tag(1, LENGTH_DELIMITED).string(`Ex_Level${level}`), 4, rest),
    );
    levels.push((rest) =>
      prefix(
        (w) => w.tag(1, LENGTH_DELIMITED).string('Inner').tag(2, VARINT).int32(CimType.CIM_OBJECT),
        4,
        rest,
      ),
    );
  }
  levels.push((rest) => prefix(() => undefined, 9, rest));
  // PutClassRequest(namespace, object) → ClassObject(name, properties) → Property Nested(value).
  const outer = [
    (rest: number) => prefix((w) => w.tag(1, LENGTH_DELIMITED).string('root/cimv2'), 2, rest),
    (rest: number) => prefix((w) => w.tag(1, LENGTH_DELIMITED).string(name), 4, rest),
    (rest: number) =>
      prefix(
        (w) => w.tag(1, LENGTH_DELIMITED).string('Nested').tag(2, VARINT).int32(CimType.CIM_OBJECT),
        4,
        rest,
      ),
  ];
  const all = [...outer, ...levels];
  const parts: Uint8Array[] = new Array<Uint8Array>(all.length + 1);
  parts[all.length] = leaf;
  let rest = leaf.length;
  for (let i = all.length - 1; i >= 0; i--) {
    const part = (all[i] as (rest: number) => Uint8Array)(rest);
    parts[i] = part;
    rest += part.length;
  }
  return Buffer.concat(parts);
}
