import { ObjectSink, StagedProgress } from '../../src/service/object-sink';
import { RecordingPort } from '../helpers/recording-port';

const progressOf = (port: RecordingPort) =>
  port.events.map((event) =>
    event.kind === 'progress' ? [event.current, event.total, event.message] : event.kind,
  );

describe('StagedProgress (D8, D49)', () => {
  test('numbers the stages finished out of finished plus planned; a learnt stage adds to both', async () => {
    const port = new RecordingPort();
    const stages = new StagedProgress(new ObjectSink(port, true), ['a', 'b', 'c']);
    stages.finish('a');
    stages.finish('learnt');
    await stages.report();
    stages.finish('b');
    stages.finish('c');
    await stages.report();
    expect(progressOf(port)).toEqual([
      [1, 4, 'a'],
      [2, 4, 'learnt'],
      [3, 4, 'b'],
      [4, 4, 'c'],
    ]);
  });

  test('a report sends only what was finished since the last one; an early end keeps the planned total', async () => {
    const port = new RecordingPort();
    const stages = new StagedProgress(new ObjectSink(port, true), ['a', 'b', 'c', 'd']);
    stages.finish('a');
    await stages.report();
    await stages.report();
    expect(progressOf(port)).toEqual([[1, 4, 'a']]);
  });

  test('without SEND_STATUS nothing is sent', async () => {
    const port = new RecordingPort();
    const stages = new StagedProgress(new ObjectSink(port, false), ['a', 'b']);
    stages.finish('a');
    stages.finish('b');
    await stages.report();
    expect(port.events).toEqual([]);
  });

  test('planned stages finish in order: skipping one is a bug', () => {
    const stages = new StagedProgress(new ObjectSink(new RecordingPort(), true), ['a', 'b']);
    expect(() => stages.finish('b')).toThrow('StagedProgress: "b" before "a"');
  });
});
