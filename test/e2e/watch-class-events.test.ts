import {
  Metadata,
  status as Code,
  type ClientReadableStream,
  type StatusObject,
} from '@grpc/grpc-js';
import type {
  ClassEvent,
  GetClassResponse,
  PutClassResponse,
  WatchClassEventsRequest,
} from '../../generated/wbem/v1/services';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { callEnd, deadline, flatten, responseOf, unary, type CallEnd } from '../helpers/transcript';
import { cls, keyed, p } from './fixtures';

let t: TestServer;
beforeEach(async () => {
  t = await startTestServer();
});
afterEach(async () => {
  await t.close();
});

/** An open watch: messages as they come, the headers, and the end once it comes. */
interface OpenWatch {
  readonly call: ClientReadableStream<ClassEvent>;
  readonly events: ClassEvent[];
  readonly headers: Promise<Record<string, string>>;
  readonly end: Promise<CallEnd>;
  /** Resolves once at least `count` events arrived (a gate, not a sleep). */
  waitFor(count: number): Promise<void>;
}

function watch(request: Partial<WatchClassEventsRequest> = {}): OpenWatch {
  const call = t.client.watchClassEvents(
    { namespace: 'root/cimv2', className: '', ...request },
    new Metadata(),
    deadline(),
  );
  const events: ClassEvent[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const headers = new Promise<Record<string, string>>((resolve) =>
    call.on('metadata', (metadata: Metadata) => resolve(flatten(metadata))),
  );
  const status = new Promise<StatusObject>((resolve) => call.on('status', resolve));
  call.on('data', (event: ClassEvent) => {
    events.push(event);
    for (const waiter of waiters.filter((w) => events.length >= w.count)) waiter.resolve();
  });
  call.on('error', () => undefined); // the end is read from 'status', with its trailers
  return {
    call,
    events,
    headers,
    end: status.then(callEnd),
    waitFor: (count) =>
      events.length >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
  };
}

async function put(className: string, superclass = ''): Promise<PutClassResponse> {
  return responseOf(
    await unary<PutClassResponse>((cb) =>
      t.client.putClass(
        { namespace: 'root/cimv2', object: keyedOrSub(className, superclass), flags: 0 },
        new Metadata(),
        deadline(),
        cb,
      ),
    ),
  );
}

const keyedOrSub = (className: string, superclass: string) =>
  superclass === '' ? keyed(className) : cls(className, superclass);

async function cancelled(w: OpenWatch): Promise<void> {
  w.call.cancel();
  expect((await w.end).code).toBe(Code.CANCELLED);
}

const summary = (events: readonly ClassEvent[]) =>
  events.map((e) => [e.eventClass, e.targetClass?.className, e.revision]);

describe('WatchClassEvents over gRPC', () => {
  test('live events: headers with wbem-revision at once, then each change with its revision, classes as written with system properties', async () => {
    await put('Ex_Before');
    const w = watch();
    expect(await w.headers).toMatchObject({
      'wbem-revision': '1',
      'wbem-operation-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const created = await put('Ex_Base');
    expect(created.revision).toBe(2n);
    await put('Ex_Sub', 'Ex_Base');
    const context = {
      values: { __CorrelationId: { kind: { $case: 'string' as const, string: 'corr-7' } } },
    };
    const modified = responseOf(
      await unary<PutClassResponse>((cb) =>
        t.client.putClass(
          {
            namespace: 'root/cimv2',
            object: cls('Ex_Sub', 'Ex_Base', [p('Extra')]),
            flags: 0,
            context,
          },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(modified.revision).toBe(4n);
    await w.waitFor(3);
    expect(summary(w.events)).toEqual([
      ['__ClassCreationEvent', 'Ex_Base', 2n],
      ['__ClassCreationEvent', 'Ex_Sub', 3n],
      ['__ClassModificationEvent', 'Ex_Sub', 4n],
    ]);
    const modification = w.events[2];
    expect(modification?.namespace).toBe('root\\cimv2');
    expect(modification?.context).toEqual(context);
    expect(modification?.operationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(modification?.targetClass?.properties.map((prop) => prop.name)).toEqual(['Extra']); // local members only
    expect(modification?.previousClass?.properties).toEqual([]);
    expect(modification?.targetClass?.system).toMatchObject({
      genus: 1,
      class: 'Ex_Sub',
      superclass: 'Ex_Base',
      derivation: ['Ex_Base'],
      path: '\\\\TESTHOST\\root\\cimv2:Ex_Sub',
      relpath: 'Ex_Sub',
      server: 'TESTHOST',
    });
    const read = responseOf(
      await unary<GetClassResponse>((cb) =>
        t.client.getClass(
          { namespace: 'root/cimv2', className: 'Ex_Sub', localOnly: false, asMof: false },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(read.revision).toBe(4n);
    await cancelled(w);
  });

  test('the ISA filter: only the class and its subclasses', async () => {
    const w = watch({ className: 'Ex_Base' });
    await put('Other');
    await put('Ex_Base');
    await put('Ex_Sub', 'Ex_Base');
    await put('Last');
    const deleted = responseOf(
      await unary((cb) =>
        t.client.deleteClass(
          { namespace: 'root/cimv2', className: 'Ex_Base', flags: 0 },
          new Metadata(),
          deadline(),
          cb,
        ),
      ),
    );
    expect(deleted).toEqual({ deletedClasses: ['Ex_Base', 'Ex_Sub'] });
    await w.waitFor(4);
    expect(summary(w.events)).toEqual([
      ['__ClassCreationEvent', 'Ex_Base', 2n],
      ['__ClassCreationEvent', 'Ex_Sub', 3n],
      ['__ClassDeletionEvent', 'Ex_Base', 5n],
      ['__ClassDeletionEvent', 'Ex_Sub', 6n],
    ]);
    await cancelled(w);
  });

  test('a watcher that reconnects with its last revision gets exactly the events it missed, none twice', async () => {
    const first = watch();
    await put('A');
    await put('B');
    await first.waitFor(2);
    const last = first.events.at(-1)?.revision;
    expect(last).toBe(2n);
    await cancelled(first);
    await put('C');
    await put('D');
    const again = watch({ sinceRevision: last });
    expect(await again.headers).toMatchObject({ 'wbem-revision': '4' });
    await again.waitFor(2);
    await put('E');
    await again.waitFor(3);
    expect(summary(again.events)).toEqual([
      ['__ClassCreationEvent', 'C', 3n],
      ['__ClassCreationEvent', 'D', 4n],
      ['__ClassCreationEvent', 'E', 5n],
    ]);
    await cancelled(again);
  });

  test('since_revision older than the log retains: OUT_OF_RANGE with WBEM_E_QUEUE_OVERFLOW at once, no events', async () => {
    await t.close();
    t = await startTestServer({ eventRetention: 2 });
    for (const name of ['A', 'B', 'C', 'D']) await put(name);
    const w = watch({ sinceRevision: 1n });
    const end = await w.end;
    expect(end).toMatchObject({
      code: Code.OUT_OF_RANGE,
      trailers: { 'wbem-status': 'WBEM_E_QUEUE_OVERFLOW' },
    });
    expect(w.events).toEqual([]);
  });

  test('an unknown namespace is NOT_FOUND (WBEM_E_INVALID_NAMESPACE) at once', async () => {
    const end = await watch({ namespace: 'root/nowhere' }).end;
    expect(end).toMatchObject({
      code: Code.NOT_FOUND,
      trailers: { 'wbem-status': 'WBEM_E_INVALID_NAMESPACE' },
    });
  });

  test('server shutdown ends the watch with UNAVAILABLE (WBEM_E_SHUTTING_DOWN) and the server stops without waiting for it', async () => {
    await t.close();
    // A drain that waited for the watch would outlive the test's timeout by far.
    t = await startTestServer({ shutdownGraceMs: 600_000 });
    const w = watch();
    await w.headers;
    await put('A');
    await w.waitFor(1);
    await t.server.stop();
    expect(await w.end).toMatchObject({
      code: Code.UNAVAILABLE,
      trailers: { 'wbem-status': 'WBEM_E_SHUTTING_DOWN' },
    });
  });
});
