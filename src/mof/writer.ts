/**
 * Class definitions, instances and qualifier declarations → MOF text that compiles back to the
 * same definitions (the export of `wbemd mofgen` and GetClass's `as_mof`). Every qualifier is
 * written with its flavors spelled out, so the round trip does not depend on qualifier
 * declarations; parameter IDs and directions are written as qualifiers.
 *
 * Laid out as DMTF lays out its own schema files: qualifier lists in brackets above what they
 * qualify, one qualifier a line; a long string split into several "…" pieces (MOF concatenates
 * adjacent string literals) on lines of their own; long arrays flowed over several lines. No line
 * is longer than MOF_LINE_WIDTH unless a single name or number is (values are always split).
 */
import {
  CIM_TYPE,
  FLAVOR,
  cimTypeInfo,
  type CimValue,
  type ClassDefinition,
  type MethodDef,
  type ParameterDef,
  type PropertyDef,
  type QualifierDeclaration,
  type QualifierDef,
} from '../domain/class-model';
import { escapeMofString, literal, splitEscaped } from './literals';

/** DMTF's files keep to 80 columns. */
export const MOF_LINE_WIDTH = 80;

export function writeMof(classes: readonly ClassDefinition[]): string {
  return classes.map(writeClass).join('\n');
}

export function writeClass(definition: ClassDefinition): string {
  const lines: string[] = [];
  lines.push(...qualifierList(definition.qualifiers, '   '));
  lines.push(
    `class ${definition.name}${definition.superclass === '' ? '' : ` : ${definition.superclass}`} {`,
  );
  for (const property of definition.properties) lines.push('', ...writeProperty(property));
  for (const method of definition.methods) lines.push('', ...writeMethod(method));
  lines.push('};', '');
  return lines.join('\n');
}

/** An instance's values, by name; a NULL only where it has to override a non-NULL default. */
export interface InstanceValues {
  readonly className: string;
  readonly values: readonly { readonly name: string; readonly value: CimValue | null }[];
}

export function writeInstance(instance: InstanceValues): string {
  const lines = [`instance of ${instance.className} {`];
  for (const { name, value } of instance.values)
    lines.push(...(value === null ? [`   ${name} = NULL;`] : flow(`   ${name} = `, value, ';')));
  lines.push('};', '');
  return lines.join('\n');
}

/** `Qualifier Name : type[] = default, Scope(…), Flavor(…);` with every flavor spelled out. */
export function writeQualifierDeclaration(declaration: QualifierDeclaration): string {
  const type = cimTypeInfo(declaration.type)?.mofName;
  if (type === undefined) throw new Error(`type ${declaration.type} has no MOF spelling`);
  const head = `Qualifier ${declaration.name} : ${type}${declaration.array ? '[]' : ''}`;
  const lines =
    declaration.defaultValue === null
      ? [`${head},`]
      : flow(`${head} = `, declaration.defaultValue, ',');
  if (declaration.scopes.length > 0)
    lines.push(...flowWords('    Scope(', declaration.scopes, '),'));
  const flavor = declaration.flavor;
  const flavors = [
    (flavor & FLAVOR.NOT_OVERRIDABLE) !== 0 ? 'DisableOverride' : 'EnableOverride',
    (flavor & FLAVOR.TO_SUBCLASS) !== 0 ? 'ToSubclass' : 'Restricted',
    ...((flavor & FLAVOR.TO_INSTANCE) !== 0 ? ['ToInstance'] : []),
    ...((flavor & FLAVOR.AMENDED) !== 0 ? ['Amended'] : []),
  ];
  lines.push(`    Flavor(${flavors.join(', ')});`, '');
  return lines.join('\n');
}

function typeName(type: number, referenceClass: string): string {
  if (type === CIM_TYPE.REFERENCE)
    return `${referenceClass === '' ? 'object' : referenceClass} REF`;
  const info = cimTypeInfo(type);
  if (info === undefined) throw new Error(`type ${type} has no MOF spelling`);
  return info.mofName;
}

function writeProperty(property: PropertyDef): string[] {
  const declaration = `   ${typeName(property.type, property.referenceClass)} ${property.name}${property.array ? '[]' : ''}`;
  return [
    ...qualifierList(property.qualifiers, '      '),
    ...(property.value === null
      ? [`${declaration};`]
      : flow(`${declaration} = `, property.value, ';')),
  ];
}

function writeMethod(method: MethodDef): string[] {
  const head = `   ${typeName(method.returnType, '')} ${method.name}(`;
  if (method.parameters.length === 0)
    return [...qualifierList(method.qualifiers, '      '), `${head});`];
  const lines = [...qualifierList(method.qualifiers, '      '), head];
  method.parameters.forEach((parameter, index) => {
    const last = index === method.parameters.length - 1;
    lines.push(...writeParameter(parameter, last ? ');' : ','));
  });
  return lines;
}

function writeParameter(parameter: ParameterDef, end: string): string[] {
  // The compiler reads a parameter's direction from In/Out qualifiers (none = in only). A
  // definition compiled from MOF has them already; one made over gRPC may only carry the flags.
  const hasDirection = parameter.qualifiers.some((q) =>
    ['in', 'out'].includes(q.name.toLowerCase()),
  );
  const direction: QualifierDef[] = [];
  if (!hasDirection && !(parameter.in && !parameter.out)) {
    direction.push({ name: 'In', value: { kind: 'boolean', value: parameter.in }, flavor: 0 });
    direction.push({ name: 'Out', value: { kind: 'boolean', value: parameter.out }, flavor: 0 });
  }
  return [
    ...qualifierList([...direction, ...parameter.qualifiers], '         '),
    `      ${typeName(parameter.type, parameter.referenceClass)} ${parameter.name}${parameter.array ? '[]' : ''}${end}`,
  ];
}

/** `[Q1 ( v ),` / ` Q2 { … }]`, one qualifier a line, `[` at `indent`. */
function qualifierList(qualifiers: readonly QualifierDef[], indent: string): string[] {
  const lines: string[] = [];
  qualifiers.forEach((qualifier, index) => {
    const prefix = index === 0 ? `${indent}[` : `${indent} `;
    const end = `${flavorSuffix(qualifier.flavor)}${index === qualifiers.length - 1 ? ']' : ','}`;
    const value = qualifier.value;
    if (value === null) lines.push(`${prefix}${qualifier.name} ( null )${end}`);
    else if (value.kind === 'array') lines.push(...flow(`${prefix}${qualifier.name} `, value, end));
    else lines.push(...flow(`${prefix}${qualifier.name} ( `, value, ` )${end}`));
  });
  return lines;
}

/** Every bit spelled out: the compiler starts undeclared qualifiers at flavor 0. */
function flavorSuffix(flavor: number): string {
  const words: string[] = [];
  if ((flavor & FLAVOR.TO_SUBCLASS) !== 0) words.push('ToSubclass');
  if ((flavor & FLAVOR.TO_INSTANCE) !== 0) words.push('ToInstance');
  if ((flavor & FLAVOR.NOT_OVERRIDABLE) !== 0) words.push('DisableOverride');
  if ((flavor & FLAVOR.AMENDED) !== 0) words.push('Amended');
  return words.length === 0 ? '' : ` : ${words.join(' ')}`;
}

/** Where continuation lines start: three columns right of the first non-blank of `prefix`. */
function continuationOf(prefix: string): string {
  const lead = prefix.length - prefix.trimStart().length;
  return ' '.repeat(Math.min(lead + 4, 24));
}

/** The text of a value written as a string literal; undefined for any other. */
function stringOf(value: CimValue): string | undefined {
  return value.kind === 'string' || value.kind === 'datetime' || value.kind === 'reference'
    ? value.value
    : undefined;
}

/**
 * `prefix` + the value + `suffix`, on one line when it fits, else wrapped: a string as pieces on
 * lines of their own, an array flowed item by item (a long string item split the same way).
 */
function flow(prefix: string, value: CimValue, suffix: string): string[] {
  const oneLine =
    value.kind === 'array' && value.value.length > 0
      ? `{ ${value.value.map(literal).join(', ')} }`
      : literal(value);
  const whole = `${prefix}${oneLine}${suffix}`;
  if (whole.length <= MOF_LINE_WIDTH) return [whole];
  const indent = continuationOf(prefix);
  const text = stringOf(value);
  if (text !== undefined) return [prefix.trimEnd(), ...stringPieces(text, indent, suffix)];
  if (value.kind !== 'array') return [whole]; // a number, boolean or char: one token, bounded
  const items = value.value.map((item) => {
    const splittable = stringOf(item);
    return { text: literal(item), ...(splittable === undefined ? {} : { splittable }) };
  });
  return flowItems(`${prefix}{ `, items, ` }${suffix}`, indent);
}

/** The string as `"…"` pieces, one a line at `indent`, the last followed by `suffix`. */
function stringPieces(text: string, indent: string, suffix: string): string[] {
  const room = MOF_LINE_WIDTH - indent.length - 2;
  const pieces = splitEscaped(escapeMofString(text, '"'), room, suffix.length);
  return pieces.map(
    (piece, index) => `${indent}"${piece}"${index === pieces.length - 1 ? suffix : ''}`,
  );
}

/** One item of a flowed list: its MOF text, and the string when it may be split. */
interface FlowItem {
  readonly text: string;
  readonly splittable?: string;
}

/** Items separated by `, ` and flowed: a new line at `indent` when the next one does not fit. */
function flowItems(
  head: string,
  items: readonly FlowItem[],
  tail: string,
  indent: string,
): string[] {
  const lines: string[] = [];
  let line = head;
  let empty = true; // nothing on `line` but its head or indent
  items.forEach((item, index) => {
    const end = index === items.length - 1 ? tail : ',';
    const joined = `${line}${empty ? '' : ' '}${item.text}${end}`;
    if (joined.length <= MOF_LINE_WIDTH) {
      line = joined;
      empty = false;
      return;
    }
    if (!empty) {
      lines.push(line);
      line = indent;
    }
    if (`${line}${item.text}${end}`.length <= MOF_LINE_WIDTH || item.splittable === undefined) {
      line = `${line}${item.text}${end}`;
      empty = false;
      return;
    }
    // A string too long for a line of its own: its pieces, one a line.
    if (line.trim() !== '') lines.push(line.trimEnd());
    const pieces = stringPieces(item.splittable, indent, end);
    lines.push(...pieces.slice(0, -1));
    line = pieces[pieces.length - 1] ?? indent;
    empty = false;
  });
  lines.push(line);
  return lines;
}

/** `Scope(class, association, …),` flowed like an array. */
function flowWords(head: string, words: readonly string[], tail: string): string[] {
  return flowItems(
    head,
    words.map((text) => ({ text })),
    tail,
    '          ',
  );
}
