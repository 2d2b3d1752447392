import { requireObject, requireText } from '../../src/domain/arguments';
import { WbemError } from '../../src/domain/wbem-status';
import { thrown } from '../helpers/expect-thrown';

describe('required arguments', () => {
  test('an empty string argument is WBEM_E_INVALID_PARAMETER naming it, about the subject given', () => {
    expect(() => requireText('Ex_A', 'the class name (class_name)')).not.toThrow();
    const error = thrown(WbemError, () =>
      requireText('', 'the class name (class_name)', { namespace: 'root/cimv2' }),
    );
    expect([error.status, error.param, error.subject]).toEqual([
      'WBEM_E_INVALID_PARAMETER',
      'the class name (class_name) is missing',
      { namespace: 'root/cimv2' },
    ]);
  });

  test('an absent object argument is WBEM_E_INVALID_PARAMETER; a present one is returned', () => {
    const object = { name: 'Ex_A' };
    expect(requireObject(object, 'the class object (pObject)')).toBe(object);
    const error = thrown(WbemError, () => requireObject(undefined, 'the class object (pObject)'));
    expect([error.status, error.param]).toEqual([
      'WBEM_E_INVALID_PARAMETER',
      'the class object (pObject) is missing',
    ]);
  });
});
