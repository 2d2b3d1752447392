import { CIM_TYPE, type CimValue } from '../../src/domain/class-model';
import type { InstanceInput, InstancePropertyInput } from '../../src/domain/instance-model';
import { WbemError } from '../../src/domain/wbem-status';
import {
  cls,
  ctx,
  failureOf,
  key,
  prop,
  serviceFixture,
  str,
  type ServiceFixture,
} from './fixtures';
import { rejected } from '../helpers/expect-thrown';

const u32 = (value: number): CimValue => ({ kind: 'uint', value: BigInt(value) });
const value = (name: string, v: CimValue | null): InstancePropertyInput => ({
  name,
  type: 0,
  array: false,
  value: v,
  qualifierCount: 0,
});
const instance = (className: string, ...properties: InstancePropertyInput[]): InstanceInput => ({
  className,
  properties,
  qualifierCount: 0,
});

const rejection = async (promise: Promise<unknown>): Promise<string> =>
  (await rejected(WbemError, promise)).status;

/** Ex_Disk{Id: string key, Size: uint32 = 7}, Ex_Ssd: Ex_Disk{Cells: uint32}. */
async function disks(): Promise<ServiceFixture> {
  const f = await serviceFixture();
  await f.put(
    cls('Ex_Disk', '', [
      prop('Id', CIM_TYPE.STRING, { qualifiers: [key] }),
      prop('Size', CIM_TYPE.UINT32, { value: u32(7) }),
    ]),
  );
  await f.put(cls('Ex_Ssd', 'Ex_Disk', [prop('Cells', CIM_TYPE.UINT32)]));
  return f;
}

const put = (f: ServiceFixture, input: InstanceInput, flags = 0) =>
  f.service.putInstance(
    { namespace: 'root/cimv2', instance: input, flags, context: undefined },
    ctx(),
  );

describe('static instances in the service', () => {
  test('put, get by any spelling of its path, enumerate shallow and deep, delete', async () => {
    const f = await disks();
    expect(
      await put(f, instance('Ex_Disk', value('Id', str('C:')), value('Size', u32(100)))),
    ).toEqual({ path: 'Ex_Disk.Id="C:"' });
    expect(await put(f, instance('ex_ssd', value('id', str('D:'))))).toEqual({
      path: 'Ex_Ssd.Id="D:"',
    });
    const got = await f.service.getInstance('root/cimv2', 'EX_DISK.ID="c:"', ctx());
    expect(got.system).toMatchObject({
      genus: 2,
      className: 'Ex_Disk',
      relpath: 'Ex_Disk.Id="C:"',
      path: '\\\\TESTHOST\\root\\cimv2:Ex_Disk.Id="C:"',
      propertyCount: 2,
    });
    expect(got.instance.properties.map((p) => [p.name, p.value])).toEqual([
      ['Id', str('C:')],
      ['Size', u32(100)],
    ]);
    // A path naming the base class finds the subclass instance; defaults fill what was not sent.
    const ssd = await f.service.getInstance('root/cimv2', 'Ex_Disk="D:"', ctx());
    expect(ssd.system.className).toBe('Ex_Ssd');
    expect(ssd.instance.properties.map((p) => [p.name, p.value, p.classOrigin])).toEqual([
      ['Id', str('D:'), 'Ex_Disk'],
      ['Size', u32(7), 'Ex_Disk'],
      ['Cells', null, 'Ex_Ssd'],
    ]);
    const names = async (deep: boolean) =>
      (
        await f.service.enumInstances(
          { namespace: 'root/cimv2', className: 'Ex_Disk', deep },
          ctx(),
        )
      ).map((v) => v.system.relpath);
    expect(await names(false)).toEqual(['Ex_Disk.Id="C:"']);
    expect(await names(true)).toEqual(['Ex_Disk.Id="C:"', 'Ex_Ssd.Id="D:"']);
    await f.service.deleteInstance(
      { namespace: 'root/cimv2', path: 'Ex_Ssd.Id="d:"', flags: 0, context: undefined },
      ctx(),
    );
    expect(await names(true)).toEqual(['Ex_Disk.Id="C:"']);
    expect(await rejection(f.service.getInstance('root/cimv2', 'Ex_Ssd.Id="D:"', ctx()))).toBe(
      'WBEM_E_NOT_FOUND',
    );
  });

  test('flags: CREATE_ONLY on an existing instance, UPDATE_ONLY on a missing one, both at once', async () => {
    const f = await disks();
    await put(f, instance('Ex_Disk', value('Id', str('C:'))));
    expect(await rejection(put(f, instance('Ex_Disk', value('Id', str('c:'))), 0x2))).toBe(
      'WBEM_E_ALREADY_EXISTS',
    );
    expect(await rejection(put(f, instance('Ex_Disk', value('Id', str('E:'))), 0x1))).toBe(
      'WBEM_E_NOT_FOUND',
    );
    expect(await rejection(put(f, instance('Ex_Disk', value('Id', str('E:'))), 0x3))).toBe(
      'WBEM_E_INVALID_PARAMETER',
    );
    await put(f, instance('Ex_Disk', value('Id', str('C:')), value('Size', u32(5))), 0x1);
    expect(
      (await f.service.getInstance('root/cimv2', 'Ex_Disk.Id="C:"', ctx())).instance.properties[1]
        ?.value,
    ).toEqual(u32(5));
  });

  test('one path per keyed hierarchy: B.Id="x" cannot be put while A.Id="x" exists', async () => {
    const f = await disks();
    await put(f, instance('Ex_Disk', value('Id', str('X'))));
    expect(await rejection(put(f, instance('Ex_Ssd', value('Id', str('x')))))).toBe(
      'WBEM_E_ALREADY_EXISTS',
    );
  });

  test('the class and the values are checked against the resolved class', async () => {
    const f = await disks();
    await f.put(
      cls(
        'Ex_Abstract',
        '',
        [prop('Id', CIM_TYPE.STRING, { qualifiers: [key] })],
        [{ name: 'Abstract', value: { kind: 'boolean', value: true }, flavor: 0 }],
      ),
    );
    expect(await rejection(put(f, instance('Ex_Missing', value('Id', str('a')))))).toBe(
      'WBEM_E_INVALID_CLASS',
    );
    expect(await rejection(put(f, instance('__ClassCreationEvent')))).toBe(
      'WBEM_E_INVALID_OPERATION',
    );
    expect(
      await f.service.enumInstances(
        { namespace: 'root/cimv2', className: '__Event', deep: true },
        ctx(),
      ),
    ).toEqual([]);
    expect(await rejection(put(f, instance('Ex_Abstract', value('Id', str('a')))))).toBe(
      'WBEM_E_INVALID_OPERATION',
    );
    expect(await rejection(put(f, instance('Ex_Disk', value('Size', u32(1)))))).toBe(
      'WBEM_E_ILLEGAL_NULL',
    );
    expect(
      await rejection(
        put(f, instance('Ex_Disk', value('Id', str('a')), value('Size', str('big')))),
      ),
    ).toBe('WBEM_E_TYPE_MISMATCH');
    expect(await rejection(f.service.getInstance('root/cimv2', 'Ex_Disk.Nope="a"', ctx()))).toBe(
      'WBEM_E_INVALID_OBJECT_PATH',
    );
    expect(
      await rejection(
        f.service.getInstance('root/cimv2', '\\\\.\\root\\default:Ex_Disk.Id="a"', ctx()),
      ),
    ).toBe('WBEM_E_INVALID_PARAMETER');
    expect(
      await rejection(
        f.service.putInstance(
          { namespace: 'root/cimv2', instance: undefined, flags: 0, context: undefined },
          ctx(),
        ),
      ),
    ).toBe('WBEM_E_INVALID_PARAMETER');
  });

  test('DeleteClass takes the instances of the class and its subclasses in the same write (§6.6)', async () => {
    const f = await disks();
    await put(f, instance('Ex_Disk', value('Id', str('C:'))));
    await put(f, instance('Ex_Ssd', value('Id', str('D:'))));
    expect(
      (
        await f.service.deleteClass(
          { namespace: 'root/cimv2', className: 'Ex_Disk', flags: 0, context: undefined },
          ctx(),
        )
      ).deletedClasses,
    ).toEqual(['Ex_Disk', 'Ex_Ssd']);
    await f.put(cls('Ex_Disk', '', [prop('Id', CIM_TYPE.STRING, { qualifiers: [key] })]));
    expect(
      await f.service.enumInstances(
        { namespace: 'root/cimv2', className: 'Ex_Disk', deep: true },
        ctx(),
      ),
    ).toEqual([]);
  });

  test('the update gate sees real instances: CLASS_HAS_INSTANCES until they are deleted (scenarios 83, 95)', async () => {
    const f = await disks();
    await put(f, instance('Ex_Ssd', value('Id', str('D:'))));
    const withZ = cls('Ex_Disk', '', [
      prop('Id', CIM_TYPE.STRING, { qualifiers: [key] }),
      prop('Size', CIM_TYPE.UINT32, { value: u32(7) }),
      prop('Z'),
    ]);
    expect(failureOf((await f.put(withZ, 0x20)).outcome)).toBe('WBEM_E_CLASS_HAS_INSTANCES');
    await f.service.deleteInstance(
      { namespace: 'root/cimv2', path: 'Ex_Ssd.Id="D:"', flags: 0, context: undefined },
      ctx(),
    );
    expect((await f.put(withZ, 0x20)).outcome.ok).toBe(true);
  });
});
