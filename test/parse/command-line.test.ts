import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { SocklabError } from '../../src/errors.js';
import { parseArgs, readToken, splitCommand, type ArgsSpec } from '../../src/parse/command-line.js';

const LISTEN: ArgsSpec = {
  usage: '.listen ADDRESS [opts] [as NAME]',
  positionals: ['ADDRESS'],
  alias: true,
  options: {
    reply: { type: 'string', value: 'SPEC', help: '' },
    greet: { type: 'string', value: 'PAYLOAD', help: '' },
    timeout: { type: 'duration', value: 'MS', help: '' },
    max: { type: 'int', value: 'N', min: 1, help: '' },
    port: { type: 'int', value: 'P', min: 1, max: 65535, help: '' },
    'half-open': { type: 'flag', help: '' },
  },
};
const SEND: ArgsSpec = {
  usage: '.send [opts] TARGET PAYLOAD',
  positionals: ['TARGET', 'PAYLOAD'],
  rest: true,
  options: { repeat: { type: 'int', value: 'N', min: 1, help: '' }, eol: { type: 'flag', help: '' } },
};

function usageError(fn: () => unknown): SocklabError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SocklabError);
    return err as SocklabError;
  }
  throw new Error('expected a SocklabError');
}

describe('splitCommand', () => {
  it.each([
    ['.listen 0 --reply echo', 'listen', '0 --reply echo'],
    ['  .ls  ', 'ls', ''],
    ['.send c1   two  spaces ', 'send', 'c1   two  spaces'],
    ['.help', 'help', ''],
    ['.', '', ''],
    ['.send\tc1 x', 'send', 'c1 x'],
  ])('%j → %j + %j', (line, name, rest) => {
    expect(splitCommand(line)).toEqual({ name, rest });
  });
});

describe('readToken', () => {
  it.each([
    ['plain rest', 0, 'plain', 5],
    ["'single quoted' x", 0, 'single quoted', 15],
    ['"double \\"q\\"" x', 0, 'double \\"q\\"', 14],
    ['a"b c"d e', 0, 'ab cd', 7],
    ['"it\'s" x', 0, "it's", 6],
    ['x  y', 3, 'y', 4],
    ["''", 0, '', 2],
  ])('%j at %i → %j ending at %i', (input, start, value, end) => {
    expect(readToken(input, start)).toEqual({ value, end });
  });

  it('an unterminated quote is a usage error naming the column (shifted by offset)', () => {
    expect(usageError(() => readToken('ab "cd', 3)).message).toBe('unterminated double quote at column 4: close it with "');
    expect(usageError(() => readToken("'x", 0, 10)).message).toBe("unterminated single quote at column 11: close it with '");
  });
});

describe('parseArgs', () => {
  it('positionals, options with a space or =, flags', () => {
    expect(parseArgs(LISTEN, '9000 --reply echo --max=3 --half-open --timeout 2s')).toEqual({
      positionals: ['9000'],
      options: { reply: 'echo', max: 3, 'half-open': true, timeout: 2000 },
    });
  });

  it('quoted option values keep their spaces and escapes as typed', () => {
    expect(parseArgs(LISTEN, `0 --reply 'You said "{upper}"' --greet "hi\\n there"`).options).toEqual({
      reply: 'You said "{upper}"',
      greet: 'hi\\n there',
    });
    expect(parseArgs(LISTEN, '0 --reply=\'a b\'').options.reply).toBe('a b');
  });

  it('as NAME at the end gives the alias', () => {
    expect(parseArgs(LISTEN, '0 --reply echo as srv')).toEqual({ positionals: ['0'], options: { reply: 'echo' }, alias: 'srv' });
    expect(parseArgs(LISTEN, '0 as   bob ').alias).toBe('bob');
  });

  it('"as NAME" inside a quoted value is part of the value, not an alias', () => {
    expect(parseArgs(LISTEN, '0 --greet "hello as bob"')).toEqual({ positionals: ['0'], options: { greet: 'hello as bob' } });
    expect(parseArgs(LISTEN, "0 --reply 'x as y' as z")).toEqual({ positionals: ['0'], options: { reply: 'x as y' }, alias: 'z' });
  });

  it('without alias support, `as NAME` is just words', () => {
    expect(parseArgs(SEND, 'c1 known as bob').positionals).toEqual(['c1', 'known as bob']);
  });

  it('the rest payload keeps spaces and quotes exactly as typed', () => {
    expect(parseArgs(SEND, 'c1   "  two  spaces  "  ').positionals).toEqual(['c1', '"  two  spaces  "']);
    expect(parseArgs(SEND, "c1 it's a 'test' \\n").positionals).toEqual(['c1', "it's a 'test' \\n"]);
    expect(parseArgs(SEND, 'c1 a   b').positionals).toEqual(['c1', 'a   b']);
  });

  it('options only before the payload: after it they are payload text', () => {
    expect(parseArgs(SEND, '--repeat 2 --eol c1 x')).toEqual({ positionals: ['c1', 'x'], options: { repeat: 2, eol: true } });
    expect(parseArgs(SEND, '--eol c1 hello --eol')).toEqual({ positionals: ['c1', 'hello --eol'], options: { eol: true } });
    // Before the payload starts, a --word is still an option; a payload that starts with -- is quoted.
    expect(parseArgs(SEND, 'c1 --repeat 2 x')).toEqual({ positionals: ['c1', 'x'], options: { repeat: 2 } });
    expect(parseArgs(SEND, 'c1 "--repeat 2"')).toEqual({ positionals: ['c1', '"--repeat 2"'], options: {} });
  });

  it.each([
    [LISTEN, '', 'missing ADDRESS — usage: .listen ADDRESS [opts] [as NAME]'],
    [LISTEN, '1 2', 'unexpected "2" — usage: .listen ADDRESS [opts] [as NAME]'],
    [LISTEN, '0 --rely x', 'unknown option --rely: did you mean --reply? options: --reply --greet --timeout --max --port --half-open — usage: .listen ADDRESS [opts] [as NAME]'],
    [LISTEN, '0 --zzzzzz', 'unknown option --zzzzzz: options: --reply --greet --timeout --max --port --half-open — usage: .listen ADDRESS [opts] [as NAME]'],
    [LISTEN, '0 --max', '--max needs a value (N) — usage: .listen ADDRESS [opts] [as NAME]'],
    [LISTEN, '0 --max 0', '--max takes a whole number ≥ 1, not "0" — usage: .listen ADDRESS [opts] [as NAME]'],
    [LISTEN, '0 --max -1', '--max takes a whole number ≥ 1, not "-1" — usage: .listen ADDRESS [opts] [as NAME]'],
    [LISTEN, '0 --port 70000', '--port takes a whole number from 1 to 65535, not "70000" — usage: .listen ADDRESS [opts] [as NAME]'],
    [LISTEN, '0 --max 1.5', '--max takes a whole number ≥ 1, not "1.5" — usage: .listen ADDRESS [opts] [as NAME]'],
    [LISTEN, '0 --half-open=1', '--half-open takes no value — usage: .listen ADDRESS [opts] [as NAME]'],
    [SEND, 'c1', 'missing PAYLOAD — usage: .send [opts] TARGET PAYLOAD'],
    [SEND, '--eol', 'missing TARGET — usage: .send [opts] TARGET PAYLOAD'],
  ])('usage error %#: %j', (spec, text, message) => {
    const err = usageError(() => parseArgs(spec, text));
    expect(err.code).toBe('E_USAGE');
    expect(err.message).toBe(message);
  });

  it('a bad duration keeps its own code', () => {
    expect(usageError(() => parseArgs(LISTEN, '0 --timeout soon')).code).toBe('E_BAD_DURATION');
  });

  it('error columns count from the start of the typed line when given the offset', () => {
    expect(usageError(() => parseArgs(LISTEN, '0 --greet "x', 8)).message).toMatch(/column 19/);
    expect(usageError(() => parseArgs(LISTEN, '  0 "x', 8)).message).toMatch(/column 13/);
  });
});

describe('parseArgs: names of Object.prototype are not options', () => {
  it.each(['toString', 'constructor', '__proto__', 'valueOf'])('--%s is unknown', (name) => {
    const ls = COMMANDS.get('ls')!;
    expect(() => parseArgs(ls.args, `--${name}=1`)).toThrow(/unknown option/);
  });
});

describe('property: any input parses or throws a SocklabError', () => {
  const pieces = fc.constantFrom(' ', '  ', '"', "'", '\\', '--', '=', 'as', 'x', '0', '--reply', '--max', '--half-open', '--eol', '--repeat', 'é', '\t');
  const lines = fc.oneof(fc.string(), fc.array(pieces, { maxLength: 12 }).map((a) => a.join('')));

  it('parseArgs over a spec with and without rest/alias', () => {
    fc.assert(
      fc.property(lines, (text) => {
        for (const spec of [LISTEN, SEND]) {
          try {
            const parsed = parseArgs(spec, text);
            expect(parsed.positionals.length).toBeGreaterThanOrEqual(spec.required ?? spec.positionals.length);
          } catch (err) {
            if (!(err instanceof SocklabError)) throw err;
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('every real command spec, through splitCommand', () => {
    const specs = [...COMMANDS.values()].map((c) => c.args);
    fc.assert(
      fc.property(lines, fc.constantFrom(...specs), (text, spec) => {
        try {
          const { rest } = splitCommand(`.x ${text}`);
          parseArgs(spec, rest, 3);
        } catch (err) {
          if (!(err instanceof SocklabError)) throw err;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
