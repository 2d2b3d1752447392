import {
  AccessPolicy,
  ALL_RIGHTS,
  WBEM_RIGHT,
  type AclEntry,
  type Principal,
} from '../../src/domain/access';
import { WbemError } from '../../src/domain/wbem-status';
import { thrown } from '../helpers/expect-thrown';

const R = WBEM_RIGHT;
const alice: Principal = { name: 'alice', groups: ['ops'], local: true };
const bob: Principal = { name: 'Bob', groups: [], local: true };
const entry = (
  namespace: string,
  who: { principal?: string; group?: string },
  allow: number,
  deny = 0,
  inherit = true,
): AclEntry => ({ namespace: namespace.split('/'), ...who, allow, deny, inherit });

const policy = AccessPolicy.fromEntries([
  entry('root', { group: '*' }, R.WBEM_ENABLE),
  entry('root/cimv2', { group: 'ops' }, R.WBEM_ENABLE | R.WBEM_FULL_WRITE_REP),
  entry(
    'root/cimv2/locked',
    { principal: 'alice' },
    R.WBEM_ENABLE | R.WBEM_FULL_WRITE_REP,
    R.WBEM_FULL_WRITE_REP,
  ),
  entry('root/private', { principal: 'bob' }, R.WBEM_ENABLE, 0, false),
]);

test.each([
  ['no ACL: everyone everything', AccessPolicy.allowAll(), undefined, 'root/cimv2', ALL_RIGHTS],
  ['group * at the root, inherited', policy, bob, 'root/cimv2', R.WBEM_ENABLE],
  [
    'a nearer entry for the caller decides (group ops)',
    policy,
    alice,
    'root/cimv2',
    R.WBEM_ENABLE | R.WBEM_FULL_WRITE_REP,
  ],
  [
    'inherited into a child namespace',
    policy,
    alice,
    'root/cimv2/sub',
    R.WBEM_ENABLE | R.WBEM_FULL_WRITE_REP,
  ],
  ['deny wins over allow at the same level', policy, alice, 'root/cimv2/locked', R.WBEM_ENABLE],
  ['inherit: false applies to the namespace only', policy, bob, 'root/private', R.WBEM_ENABLE],
  [
    '… and not below it, where the parent levels decide',
    policy,
    bob,
    'root/private/child',
    R.WBEM_ENABLE,
  ],
  [
    'principal names are case-insensitive',
    policy,
    { ...bob, name: 'BOB' },
    'root/private',
    R.WBEM_ENABLE,
  ],
  ['anonymous under an ACL has nothing', policy, undefined, 'root/cimv2', 0],
] as const)('%s', (_label, p, who, namespace, expected) => {
  expect(p.rightsOf(who, namespace.split('/'))).toBe(expected);
});

test('require: WBEM_E_ACCESS_DENIED naming what is missing; a remote caller also needs WBEM_REMOTE_ACCESS', () => {
  const denied = thrown(WbemError, () =>
    policy.require(bob, ['root', 'cimv2'], R.WBEM_ENABLE | R.WBEM_FULL_WRITE_REP, 'PutClassAsync'),
  );
  expect(denied.status).toBe('WBEM_E_ACCESS_DENIED');
  expect(denied.param).toBe('Bob lacks WBEM_FULL_WRITE_REP on root\\cimv2 for PutClassAsync');
  expect(() =>
    policy.require(
      alice,
      ['root', 'cimv2'],
      R.WBEM_ENABLE | R.WBEM_FULL_WRITE_REP,
      'PutClassAsync',
    ),
  ).not.toThrow();
  const remote = thrown(WbemError, () =>
    policy.require({ ...alice, local: false }, ['root', 'cimv2'], R.WBEM_ENABLE, 'GetClass'),
  );
  expect(remote.param).toBe('alice lacks WBEM_REMOTE_ACCESS on root\\cimv2 for GetClass');
  expect(
    thrown(WbemError, () => policy.require(undefined, ['root'], R.WBEM_ENABLE, 'GetClass')).param,
  ).toBe('an anonymous caller lacks WBEM_ENABLE on root for GetClass');
});
