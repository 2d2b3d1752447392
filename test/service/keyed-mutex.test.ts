import { KeyedMutex } from '../../src/service/keyed-mutex';

describe('KeyedMutex', () => {
  test('one holder per key, FIFO; other keys are independent', async () => {
    const mutex = new KeyedMutex();
    const order: string[] = [];
    const first = await mutex.acquire('a');
    const queued = ['x', 'y', 'z'].map((name) =>
      mutex.acquire('a').then((release) => {
        order.push(name);
        release();
      }),
    );
    const other = await mutex.acquire('b'); // not blocked by 'a'
    other();
    expect(order).toEqual([]);
    first();
    await Promise.all(queued);
    expect(order).toEqual(['x', 'y', 'z']);
    const again = await mutex.acquire('a'); // the key is free again
    again();
  });

  test('a waiter whose signal aborts leaves the queue with the reason; the ones behind it still get the key', async () => {
    const mutex = new KeyedMutex();
    const holder = await mutex.acquire('a');
    const controller = new AbortController();
    const abandoned = mutex.acquire('a', controller.signal);
    const next = mutex.acquire('a');
    controller.abort(new Error('cancelled by the client'));
    await expect(abandoned).rejects.toThrow('cancelled by the client');
    holder();
    const release = await next;
    release();
    await expect(mutex.acquire('a', controller.signal)).rejects.toThrow('cancelled by the client'); // already aborted: at once
  });

  test('release is idempotent; acquireAll takes keys in sorted order and releases them all', async () => {
    const mutex = new KeyedMutex();
    const release = await mutex.acquire('k');
    release();
    release();
    const both = await mutex.acquireAll(['z', 'k', 'z']);
    let gotK = false;
    const waiting = mutex.acquire('k').then((r) => {
      gotK = true;
      r();
    });
    await Promise.resolve();
    expect(gotK).toBe(false);
    both();
    await waiting;
    expect(gotK).toBe(true);
  });
});
