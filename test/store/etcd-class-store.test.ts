import { randomUUID } from 'node:crypto';
import type { ClassStore } from '../../src/store/class-store';
import { EtcdClassStore } from '../../src/store/etcd/etcd-class-store';
import { startEtcd, etcdTool, type EtcdMember } from '../helpers/etcd';
import { describeWithTool } from '../helpers/external-tools';
import { describeClassStoreContract } from './class-store.contract';

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
