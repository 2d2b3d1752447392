/**
 * A replica's availability (health) over etcd: lost when etcd stops answering, back only when
 * etcd answers again and the view's watch is connected again (before that, every read would wait
 * for the view and fail); a watch that only moves to another member changes nothing.
 */
import { EtcdAvailability } from '../../src/store/etcd/etcd-availability';

function setUp(probe: () => Promise<unknown> = () => Promise.resolve()) {
  let watchConnected = true;
  const heard: boolean[] = [];
  const availability = new EtcdAvailability(() => watchConnected, probe, 500);
  availability.listen((available) => heard.push(available));
  return {
    availability,
    heard,
    setWatch(connected: boolean) {
      watchConnected = connected;
    },
  };
}

describe('EtcdAvailability', () => {
  afterEach(() => jest.useRealTimers());

  test('back only once etcd answers and the watch is connected again', () => {
    const { availability, heard, setWatch } = setUp();
    setWatch(false);
    availability.answered(false);
    expect(heard).toEqual([false]);
    availability.answered(true); // etcd answers, the watch is still reconnecting
    expect(heard).toEqual([false]);
    setWatch(true);
    availability.update(); // the view: the watch is connected again
    expect(heard).toEqual([false, true]);
    availability.stop();
  });

  test('a watch moving to another member while etcd answers changes nothing', () => {
    const { availability, heard, setWatch } = setUp();
    setWatch(false);
    availability.answered(true);
    availability.update();
    setWatch(true);
    availability.update();
    expect(heard).toEqual([]);
  });

  test('while etcd does not answer, a probe asks again every interval until it does', async () => {
    jest.useFakeTimers();
    let calls = 0;
    const { availability, heard } = setUp(() => {
      calls++;
      return calls < 3 ? Promise.reject(new Error('down')) : Promise.resolve();
    });
    availability.answered(false);
    for (let i = 0; i < 3; i++) {
      await jest.advanceTimersByTimeAsync(500);
    }
    expect(calls).toBe(3);
    availability.answered(true); // what the third probe's successful read reports
    await jest.advanceTimersByTimeAsync(2_000);
    expect(calls).toBe(3);
    expect(heard).toEqual([false, true]);
    availability.stop();
  });
});
