import { MemoryClassStore } from '../../src/store/memory/memory-class-store';
import { describeClassStoreContract } from './class-store.contract';

describeClassStoreContract('MemoryClassStore', async (options) => {
  const store = new MemoryClassStore(options);
  await store.open();
  return { store, cleanup: () => store.close() };
});
