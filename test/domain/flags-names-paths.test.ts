import { checkClassName, checkMemberName, classKey, sameName } from '../../src/domain/names';
import { parseNamespacePath } from '../../src/domain/namespace-path';
import {
  parseDeleteClassFlags,
  parseDeleteInstanceFlags,
  parsePutClassFlags,
} from '../../src/domain/put-class-flags';
import { WbemError } from '../../src/domain/wbem-status';
import { rejected, thrown } from '../helpers/expect-thrown';

describe('thrown (test/helpers/expect-thrown.ts)', () => {
  test('fails when nothing is thrown', () => {
    expect(() => thrown(WbemError, () => 1)).toThrow('expected a WbemError');
  });
  test('rethrows what is not a WbemError', () => {
    expect(() =>
      thrown(WbemError, () => {
        throw new TypeError('bug');
      }),
    ).toThrow(TypeError);
  });
  test('rejected fails when the promise resolves, and rethrows another error', async () => {
    await expect(rejected(WbemError, Promise.resolve(1))).rejects.toThrow('expected a WbemError');
    await expect(rejected(WbemError, Promise.reject(new TypeError('bug')))).rejects.toThrow(
      TypeError,
    );
  });
});

describe('parsePutClassFlags (§2.2)', () => {
  test.each([
    ['CREATE_OR_UPDATE', 0x00, { mode: 'createOrUpdate', update: 'compatible', sendStatus: false }],
    ['UPDATE_ONLY', 0x01, { mode: 'updateOnly' }],
    ['CREATE_ONLY | SEND_STATUS', 0x82, { mode: 'createOnly', sendStatus: true }],
    ['UPDATE_ONLY | SAFE_MODE', 0x21, { mode: 'updateOnly', update: 'safe' }],
    ['FORCE_MODE', 0x40, { update: 'force' }],
    ['CREATE_ONLY | SAFE (scenario 13)', 0x22, { mode: 'createOnly', update: 'safe' }],
    ['OWNER_UPDATE, ignored (scenario 11)', 0x10000, { mode: 'createOrUpdate' }],
    ['STRONG_VALIDATION, ignored (scenario 12)', 0x100000, { mode: 'createOrUpdate' }],
    ['a reserved bit, ignored', 0x1000, { mode: 'createOrUpdate' }],
    ['USE_AMENDED_QUALIFIERS', 0x20000, { useAmendedQualifiers: true }],
  ])('PutClassAsync accepts %s', (_label, bits, expected) => {
    expect(parsePutClassFlags(bits, 'PutClassAsync')).toMatchObject(expected);
  });

  test.each([
    ['CREATE_ONLY with UPDATE_ONLY (scenario 6)', 0x03],
    ['SAFE with FORCE (scenario 7)', 0x60],
    ['an undefined bit (scenario 8)', 0x08],
    ['RETURN_IMMEDIATELY (scenario 9)', 0x10],
    ['bit 31 (scenario 10)', 0x80000000 | 0],
    ['0x4', 0x04],
    ['0x100', 0x100],
  ])('PutClassAsync rejects %s with WBEM_E_INVALID_PARAMETER', (_label, bits) => {
    expect(thrown(WbemError, () => parsePutClassFlags(bits, 'PutClassAsync')).status).toBe(
      'WBEM_E_INVALID_PARAMETER',
    );
  });

  test.each([
    ['OWNER_UPDATE (scenario 11)', 0x10000],
    ['STRONG_VALIDATION (scenario 12)', 0x100000],
    ['a reserved bit', 0x1000],
  ])('%s is accepted and changes nothing (D5)', (_label, bits) => {
    expect(parsePutClassFlags(bits, 'PutClassAsync')).toEqual(
      parsePutClassFlags(0, 'PutClassAsync'),
    );
  });

  test('PutClass (sync) refuses SEND_STATUS (K13) and RETURN_IMMEDIATELY without a call result (scenario 21)', () => {
    expect(thrown(WbemError, () => parsePutClassFlags(0x80, 'PutClass')).status).toBe(
      'WBEM_E_INVALID_PARAMETER',
    );
    expect(thrown(WbemError, () => parsePutClassFlags(0x10, 'PutClass')).status).toBe(
      'WBEM_E_INVALID_PARAMETER',
    );
    expect(parsePutClassFlags(0x22, 'PutClass')).toMatchObject({
      mode: 'createOnly',
      update: 'safe',
      sendStatus: false,
    });
  });

  test('DeleteClass ignores reserved bits and refuses others', () => {
    expect(() => parseDeleteClassFlags(0x10000)).not.toThrow();
    expect(thrown(WbemError, () => parseDeleteClassFlags(0x1)).status).toBe(
      'WBEM_E_INVALID_PARAMETER',
    );
  });

  // D5/D6 and the flags comments of services.proto: a flagless call ignores exactly what the
  // others ignore (the reserved mask and STRONG_VALIDATION) and refuses every other bit.
  const flagless = [
    ['DeleteClass', parseDeleteClassFlags],
    ['DeleteInstance', parseDeleteInstanceFlags],
  ] as const;
  test.each(
    flagless.flatMap(([method, parse]) =>
      [0x1000, 0x1f000, 0x100000, 0x11f000].map(
        (bits) => [method, `0x${bits.toString(16)}`, bits, parse] as const,
      ),
    ),
  )('%s ignores %s', (_method, _hex, bits, parse) => {
    expect(() => parse(bits)).not.toThrow();
  });
  test.each(
    flagless.flatMap(([method, parse]) =>
      [0x1, 0x2, 0x10, 0x80, 0x20000, 0x80000000 | 0].map(
        (bits) => [method, `0x${(bits >>> 0).toString(16)}`, bits, parse] as const,
      ),
    ),
  )('%s refuses %s with WBEM_E_INVALID_PARAMETER', (_method, _hex, bits, parse) => {
    expect(thrown(WbemError, () => parse(bits)).status).toBe('WBEM_E_INVALID_PARAMETER');
  });
});

describe('class names (§5.6, scenarios 22–33)', () => {
  test.each([
    ['', 'WBEM_E_INVALID_PARAMETER'],
    ['My Class', 'WBEM_E_INVALID_PARAMETER'],
    ['_Foo', 'WBEM_E_INVALID_OPERATION'],
    ['__Foo', 'WBEM_E_INVALID_OPERATION'],
    ['__SystemClass', 'WBEM_E_INVALID_OPERATION'],
    ['Foo_', 'WBEM_E_INVALID_OBJECT'],
    ['9Foo', 'WBEM_E_INVALID_PARAMETER'],
    ['Ärger', 'WBEM_E_INVALID_PARAMETER'],
    ['A'.repeat(4097), 'WBEM_E_QUOTA_VIOLATION'],
  ])('"%s" → %s', (name, status) => {
    expect(thrown(WbemError, () => checkClassName(name)).status).toBe(status);
  });

  test.each(['Foo__Bar', 'Vendor_Disk2', 'A', 'A'.repeat(4096)])(
    '"%s" is a valid class name',
    (name) => {
      expect(() => checkClassName(name)).not.toThrow();
    },
  );

  test.each(['_p', 'a b', 'p_', '9p', ''])(
    'member name "%s" → WBEM_E_INVALID_PARAMETER',
    (name) => {
      expect(thrown(WbemError, () => checkMemberName('property', name, 'A')).status).toBe(
        'WBEM_E_INVALID_PARAMETER',
      );
    },
  );

  test('names are case-insensitive and keys fold them', () => {
    expect(classKey('Ex_Widget')).toBe(classKey('EX_WIDGET'));
    expect(sameName('Ex_Widget', 'ex_widget')).toBe(true);
    expect(sameName('Ex_Widget', 'Ex_Widgets')).toBe(false);
    expect(sameName('Ex_A', 'Ex_B')).toBe(false);
  });

  // sameName decides ASCII pairs itself and leaves the rest to the runtime: it must agree with
  // comparing the lowercased strings everywhere, including where only non-ASCII folding matches.
  test.each([
    ['Property1', 'property2'],
    ['Property1', 'PROPERTY1'],
    ['[a]', '{a}'],
    ['@x', '`x'],
    ['Z_', 'z_'],
    ['\u212Aelvin', 'kelvin'],
    ['\u212Aelvin', 'Kelvin'],
    ['\u00C4pfel', '\u00E4pfel'],
    ['\u00C4pfel', 'apfel'],
    ['Stra\u00DFe', 'STRASSE'],
    ['x\u0130', 'xi'],
  ])('sameName(%j, %j) agrees with the runtime lowercase comparison', (a, b) => {
    expect(sameName(a, b)).toBe(a.toLowerCase() === b.toLowerCase());
    expect(sameName(b, a)).toBe(a.toLowerCase() === b.toLowerCase());
  });
});

describe('namespace paths (§6.9, scenarios 109–113)', () => {
  const local = (machine: string): boolean => machine.toLowerCase() === 'host1';
  test.each([
    'root/cimv2',
    'root\\cimv2',
    '\\\\.\\root\\cimv2',
    '//./root/cimv2',
    '\\\\HOST1\\root\\cimv2',
    'ROOT\\CIMV2',
    '\\\\localhost\\root\\cimv2',
  ])('%s is root\\cimv2', (text) => {
    expect(parseNamespacePath(text, local).key).toBe('root\\cimv2');
  });

  test.each([
    '',
    'root\\',
    'root\\\\cimv2',
    'root\\te st',
    '\\\\.\\',
    '\\root',
    'root\\9x',
    '\\\\otherhost\\root\\cimv2',
  ])('"%s" → WBEM_E_INVALID_PARAMETER', (text) => {
    expect(thrown(WbemError, () => parseNamespacePath(text, local)).status).toBe(
      'WBEM_E_INVALID_PARAMETER',
    );
  });

  test('the spelling is kept', () => {
    expect(parseNamespacePath('ROOT/CimV2', local).elements).toEqual(['ROOT', 'CimV2']);
  });
});
