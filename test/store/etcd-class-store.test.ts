import { randomUUID } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import type { ClassStore } from '../../src/store/class-store';
import { EtcdClassStore } from '../../src/store/etcd/etcd-class-store';
import { startEtcd, etcdTool, type EtcdMember } from '../helpers/etcd';
import { describeWithTool } from '../helpers/external-tools';
import { classKey, namespaceKeyOf } from '../../src/domain/names';
import { StoreError, type StoreWrite } from '../../src/store/class-store';
import { rejected } from '../helpers/expect-thrown';
import { cls, describeClassStoreContract } from './class-store.contract';

describeWithTool(etcdTool, 'EtcdClassStore on one etcd member', () => {
  let member: EtcdMember;
  beforeAll(async () => {
    member = await startEtcd();
  }, 30_000);
  afterAll(async () => {
    await member?.stop();
  });

  describeClassStoreContract('EtcdClassStore', async (options = {}) => {
    // Each fixture its own prefix: a fresh, empty repository on the shared member.
    const prefix = `/wbemd-test/${randomUUID()}/`;
    const make = (): EtcdClassStore =>
      new EtcdClassStore({ endpoints: [member.endpoint], prefix, ...options });
    let store: ClassStore = make();
    await store.open();
    return {
      shared: true,
      get store() {
        return store;
      },
      async reopen() {
        await store.close();
        store = make();
        await store.open();
        return store;
      },
      cleanup: () => store.close(),
    };
  });
});

describeWithTool(etcdTool, 'EtcdClassStore event retention', () => {
  test('log records that fell out of the retention window are deleted from etcd', async () => {
    const member = await startEtcd();
    const prefix = `/retention/${randomUUID()}/`;
    const store = new EtcdClassStore({ endpoints: [member.endpoint], prefix, eventRetention: 3 });
    const raw = new Etcd3({ hosts: [member.endpoint] });
    const ns = namespaceKeyOf(['root', 'cimv2']);
    const logged = (): Promise<number> => raw.getAll().prefix(`${prefix}e/`).count();
    try {
      await store.open();
      await store.commit([
        { op: 'putNamespace', namespace: ns, record: { elements: ['root', 'cimv2'] } },
      ]);
      for (let i = 0; i < 12; i++) {
        await store.commit([
          {
            op: 'putClass',
            namespace: ns,
            definition: cls(`Kept${i}`),
            previousSuperclass: undefined,
            event: {
              derivation: [],
              context: undefined,
              operationId: `op${i}`,
              timeCreated: 1n,
              previous: undefined,
            },
          },
        ]);
      }
      for (let waited = 0; (await logged()) > 5 && waited < 50; waited++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      // The newest 3 revisions' records, and at most the 2 of a round not yet due.
      expect(await logged()).toBeLessThanOrEqual(5);
      // What is still returned is the window (etcd revisions: the trims' own Txns count too).
      const kept = await store.readEvents(ns, 0n, 100);
      expect(kept.map((e) => e.target.name).at(-1)).toBe('Kept11');
      expect(kept.length).toBeLessThanOrEqual(3);
      for (const event of kept)
        expect(event.revision).toBeGreaterThanOrEqual(store.firstRetainedRevision);
    } finally {
      raw.close();
      await store.close();
      await member.stop();
    }
  }, 30_000);
});

describeWithTool(etcdTool, 'EtcdClassStore on an etcd with its default limits', () => {
  test("a commit beyond etcd's --max-txn-ops fails whole with STORE_TOO_LARGE; the store goes on", async () => {
    const member = await startEtcd({ etcdDefaults: true });
    const store = new EtcdClassStore({ endpoints: [member.endpoint], prefix: '/limits/' });
    try {
      await store.open();
      const ns = namespaceKeyOf(['root', 'cimv2']);
      await store.commit([
        { op: 'putNamespace', namespace: ns, record: { elements: ['root', 'cimv2'] } },
      ]);
      // 100 classes: a record and an index entry each, 200 operations > 128.
      const writes = Array.from({ length: 100 }, (_, i): StoreWrite => ({
        op: 'putClass',
        namespace: ns,
        definition: cls(`Big${i}`),
        previousSuperclass: undefined,
      }));
      const error = await rejected(StoreError, store.commit(writes));
      expect(error.code).toBe('STORE_TOO_LARGE');
      expect(error.message).toContain('--max-txn-ops');
      expect(await store.listClasses(ns)).toEqual([]);
      expect(store.revision).toBe(0n);
      await store.commit(writes.slice(0, 10));
      expect((await store.getClass(ns, classKey('Big9')))?.name).toBe('Big9');
    } finally {
      await store.close();
      await member.stop();
    }
  }, 30_000);
});
