import { globalOptionsLast, isClientCommand } from '../../src/cli/commands/program';

describe('the client subcommands take their shared options before or after the subcommand', () => {
  test.each([
    [
      ['class', 'get', 'X'],
      ['class', 'get', 'X'],
    ],
    [
      ['--address', 'h:1', 'class', 'get', 'X'],
      ['class', 'get', 'X', '--address', 'h:1'],
    ],
    [
      ['-N', 'root/a', '-o', 'json', 'namespace', 'list'],
      ['namespace', 'list', '-N', 'root/a', '-o', 'json'],
    ],
    [
      ['--token', 't', 'instance', 'put', 'C', '--', '-Name=x'],
      ['instance', 'put', 'C', '--token', 't', '--', '-Name=x'],
    ],
  ])('%j is parsed as %j', (argv, expected) => {
    expect(globalOptionsLast(argv)).toEqual(expected);
  });

  test.each([
    [['class', 'enum'], true],
    [['--address', 'h:1', 'watch'], true],
    [['serve', '--data', 'class'], false],
    [['mofcomp', 'class'], false],
    [['mofcomp', 'class.mof'], false],
    [['--address', 'h:1'], false],
    [[], false],
  ])('%j is a client subcommand: %s', (argv, expected) => {
    expect(isClientCommand(argv)).toBe(expected);
  });
});
