import { describe, expect, it } from '@jest/globals';
import { UsageError } from './cli.io.js';
import { parseExactly, parseOptions } from './cli.options.js';

const SPEC = { file: 'string', json: 'boolean', 'cookie-name': 'string' } as const;

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('parsed');
}

describe(parseOptions.name, () => {
  it('reads values given apart or inline, flags, and positionals in any order', () => {
    expect(
      parseOptions(['a', '--file', 'x.yaml', '--json', '--cookie-name=-odd', '-', '--', '--b'], SPEC),
    ).toEqual({
      values: { file: 'x.yaml', json: true, 'cookie-name': '-odd' },
      positionals: ['a', '-', '--b'],
    });
    expect(parseOptions(['--file', '', '--file=y.json'], SPEC).values.file).toBe('y.json');
  });

  it.each([
    [['--colour', 'red'], 'unknown option --colour'],
    [['-f', 'x'], 'unknown option -f'],
    [['--constructor', 'x'], 'unknown option --constructor'],
    [['--file'], '--file needs a value'],
    [['--file', '--json'], '--file needs a value'],
    [['--json=true'], '--json takes no value'],
  ])('refuses %j', (args, message) => {
    expect(refusal(() => parseOptions(args, SPEC))).toBe(message);
  });

  it('counts the arguments when a command takes a fixed number', () => {
    expect(parseExactly(['alice', '--json'], SPEC, 1).positionals).toEqual(['alice']);
    expect(refusal(() => parseExactly(['alice', 'bob'], SPEC, 1))).toBe('expected 1 argument(s), got 2');
    expect(refusal(() => parseExactly([], SPEC, 1))).toBe('expected 1 argument(s), got 0');
  });
});
