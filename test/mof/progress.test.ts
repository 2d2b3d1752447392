import { progressReporter } from '../../src/cli/progress';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = {
    isTTY,
    write: (chunk: string) => chunks.push(chunk) > 0,
  } as unknown as NodeJS.WriteStream;
  return { stream, text: () => chunks.join('') };
}

test('on a terminal: one bar redrawn in place, ending with a newline', () => {
  const { stream, text } = fakeStream(true);
  const progress = progressReporter(stream, 4);
  for (let i = 0; i < 4; i++) progress.step();
  progress.done();
  const frames = text().split('\r').filter(Boolean);
  expect(frames.at(-1)).toBe(`[${'#'.repeat(30)}] 4/4 classes\n`);
  expect(text()).not.toContain('\n[');
});

test('not a terminal: plain lines at each tenth, and the total once', () => {
  const { stream, text } = fakeStream(false);
  const progress = progressReporter(stream, 20);
  for (let i = 0; i < 20; i++) progress.step();
  progress.done();
  expect(text().split('\n').filter(Boolean)).toEqual(
    Array.from({ length: 10 }, (_, i) => `${(i + 1) * 2}/20 classes`),
  );
  expect(text()).not.toContain('\r');
});
