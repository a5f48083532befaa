import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { checkScript } from '../../src/script/check.js';

// checkScript is pure: no session, no sockets.

const check = (source: string, allowJs = false) => checkScript(source, COMMANDS, allowJs);

describe('checkScript: lines', () => {
  it('skips comments and blank lines and keeps 1-based line numbers', () => {
    const { lines, problems } = check(['# a lesson', '', '.listen 0 --reply echo', '   ', '  # indented comment', '.connect s1', '\t'].join('\n'));
    expect(problems).toEqual([]);
    expect(lines).toEqual([
      { number: 3, text: '.listen 0 --reply echo', kind: 'command' },
      { number: 6, text: '.connect s1', kind: 'command' },
    ]);
  });

  it('an empty script has no lines and no problems', () => {
    expect(check('')).toEqual({ lines: [], problems: [] });
    expect(check('\n\n# nothing\n')).toEqual({ lines: [], problems: [] });
  });

  it('reads CRLF files: no stray \\r in the lines, same numbers', () => {
    const { lines, problems } = check('# lesson\r\n.listen 0 --reply echo\r\n\r\n.send c1 hi\\n\r\n');
    expect(problems).toEqual([]);
    expect(lines.map((l) => [l.number, l.text])).toEqual([
      [2, '.listen 0 --reply echo'],
      [4, '.send c1 hi\\n'],
    ]);
  });

  it('finds a usage error on a CRLF line with the right number', () => {
    const { problems } = check('.listen 0\r\n.listen 0 --bogus\r\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]?.number).toBe(2);
  });

  it('reads a file that starts with a byte order mark', () => {
    const { lines, problems } = check('\ufeff.listen 0\n.connect s1\n');
    expect(problems).toEqual([]);
    expect(lines.map((l) => l.kind)).toEqual(['command', 'command']);
  });

  it('a line starting with a dot and a digit is JavaScript, not a command', () => {
    const { lines } = check('.5 + 1', true);
    expect(lines).toEqual([{ number: 1, text: '.5 + 1', kind: 'js' }]);
  });
});

describe('checkScript: JavaScript lines', () => {
  const script = ['.listen 0', '.connect s1', 'c1.setNoDelay(true)', '# fine', 'session.list()'].join('\n');

  it('refuses JavaScript without allowJs, naming the line number and its length, never quoting it (review #6)', () => {
    const { problems } = check(script);
    expect(problems.map((p) => p.number)).toEqual([3, 5]);
    expect(problems[0]?.message).not.toContain('setNoDelay');
    expect(problems[0]?.message).toMatch(/^JavaScript line refused \(\d+ characters, not quoted\)/);
    expect(problems[0]?.message).toContain('--allow-js');
  });

  it('accepts it with allowJs, as js lines in order with the commands', () => {
    const { lines, problems } = check(script, true);
    expect(problems).toEqual([]);
    expect(lines.map((l) => [l.number, l.kind])).toEqual([
      [1, 'command'],
      [2, 'command'],
      [3, 'js'],
      [5, 'js'],
    ]);
  });

  it('a long JavaScript line: its length, not its text', () => {
    const long = `x = "${'a'.repeat(200)}"`;
    const { problems } = check(long);
    expect(problems[0]?.message).toContain('(206 characters, not quoted)');
    expect(problems[0]?.message).not.toContain('aaa');
  });
});

describe('checkScript: usage errors are found before anything runs', () => {
  it.each([
    ['unknown command', '.lisen 0', /unknown command \.lisen: did you mean \.listen\?/],
    ['unknown option', '.listen 0 --rply echo', /unknown option --rply: did you mean --reply\?/],
    ['flag given a value', '.listen 0 --half-open=yes', /--half-open takes no value/],
    ['option without its value', '.connect s1 --timeout', /--timeout needs a value/],
    ['bad number', '.connect s1 --count many', /--count takes a whole number/],
    ['bad duration', '.wait s1 accept --timeout soon', /soon/],
    ['missing argument', '.send c1', /missing PAYLOAD/],
    ['extra argument', '.end c1 c2', /unexpected "c2"/],
    ['unterminated quote', '.listen 0 --reply "echo', /unterminated double quote/],
    ['unknown event to wait for', '.wait s1 bogus', /cannot wait for "bogus": use one of listening/],
    ['as NAME on a kind other than accept', '.wait c1 data as x', /`as NAME` goes with accept/],
    ['bad trailing --timeout of .expect', '.expect c1 hi --timeout soon', /bad duration "soon"/],
    ['bad regex', '.expect c1 /a(/', /bad regex \/a\(\//],
    ['bad duration of .sleep', '.sleep abc', /bad duration "abc"/],
    ['bad escape in a payload', '.send c1 bad \\q', /bad escape "\\q"/],
    ['bad listen port', '.listen 70000', /port 70000 is out of range/],
    ['unknown template placeholder', '.listen 0 --reply {foo}', /\{foo\}/],
  ])('%s', (_name, line, message) => {
    const { lines, problems } = check(`.listen 0\n${line}\n.connect s1`);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.number).toBe(2);
    expect(problems[0]?.message).toMatch(message);
    // Every line is still listed: the runner refuses the whole script.
    expect(lines.map((l) => l.number)).toEqual([1, 2, 3]);
  });

  it('reports every problem, in line order', () => {
    const { problems } = check('.bogus\n.listen 0\n.listen 0 --nope\nc1.end()\n');
    expect(problems.map((p) => p.number)).toEqual([1, 3, 4]);
  });

  it('shows the usage of the command with the error', () => {
    const { problems } = check('.expect c1');
    expect(problems[0]?.message).toContain('usage: .expect ID PATTERN [--timeout MS]');
  });

  it('refuses a line longer than the limit without trying to parse it', () => {
    const { problems } = check(`.send c1 ${'a'.repeat(1024 * 1024 + 1)}`);
    expect(problems[0]?.message).toMatch(/longer than/);
  });
});

describe('checkScript: property', () => {
  const fragments = fc.constantFrom(
    '.listen 0',
    '.connect s1',
    '.send c1 hi\\n',
    '.expect c1 /x/',
    '.wait s1 accept as peer',
    '.',
    '..',
    '.x',
    '#',
    '"',
    "'",
    '--',
    '--timeout',
    ' as ',
    '\\',
    '\r',
    '\n',
    '\r\n',
    '\t',
    '\ufeff',
    'c1.end()',
  );
  const text = fc.oneof(fc.string({ unit: 'binary' }), fc.array(fc.oneof(fragments, fc.string()), { maxLength: 20 }).map((parts) => parts.join('')));

  it('never throws: any text yields lines and problems that account for every non-blank line', () => {
    fc.assert(
      fc.property(text, fc.boolean(), (source, allowJs) => {
        const { lines, problems } = check(source, allowJs);
        const all = source.split(/\r?\n/);
        const significant = all.map((t, i) => ({ t: t.trim(), n: i + 1 })).filter(({ t }) => t !== '' && !t.startsWith('#'));
        expect(lines.map((l) => l.number)).toEqual(significant.map((s) => s.n));
        for (const l of lines) expect(l.text).toBe(all[l.number - 1]);
        for (const p of problems) {
          expect(p.number).toBeGreaterThanOrEqual(1);
          expect(p.number).toBeLessThanOrEqual(all.length);
          expect(typeof p.message).toBe('string');
          expect(p.message.length).toBeGreaterThan(0);
        }
        if (allowJs) expect(problems.every((p) => lines.find((l) => l.number === p.number)?.kind === 'command')).toBe(true);
        else expect(lines.filter((l) => l.kind === 'js').every((l) => problems.some((p) => p.number === l.number))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
