import {
  type ClassDefinition,
  type CimValue,
  type MethodDef,
  type ParameterDef,
} from '../../src/domain/class-model';
import { checkClientContext, classRulesOf } from '../../src/domain/client-context';
import {
  checkExpectedRevision,
  decidePutClass,
  isImportantChange,
  type ClassWorld,
} from '../../src/domain/decide-put-class';
import { classKey } from '../../src/domain/names';
import { parsePutClassFlags } from '../../src/domain/put-class-flags';
import {
  deriveClass,
  derivationNames,
  extendsDerivation,
  localView,
  propertyCount,
  resolveClass,
} from '../../src/domain/resolve-class';
import { checkValueFits } from '../../src/domain/value-rules';
import { WbemError } from '../../src/domain/wbem-status';
import { bool, cls, KEY, prop, qual, sint, str, T } from '../helpers/domain-fixtures';
import { thrown } from '../helpers/expect-thrown';

const param = (
  name: string,
  id: number | null,
  type: number = T.SINT32,
  extra: Partial<ParameterDef> = {},
): ParameterDef => ({
  name,
  type,
  array: false,
  referenceClass: '',
  embeddedClass: '',
  in: true,
  out: false,
  qualifiers: id === null ? [] : [qual('ID', sint(id))],
  ...extra,
});
const method = (
  name: string,
  parameters: ParameterDef[] = [],
  returnType: number = T.UINT32,
): MethodDef => ({ name, returnType, parameters, qualifiers: [] });

/** A world from stored classes: the chain of the definition's superclass, the existing class, its descendants. */
function world(
  stored: ClassDefinition[],
  definition: ClassDefinition,
  instances: Record<string, number> = {},
): ClassWorld {
  const find = (name: string): ClassDefinition | undefined =>
    stored.find((c) => c.name.toLowerCase() === name.toLowerCase());
  const existing = find(definition.name);
  let ancestors: ClassDefinition[] | 'missing' = [];
  for (let next = definition.superclass; next !== '';) {
    const found = find(next);
    if (found === undefined) {
      ancestors = 'missing';
      break;
    }
    ancestors.push(found);
    if (found.name.toLowerCase() === definition.name.toLowerCase()) break;
    next = found.superclass;
  }
  const descendants: ClassDefinition[] = [];
  const queue = existing ? [existing.name.toLowerCase()] : [];
  while (queue.length) {
    const parent = queue.shift();
    for (const c of stored)
      if (c.superclass.toLowerCase() === parent) {
        descendants.push(c);
        queue.push(c.name.toLowerCase());
      }
  }
  const instanceCounts = new Map(
    Object.entries(instances).map(([name, count]) => [classKey(name), count]),
  );
  return {
    existing,
    ancestors,
    hasSubclasses: descendants.length > 0,
    descendants,
    instanceCounts,
  };
}

function decide(
  stored: ClassDefinition[],
  definition: ClassDefinition,
  flags = 0,
  instances: Record<string, number> = {},
) {
  return decidePutClass(
    { definition, flags: parsePutClassFlags(flags, 'PutClassAsync') },
    world(stored, definition, instances),
  );
}

const A_KEYED = cls('A', '', [prop('Id', T.STRING, { qualifiers: [KEY] })]);
const SAFE = 0x20;
const FORCE = 0x40;

describe('decidePutClass: accepted (§11)', () => {
  test.each<[string, ClassDefinition[], ClassDefinition, number, 'create' | 'update']>([
    ['1 create', [], A_KEYED, 0, 'create'],
    [
      '4 update a leaf',
      [A_KEYED],
      cls('A', '', [prop('Id', T.STRING, { qualifiers: [KEY] }), prop('Q')]),
      0,
      'update',
    ],
    ['5 UPDATE_ONLY', [A_KEYED], cls('A', '', [prop('Q')]), 0x1, 'update'],
    [
      '20 other case updates',
      [A_KEYED],
      cls('a', '', [prop('Id', T.STRING, { qualifiers: [KEY] })]),
      0,
      'update',
    ],
    ['29 inner underscores', [], cls('Foo__Bar'), 0, 'create'],
    ['41 superclass in other case', [A_KEYED], cls('B', 'a'), 0, 'create'],
    [
      '45 abstract below abstract',
      [cls('X', '', [], { qualifiers: [qual('Abstract')] })],
      cls('Y', 'X', [], { qualifiers: [qual('Abstract')] }),
      0,
      'create',
    ],
    [
      '46 key below keyless abstract',
      [cls('X', '', [], { qualifiers: [qual('Abstract')] })],
      cls('Y', 'X', [prop('K', T.STRING, { qualifiers: [KEY] })]),
      0,
      'create',
    ],
    [
      '51 keyless singleton',
      [],
      cls('S', '', [prop('V', T.UINT32)], { qualifiers: [qual('Singleton')] }),
      0,
      'create',
    ],
    ['55 keyless concrete class', [], cls('A', '', [prop('P', T.UINT32)]), 0, 'create'],
    [
      '58 override without Override qualifier',
      [cls('A', '', [prop('P', T.UINT32)])],
      cls('B', 'A', [prop('P', T.UINT32, { value: { kind: 'uint', value: 7n } })]),
      0,
      'create',
    ],
    [
      '60 same value for a DisableOverride qualifier',
      [cls('A', '', [prop('P', T.UINT32, { qualifiers: [qual('Description', str('x'), 0x12)] })])],
      cls('B', 'A', [prop('P', T.UINT32, { qualifiers: [qual('Description', str('x'))] })]),
      0,
      'create',
    ],
    [
      '61 overridable ToSubclass qualifier overridden',
      [cls('A', '', [], { qualifiers: [qual('Q', str('a'), 0x2)] })],
      cls('B', 'A', [], { qualifiers: [qual('Q', str('b'))] }),
      0,
      'create',
    ],
    [
      '67 1024 properties',
      [],
      cls(
        'A',
        '',
        Array.from({ length: 1024 }, (_, i) => prop(`P${i}`)),
      ),
      0,
      'create',
    ],
    [
      '72 reference to a missing class',
      [],
      cls('A', '', [prop('R', T.REFERENCE, { referenceClass: 'Missing' })]),
      0,
      'create',
    ],
    [
      '74 user-defined qualifier',
      [],
      cls('A', '', [], { qualifiers: [qual('MyVendorTag', str('x'))] }),
      0,
      'create',
    ],
    [
      '76 Description-only change with children, COMPATIBLE',
      [A_KEYED, cls('B', 'A')],
      cls('A', '', [prop('Id', T.STRING, { qualifiers: [KEY] })], {
        qualifiers: [qual('Description', str('new'))],
      }),
      0,
      'update',
    ],
    [
      '77 add a property with children, SAFE',
      [A_KEYED, cls('B', 'A')],
      cls('A', '', [prop('Id', T.STRING, { qualifiers: [KEY] }), prop('Z', T.UINT32)]),
      SAFE,
      'update',
    ],
    [
      '89 rename a property of a leaf',
      [cls('A', '', [prop('P')])],
      cls('A', '', [prop('P2')]),
      0,
      'update',
    ],
    [
      '92 change the superclass of a leaf',
      [cls('X'), cls('Y'), cls('C', 'X')],
      cls('C', 'Y'),
      0,
      'update',
    ],
    [
      'C16 Key=FALSE on a new property counts as absent',
      [A_KEYED],
      cls('B', 'A', [prop('K2', T.STRING, { qualifiers: [qual('Key', bool(false))] })]),
      0,
      'create',
    ],
    [
      'in/out parameter holds one ID',
      [],
      cls('A', '', [], {
        methods: [method('M', [param('x', 0, T.SINT32, { out: true }), param('y', 1)])],
      }),
      0,
      'create',
    ],
  ])('scenario %s', (_label, stored, definition, flags, kind) => {
    expect(decide(stored, definition, flags).kind).toBe(kind);
  });

  test('79 FORCE rewrites the conflicting child: its local Z goes, it inherits the new one', () => {
    const plan = decide(
      [A_KEYED, cls('B', 'A', [prop('Z')])],
      cls('A', '', [prop('Id', T.STRING, { qualifiers: [KEY] }), prop('Z', T.UINT32)]),
      FORCE,
    );
    expect(plan.childRewrites.map((c) => [c.name, c.properties.map((p) => p.name)])).toEqual([
      ['B', []],
    ]);
  });

  test('81 FORCE deletes the child qualifier that conflicts with a new DisableOverride one', () => {
    const plan = decide(
      [cls('A'), cls('B', 'A', [], { qualifiers: [qual('Q', str('child'))] })],
      cls('A', '', [], { qualifiers: [qual('Q', str('base'), 0x12)] }),
      FORCE,
    );
    expect(plan.childRewrites.map((c) => c.qualifiers.map((q) => q.name))).toEqual([[]]);
  });

  test('propagated members sent back unchanged are checked and not stored', () => {
    const plan = decide(
      [cls('A', '', [prop('P', T.UINT32)])],
      cls('B', 'A', [prop('P', T.UINT32, { propagated: true }), prop('Q')]),
    );
    expect(plan.definition.properties.map((p) => p.name)).toEqual(['Q']);
  });

  test('origin flavor bits are not stored; amended qualifiers are stripped with USE_AMENDED_QUALIFIERS (97)', () => {
    const definition = cls('A', '', [], {
      qualifiers: [
        qual('Description', str('x'), 0x80 | 0x20 | 0x2),
        qual('Other', str('y'), 0x40 | 0x2),
      ],
    });
    expect(decide([], definition).definition.qualifiers.map((q) => [q.name, q.flavor])).toEqual([
      ['Description', 0x82],
      ['Other', 0x2],
    ]);
    expect(decide([], definition, 0x20000).definition.qualifiers.map((q) => q.name)).toEqual([
      'Other',
    ]);
  });
});

describe('decidePutClass: refused (§11)', () => {
  test.each<[string, ClassDefinition[], ClassDefinition, number, string]>([
    ['2 CREATE_ONLY on an existing class', [A_KEYED], cls('A'), 0x2, 'WBEM_E_ALREADY_EXISTS'],
    ['19 CREATE_ONLY, other case', [A_KEYED], cls('a'), 0x2, 'WBEM_E_ALREADY_EXISTS'],
    ['3 UPDATE_ONLY on a missing class', [], cls('A'), 0x1, 'WBEM_E_NOT_FOUND'],
    ['22 empty name', [], cls(''), 0, 'WBEM_E_INVALID_PARAMETER'],
    ['25 leading underscore', [], cls('_Foo'), 0, 'WBEM_E_INVALID_OPERATION'],
    ['27 trailing underscore', [], cls('Foo_'), 0, 'WBEM_E_INVALID_OBJECT'],
    ['34 property _p', [], cls('A', '', [prop('_p', T.UINT32)]), 0, 'WBEM_E_INVALID_PARAMETER'],
    ['35 property "a b"', [], cls('A', '', [prop('a b', T.UINT32)]), 0, 'WBEM_E_INVALID_PARAMETER'],
    [
      '36 duplicate property, other case',
      [],
      cls('A', '', [prop('P', T.UINT32), prop('p')]),
      0,
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      '37 qualifier _Q',
      [],
      cls('A', '', [], { qualifiers: [qual('_Q')] }),
      0,
      'WBEM_E_INVALID_PARAMETER',
    ],
    ['39 missing superclass', [], cls('B', 'Missing'), 0, 'WBEM_E_INVALID_SUPERCLASS'],
    ['40 A:A on create', [], cls('A', 'A'), 0, 'WBEM_E_INVALID_SUPERCLASS'],
    [
      '44 abstract below concrete',
      [cls('A')],
      cls('B', 'A', [], { qualifiers: [qual('Abstract')] }),
      0,
      'WBEM_E_CANNOT_BE_ABSTRACT',
    ],
    [
      '47 key below a keyed class',
      [A_KEYED],
      cls('B', 'A', [prop('K2', T.STRING, { qualifiers: [KEY] })]),
      0,
      'WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE',
    ],
    [
      '48 drop an inherited key',
      [A_KEYED],
      cls('B', 'A', [prop('Id', T.STRING, { qualifiers: [qual('Key', bool(false))] })]),
      0,
      'WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE',
    ],
    [
      '49 singleton with a key',
      [],
      cls('S', '', [prop('Id', T.STRING, { qualifiers: [KEY] })], {
        qualifiers: [qual('Singleton')],
      }),
      0,
      'WBEM_E_CANNOT_BE_SINGLETON',
    ],
    [
      '50 singleton below a non-singleton',
      [cls('A')],
      cls('S', 'A', [], { qualifiers: [qual('Singleton')] }),
      0,
      'WBEM_E_CANNOT_BE_SINGLETON',
    ],
    [
      '52 real key',
      [],
      cls('A', '', [prop('R', T.REAL64, { qualifiers: [KEY] })]),
      0,
      'WBEM_E_CANNOT_BE_KEY',
    ],
    [
      '53 array key',
      [],
      cls('A', '', [prop('L', T.STRING, { array: true, qualifiers: [KEY] })]),
      0,
      'WBEM_E_CANNOT_BE_KEY',
    ],
    [
      '54 Key on the class',
      [],
      cls('A', '', [], { qualifiers: [KEY] }),
      0,
      'WBEM_E_INVALID_QUALIFIER',
    ],
    [
      'Abstract on a property (C15)',
      [],
      cls('A', '', [prop('P', T.STRING, { qualifiers: [qual('Abstract')] })]),
      0,
      'WBEM_E_INVALID_QUALIFIER',
    ],
    [
      '56 Terminal superclass',
      [cls('T', '', [], { qualifiers: [qual('Terminal')] })],
      cls('U', 'T'),
      0,
      'WBEM_E_INVALID_SUPERCLASS',
    ],
    [
      '57 override with another type',
      [cls('A', '', [prop('P', T.UINT32)])],
      cls('B', 'A', [prop('P', T.STRING)]),
      0,
      'WBEM_E_TYPE_MISMATCH',
    ],
    [
      'override changes array-ness',
      [cls('A', '', [prop('P', T.UINT32)])],
      cls('B', 'A', [prop('P', T.UINT32, { array: true })]),
      0,
      'WBEM_E_TYPE_MISMATCH',
    ],
    [
      '59 different value for a DisableOverride qualifier',
      [cls('A', '', [prop('P', T.UINT32, { qualifiers: [qual('Description', str('x'), 0x12)] })])],
      cls('B', 'A', [prop('P', T.UINT32, { qualifiers: [qual('Description', str('y'))] })]),
      0,
      'WBEM_E_OVERRIDE_NOT_ALLOWED',
    ],
    [
      '63 uint8 qualifier value',
      [],
      cls('A', '', [], { qualifiers: [qual('Q', { kind: 'uint', value: 1n })] }),
      0,
      'WBEM_E_INVALID_QUALIFIER_TYPE',
    ],
    [
      '63 datetime qualifier value',
      [],
      cls('A', '', [], {
        qualifiers: [qual('Q', { kind: 'datetime', value: '20260101000000.000000+000' })],
      }),
      0,
      'WBEM_E_INVALID_QUALIFIER_TYPE',
    ],
    [
      'sint qualifier value beyond sint32',
      [],
      cls('A', '', [], { qualifiers: [qual('Q', { kind: 'sint', value: 2n ** 31n })] }),
      0,
      'WBEM_E_INVALID_QUALIFIER_TYPE',
    ],
    ['64 CIM type 7', [], cls('A', '', [prop('P', 7)]), 0, 'WBEM_E_INVALID_PROPERTY_TYPE'],
    ['65 CIM_EMPTY', [], cls('A', '', [prop('P', 0)]), 0, 'WBEM_E_INVALID_PROPERTY_TYPE'],
    [
      '66 1025 properties',
      [],
      cls(
        'A',
        '',
        Array.from({ length: 1025 }, (_, i) => prop(`P${i}`)),
      ),
      0,
      'WBEM_E_TOO_MANY_PROPERTIES',
    ],
    [
      '1025 with the inherited ones',
      [
        cls(
          'A',
          '',
          Array.from({ length: 1000 }, (_, i) => prop(`P${i}`)),
        ),
      ],
      cls(
        'B',
        'A',
        Array.from({ length: 25 }, (_, i) => prop(`Q${i}`)),
      ),
      0,
      'WBEM_E_TOO_MANY_PROPERTIES',
    ],
    [
      '68 redeclared method, other signature',
      [cls('A', '', [], { methods: [method('m', [param('x', 0)])] })],
      cls('B', 'A', [], { methods: [method('m', [param('x', 0, T.STRING)])] }),
      0,
      'WBEM_E_PROPAGATED_METHOD',
    ],
    [
      '69 parameter without ID',
      [],
      cls('A', '', [], { methods: [method('M', [param('x', null)])] }),
      0,
      'WBEM_E_MISSING_PARAMETER_ID',
    ],
    [
      '70 IDs 0 and 2',
      [],
      cls('A', '', [], { methods: [method('M', [param('x', 0), param('y', 2)])] }),
      0,
      'WBEM_E_NONCONSECUTIVE_PARAMETER_IDS',
    ],
    [
      'negative ID',
      [],
      cls('A', '', [], { methods: [method('M', [param('x', -1)])] }),
      0,
      'WBEM_E_INVALID_PARAMETER_ID',
    ],
    [
      '71 two parameters named x',
      [],
      cls('A', '', [], { methods: [method('M', [param('x', 0), param('x', 1)])] }),
      0,
      'WBEM_E_INVALID_DUPLICATE_PARAMETER',
    ],
    [
      'ReturnValue with an ID',
      [],
      cls('A', '', [], { methods: [method('M', [param('ReturnValue', 0)])] }),
      0,
      'WBEM_E_PARAMETER_ID_ON_RETVAL',
    ],
    ['73 an instance (__GENUS 2)', [], { ...cls('A'), genus: 2 }, 0, 'WBEM_E_INVALID_CLASS'],
    [
      '75 add a property with children, COMPATIBLE',
      [A_KEYED, cls('B', 'A')],
      cls('A', '', [prop('Id', T.STRING, { qualifiers: [KEY] }), prop('Z', T.UINT32)]),
      0,
      'WBEM_E_CLASS_HAS_CHILDREN',
    ],
    [
      '78 SAFE: a child declares Z with another type',
      [A_KEYED, cls('B', 'A', [prop('Z')])],
      cls('A', '', [prop('Id', T.STRING, { qualifiers: [KEY] }), prop('Z', T.UINT32)]),
      SAFE,
      'WBEM_E_UPDATE_TYPE_MISMATCH',
    ],
    [
      '80 SAFE: a child overrides a new DisableOverride qualifier',
      [cls('A'), cls('B', 'A', [], { qualifiers: [qual('Q', str('child'))] })],
      cls('A', '', [], { qualifiers: [qual('Q', str('base'), 0x12)] }),
      SAFE,
      'WBEM_E_UPDATE_OVERRIDE_NOT_ALLOWED',
    ],
    [
      '82 SAFE: a child redeclares the method',
      [
        cls('A', '', [], { methods: [method('m')] }),
        cls('B', 'A', [], { methods: [method('m', [param('x', 0)])] }),
      ],
      cls('A', '', [], { methods: [method('m', [param('x', 0, T.STRING)])] }),
      SAFE,
      'WBEM_E_UPDATE_PROPAGATED_METHOD',
    ],
    [
      '90 SAFE: add Key with children',
      [cls('A', '', [prop('P')]), cls('B', 'A')],
      cls('A', '', [prop('P', T.STRING, { qualifiers: [KEY] })]),
      SAFE,
      'WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE',
    ],
    [
      'SAFE: remove a property a child overrides',
      [cls('A', '', [prop('P')]), cls('B', 'A', [prop('P')])],
      cls('A', '', [prop('Q')]),
      SAFE,
      'WBEM_E_CLASS_HAS_CHILDREN',
    ],
    [
      '94 derive from a descendant',
      [cls('A'), cls('B', 'A')],
      cls('A', 'B'),
      0,
      'WBEM_E_CIRCULAR_REFERENCE',
    ],
    [
      '98 update with an amended qualifier, no flag',
      [cls('A')],
      cls('A', '', [], { qualifiers: [qual('Description', str('x'), 0x80)] }),
      0,
      'WBEM_E_AMENDED_OBJECT',
    ],
    [
      'propagated property the superclass lacks',
      [cls('A')],
      cls('B', 'A', [prop('P', T.UINT32, { propagated: true })]),
      0,
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'reference_class on a string',
      [],
      cls('A', '', [prop('P', T.STRING, { referenceClass: 'X' })]),
      0,
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'default that does not fit',
      [],
      cls('A', '', [prop('P', T.UINT8, { value: { kind: 'uint', value: 256n } })]),
      0,
      'WBEM_E_TYPE_MISMATCH',
    ],
  ])('scenario %s → %s', (_label, stored, definition, flags, status) => {
    expect(thrown(WbemError, () => decide(stored, definition, flags)).status).toBe(status);
  });
});

describe('isImportantChange (§6.3)', () => {
  const base = cls('A', '', [prop('P', T.UINT32, { qualifiers: [qual('Description', str('d'))] })]);
  test.each<[string, ClassDefinition, boolean]>([
    ['identical', base, false],
    [
      'Description changed',
      cls('A', '', [prop('P', T.UINT32, { qualifiers: [qual('Description', str('other'))] })]),
      false,
    ],
    ['property added', cls('A', '', [prop('P', T.UINT32), prop('Q')]), true],
    ['type changed', cls('A', '', [prop('P', T.UINT64)]), true],
    [
      'default changed (adopted: important)',
      cls('A', '', [prop('P', T.UINT32, { value: { kind: 'uint', value: 1n } })]),
      true,
    ],
    ['Indexed added', cls('A', '', [prop('P', T.UINT32, { qualifiers: [qual('Indexed')] })]), true],
    [
      'Abstract added',
      cls('A', '', [prop('P', T.UINT32)], { qualifiers: [qual('Abstract')] }),
      true,
    ],
    ['superclass changed', cls('A', 'X', [prop('P', T.UINT32)]), true],
  ])('%s', (_label, next, important) => {
    expect(isImportantChange(base, next)).toBe(important);
  });
});

describe('resolveClass', () => {
  const A = cls(
    'A',
    '',
    [
      prop('Id', T.STRING, {
        qualifiers: [KEY, qual('Description', str('id'), 0x2), qual('Local', str('x'))],
      }),
      prop('P', T.UINT32),
    ],
    { qualifiers: [qual('Q', str('a'), 0x2), qual('R', str('r'))] },
  );
  const B = cls('B', 'A', [prop('P', T.UINT32, { value: { kind: 'uint', value: 7n } }), prop('Z')]);
  const C = cls('C', 'B');

  test('42/58: origins, overrides, propagation, derivation and counts', () => {
    const r = resolveClass([A, B, C]);
    expect(r.properties.map((p) => [p.name, p.classOrigin, p.propagated])).toEqual([
      ['Id', 'A', true],
      ['P', 'A', true],
      ['Z', 'B', true],
    ]);
    expect(r.derivation).toEqual(['B', 'A']);
    expect(r.dynasty).toBe('A');
    expect(propertyCount(r)).toBe(3);
    const b = resolveClass([A, B]);
    expect(b.properties.find((p) => p.name === 'P')).toMatchObject({
      classOrigin: 'A',
      propagated: false,
      value: { kind: 'uint', value: 7n },
    });
  });

  test('61/62: only ToSubclass (and Key) qualifiers propagate, marked with the 0x20 origin bit', () => {
    const r = resolveClass([A, B]);
    expect(r.qualifiers.map((q) => [q.name, q.propagated, q.flavor])).toEqual([['Q', true, 0x22]]);
    expect(r.properties[0]?.qualifiers.map((q) => q.name)).toEqual(['Key', 'Description']);
  });

  test('localView keeps the class’s own members', () => {
    expect(localView(resolveClass([A, B])).properties.map((p) => p.name)).toEqual(['P', 'Z']);
  });

  test('a deep chain resolves as one derivation step a level: the same class, its own __DERIVATION', () => {
    const chain = [A];
    for (let level = 1; level < 40; level++)
      chain.push(cls(`L${level}`, chain[level - 1]?.name ?? '', [prop(`P${level}`, T.UINT32)]));
    let stepwise = deriveClass(undefined, A);
    for (const definition of chain.slice(1)) stepwise = deriveClass(stepwise, definition);
    const resolved = resolveClass(chain);
    // Stepwise, a class's derivation is a link to its parent (made into names when read).
    expect({ ...resolved, derivation: derivationNames(resolved.derivation) }).toEqual({
      ...stepwise,
      derivation: derivationNames(stepwise.derivation),
    });
    expect(resolved.derivation).toEqual(
      chain
        .slice(0, -1)
        .map((c) => c.name)
        .reverse(),
    );
    expect(resolved.superclass).toBe('L38');
    expect(resolved.dynasty).toBe('A');
  });
});

describe('extendsDerivation', () => {
  const A = cls('A', '');
  const B = cls('B', 'A');
  const C = cls('C', 'B');

  test('a list deriveClass made from a parent extends that parent’s list', () => {
    const a = deriveClass(undefined, A);
    const b = deriveClass(a, B);
    const c = deriveClass(b, C);
    expect(extendsDerivation(c.derivation, 'B', b.derivation)).toBe(true);
    expect(extendsDerivation(b.derivation, 'A', a.derivation)).toBe(true);
    // Another first name, another parent list (even one with the same names), or another depth.
    expect(extendsDerivation(c.derivation, 'X', b.derivation)).toBe(false);
    expect(extendsDerivation(c.derivation, 'B', ['X'])).toBe(false);
    expect(extendsDerivation(c.derivation, 'B', ['A', 'Z'])).toBe(false);
    expect(extendsDerivation(c.derivation, 'B', [...derivationNames(b.derivation)])).toBe(true);
  });

  test('a list made elsewhere is compared name by name', () => {
    expect(extendsDerivation(['B', 'A'], 'B', ['A'])).toBe(true);
    expect(extendsDerivation(['B', 'A', 'R'], 'B', ['A'])).toBe(false);
    expect(extendsDerivation(['B', 'X'], 'B', ['A'])).toBe(false);
    expect(extendsDerivation(['B'], 'B', [])).toBe(true);
    expect(extendsDerivation([], 'B', [])).toBe(false);
  });
});

describe('values fit their CIM type exactly', () => {
  test.each<[string, number, boolean, CimValue, boolean]>([
    ['uint64 max', T.UINT64, false, { kind: 'uint', value: 18446744073709551615n }, true],
    ['uint64 max + 1', T.UINT64, false, { kind: 'uint', value: 18446744073709551616n }, false],
    ['sint64 min', T.SINT64, false, { kind: 'sint', value: -9223372036854775808n }, true],
    ['sint64 min - 1', T.SINT64, false, { kind: 'sint', value: -9223372036854775809n }, false],
    ['uint8 255', T.UINT8, false, { kind: 'uint', value: 255n }, true],
    ['sint8 -129', T.SINT8, false, { kind: 'sint', value: -129n }, false],
    ['char16 one unit', T.CHAR16, false, { kind: 'char16', value: 'x' }, true],
    ['char16 two units', T.CHAR16, false, { kind: 'char16', value: 'xy' }, false],
    [
      'datetime timestamp',
      T.DATETIME,
      false,
      { kind: 'datetime', value: '20261124120000.000000+060' },
      true,
    ],
    [
      'datetime interval',
      T.DATETIME,
      false,
      { kind: 'datetime', value: '00000001020304.000000:000' },
      true,
    ],
    ['datetime garbage', T.DATETIME, false, { kind: 'datetime', value: '2026-11-24' }, false],
    ['real32 overflow', T.REAL32, false, { kind: 'real', value: 1e39 }, false],
    ['string for uint32', T.UINT32, false, { kind: 'string', value: '1' }, false],
    ['array of strings', T.STRING, true, { kind: 'array', value: [str('a'), str('b')] }, true],
    ['scalar for an array', T.STRING, true, str('a'), false],
  ])('%s', (_label, type, array, value, fits) => {
    const run = (): void => checkValueFits(type, array, value, 'test');
    if (fits) expect(run).not.toThrow();
    else expect(thrown(WbemError, run).status).toBe('WBEM_E_TYPE_MISMATCH');
  });

  test('124: an embedded object nested 65 deep is WBEM_E_INVALID_PARAMETER', () => {
    let value: CimValue = { kind: 'object', value: cls('Leaf') };
    for (let i = 0; i < 64; i++)
      value = { kind: 'object', value: cls('N', '', [prop('Inner', T.OBJECT, { value })]) };
    expect(thrown(WbemError, () => checkValueFits(T.OBJECT, false, value, 'test')).status).toBe(
      'WBEM_E_INVALID_PARAMETER',
    );
  });
});

describe('order of the checks (§3.3 steps 6–13; docs/decisions.md D20)', () => {
  test('a syntax error is reported before the flag/existence check', () => {
    const stored = [
      cls('Ex_A', '', [prop('P', T.STRING, { qualifiers: [qual('Key', str('yes'))] })]),
    ];
    // Same class again with CREATE_ONLY (2), but its definition is wrong in itself: the definition error wins.
    expect(thrown(WbemError, () => decide(stored, stored[0] as ClassDefinition, 2)).status).toBe(
      'WBEM_E_INVALID_QUALIFIER_TYPE',
    );
    expect(
      thrown(WbemError, () => decide(stored, cls('Ex_A', '', [prop('P'), prop('p')]), 2)).status,
    ).toBe('WBEM_E_INVALID_PARAMETER');
    expect(thrown(WbemError, () => decide(stored, cls('Ex_A', '', [prop('P')]), 2)).status).toBe(
      'WBEM_E_ALREADY_EXISTS',
    );
  });

  test('existence is checked before the superclass is resolved', () => {
    expect(thrown(WbemError, () => decide([], cls('Ex_B', 'Missing'), 1)).status).toBe(
      'WBEM_E_NOT_FOUND',
    );
    expect(thrown(WbemError, () => decide([], cls('Ex_B', 'Missing'), 0)).status).toBe(
      'WBEM_E_INVALID_SUPERCLASS',
    );
  });
});

describe('DSP0004 rules on request (context __wbemd_DMTFRules; docs/decisions.md D25)', () => {
  const abstractUnderConcrete = cls('B', 'A', [], { qualifiers: [qual('Abstract')] });
  test('C6 applies by default and is lifted with rules = dmtf; every other rule still holds', () => {
    expect(
      thrown(WbemError, () =>
        decidePutClass(
          { definition: abstractUnderConcrete, flags: parsePutClassFlags(0, 'PutClassAsync') },
          world([cls('A')], abstractUnderConcrete),
        ),
      ).status,
    ).toBe('WBEM_E_CANNOT_BE_ABSTRACT');
    expect(
      decidePutClass(
        {
          definition: abstractUnderConcrete,
          flags: parsePutClassFlags(0, 'PutClassAsync'),
          rules: 'dmtf',
        },
        world([cls('A')], abstractUnderConcrete),
      ).kind,
    ).toBe('create');
    const keyUnderKeyed = cls('B', 'A', [prop('K2', T.STRING, { qualifiers: [KEY] })]);
    expect(
      thrown(WbemError, () =>
        decidePutClass(
          {
            definition: keyUnderKeyed,
            flags: parsePutClassFlags(0, 'PutClassAsync'),
            rules: 'dmtf',
          },
          world([A_KEYED], keyUnderKeyed),
        ),
      ).status,
    ).toBe('WBEM_E_CANNOT_CHANGE_KEY_INHERITANCE');
  });

  test('the context value is read case-insensitively and must be a boolean', () => {
    expect(classRulesOf(new Map([['__WBEMD_dmtfrules', bool(true)]]))).toBe('dmtf');
    expect(classRulesOf(new Map([['__wbemd_DMTFRules', bool(false)]]))).toBe('wmi');
    expect(classRulesOf(undefined)).toBe('wmi');
    expect(
      thrown(WbemError, () => checkClientContext(new Map([['__wbemd_DMTFRules', str('yes')]])))
        .status,
    ).toBe('WBEM_E_INVALID_PARAMETER');
  });
});

describe('update modes against instances (§6.4, M10, K4; scenarios 83–95)', () => {
  const A_ID_P = cls('A', '', [prop('Id', T.STRING, { qualifiers: [KEY] }), prop('P', T.UINT32)]);
  const withZ = cls('A', '', [
    prop('Id', T.STRING, { qualifiers: [KEY] }),
    prop('P', T.UINT32),
    prop('Z', T.UINT32),
  ]);
  test.each<[string, ClassDefinition[], ClassDefinition, number, Record<string, number>]>([
    ['83 add Z, COMPATIBLE, A#1', [A_ID_P], withZ, 0, { A: 1 }],
    ['84 add Z, SAFE, A#1', [A_ID_P], withZ, SAFE, { A: 1 }],
    [
      '85 add Z, FORCE, A#1 (K4: FORCE does not delete instances)',
      [A_ID_P],
      withZ,
      FORCE,
      { A: 1 },
    ],
    [
      '87 remove P, A#1',
      [A_ID_P],
      cls('A', '', [prop('Id', T.STRING, { qualifiers: [KEY] })]),
      0,
      { A: 1 },
    ],
    [
      '88 make P Indexed, A#1',
      [A_ID_P],
      cls('A', '', [
        prop('Id', T.STRING, { qualifiers: [KEY] }),
        prop('P', T.UINT32, { qualifiers: [qual('Indexed')] }),
      ]),
      0,
      { A: 1 },
    ],
    [
      '93 change the superclass, C#1',
      [cls('X'), cls('Y'), cls('C', 'X')],
      cls('C', 'Y'),
      0,
      { C: 1 },
    ],
    [
      '95 add Z, SAFE, instances only in the child B',
      [A_ID_P, cls('B', 'A')],
      withZ,
      SAFE,
      { B: 1 },
    ],
    [
      '95 FORCE too, grandchild instances',
      [A_ID_P, cls('B', 'A'), cls('C', 'B')],
      withZ,
      FORCE,
      { c: 2 },
    ],
    [
      'make A abstract, A#1',
      [A_ID_P],
      cls('A', '', [...A_ID_P.properties], { qualifiers: [qual('Abstract')] }),
      0,
      { A: 1 },
    ],
    [
      'FORCE would rewrite a child that has instances',
      [A_ID_P, cls('B', 'A', [], { qualifiers: [qual('Q', str('child'))] })],
      cls('A', '', [...A_ID_P.properties], { qualifiers: [qual('Q', str('base'), 0x12)] }),
      FORCE,
      { B: 3 },
    ],
  ])('%s → WBEM_E_CLASS_HAS_INSTANCES', (_name, stored, definition, flags, instances) => {
    expect(thrown(WbemError, () => decide(stored, definition, flags, instances))?.status).toBe(
      'WBEM_E_CLASS_HAS_INSTANCES',
    );
  });

  test('75 COMPATIBLE with children reports CLASS_HAS_CHILDREN before instances (§3.3 step 13)', () => {
    expect(
      thrown(WbemError, () => decide([A_ID_P, cls('B', 'A')], withZ, 0, { A: 1, B: 1 }))?.status,
    ).toBe('WBEM_E_CLASS_HAS_CHILDREN');
  });

  test.each<[string, ClassDefinition[], ClassDefinition, number, Record<string, number>]>([
    [
      '86 Description only, COMPATIBLE, A#1',
      [A_ID_P],
      cls('A', '', [...A_ID_P.properties], { qualifiers: [qual('Description', str('x'))] }),
      0,
      { A: 1 },
    ],
    [
      '91 identical re-put with children and instances',
      [A_ID_P, cls('B', 'A')],
      A_ID_P,
      0,
      { A: 2, B: 1 },
    ],
    [
      'a new DisableOverride qualifier, SAFE: child instances do not block a qualifier-only change',
      [A_ID_P, cls('B', 'A')],
      cls('A', '', [...A_ID_P.properties], { qualifiers: [qual('Q', str('base'), 0x12)] }),
      SAFE,
      { B: 1 },
    ],
    ['add Z, SAFE, instances elsewhere only', [A_ID_P, cls('B', 'A')], withZ, SAFE, { Other: 5 }],
  ])('%s → accepted', (_name, stored, definition, flags, instances) => {
    expect(decide(stored, definition, flags, instances).kind).toBe('update');
  });

  test('91 an identical re-put is an unchanged update (M8)', () => {
    const plan = decide([A_ID_P, cls('B', 'A')], A_ID_P, 0, { A: 2 });
    expect({ unchanged: plan.unchanged, important: plan.important }).toEqual({
      unchanged: true,
      important: false,
    });
    expect(decide([A_ID_P], withZ).unchanged).toBe(false);
  });
});

describe('Association needs references (§5.5; docs/decisions.md D41)', () => {
  const ref = (name: string, target: string) => prop(name, T.REFERENCE, { referenceClass: target });
  const ASSOC = qual('Association');
  test.each<[string, ClassDefinition[], ClassDefinition, string]>([
    [
      'two own references',
      [],
      cls('L', '', [ref('A', 'X'), ref('B', 'Y')], { qualifiers: [ASSOC] }),
      'ok',
    ],
    [
      'references inherited from an association',
      [cls('L', '', [ref('A', 'X'), ref('B', 'Y')], { qualifiers: [ASSOC] })],
      cls('L2', 'L', [], { qualifiers: [ASSOC] }),
      'ok',
    ],
    [
      'one own, one inherited',
      [cls('Base', '', [ref('A', 'X')])],
      cls('L', 'Base', [ref('B', 'Y')], { qualifiers: [ASSOC] }),
      'ok',
    ],
    [
      'no references',
      [],
      cls('L', '', [prop('P')], { qualifiers: [ASSOC] }),
      'WBEM_E_INVALID_QUALIFIER',
    ],
    [
      'one reference',
      [],
      cls('L', '', [ref('A', 'X')], { qualifiers: [ASSOC] }),
      'WBEM_E_INVALID_QUALIFIER',
    ],
    [
      'an array of references does not count',
      [],
      cls('L', '', [ref('A', 'X'), prop('B', T.REFERENCE, { array: true })], {
        qualifiers: [ASSOC],
      }),
      'WBEM_E_INVALID_QUALIFIER',
    ],
    [
      'Association = FALSE needs none',
      [],
      cls('L', '', [], { qualifiers: [qual('Association', bool(false))] }),
      'ok',
    ],
    ['references without Association are fine (C17)', [], cls('L', '', [ref('A', 'X')]), 'ok'],
  ])('%s', (_name, stored, definition, expected) => {
    if (expected === 'ok') expect(decide(stored, definition).kind).toMatch(/^(create|update)$/);
    else expect(thrown(WbemError, () => decide(stored, definition))?.status).toBe(expected);
  });
});

describe('expected_revision (optimistic concurrency; docs/decisions.md D58)', () => {
  test.each<[string, bigint | undefined, bigint | undefined, string]>([
    ['no etag: no check', undefined, 7n, 'ok'],
    ['same revision', 7n, 7n, 'ok'],
    ['0 and the class is absent', 0n, undefined, 'ok'],
    ['the class moved on', 7n, 9n, 'WBEM_E_RESERVED_001'],
    ['0 but the class exists', 0n, 3n, 'WBEM_E_RESERVED_001'],
    ['a revision but the class is gone', 7n, undefined, 'WBEM_E_RESERVED_001'],
  ])('%s', (_name, expected, current, outcome) => {
    if (outcome === 'ok')
      expect(() => checkExpectedRevision('Ex_A', expected, current)).not.toThrow();
    else
      expect(
        thrown(WbemError, () => checkExpectedRevision('Ex_A', expected, current))?.status,
      ).toBe(outcome);
  });
});
