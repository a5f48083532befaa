import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapingWriter } from '../../src/render/inspect.js';
import { rawControls } from '../hostile/helpers.js';

const OSC = '\x1b]0;pwned\x07';
// The SGR codes util.inspect's styles use; everything else must come out escaped.
const PALETTE = /\x1b\[(?:1|22|4|24|3[0-9]|90)m/g;

describe('escapingWriter: the REPL writer', () => {
  it('without colours: inspect, then the escaping table', () => {
    const write = escapingWriter(() => false);
    expect(write('a\u202eb\u3164')).toBe("'a\\u{202e}b\\u{3164}'");
    expect(write(new Error(OSC)).split('\n')[0]).toBe('Error: \\x1b]0;pwned\\x07');
    expect(write({ [`k${OSC}`]: Symbol('\u200b') })).toBe("{ 'k\\x1B]0;pwned\\x07': Symbol(\\u{200b}) }");
  });

  it('with colours: inspect keeps its palette, a cursor move or a title in a name is escaped', () => {
    const write = escapingWriter(() => true);
    expect(write('x\u202e')).toBe("\x1b[32m'x\\u{202e}'\x1b[39m");
    const named = Object.defineProperty(() => 1, 'name', { value: `\x1b[2J${OSC}` });
    const out = write(named);
    expect(out).toContain('\\x1b[2J\\x1b]0;pwned\\x07');
    expect(rawControls(Buffer.from(out.replace(PALETTE, '')))).toEqual([]);
  });

  it('reads the colour setting on every call (`.set color`)', () => {
    let colors = false;
    const write = escapingWriter(() => colors);
    expect(write(1)).toBe('1');
    colors = true;
    expect(write(1)).toBe('\x1b[33m1\x1b[39m');
  });
});

describe('escapeInspected', () => {
  it('leaves no raw control, whatever the text (seeded samples)', () => {
    // Code points of every plane, lone surrogates included.
    const text = fc.array(fc.oneof(fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0x10ffff })), { maxLength: 40 }).map((cps) => cps.map((c) => (c < 0x10000 ? String.fromCharCode(c) : String.fromCodePoint(c))).join(''));
    const cases = fc.sample(fc.tuple(text, fc.boolean()), { seed: 9, numRuns: 300 });
    const dirty = cases.filter(([s, colors]) => {
      const value = { [s]: s, f: Object.defineProperty(() => 1, 'name', { value: s }), sym: Symbol(s), e: new Error(s) };
      const out = escapingWriter(() => colors)(value);
      return rawControls(Buffer.from(colors ? out.replace(PALETTE, '') : out)).length > 0;
    });
    expect(dirty).toEqual([]);
  });
});

describe('colour codes inside a value are not inspect\'s (review #2)', () => {
  const RED = '\x1b[31m';
  for (const colors of [false, true]) {
    it(`a Symbol description, an error name from a getter, a class name: escaped (colours ${colors ? 'on' : 'off'})`, () => {
      const write = escapingWriter(() => colors);
      class X extends Error {
        override get name(): string {
          return `${RED}N`;
        }
      }
      const named = Object.defineProperty(class {}, 'name', { value: `${RED}K` });
      for (const value of [[Symbol(RED)], Symbol(`${RED}x`), new X('m'), named, new Map([[Symbol(RED), 1]]), { [Symbol(RED)]: RED }]) {
        const out = write(value);
        // Every raw ESC left is one of inspect's own, so the value's `[31m` shows as text.
        expect(out).toMatch(/\\x1[bB]\[31m/);
        if (!colors) expect(out).not.toContain('\x1b');
        else expect(out.replace(PALETTE, '')).not.toContain('\x1b');
      }
    });
  }

  it('inspect\'s own colours stay, and its palette is restored after each call', () => {
    const before = JSON.stringify(inspect.styles);
    expect(escapingWriter(() => true)([1, 'a', /r/])).toBe("[ \x1b[33m1\x1b[39m, \x1b[32m'a'\x1b[39m, \x1b[31m/r/\x1b[39m ]");
    expect(JSON.stringify(inspect.styles)).toBe(before);
    expect(Object.keys(inspect.colors).filter((k) => k.startsWith('socklab'))).toEqual([]);
  });
});
