import type { CimValue, ResolvedClass } from '../../src/domain/class-model';
import { bool, cls, key, KEY, prop, qual, sint, str, T, uint } from '../helpers/domain-fixtures';
import {
  decideInstanceWrite,
  MAX_INSTANCE_KEYS,
  prepareInstance,
} from '../../src/domain/decide-put-instance';
import { parsePutInstanceFlags } from '../../src/domain/put-class-flags';
import type {
  InstanceInput,
  InstancePropertyInput,
  StoredInstance,
} from '../../src/domain/instance-model';
import { formatRelPath, locateByPath, parseInstancePath } from '../../src/domain/instance-path';
import { instanceKeysOf, instanceView } from '../../src/domain/instance-view';
import type { PutMode } from '../../src/domain/put-class-flags';
import { resolveClass } from '../../src/domain/resolve-class';
import { type WbemErrorName, WbemError } from '../../src/domain/wbem-status';
import { thrown } from '../helpers/expect-thrown';

const sent = (
  name: string,
  value: CimValue | null,
  extra: Partial<InstancePropertyInput> = {},
): InstancePropertyInput => ({
  name,
  type: 0,
  array: false,
  value,
  qualifierCount: 0,
  ...extra,
});
const instance = (
  className: string,
  properties: InstancePropertyInput[],
  qualifierCount = 0,
): InstanceInput => ({ className, properties, qualifierCount });

// A keyed by Id with a default and the three not-null qualifiers; B:A; a singleton; Disk with two keys.
const A = cls('A', '', [
  key('Id'),
  prop('Size', T.UINT32, { value: uint(10) }),
  prop('Tags', T.STRING, { array: true }),
  prop('Idx', T.UINT32, { qualifiers: [qual('Indexed')], value: uint(0) }),
  prop('Must', T.STRING, { qualifiers: [qual('Not_Null')], value: str('default') }),
  prop('Note'),
]);
const B = cls('B', 'A', [prop('Extra', T.BOOLEAN)]);
const resolvedA = resolveClass([A]);
const resolvedB = resolveClass([A, B]);
const CONFIG = resolveClass([
  cls('Config', '', [prop('Level', T.UINT32)], { qualifiers: [qual('Singleton')] }),
]);
const DISK = resolveClass([cls('Disk', '', [key('Slot', T.UINT8), key('Bay'), prop('Label')])]);
const CHAR_KEY = resolveClass([cls('Ch', '', [key('C', T.CHAR16)])]);
const REF_KEY = resolveClass([
  cls('Assoc', '', [prop('R', T.REFERENCE, { qualifiers: [KEY], referenceClass: 'A' })]),
]);
const ABSTRACT_BASE = cls('Base', '', [prop('Name')], { qualifiers: [qual('Abstract')] });

function prepare(resolved: ResolvedClass, input: InstanceInput, locale = false) {
  return prepareInstance(input, resolved, locale);
}

describe('parsePutInstanceFlags', () => {
  test.each<[number, PutMode]>([
    [0, 'createOrUpdate'],
    [0x1, 'updateOnly'],
    [0x2, 'createOnly'],
    [0x2_0000, 'createOrUpdate'], // USE_AMENDED_QUALIFIERS: accepted, meaningless here
    [0x2_0002, 'createOnly'],
    [0x1_0000, 'createOrUpdate'], // OWNER_UPDATE lies in the reserved mask: ignored
    [0x1_f001, 'updateOnly'], // the whole reserved mask
    [0x10_0000, 'createOrUpdate'], // STRONG_VALIDATION: ignored
  ])('flags %s accepted', (flags, mode) => {
    expect(parsePutInstanceFlags(flags)).toBe(mode);
  });

  test.each<[number, string]>([
    [0x3, 'CREATE_ONLY|UPDATE_ONLY'],
    [0x4, 'undefined bit'],
    [0x10, 'RETURN_IMMEDIATELY (no IWbemCallResult over gRPC)'],
    [0x20, 'UPDATE_SAFE_MODE (a class flag)'],
    [0x40, 'UPDATE_FORCE_MODE (a class flag)'],
    [0x80, 'SEND_STATUS (unary call)'],
    [0x8000_0000, 'bit 31'],
    [-1, 'every bit'],
  ])('flags %s refused: %s', (flags) => {
    expect(thrown(WbemError, () => parsePutInstanceFlags(flags)).status).toBe(
      'WBEM_E_INVALID_PARAMETER',
    );
  });
});

describe('prepareInstance: one row per rule', () => {
  const manyKeys = resolveClass([
    cls(
      'Many',
      '',
      Array.from({ length: MAX_INSTANCE_KEYS + 1 }, (_, i) => key(`K${i}`)),
    ),
  ]);
  test.each<[string, ResolvedClass, InstanceInput, boolean, WbemErrorName]>([
    [
      'another class than the one resolved',
      resolvedA,
      instance('B', [sent('Id', str('x'))]),
      false,
      'WBEM_E_INVALID_CLASS',
    ],
    [
      'a locale namespace ms_xxx',
      resolvedA,
      instance('A', [sent('Id', str('x'))]),
      true,
      'WBEM_E_INVALID_OPERATION',
    ],
    [
      'an abstract class',
      resolveClass([ABSTRACT_BASE]),
      instance('Base', [sent('Name', str('x'))]),
      false,
      'WBEM_E_INVALID_OPERATION',
    ],
    [
      'an Amendment class',
      resolveClass([cls('Am', '', [key('Id')], { qualifiers: [qual('Amendment')] })]),
      instance('Am', [sent('Id', str('x'))]),
      false,
      'WBEM_E_INVALID_OPERATION',
    ],
    [
      'a Dynamic class',
      resolveClass([cls('Dyn', '', [key('Id')], { qualifiers: [qual('Dynamic')] })]),
      instance('Dyn', [sent('Id', str('x'))]),
      false,
      'WBEM_E_PROVIDER_NOT_CAPABLE',
    ],
    [
      'a class with a Provider',
      resolveClass([cls('Prov', '', [key('Id')], { qualifiers: [qual('Provider', str('P'))] })]),
      instance('Prov', [sent('Id', str('x'))]),
      false,
      'WBEM_E_PROVIDER_NOT_CAPABLE',
    ],
    [
      'a keyless, non-singleton class',
      resolveClass([cls('Keyless', '', [prop('P')])]),
      instance('Keyless', [sent('P', str('x'))]),
      false,
      'WBEM_E_NO_KEY',
    ],
    ['more than 256 keys', manyKeys, instance('Many', []), false, 'WBEM_E_QUOTA_VIOLATION'],
    [
      'instance qualifiers',
      resolvedA,
      instance('A', [sent('Id', str('x'))], 1),
      false,
      'WBEM_E_NOT_SUPPORTED',
    ],
    [
      'a string value over the size limit',
      resolvedA,
      instance('A', [sent('Id', str('x')), sent('Note', str('n'.repeat(1_048_577)))]),
      false,
      'WBEM_E_QUOTA_VIOLATION',
    ],
    [
      'a system property',
      resolvedA,
      instance('A', [sent('Id', str('x')), sent('__PATH', str('p'))]),
      false,
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'a property the class lacks',
      resolvedA,
      instance('A', [sent('Id', str('x')), sent('Extra', bool(true))]),
      false,
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'a property sent twice, other case',
      resolvedA,
      instance('A', [sent('Id', str('x')), sent('size', uint(1)), sent('SIZE', uint(2))]),
      false,
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'property qualifiers',
      resolvedA,
      instance('A', [sent('Id', str('x'), { qualifierCount: 2 })]),
      false,
      'WBEM_E_NOT_SUPPORTED',
    ],
    [
      "a stated type other than the class's",
      resolvedA,
      instance('A', [sent('Id', str('x')), sent('Size', uint(1), { type: T.UINT64 })]),
      false,
      'WBEM_E_TYPE_MISMATCH',
    ],
    [
      "a stated array-ness other than the class's",
      resolvedA,
      instance('A', [sent('Id', str('x')), sent('Size', uint(1), { type: T.UINT32, array: true })]),
      false,
      'WBEM_E_TYPE_MISMATCH',
    ],
    [
      'a value of the wrong kind',
      resolvedA,
      instance('A', [sent('Id', str('x')), sent('Size', str('ten'))]),
      false,
      'WBEM_E_TYPE_MISMATCH',
    ],
    [
      'a value out of range',
      resolvedA,
      instance('A', [sent('Id', str('x')), sent('Size', uint(2n ** 32n))]),
      false,
      'WBEM_E_TYPE_MISMATCH',
    ],
    [
      'a scalar for an array',
      resolvedA,
      instance('A', [sent('Id', str('x')), sent('Tags', str('t'))]),
      false,
      'WBEM_E_TYPE_MISMATCH',
    ],
    [
      'a key not sent and without default',
      resolvedA,
      instance('A', [sent('Size', uint(1))]),
      false,
      'WBEM_E_ILLEGAL_NULL',
    ],
    ['a key sent NULL', resolvedA, instance('A', [sent('Id', null)]), false, 'WBEM_E_ILLEGAL_NULL'],
    [
      'an Indexed property sent NULL',
      resolvedA,
      instance('A', [sent('Id', str('x')), sent('Idx', null)]),
      false,
      'WBEM_E_ILLEGAL_NULL',
    ],
    [
      'a Not_Null property sent NULL',
      resolvedA,
      instance('A', [sent('Id', str('x')), sent('Must', null)]),
      false,
      'WBEM_E_ILLEGAL_NULL',
    ],
    [
      'a string key with a control character',
      resolvedA,
      instance('A', [sent('Id', str('a\tb'))]),
      false,
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'a reference key with a control character',
      REF_KEY,
      instance('Assoc', [sent('R', { kind: 'reference', value: 'A.Id="\n"' })]),
      false,
      'WBEM_E_INVALID_PARAMETER',
    ],
    [
      'a char16 key U+0020',
      CHAR_KEY,
      instance('Ch', [sent('C', { kind: 'char16', value: ' ' })]),
      false,
      'WBEM_E_INVALID_PARAMETER',
    ],
  ])('%s', (_label, resolved, input, locale, status) => {
    expect(thrown(WbemError, () => prepare(resolved, input, locale)).status).toBe(status);
  });

  test('the class rules come before the values: an abstract class with a bad value is INVALID_OPERATION', () => {
    const input = instance('Base', [sent('Name', uint(1))], 1);
    expect(thrown(WbemError, () => prepare(resolveClass([ABSTRACT_BASE]), input)).status).toBe(
      'WBEM_E_INVALID_OPERATION',
    );
  });

  test('Abstract is not inherited: a keyed subclass of an abstract class takes instances', () => {
    const base = cls('Base', '', [prop('Name')], {
      qualifiers: [qual('Abstract', bool(true), 0x2)],
    });
    const leaf = cls('Leaf', 'Base', [prop('Name', T.STRING, { qualifiers: [KEY] })]);
    expect(
      prepare(resolveClass([base, leaf]), instance('Leaf', [sent('Name', str('n'))])).relpath,
    ).toBe('Leaf.Name="n"');
  });
});

describe('prepareInstance: accepted', () => {
  test('stored values follow the class order and spelling, with defaults for what was not sent', () => {
    const prepared = prepare(
      resolvedA,
      instance('a', [sent('note', str('hello')), sent('ID', str('X1'))]),
    );
    expect(prepared.stored).toEqual<StoredInstance>({
      className: 'A',
      values: [
        { name: 'Id', value: str('X1') },
        { name: 'Size', value: uint(10) },
        { name: 'Tags', value: null },
        { name: 'Idx', value: uint(0) },
        { name: 'Must', value: str('default') },
        { name: 'Note', value: str('hello') },
      ],
    });
    expect(prepared.relpath).toBe('A.Id="X1"');
  });

  test("a stated type equal to the class's is accepted, arrays included", () => {
    const input = instance('A', [
      sent('Id', str('x'), { type: T.STRING }),
      sent('Tags', { kind: 'array', value: [str('a')] }, { type: T.STRING, array: true }),
    ]);
    expect(prepare(resolvedA, input).stored.values[2]).toEqual({
      name: 'Tags',
      value: { kind: 'array', value: [str('a')] },
    });
  });

  test('a property sent NULL without a not-null qualifier stays NULL, overriding the default', () => {
    expect(
      prepare(resolvedA, instance('A', [sent('Id', str('x')), sent('Size', null)])).stored
        .values[1],
    ).toEqual({ name: 'Size', value: null });
  });

  test('the location is the one locateByPath gives, whatever the case', () => {
    const prepared = prepare(resolvedA, instance('A', [sent('Id', str('MiXeD'))]));
    expect(prepared.location).toEqual(
      locateByPath(resolvedA, parseInstancePath('a.id="mixed"')).location,
    );
  });

  test("B:A is filed in A's key space", () => {
    const prepared = prepare(
      resolvedB,
      instance('B', [sent('Id', str('x')), sent('Extra', bool(true))]),
    );
    expect(prepared.location).toEqual(
      prepare(resolvedA, instance('A', [sent('Id', str('x'))])).location,
    );
    expect(prepared.relpath).toBe('B.Id="x"');
    expect(prepared.stored.className).toBe('B');
  });

  test('a singleton: Class=@', () => {
    const prepared = prepare(CONFIG, instance('Config', [sent('Level', uint(3))]));
    expect(prepared.relpath).toBe('Config=@');
    expect(prepared.location).toEqual({ keyRoot: 'config', key: '@' });
  });

  test("two keys: relpath sorted by name, location equal to the path's", () => {
    const prepared = prepare(
      DISK,
      instance('Disk', [sent('Slot', uint(3)), sent('Bay', str('b'))]),
    );
    expect(prepared.relpath).toBe('Disk.Bay="b",Slot=3');
    expect(prepared.location).toEqual(
      locateByPath(DISK, parseInstancePath(prepared.relpath)).location,
    );
  });

  test('uint64 max and sint64 min keys are kept exact', () => {
    const wide = resolveClass([cls('Wide', '', [key('U', T.UINT64), key('S', T.SINT64)])]);
    const prepared = prepare(
      wide,
      instance('Wide', [sent('U', uint(2n ** 64n - 1n)), sent('S', sint(-(2n ** 63n)))]),
    );
    expect(prepared.relpath).toBe('Wide.S=-9223372036854775808,U=18446744073709551615');
    expect(locateByPath(wide, parseInstancePath(prepared.relpath)).location).toEqual(
      prepared.location,
    );
  });

  test('a key property with a class default takes it', () => {
    const defaulted = resolveClass([
      cls('Def', '', [prop('Id', T.STRING, { qualifiers: [KEY], value: str('only') })]),
    ]);
    expect(prepare(defaulted, instance('Def', [])).relpath).toBe('Def.Id="only"');
  });

  test('a char16 key above U+0020 and exactly 256 keys are accepted', () => {
    expect(
      prepare(CHAR_KEY, instance('Ch', [sent('C', { kind: 'char16', value: '!' })])).relpath,
    ).toBe('Ch.C="!"');
    const keys = Array.from({ length: MAX_INSTANCE_KEYS }, (_, i) => key(`K${i}`));
    const most = resolveClass([cls('Most', '', keys)]);
    const input = instance(
      'Most',
      keys.map((k, i) => sent(k.name, str(String(i)))),
    );
    expect(prepare(most, input).stored.values).toHaveLength(MAX_INSTANCE_KEYS);
  });
});

describe('decideInstanceWrite', () => {
  const storedA: StoredInstance = { className: 'A', values: [{ name: 'Id', value: str('x') }] };
  test.each<
    [string, PutMode, string, StoredInstance | undefined, 'create' | 'update' | WbemErrorName]
  >([
    ['create when absent', 'createOrUpdate', 'A', undefined, 'create'],
    ['CREATE_ONLY when absent', 'createOnly', 'A', undefined, 'create'],
    ['UPDATE_ONLY when absent', 'updateOnly', 'A', undefined, 'WBEM_E_NOT_FOUND'],
    ['update when present', 'createOrUpdate', 'A', storedA, 'update'],
    ['update when present, class name in other case', 'createOrUpdate', 'a', storedA, 'update'],
    ['UPDATE_ONLY when present', 'updateOnly', 'A', storedA, 'update'],
    ['CREATE_ONLY when present', 'createOnly', 'A', storedA, 'WBEM_E_ALREADY_EXISTS'],
    [
      'another class of the hierarchy holds the path',
      'createOrUpdate',
      'B',
      storedA,
      'WBEM_E_ALREADY_EXISTS',
    ],
    ['another class, UPDATE_ONLY', 'updateOnly', 'B', storedA, 'WBEM_E_ALREADY_EXISTS'],
    ['another class, CREATE_ONLY', 'createOnly', 'B', storedA, 'WBEM_E_ALREADY_EXISTS'],
  ])('%s', (_label, mode, className, existing, expected) => {
    if (expected === 'create' || expected === 'update')
      expect(decideInstanceWrite(mode, className, existing)).toBe(expected);
    else
      expect(thrown(WbemError, () => decideInstanceWrite(mode, className, existing)).status).toBe(
        expected,
      );
  });
});

describe('instanceView and instanceKeysOf', () => {
  const described = resolveClass([
    cls(
      'V',
      '',
      [
        prop('Id', T.STRING, { qualifiers: [KEY, qual('Description', str('the id'), 0x1)] }),
        prop('Hidden', T.UINT32, { qualifiers: [qual('Units', str('bytes'))] }),
      ],
      { qualifiers: [qual('Shown', str('yes'), 0x1 | 0x2), qual('ClassOnly', str('no'))] },
    ),
  ]);

  test('every property with the instance value, type and origin; only ToInstance qualifiers, propagated', () => {
    const view = instanceView(described, {
      className: 'V',
      values: [
        { name: 'id', value: str('x') },
        { name: 'Hidden', value: uint(4) },
      ],
    });
    expect(view.className).toBe('V');
    expect(view.qualifiers).toEqual([
      { name: 'Shown', value: str('yes'), flavor: 0x1 | 0x2 | 0x20, propagated: true },
    ]);
    expect(view.properties.map((p) => [p.name, p.type, p.value, p.classOrigin])).toEqual([
      ['Id', T.STRING, str('x'), 'V'],
      ['Hidden', T.UINT32, uint(4), 'V'],
    ]);
    expect(view.properties[0]?.qualifiers).toEqual([
      { name: 'Description', value: str('the id'), flavor: 0x21, propagated: true },
    ]);
    expect(view.properties[1]?.qualifiers).toEqual([]);
  });

  test('a property the class gained since the write reads as its default; a dropped one is not shown', () => {
    const grown = resolveClass([
      cls('G', '', [key('Id'), prop('New', T.UINT32, { value: uint(7) })]),
    ]);
    const view = instanceView(grown, {
      className: 'G',
      values: [
        { name: 'Id', value: str('x') },
        { name: 'Gone', value: str('old') },
      ],
    });
    expect(view.properties.map((p) => [p.name, p.value])).toEqual([
      ['Id', str('x')],
      ['New', uint(7)],
    ]);
  });

  test('a subclass instance shows inherited properties with their origin', () => {
    const prepared = prepare(
      resolvedB,
      instance('B', [sent('Id', str('x')), sent('Extra', bool(true))]),
    );
    const view = instanceView(resolvedB, prepared.stored);
    expect(view.properties.find((p) => p.name === 'Id')?.classOrigin).toBe('A');
    expect(view.properties.find((p) => p.name === 'Extra')?.value).toEqual(bool(true));
  });

  test.each<[string, ResolvedClass, InstanceInput]>([
    ['one key', resolvedA, instance('A', [sent('Id', str('a"b'))])],
    ['two keys', DISK, instance('Disk', [sent('Slot', uint(1)), sent('Bay', str('b'))])],
    ['singleton', CONFIG, instance('Config', [])],
  ])(
    'instanceKeysOf gives back the relpath PutInstance returned: %s',
    (_label, resolved, input) => {
      const prepared = prepare(resolved, input);
      expect(formatRelPath(resolved.name, instanceKeysOf(resolved, prepared.stored))).toBe(
        prepared.relpath,
      );
    },
  );

  test('instanceKeysOf: stored data that lost its key is WBEM_E_FAILED', () => {
    expect(
      thrown(WbemError, () =>
        instanceKeysOf(resolvedA, { className: 'A', values: [{ name: 'Id', value: null }] }),
      ).status,
    ).toBe('WBEM_E_FAILED');
    const keyless = resolveClass([cls('K', '', [prop('P')])]);
    expect(
      thrown(WbemError, () => instanceKeysOf(keyless, { className: 'K', values: [] })).status,
    ).toBe('WBEM_E_FAILED');
  });
});
