import { MemoryClassStore } from '../../src/store/memory-class-store';
import { describeClassStoreContract } from './class-store.contract';

describeClassStoreContract('MemoryClassStore', async () => {
  const store = new MemoryClassStore();
  await store.open();
  return { store, cleanup: () => store.close() };
});
