/**
 * `--output table` (for people) and `--output mof` (via src/mof/writer.ts) of the client
 * subcommands. `--output json` is the proto JSON mapping (each message's toJSON), not built here.
 */
import {
  cimTypeToJSON,
  type ClassObject,
  type Instance,
  type Property,
  type Qualifier,
  type Value,
} from '../../../generated/wbem/v1/cim';
import { writeMof } from '../../mof/writer';
import { classFromProto } from '../../transport/grpc/from-proto';

/** A value as MOF writes a literal: strings quoted, arrays in braces, NULL as `NULL`. */
export function formatValue(value: Value | undefined): string {
  const kind = value?.kind;
  if (kind === undefined) return 'NULL';
  switch (kind.$case) {
    case 'boolean':
      return String(kind.boolean);
    case 'sint':
      return kind.sint.toString();
    case 'uint':
      return kind.uint.toString();
    case 'real':
      return String(kind.real);
    case 'string':
      return JSON.stringify(kind.string);
    case 'datetime':
      return JSON.stringify(kind.datetime);
    case 'reference':
      return JSON.stringify(kind.reference);
    case 'char16':
      return `'${kind.char16}'`;
    case 'object':
      return `<object ${kind.object.className}>`;
    case 'array':
      return `{${kind.array.values.map(formatValue).join(', ')}}`;
  }
}

/** `string`, `uint32[]`, `CIM_ManagedElement REF`. */
export function typeName(property: Pick<Property, 'type' | 'array' | 'referenceClass'>): string {
  const base = cimTypeToJSON(property.type).replace(/^CIM_/, '').toLowerCase();
  const named = base === 'reference' ? `${property.referenceClass || 'object'} REF` : base;
  return property.array ? `${named}[]` : named;
}

function qualifierList(qualifiers: readonly Qualifier[]): string {
  return qualifiers
    .map((q) =>
      q.value?.kind?.$case === 'boolean' && q.value.kind.boolean
        ? q.name
        : `${q.name}(${formatValue(q.value)})`,
    )
    .join(', ');
}

/** Rows under a header, columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** `class get`: the class, its qualifiers, then one row per property and method. */
export function classDetail(object: ClassObject, revision: bigint): string {
  const lines = [
    `class      ${object.className}`,
    `superclass ${object.superclass || '(none)'}`,
    `path       ${object.system?.path ?? ''}`,
    `derivation ${(object.system?.derivation ?? []).join(' <- ') || '(root)'}`,
    `revision   ${revision.toString()}`,
  ];
  if (object.qualifiers.length > 0) lines.push(`qualifiers ${qualifierList(object.qualifiers)}`);
  const properties = table(
    ['PROPERTY', 'TYPE', 'DEFAULT', 'ORIGIN', 'QUALIFIERS'],
    object.properties.map((p) => [
      p.name,
      typeName(p),
      p.value === undefined ? '' : formatValue(p.value),
      p.classOrigin,
      qualifierList(p.qualifiers),
    ]),
  );
  const methods =
    object.methods.length === 0
      ? ''
      : `\n${table(
          ['METHOD', 'RETURNS', 'PARAMETERS', 'ORIGIN'],
          object.methods.map((m) => [
            m.name,
            typeName({ type: m.returnType, array: false, referenceClass: '' }),
            m.parameters
              .map((p) => `${p.in ? '[in]' : ''}${p.out ? '[out]' : ''} ${typeName(p)} ${p.name}`)
              .join(', '),
            m.classOrigin,
          ]),
        )}`;
  return `${lines.join('\n')}\n\n${properties}${methods}`;
}

/** `class enum`: one row per class. */
export function classRows(classes: readonly ClassObject[]): string {
  return table(
    ['CLASS', 'SUPERCLASS', 'PROPERTIES'],
    classes.map((c) => [
      c.className,
      c.superclass,
      String(c.system?.propertyCount ?? c.properties.length),
    ]),
  );
}

/** Classes (local members, as stored) → MOF text. */
export function classesAsMof(classes: readonly ClassObject[]): string {
  return writeMof(classes.map((c) => classFromProto(c)));
}

/** `instance get`: one row per property. */
export function instanceDetail(instance: Instance): string {
  return `instance ${instance.system?.path ?? instance.className}\n\n${table(
    ['PROPERTY', 'TYPE', 'VALUE'],
    instance.properties.map((p) => [p.name, typeName(p), formatValue(p.value)]),
  )}`;
}

/** `instance enum`: one row per instance, one column per property. */
export function instanceRows(instances: readonly Instance[]): string {
  const names = [...new Set(instances.flatMap((i) => i.properties.map((p) => p.name)))];
  return table(
    names,
    instances.map((i) =>
      names.map((name) => formatValue(i.properties.find((p) => p.name === name)?.value)),
    ),
  );
}

export interface ClassTreeNode {
  readonly name: string;
  readonly children: ClassTreeNode[];
}

/** The hierarchy of one deep EnumClasses: every class under its superclass, names sorted. */
export function classTree(classes: readonly ClassObject[], root: string): ClassTreeNode[] {
  const nodes = new Map<string, ClassTreeNode>();
  const key = (name: string): string => name.toLowerCase();
  for (const c of classes) nodes.set(key(c.className), { name: c.className, children: [] });
  const tops: ClassTreeNode[] = [];
  for (const c of classes) {
    const node = nodes.get(key(c.className));
    const parent = nodes.get(key(c.superclass));
    if (node === undefined) continue;
    if (parent === undefined || key(c.superclass) === key(root)) tops.push(node);
    else parent.children.push(node);
  }
  const sort = (list: ClassTreeNode[]): ClassTreeNode[] => {
    list.sort((a, b) => a.name.localeCompare(b.name));
    for (const node of list) sort(node.children);
    return list;
  };
  return sort(tops);
}

/** The tree drawn with box characters, as `tree(1)` does; top-level classes unindented. */
export function drawTree(nodes: readonly ClassTreeNode[], root: string): string {
  const lines: string[] = [];
  const walk = (list: readonly ClassTreeNode[], prefix: string): void =>
    list.forEach((node, index) => {
      const last = index === list.length - 1;
      lines.push(`${prefix}${last ? '└── ' : '├── '}${node.name}`);
      walk(node.children, `${prefix}${last ? '    ' : '│   '}`);
    });
  if (root !== '') {
    lines.push(root);
    walk(nodes, '');
  } else
    for (const top of nodes) {
      lines.push(top.name);
      walk(top.children, '');
    }
  return `${lines.join('\n')}\n`;
}
