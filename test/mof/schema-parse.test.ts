/**
 * The real workload: the DMTF CIM Schema 2.41 (read from schemas/). The class count
 * is checked against an independent count of `class` declarations in the files themselves.
 */
import { readFileSync } from 'node:fs';
import { compileMof, type MofUnit } from '../../src/mof/parser';
import { writeMof } from '../../src/mof/writer';
import { CIM_SCHEMA_ENTRY, readSchemaFile, schemaFiles } from '../helpers/cim-schema';

/** Class declarations counted without the compiler: comments and strings removed, then `class Name`. */
function countClassDeclarations(): number {
  let count = 0;
  for (const file of schemaFiles()) {
    const text = readFileSync(file, 'utf8')
      .replace(/"(?:[^"\\\n]|\\.)*"/g, '""')
      .replace(/\/\*[\s\S]*?\*\//g, ' ')
      .replace(/\/\/[^\n]*/g, ' ');
    count += (text.match(/(^|[\]\s;])class\s+[A-Za-z_]\w*\s*(:\s*[A-Za-z_]\w*\s*)?\{/g) ?? [])
      .length;
  }
  return count;
}

let unit: MofUnit;
beforeAll(() => {
  unit = compileMof(CIM_SCHEMA_ENTRY, readSchemaFile);
});

const byName = (name: string) => unit.classes.find((c) => c.definition.name === name)?.definition;

test('every class declaration of the schema compiles, once, from the include tree of the root file', () => {
  expect(unit.classes.length).toBe(countClassDeclarations());
  expect(unit.classes.length).toBeGreaterThan(1400);
  expect(new Set(unit.classes.map((c) => c.definition.name.toLowerCase())).size).toBe(
    unit.classes.length,
  );
  expect(unit.files[0]).toBe('cim_schema_2.41.0.mof');
  expect(unit.files).toContain('Core/CIM_ManagedElement.mof');
  expect(unit.notes).toEqual(['cim_schema_2.41.0.mof:35: #pragma locale("en_US") has no effect']);
});

test('qualifier declarations carry type, default, scope and flavor', () => {
  const key = unit.qualifiers.find((q) => q.name === 'Key');
  expect(key).toMatchObject({
    type: 11,
    array: false,
    defaultValue: { kind: 'boolean', value: false },
    scopes: ['property', 'reference'],
  });
  expect((key?.flavor ?? 0) & 0x10).toBe(0x10); // DisableOverride
  const abstract = unit.qualifiers.find((q) => q.name === 'Abstract');
  expect((abstract?.flavor ?? 0) & 0x02).toBe(0); // Restricted: not to subclasses
  const valueMap = unit.qualifiers.find((q) => q.name === 'ValueMap');
  expect(valueMap).toMatchObject({ type: 8, array: true });
});

test("CIM_ComputerSystem: its derivation chain, keys, overrides and methods' parameter IDs", () => {
  const chain: string[] = [];
  for (
    let name: string | undefined = 'CIM_ComputerSystem';
    name;
    name = byName(name)?.superclass || undefined
  )
    chain.push(name);
  expect(chain).toEqual([
    'CIM_ComputerSystem',
    'CIM_System',
    'CIM_EnabledLogicalElement',
    'CIM_LogicalElement',
    'CIM_ManagedSystemElement',
    'CIM_ManagedElement',
  ]);
  const system = byName('CIM_System');
  const keys = system?.properties
    .filter((p) =>
      p.qualifiers.some((q) => q.name === 'Key' && q.value?.kind === 'boolean' && q.value.value),
    )
    .map((p) => p.name);
  expect(keys).toEqual(['CreationClassName', 'Name']);
  const nameFormat = byName('CIM_ComputerSystem')?.properties.find((p) => p.name === 'NameFormat');
  expect(nameFormat?.qualifiers.find((q) => q.name === 'Override')?.value).toEqual({
    kind: 'string',
    value: 'NameFormat',
  });
  const requestStateChange = byName('CIM_EnabledLogicalElement')?.methods.find(
    (m) => m.name === 'RequestStateChange',
  );
  expect(requestStateChange?.returnType).toBe(19);
  expect(
    requestStateChange?.parameters.map((p) => [
      p.name,
      p.in,
      p.out,
      p.qualifiers.find((q) => q.name === 'ID')?.value,
    ]),
  ).toEqual([
    ['RequestedState', true, false, { kind: 'sint', value: 0n }],
    ['Job', false, true, { kind: 'sint', value: 1n }],
    ['TimeoutPeriod', true, false, { kind: 'sint', value: 2n }],
  ]);
  expect(requestStateChange?.parameters[1]).toMatchObject({
    type: 102,
    referenceClass: 'CIM_ConcreteJob',
  });
});

test('associations: references with their classes, and values typed by their declarations', () => {
  const dependency = byName('CIM_Dependency');
  expect(dependency?.qualifiers.find((q) => q.name === 'Association')?.value).toEqual({
    kind: 'boolean',
    value: true,
  });
  expect(dependency?.properties.map((p) => [p.name, p.type, p.referenceClass])).toEqual([
    ['Antecedent', 102, 'CIM_ManagedElement'],
    ['Dependent', 102, 'CIM_ManagedElement'],
  ]);
  const enabledState = byName('CIM_EnabledLogicalElement')?.properties.find(
    (p) => p.name === 'EnabledState',
  );
  expect(enabledState?.value).toEqual({ kind: 'uint', value: 5n });
  const valueMap = enabledState?.qualifiers.find((q) => q.name === 'ValueMap')?.value;
  expect(valueMap?.kind).toBe('array');
});

test('export round trip: CIM Schema 2.41 → MOF text → compile again yields identical classes', () => {
  const text = writeMof(unit.classes.map((c) => c.definition));
  const again = compileMof('export.mof', (path) => {
    if (path !== 'export.mof') throw new Error(`unexpected include ${path}`);
    return text;
  });
  expect(again.classes.length).toBe(unit.classes.length);
  for (let i = 0; i < unit.classes.length; i++) {
    expect(again.classes[i]?.definition).toEqual(unit.classes[i]?.definition);
  }
});
