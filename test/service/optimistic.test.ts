/**
 * Optimistic transactions in the service (src/service/optimistic.ts): a fenced commit that meets
 * a concurrent one makes the operation load and decide again, with nothing written, at most
 * MAX_DECISION_ATTEMPTS times, then WBEM_E_SERVER_TOO_BUSY.
 */
import { classKey, namespaceKeyOf } from '../../src/domain/names';
import { MAX_DECISION_ATTEMPTS } from '../../src/service/optimistic';
import { failedCommit } from '../../src/store/abstract-class-store';
import { StoreError, type CommitHandle } from '../../src/store/class-store';
import { MemoryClassStore } from '../../src/store/memory/memory-class-store';
import { cls, ctx, failureOf, serviceFixture } from './fixtures';

/** A memory store whose next `conflicts` fenced commits meet a concurrent one. */
function conflictingStore(conflicts: number): {
  store: MemoryClassStore;
  reads: () => number;
  commits: () => number;
} {
  const store = new MemoryClassStore();
  let reads = 0;
  let commits = 0;
  let left = conflicts;
  const beginRead = store.beginRead.bind(store);
  const commitIf = store.commitIf.bind(store);
  store.beginRead = (scopes) => {
    reads++;
    return beginRead(scopes);
  };
  store.commitIf = (fence, writes): CommitHandle => {
    commits++;
    if (left-- > 0) return failedCommit(new StoreError('STORE_CONFLICT', 'raced'));
    return commitIf(fence, writes);
  };
  return { store, reads: () => reads, commits: () => commits };
}

test('a conflict makes the decision run again from the load; the second attempt commits', async () => {
  const { store, reads, commits } = conflictingStore(2);
  const f = await serviceFixture(store);
  const before = reads();
  const { outcome } = await f.put(cls('Ex_Raced'));
  expect(outcome.ok).toBe(true);
  expect(reads() - before).toBe(3);
  expect(commits()).toBe(3);
  expect(f.changes.map((c) => c.target.name)).toEqual(['Ex_Raced']);
});

test(`${MAX_DECISION_ATTEMPTS} conflicts in a row: WBEM_E_SERVER_TOO_BUSY, nothing written`, async () => {
  const { store, commits } = conflictingStore(1000);
  const f = await serviceFixture(store);
  const { outcome } = await f.put(cls('Ex_Never'));
  expect(failureOf(outcome)).toBe('WBEM_E_SERVER_TOO_BUSY');
  expect(commits()).toBe(MAX_DECISION_ATTEMPTS);
  expect(
    await store.getClass(namespaceKeyOf(['root', 'cimv2']), classKey('Ex_Never')),
  ).toBeUndefined();
  await expect(f.service.createNamespace('root', 'busy', ctx())).rejects.toMatchObject({
    status: 'WBEM_E_SERVER_TOO_BUSY',
  });
});

test('ten attempts (D70): nine conflicts in a row, and the tenth attempt commits', async () => {
  expect(MAX_DECISION_ATTEMPTS).toBe(10);
  const { store, commits } = conflictingStore(MAX_DECISION_ATTEMPTS - 1);
  const f = await serviceFixture(store);
  const { outcome } = await f.put(cls('Ex_Tenth'));
  expect(outcome.ok).toBe(true);
  expect(commits()).toBe(MAX_DECISION_ATTEMPTS);
  expect(f.changes.map((c) => c.target.name)).toEqual(['Ex_Tenth']);
});

test('the embedded stores check their fences for real: a commit in between is a conflict', async () => {
  const store = new MemoryClassStore();
  await store.open();
  const ns = namespaceKeyOf(['root', 'cimv2']);
  await store.commit([
    { op: 'putNamespace', namespace: ns, record: { elements: ['root', 'cimv2'] } },
  ]);
  const fence = await store.beginRead([ns]);
  await store.commit([
    { op: 'putClass', namespace: ns, definition: cls('Ex_First'), previousSuperclass: undefined },
  ]);
  const late = store.commitIf(fence, [
    { op: 'putClass', namespace: ns, definition: cls('Ex_Second'), previousSuperclass: undefined },
  ]);
  await expect(late.committed).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
  expect(await store.getClass(ns, classKey('Ex_Second'))).toBeUndefined();
});
