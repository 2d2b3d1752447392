import { MessageQueue } from '../../src/transport/http/message-queue';
import { PROGRESS_BACKLOG } from '../../src/transport/grpc/wbem-operations';

/** Whether `promise` settled by the time queued callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

test('a send resolves once its message was taken and the reader came back for the next', async () => {
  const queue = new MessageQueue<string>();
  const reader = queue.messages();
  const first = queue.send('a');
  expect(await settled(first)).toBe(false);
  expect(await reader.next()).toEqual({ value: 'a', done: false });
  expect(await settled(first)).toBe(false); // handed out, not yet written
  const second = queue.send('b');
  expect(await reader.next()).toEqual({ value: 'b', done: false });
  expect(await settled(first)).toBe(true);
  expect(await settled(second)).toBe(false);
  queue.close();
  expect(await reader.next()).toEqual({ value: undefined, done: true });
  expect(await settled(second)).toBe(true);
});

test('a reader that stops at a message releases its sender; drop releases the rest and every later send', async () => {
  const queue = new MessageQueue<string>();
  const reader = queue.messages();
  const first = queue.send('a');
  const second = queue.send('b');
  await reader.next();
  await reader.return(undefined);
  expect(await settled(first)).toBe(true);
  expect(await settled(second)).toBe(false);
  queue.drop();
  expect(await settled(second)).toBe(true);
  expect(await settled(queue.send('c'))).toBe(true);
});

test('close ends the iteration after the messages still pending', async () => {
  const queue = new MessageQueue<number>();
  void queue.send(1);
  void queue.send(2);
  queue.close();
  const seen: number[] = [];
  for await (const message of queue.messages()) seen.push(message);
  expect(seen).toEqual([1, 2]);
});

test('a progress event is taken at once while fewer than the backlog wait; past it, it waits like any message', async () => {
  const queue = new MessageQueue<number>();
  const sends = Array.from({ length: PROGRESS_BACKLOG + 1 }, (_, i) => queue.send(i, true));
  const early = await Promise.all(sends.slice(0, PROGRESS_BACKLOG).map((send) => settled(send)));
  expect(early.every((done) => done)).toBe(true);
  const last = sends[PROGRESS_BACKLOG] as Promise<void>;
  expect(await settled(last)).toBe(false);
  expect(await settled(queue.send(-1))).toBe(false); // not a progress event: it waits
  queue.close();
  const seen: number[] = [];
  for await (const message of queue.messages()) seen.push(message);
  expect(seen).toEqual([...Array.from({ length: PROGRESS_BACKLOG + 1 }, (_, i) => i), -1]);
  expect(await settled(last)).toBe(true);
});
