/**
 * The whole DMTF CIM Schema 2.41, compiled from schemas/ and put class by class (in the MOF's
 * include order, which is dependency order) through the service's PutClassAsync with CREATE_ONLY:
 * every class rule of the domain meets the real workload.
 */
import { DMTF_RULES } from '../../src/domain/client-context';
import { derivationNames } from '../../src/domain/resolve-class';
import { compileMof } from '../../src/mof/parser';
import { CIM_SCHEMA_ENTRY, readSchemaFile } from '../helpers/cim-schema';
import { ctx, serviceFixture, allClasses } from './fixtures';

/**
 * The one class WMI's rules refuse: CIM_PolicyInSystem is Abstract under the concrete
 * CIM_HostedDependency, which rule C6 (scenario 44) answers with WBEM_E_CANNOT_BE_ABSTRACT;
 * OpenPegasus does not check C6 and accepts it. Its six subclasses then lack their superclass.
 * How issue #3 reconciles "zero errors" with C6 is open: docs/decisions.md D25.
 */
const REFUSED_BY_C6 = [
  'CIM_PolicyInSystem: WBEM_E_CANNOT_BE_ABSTRACT',
  'CIM_PolicySetInSystem: WBEM_E_INVALID_SUPERCLASS',
  'CIM_PolicyGroupInSystem: WBEM_E_INVALID_SUPERCLASS',
  'CIM_PolicyRuleInSystem: WBEM_E_INVALID_SUPERCLASS',
  'CIM_PolicyActionInPolicyRepository: WBEM_E_INVALID_SUPERCLASS',
  'CIM_PolicyConditionInPolicyRepository: WBEM_E_INVALID_SUPERCLASS',
  'CIM_ReusablePolicy: WBEM_E_INVALID_SUPERCLASS',
];

test('with __wbemd_DMTFRules in the context, all of CIM Schema 2.41 loads with zero errors', async () => {
  const unit = compileMof(CIM_SCHEMA_ENTRY, readSchemaFile);
  const fixture = await serviceFixture();
  const context = new Map([[DMTF_RULES, { kind: 'boolean' as const, value: true }]]);
  const failures: string[] = [];
  for (const { definition } of unit.classes) {
    const { outcome } = await fixture.put(definition, 2, { context });
    if (!outcome.ok) failures.push(`${definition.name}: ${outcome.error.status}`);
  }
  expect(failures).toEqual([]);
  const all = (
    await allClasses(
      fixture.service.enumClasses(
        { namespace: 'root/cimv2', superclass: '', deep: true, localOnly: true },
        ctx(),
      ),
    )
  ).filter((view) => !view.class.name.startsWith('__'));
  expect(all.length).toBe(unit.classes.length);
  const policy = await fixture.service.getClass('root/cimv2', 'CIM_PolicyInSystem', false, ctx());
  expect(derivationNames(policy.system.derivation)).toEqual([
    'CIM_HostedDependency',
    'CIM_Dependency',
  ]);
});

test('all of CIM Schema 2.41 but the C6 conflict loads, and resolves as the MOF says', async () => {
  const unit = compileMof(CIM_SCHEMA_ENTRY, readSchemaFile);
  const fixture = await serviceFixture();
  const failures: string[] = [];
  for (const { definition } of unit.classes) {
    const { outcome } = await fixture.put(definition, 2);
    if (!outcome.ok) failures.push(`${definition.name}: ${outcome.error.status}`);
  }
  expect(failures).toEqual(REFUSED_BY_C6);

  const computerSystem = await fixture.service.getClass(
    'root/cimv2',
    'cim_computersystem',
    false,
    ctx(),
  );
  expect(derivationNames(computerSystem.system.derivation)).toEqual([
    'CIM_System',
    'CIM_EnabledLogicalElement',
    'CIM_LogicalElement',
    'CIM_ManagedSystemElement',
    'CIM_ManagedElement',
  ]);
  const keys = computerSystem.class.properties
    .filter((p) => p.qualifiers.some((q) => q.name === 'Key'))
    .map((p) => [p.name, p.classOrigin]);
  // __CLASS_ORIGIN is the class that introduced a property: Name comes from CIM_ManagedSystemElement
  // (CIM_System overrides it to make it a key); inherited properties come first.
  expect(keys).toEqual([
    ['Name', 'CIM_ManagedSystemElement'],
    ['CreationClassName', 'CIM_System'],
  ]);
  const nameFormat = computerSystem.class.properties.find((p) => p.name === 'NameFormat');
  expect(nameFormat).toMatchObject({ classOrigin: 'CIM_System', propagated: false });
  const caption = computerSystem.class.properties.find((p) => p.name === 'Caption');
  expect(caption).toMatchObject({ classOrigin: 'CIM_ManagedElement', propagated: true });
  const all = (
    await allClasses(
      fixture.service.enumClasses(
        { namespace: 'root/cimv2', superclass: '', deep: true, localOnly: true },
        ctx(),
      ),
    )
  ).filter((view) => !view.class.name.startsWith('__'));
  expect(all.length).toBe(unit.classes.length - REFUSED_BY_C6.length);
});
