/**
 * Class definitions → MOF text that compiles back to the same definitions (the export of
 * `wbemd mofgen`). Every qualifier is written with its flavors spelled out, so the round trip does
 * not depend on qualifier declarations; parameter IDs and directions are written as qualifiers.
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
  type QualifierDef,
} from '../domain/class-model';

export function writeMof(classes: readonly ClassDefinition[]): string {
  return classes.map(writeClass).join('\n');
}

function writeClass(definition: ClassDefinition): string {
  const lines: string[] = [];
  const qualifiers = qualifierList(definition.qualifiers);
  if (qualifiers !== '') lines.push(qualifiers);
  lines.push(
    `class ${definition.name}${definition.superclass === '' ? '' : ` : ${definition.superclass}`} {`,
  );
  for (const property of definition.properties) lines.push(...indent(writeProperty(property)));
  for (const method of definition.methods) lines.push(...indent(writeMethod(method)));
  lines.push('};', '');
  return lines.join('\n');
}

const indent = (lines: readonly string[]): string[] => lines.map((line) => `   ${line}`);

function typeName(type: number, referenceClass: string): string {
  if (type === CIM_TYPE.REFERENCE)
    return `${referenceClass === '' ? 'object' : referenceClass} REF`;
  const info = cimTypeInfo(type);
  if (info === undefined) throw new Error(`type ${type} has no MOF spelling`);
  return info.mofName;
}

function writeProperty(property: PropertyDef): string[] {
  const lines: string[] = [];
  const qualifiers = qualifierList(property.qualifiers);
  if (qualifiers !== '') lines.push(qualifiers);
  const value = property.value === null ? '' : ` = ${literal(property.value)}`;
  lines.push(
    `${typeName(property.type, property.referenceClass)} ${property.name}${property.array ? '[]' : ''}${value};`,
  );
  return lines;
}

function writeMethod(method: MethodDef): string[] {
  const lines: string[] = [];
  const qualifiers = qualifierList(method.qualifiers);
  if (qualifiers !== '') lines.push(qualifiers);
  const parameters = method.parameters.map(writeParameter);
  lines.push(
    `${typeName(method.returnType, '')} ${method.name}(${parameters.length === 0 ? '' : `\n${parameters.map((p) => `      ${p}`).join(',\n')}`});`,
  );
  return lines;
}

function writeParameter(parameter: ParameterDef): string {
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
  const qualifiers = qualifierList([...direction, ...parameter.qualifiers]);
  return `${qualifiers === '' ? '' : `${qualifiers} `}${typeName(parameter.type, parameter.referenceClass)} ${parameter.name}${parameter.array ? '[]' : ''}`;
}

function qualifierList(qualifiers: readonly QualifierDef[]): string {
  if (qualifiers.length === 0) return '';
  return `[${qualifiers.map(writeQualifier).join(',\n    ')}]`;
}

function writeQualifier(qualifier: QualifierDef): string {
  const value =
    qualifier.value === null
      ? '(null)'
      : qualifier.value.kind === 'array'
        ? ` ${literal(qualifier.value)}`
        : `(${literal(qualifier.value)})`;
  return `${qualifier.name}${value}${flavorSuffix(qualifier.flavor)}`;
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

function literal(value: CimValue): string {
  switch (value.kind) {
    case 'boolean':
      return value.value ? 'TRUE' : 'FALSE';
    case 'sint':
    case 'uint':
      return value.value.toString();
    case 'real':
      return realLiteral(value.value);
    case 'string':
    case 'datetime':
    case 'reference':
      return stringLiteral(value.value);
    case 'char16':
      return `'${escape(value.value, "'")}'`;
    case 'array':
      return `{${value.value.map(literal).join(', ')}}`;
    case 'object':
      throw new Error('embedded object values have no MOF literal here');
  }
}

/** Always with a decimal point, so it reads back as a real. */
function realLiteral(value: number): string {
  const text = String(value);
  if (/^-?[0-9]+$/.test(text)) return `${text}.0`;
  if (/^-?[0-9]+e[+-]?[0-9]+$/i.test(text)) return text.replace(/e/i, '.0e');
  return text;
}

function stringLiteral(text: string): string {
  return `"${escape(text, '"')}"`;
}

function escape(text: string, quote: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (code < 0x20 || code > 0x7e) {
      // Characters outside the BMP are two UTF-16 units, each escaped on its own.
      for (let i = 0; i < ch.length; i++)
        out += `\\x${ch.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')}`;
    } else out += ch;
  }
  return out;
}
