import type { CimValue, ResolvedClass } from '../../src/domain/class-model';
import { bool, cls, key, KEY, prop, qual, sint, str, T, uint } from '../helpers/domain-fixtures';
import type { InstancePath, PathKey } from '../../src/domain/instance-model';
import {
  formatRelPath,
  instanceLocation,
  locateByPath,
  MAX_PATH,
  parseInstancePath,
} from '../../src/domain/instance-path';
import { resolveClass } from '../../src/domain/resolve-class';
import { WbemError } from '../../src/domain/wbem-status';
import { thrown } from '../helpers/expect-thrown';

// Fixtures: A keyed by Id; B:A; Disk with two keys; every keyable type; a singleton; a keyless
// abstract base whose subclasses introduce keys.
const A = cls('A', '', [key('Id'), prop('Size', T.UINT32)]);
const B = cls('B', 'A', [prop('Extra')]);
const DISK = cls('Disk', '', [key('Slot', T.UINT8), key('Bay'), prop('Label')]);
const TYPES = cls('Types', '', [
  key('S8', T.SINT8),
  key('U64', T.UINT64),
  key('S64', T.SINT64),
  key('Flag', T.BOOLEAN),
  key('When', T.DATETIME),
  key('Ref', T.REFERENCE),
  key('Ch', T.CHAR16),
]);
const CONFIG = cls('Config', '', [prop('Level', T.UINT32)], { qualifiers: [qual('Singleton')] });
const BASE = cls('Base', '', [prop('Name')], { qualifiers: [qual('Abstract')] });
const LEFT = cls('Left', 'Base', [prop('Name', T.STRING, { qualifiers: [KEY] })]);
const RIGHT = cls('Right', 'Base', [prop('Name', T.STRING, { qualifiers: [KEY] })]);
const OWNKEY = cls('OwnKey', 'Base', [prop('Name', T.STRING, { qualifiers: [KEY] }), key('Extra')]);
const KEYLESS = cls('Keyless', '', [prop('P')]);

const resolved = {
  A: resolveClass([A]),
  B: resolveClass([A, B]),
  Disk: resolveClass([DISK]),
  Types: resolveClass([TYPES]),
  Config: resolveClass([CONFIG]),
  Left: resolveClass([BASE, LEFT]),
  Right: resolveClass([BASE, RIGHT]),
  OwnKey: resolveClass([BASE, OWNKEY]),
  Keyless: resolveClass([KEYLESS]),
} satisfies Record<string, ResolvedClass>;

const U64_MAX = 18446744073709551615n;
const S64_MIN = -9223372036854775808n;

describe('parseInstancePath: accepted', () => {
  test.each<[string, string, InstancePath]>([
    [
      'one named key',
      'A.Id="x"',
      { namespace: undefined, className: 'A', keys: [{ name: 'Id', value: str('x') }] },
    ],
    [
      'two keys, integer and string',
      'Disk.Slot=5,Bay="b"',
      {
        namespace: undefined,
        className: 'Disk',
        keys: [
          { name: 'Slot', value: uint(5) },
          { name: 'Bay', value: str('b') },
        ],
      },
    ],
    [
      'unnamed single key',
      'A="x"',
      { namespace: undefined, className: 'A', keys: [{ name: '', value: str('x') }] },
    ],
    ['singleton', 'Config=@', { namespace: undefined, className: 'Config', keys: 'singleton' }],
    [
      'negative integer is sint',
      'T.K=-12',
      { namespace: undefined, className: 'T', keys: [{ name: 'K', value: sint(-12) }] },
    ],
    [
      'explicit plus is uint',
      'T.K=+12',
      { namespace: undefined, className: 'T', keys: [{ name: 'K', value: uint(12) }] },
    ],
    [
      'uint64 max kept exact',
      `T.K=${U64_MAX}`,
      { namespace: undefined, className: 'T', keys: [{ name: 'K', value: uint(U64_MAX) }] },
    ],
    [
      'sint64 min kept exact',
      `T.K=${S64_MIN}`,
      { namespace: undefined, className: 'T', keys: [{ name: 'K', value: sint(S64_MIN) }] },
    ],
    [
      'TRUE/false any case',
      'T.K=true,L=FaLsE',
      {
        namespace: undefined,
        className: 'T',
        keys: [
          { name: 'K', value: bool(true) },
          { name: 'L', value: bool(false) },
        ],
      },
    ],
    [
      'escaped quote and backslash',
      'A.Id="a\\"b\\\\c"',
      { namespace: undefined, className: 'A', keys: [{ name: 'Id', value: str('a"b\\c') }] },
    ],
    [
      'empty string',
      'A.Id=""',
      { namespace: undefined, className: 'A', keys: [{ name: 'Id', value: str('') }] },
    ],
    [
      'separators inside a string',
      'A.Id="x.y=z,w:@"',
      { namespace: undefined, className: 'A', keys: [{ name: 'Id', value: str('x.y=z,w:@') }] },
    ],
    [
      'machine and namespace prefix',
      '\\\\.\\root\\cimv2:A.Id="x"',
      { namespace: '\\\\.\\root\\cimv2', className: 'A', keys: [{ name: 'Id', value: str('x') }] },
    ],
    [
      'dotted machine name',
      '\\\\host.example\\root:A.Id="x"',
      {
        namespace: '\\\\host.example\\root',
        className: 'A',
        keys: [{ name: 'Id', value: str('x') }],
      },
    ],
    [
      'forward slashes',
      '//./root/cimv2:Config=@',
      { namespace: '//./root/cimv2', className: 'Config', keys: 'singleton' },
    ],
    [
      'namespace without machine',
      'root\\default:A="x"',
      { namespace: 'root\\default', className: 'A', keys: [{ name: '', value: str('x') }] },
    ],
    [
      'a reference value holding a path',
      'R.Ref="\\\\\\\\.\\\\root:A.Id=\\"x\\""',
      {
        namespace: undefined,
        className: 'R',
        keys: [{ name: 'Ref', value: str('\\\\.\\root:A.Id="x"') }],
      },
    ],
    [
      'system class name',
      '__Namespace.Name="x"',
      { namespace: undefined, className: '__Namespace', keys: [{ name: 'Name', value: str('x') }] },
    ],
  ])('%s: %s', (_label, text, expected) => {
    expect(parseInstancePath(text)).toEqual(expected);
  });
});

describe('parseInstancePath: WBEM_E_INVALID_OBJECT_PATH', () => {
  test.each<[string, string]>([
    ['empty', ''],
    ['class only', 'A'],
    ['class only with namespace', 'root\\cimv2:A'],
    ['dot without keys', 'A.'],
    ['equals without value', 'A='],
    ['key without value', 'A.Id='],
    ['key without equals', 'A.Id'],
    ['trailing comma', 'A.Id="x",'],
    ['empty key name', 'A.="x"'],
    ['key name with a leading digit', 'A.1d="x"'],
    ['duplicate key, other case', 'A.Id="x",ID="y"'],
    ['unterminated string', 'A.Id="x'],
    ['unknown escape', 'A.Id="\\n"'],
    ['single quotes', "A.Id='x'"],
    ['real literal', 'A.K=1.5'],
    ['hex literal', 'A.K=0x10'],
    ['sign without digits', 'A.K=-'],
    ['bare word', 'A.K=yes'],
    ['text after singleton', 'Config=@x'],
    ['singleton among keys', 'A.Id=@'],
    ['text after unnamed key', 'A="x"y'],
    ['space around equals', 'A.Id = "x"'],
    ['class name with a trailing underscore', 'A_.Id="x"'],
    ['class name with a leading digit', '1A.Id="x"'],
    ['no class name', '.Id="x"'],
    ['empty namespace', ':A.Id="x"'],
    ['machine prefix without colon', '\\\\.\\root\\A.Id="x"'],
    ['garbage after class', 'A#'],
    ['over WBEM_MAX_PATH', `A.Id="${'x'.repeat(MAX_PATH)}"`],
  ])('%s', (_label, text) => {
    expect(thrown(WbemError, () => parseInstancePath(text)).status).toBe(
      'WBEM_E_INVALID_OBJECT_PATH',
    );
  });

  test('a path of exactly WBEM_MAX_PATH characters is accepted', () => {
    const text = `A.Id="${'x'.repeat(MAX_PATH - 7)}"`;
    expect(text).toHaveLength(MAX_PATH);
    expect(parseInstancePath(text).className).toBe('A');
  });
});

describe('formatRelPath', () => {
  test.each<[string, string, { name: string; value: CimValue }[] | 'singleton', string]>([
    ['one string key', 'A', [{ name: 'Id', value: str('x') }], 'A.Id="x"'],
    [
      'keys sorted case-insensitively',
      'Disk',
      [
        { name: 'slot', value: uint(5) },
        { name: 'Bay', value: str('b') },
      ],
      'Disk.Bay="b",slot=5',
    ],
    ['escapes', 'A', [{ name: 'Id', value: str('a"b\\c') }], 'A.Id="a\\"b\\\\c"'],
    [
      'booleans',
      'T',
      [
        { name: 'K', value: bool(true) },
        { name: 'L', value: bool(false) },
      ],
      'T.K=TRUE,L=FALSE',
    ],
    ['negative', 'T', [{ name: 'K', value: sint(-3) }], 'T.K=-3'],
    [
      'datetime, reference, char16 quoted',
      'T',
      [
        { name: 'C', value: { kind: 'char16', value: 'q' } },
        { name: 'D', value: { kind: 'datetime', value: '20240101000000.000000+000' } },
        { name: 'R', value: { kind: 'reference', value: 'A.Id="x"' } },
      ],
      'T.C="q",D="20240101000000.000000+000",R="A.Id=\\"x\\""',
    ],
    ['singleton', 'Config', 'singleton', 'Config=@'],
    ['unnamed single key', 'A', [{ name: '', value: str('x') }], 'A="x"'],
  ])('%s', (_label, className, keys, expected) => {
    expect(formatRelPath(className, keys)).toBe(expected);
  });

  test('a value that cannot be a key is WBEM_E_CANNOT_BE_KEY', () => {
    expect(
      thrown(WbemError, () =>
        formatRelPath('T', [{ name: 'R', value: { kind: 'real', value: 1 } }]),
      ).status,
    ).toBe('WBEM_E_CANNOT_BE_KEY');
  });
});

describe('locateByPath: accepted', () => {
  test.each<[string, ResolvedClass, string, PathKey[] | 'singleton']>([
    ['named key', resolved.A, 'A.Id="x"', [{ name: 'Id', value: str('x') }]],
    [
      'names in other case, given as the class spells them',
      resolved.A,
      'a.ID="x"',
      [{ name: 'Id', value: str('x') }],
    ],
    ['unnamed key of a one-key class', resolved.A, 'A="x"', [{ name: 'Id', value: str('x') }]],
    [
      'keys in another order come back in the class order',
      resolved.Disk,
      'Disk.Bay="b",Slot=5',
      [
        { name: 'Slot', value: uint(5) },
        { name: 'Bay', value: str('b') },
      ],
    ],
    ['inherited key of a subclass', resolved.B, 'B.Id="x"', [{ name: 'Id', value: str('x') }]],
    ['singleton', resolved.Config, 'Config=@', 'singleton'],
    [
      'every keyable type, extremes exact',
      resolved.Types,
      `Types.S8=-128,U64=${U64_MAX},S64=${S64_MIN},Flag=TRUE,When="20240101123000.000000+060",Ref="A.Id=\\"x\\"",Ch="z"`,
      [
        { name: 'S8', value: sint(-128) },
        { name: 'U64', value: uint(U64_MAX) },
        { name: 'S64', value: sint(S64_MIN) },
        { name: 'Flag', value: bool(true) },
        { name: 'When', value: { kind: 'datetime', value: '20240101123000.000000+060' } },
        { name: 'Ref', value: { kind: 'reference', value: 'A.Id="x"' } },
        { name: 'Ch', value: { kind: 'char16', value: 'z' } },
      ],
    ],
  ])('%s', (_label, pathClass, text, keys) => {
    expect(locateByPath(pathClass, parseInstancePath(text)).keys).toEqual(keys);
  });

  test('a positive literal for a signed key becomes sint', () => {
    const types = cls('Signed', '', [key('K', T.SINT32)]);
    expect(locateByPath(resolveClass([types]), parseInstancePath('Signed.K=7')).keys).toEqual([
      { name: 'K', value: sint(7) },
    ]);
  });
});

describe('locateByPath: WBEM_E_INVALID_OBJECT_PATH', () => {
  test.each<[string, ResolvedClass, string]>([
    ['missing key', resolved.Disk, 'Disk.Slot=5'],
    ['extra key', resolved.A, 'A.Id="x",Size=3'],
    ['a non-key property as key', resolved.A, 'A.Size=3'],
    ['unnamed key of a two-key class', resolved.Disk, 'Disk="b"'],
    ['=@ on a keyed class', resolved.A, 'A=@'],
    ['keys on a singleton', resolved.Config, 'Config.Level=1'],
    ['unnamed key on a singleton', resolved.Config, 'Config="x"'],
    ['a keyless class', resolved.Keyless, 'Keyless.P="x"'],
    ['integer for a string key', resolved.A, 'A.Id=5'],
    ['string for an integer key', resolved.Disk, 'Disk.Slot="5",Bay="b"'],
    ['boolean for a string key', resolved.A, 'A.Id=TRUE'],
    [
      'integer for a boolean key',
      resolved.Types,
      `Types.S8=1,U64=1,S64=1,Flag=1,When="20240101123000.000000+060",Ref="r",Ch="z"`,
    ],
    ['uint8 above range', resolved.Disk, 'Disk.Slot=256,Bay="b"'],
    ['negative for an unsigned key', resolved.Disk, 'Disk.Slot=-1,Bay="b"'],
    [
      'uint64 max + 1',
      resolved.Types,
      `Types.S8=1,U64=${U64_MAX + 1n},S64=1,Flag=TRUE,When="20240101123000.000000+060",Ref="r",Ch="z"`,
    ],
    [
      'sint64 min - 1',
      resolved.Types,
      `Types.S8=1,U64=1,S64=${S64_MIN - 1n},Flag=TRUE,When="20240101123000.000000+060",Ref="r",Ch="z"`,
    ],
    [
      'sint8 below range',
      resolved.Types,
      `Types.S8=-129,U64=1,S64=1,Flag=TRUE,When="20240101123000.000000+060",Ref="r",Ch="z"`,
    ],
    [
      'malformed datetime',
      resolved.Types,
      `Types.S8=1,U64=1,S64=1,Flag=TRUE,When="yesterday",Ref="r",Ch="z"`,
    ],
    [
      'char16 of two characters',
      resolved.Types,
      `Types.S8=1,U64=1,S64=1,Flag=TRUE,When="20240101123000.000000+060",Ref="r",Ch="zz"`,
    ],
  ])('%s', (_label, pathClass, text) => {
    expect(thrown(WbemError, () => locateByPath(pathClass, parseInstancePath(text))).status).toBe(
      'WBEM_E_INVALID_OBJECT_PATH',
    );
  });
});

describe('locations', () => {
  const locate = (pathClass: ResolvedClass, text: string) =>
    locateByPath(pathClass, parseInstancePath(text)).location;

  test.each<[string, ResolvedClass, string, ResolvedClass, string]>([
    ['case of class, key name and value', resolved.A, 'A.Id="X"', resolved.A, 'a.id="x"'],
    ['named and unnamed', resolved.A, 'A.Id="x"', resolved.A, 'A="x"'],
    ['key order', resolved.Disk, 'Disk.Slot=5,Bay="b"', resolved.Disk, 'DISK.BAY="B",SLOT=5'],
    [
      'with and without namespace',
      resolved.A,
      '\\\\.\\root\\cimv2:A.Id="x"',
      resolved.A,
      'A.Id="x"',
    ],
    ["B:A shares A's key space", resolved.A, 'A.Id="x"', resolved.B, 'B.Id="x"'],
    [
      "siblings keyed on an inherited property share the base's key space",
      resolved.Left,
      'Left.Name="n"',
      resolved.Right,
      'Right.Name="n"',
    ],
  ])('same instance: %s', (_label, classOne, one, classTwo, two) => {
    expect(locate(classOne, one)).toEqual(locate(classTwo, two));
  });

  test.each<[string, ResolvedClass, string, ResolvedClass, string]>([
    ['other value', resolved.A, 'A.Id="x"', resolved.A, 'A.Id="y"'],
    [
      'other hierarchy, same key text',
      resolved.A,
      'A.Id="x"',
      resolveClass([cls('Other', '', [key('Id')])]),
      'Other.Id="x"',
    ],
    [
      'a string that looks like a number',
      resolved.Disk,
      'Disk.Slot=5,Bay="5"',
      resolved.Disk,
      'Disk.Slot=5,Bay="05"',
    ],
  ])('different instances: %s', (_label, classOne, one, classTwo, two) => {
    expect(locate(classOne, one)).not.toEqual(locate(classTwo, two));
  });

  test('B:A is filed under A', () => {
    expect(locate(resolved.B, 'B.Id="x"').keyRoot).toBe('a');
  });

  test('a class adding its own key to an inherited one is its own key root', () => {
    expect(locate(resolved.OwnKey, 'OwnKey.Name="n",Extra="e"').keyRoot).toBe('ownkey');
  });

  test('a singleton is its own key root, key "@"', () => {
    expect(locate(resolved.Config, 'CONFIG=@')).toEqual({ keyRoot: 'config', key: '@' });
    expect(instanceLocation(resolved.Config, 'singleton')).toEqual({ keyRoot: 'config', key: '@' });
  });
});

describe('round trips: locate(parse(format(keys))) gives the keys back', () => {
  test.each<[string, ResolvedClass, PathKey[] | 'singleton']>([
    [
      'string with escapes and separators',
      resolved.A,
      [{ name: 'Id', value: str('a"b\\c.d=e,f:@') }],
    ],
    [
      'two keys',
      resolved.Disk,
      [
        { name: 'Slot', value: uint(255) },
        { name: 'Bay', value: str('Z') },
      ],
    ],
    [
      'every keyable type at its extremes',
      resolved.Types,
      [
        { name: 'S8', value: sint(-128) },
        { name: 'U64', value: uint(U64_MAX) },
        { name: 'S64', value: sint(S64_MIN) },
        { name: 'Flag', value: bool(false) },
        { name: 'When', value: { kind: 'datetime', value: '00000001000000.000000:000' } },
        { name: 'Ref', value: { kind: 'reference', value: '\\\\.\\root\\cimv2:A.Id="x\\\\y"' } },
        { name: 'Ch', value: { kind: 'char16', value: '"' } },
      ],
    ],
    ['singleton', resolved.Config, 'singleton'],
  ])('%s', (_label, pathClass, keys) => {
    const text = formatRelPath(pathClass.name, keys);
    expect(locateByPath(pathClass, parseInstancePath(text)).keys).toEqual(keys);
    expect(
      formatRelPath(pathClass.name, locateByPath(pathClass, parseInstancePath(text)).keys),
    ).toBe(text);
  });
});
