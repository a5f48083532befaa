import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeBytes, escapeText, StreamEscaper } from '../../src/render/escape.js';

const FORBIDDEN = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);


/** Escape `buf` through one StreamEscaper, cut at `cutsRaw` (any naturals, folded into range). */
function escapeInPieces(buf: Uint8Array, cutsRaw: number[]): string {
  const cuts = [...new Set(cutsRaw.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const esc = new StreamEscaper();
  let text = '';
  let prev = 0;
  for (const cut of [...cuts, buf.length]) {
    text += esc.write(buf.subarray(prev, cut)).text;
    prev = cut;
  }
  return text + esc.flush();
}

describe('escapeBytes', () => {
  it.each<[string, Uint8Array, string]>([
    ['plain ASCII', utf8('hello world'), 'hello world'],
    ['backslash and quote', utf8('a\\b"c'), 'a\\\\b\\"c'],
    ['LF CR TAB NUL', bytes(0x0a, 0x0d, 0x09, 0x00), '\\n\\r\\t\\0'],
    ['CR alone (overwrites the line)', utf8('ok\rFAIL'), 'ok\\rFAIL'],
    ['BS, BEL, DEL', bytes(0x08, 0x07, 0x7f), '\\x08\\x07\\x7f'],
    ['ESC/CSI clear screen', utf8('\x1b[2J'), '\\x1b[2J'],
    ['OSC 52 clipboard', utf8('\x1b]52;c;aGk=\x07'), '\\x1b]52;c;aGk=\\x07'],
    ['OSC 8 hyperlink', utf8('\x1b]8;;http://x\x1b\\a\x1b]8;;\x1b\\'), '\\x1b]8;;http://x\\x1b\\\\a\\x1b]8;;\\x1b\\\\'],
    ['DCS', utf8('\x1bP1$r\x1b\\'), '\\x1bP1$r\\x1b\\\\'],
    ['raw C1 CSI byte', bytes(0x9b, 0x32, 0x4a), '\\x9b2J'],
    ['raw C1 range', bytes(0x80, 0x90, 0x9d, 0x9f), '\\x80\\x90\\x9d\\x9f'],
    ['UTF-8 encoded C1 U+009B', bytes(0xc2, 0x9b, 0x32, 0x4a), '\\u{009b}2J'],
    ['UTF-8 encoded NEL U+0085', bytes(0xc2, 0x85), '\\u{0085}'],
    ['lone ff', bytes(0x41, 0xff, 0x42), 'A\\xffB'],
    ['truncated e4 bd at end', bytes(0xe4, 0xbd), '\\xe4\\xbd'],
    ['truncated e4 bd then ASCII', bytes(0xe4, 0xbd, 0x41), '\\xe4\\xbdA'],
    ['overlong c0 af', bytes(0xc0, 0xaf), '\\xc0\\xaf'],
    ['overlong e0 80 af', bytes(0xe0, 0x80, 0xaf), '\\xe0\\x80\\xaf'],
    ['surrogate ed a0 80', bytes(0xed, 0xa0, 0x80), '\\xed\\xa0\\x80'],
    ['above U+10FFFF f4 90 80 80', bytes(0xf4, 0x90, 0x80, 0x80), '\\xf4\\x90\\x80\\x80'],
    ['lone continuation', bytes(0xbf), '\\xbf'],
    ['bidi override U+202E', utf8('a\u202eb'), 'a\\u{202e}b'],
    ['bidi isolates U+2066..U+2069', utf8('\u2066\u2069'), '\\u{2066}\\u{2069}'],
    ['LRM/RLM', utf8('\u200e\u200f'), '\\u{200e}\\u{200f}'],
    ['zero-width U+200B..U+200D, U+2060', utf8('\u200b\u200c\u200d\u2060'), '\\u{200b}\\u{200c}\\u{200d}\\u{2060}'],
    ['BOM U+FEFF', utf8('\ufeffx'), '\\u{feff}x'],
    ['line/paragraph separators', utf8('\u2028\u2029'), '\\u{2028}\\u{2029}'],
    ['soft hyphen U+00AD', utf8('a\u00adb'), 'a\\u{00ad}b'],
    ['private use', utf8('\ue000\u{f0000}'), '\\u{e000}\\u{f0000}'],
    ['tag characters', utf8('\u{e0041}'), '\\u{e0041}'],
    ['Chinese', utf8('你好'), '你好'],
    ['emoji', utf8('ok 😀👍🏽'), 'ok 😀👍🏽'],
    ['accents and NBSP', utf8('café\u00a0ü'), 'café\u00a0ü'],
    ['empty', bytes(), ''],
  ])('%s', (_name, input, want) => {
    expect(escapeBytes(input)).toEqual({ text: want, omitted: 0 });
  });

  it('uses the fast path for long ASCII runs too', () => {
    const long = 'x'.repeat(1000) + '\n' + 'y'.repeat(40);
    expect(escapeBytes(utf8(long)).text).toBe('x'.repeat(1000) + '\\n' + 'y'.repeat(40));
  });

  it('accepts a Buffer view into a larger ArrayBuffer', () => {
    const big = Buffer.from('__hi\x1b__');
    expect(escapeBytes(big.subarray(2, 5)).text).toBe('hi\\x1b');
    expect(escapeBytes(new Uint8Array(big.buffer, big.byteOffset + 2, 3)).text).toBe('hi\\x1b');
  });

  describe('maxBytes', () => {
    it.each<[string, Uint8Array, number, string, number]>([
      ['cuts ASCII', utf8('hello world'), 5, 'hello', 6],
      ['shows all under the limit', utf8('hi'), 10, 'hi', 0],
      ['exactly the limit', utf8('hi'), 2, 'hi', 0],
      ['zero', utf8('hi'), 0, '', 2],
      ['never splits a character', utf8('a你好'), 3, 'a', 6],
      ['keeps a character that fits', utf8('a你好'), 4, 'a你', 3],
      ['never splits an emoji', utf8('😀x'), 3, '', 5],
      ['counts escaped bytes once each', bytes(0x1b, 0xff, 0x41), 2, '\\x1b\\xff', 1],
      ['invalid bytes are one-byte characters', bytes(0xe4, 0xbd, 0x41), 1, '\\xe4', 2],
      ['fractional limit rounds down', utf8('abc'), 1.9, 'a', 2],
      ['negative limit shows nothing', utf8('abc'), -1, '', 3],
    ])('%s', (_name, input, max, text, omitted) => {
      expect(escapeBytes(input, max)).toEqual({ text, omitted });
    });
  });

  it('never outputs a control, C1 or invisible character (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (buf) => {
        expect(escapeBytes(buf).text).not.toMatch(FORBIDDEN);
      }),
      { numRuns: 2000 },
    );
  });

  it('never outputs forbidden characters from valid UTF-8 of any code point (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.array(fc.integer({ min: 0, max: 0x10ffff })), (s, cps) => {
        const text = s + String.fromCodePoint(...cps.filter((c) => c < 0xd800 || c > 0xdfff));
        expect(escapeBytes(utf8(text)).text).not.toMatch(FORBIDDEN);
      }),
    );
  });
});

describe('StreamEscaper', () => {
  it('shows a character split across chunks as that character', () => {
    const esc = new StreamEscaper();
    expect(esc.write(bytes(0x41, 0xe4))).toEqual({ text: 'A', omitted: 0 });
    expect(esc.write(bytes(0xbd))).toEqual({ text: '', omitted: 0 });
    expect(esc.write(bytes(0xa0, 0x42))).toEqual({ text: '你B', omitted: 0 });
    expect(esc.flush()).toBe('');
  });

  it('escapes held bytes that the next chunk does not complete', () => {
    const esc = new StreamEscaper();
    expect(esc.write(bytes(0xe4, 0xbd)).text).toBe('');
    expect(esc.write(bytes(0x41)).text).toBe('\\xe4\\xbdA');
  });

  it('flushes held bytes as escapes', () => {
    const esc = new StreamEscaper();
    expect(esc.write(bytes(0xf0, 0x9f)).text).toBe('');
    expect(esc.flush()).toBe('\\xf0\\x9f');
    expect(esc.flush()).toBe('');
  });

  it('copies held bytes so a reused chunk buffer cannot change them', () => {
    const esc = new StreamEscaper();
    for (const chunk of [bytes(0xe4), Buffer.from([0xe4])]) {
      esc.write(chunk);
      chunk[0] = 0x41;
      expect(esc.write(bytes(0xbd, 0xa0)).text).toBe('你');
    }
  });

  it('does not hold invalid tails', () => {
    const esc = new StreamEscaper();
    expect(esc.write(bytes(0xc0)).text).toBe('\\xc0');
    expect(esc.write(bytes(0xed, 0xa0)).text).toBe('\\xed\\xa0');
  });

  it('cuts at maxBytes but still holds the split tail for the next chunk', () => {
    const esc = new StreamEscaper();
    expect(esc.write(bytes(...utf8('hello world'), 0xe4), 5)).toEqual({ text: 'hello', omitted: 6 });
    expect(esc.write(bytes(0xbd, 0xa0, 0x41, 0x42, 0xe4), 4)).toEqual({ text: '你A', omitted: 1 });
    expect(esc.write(bytes(0xbd, 0xa0))).toEqual({ text: '你', omitted: 0 });
  });

  it('gives the same text as escapeBytes over any split of valid UTF-8 (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (s, cutsRaw) => {
          const buf = utf8(s);
          expect(escapeInPieces(buf, cutsRaw)).toBe(escapeBytes(buf).text);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('gives the same text as escapeBytes over any split of arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), fc.array(fc.nat(), { maxLength: 10 }), (buf, cutsRaw) => {
        expect(escapeInPieces(buf, cutsRaw)).toBe(escapeBytes(buf).text);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('escapeText', () => {
  it.each<[string, string, string]>([
    ['plain', 'Content-Type: text/html', 'Content-Type: text/html'],
    ['controls', 'a\x1b[31m\r\n\t\0\x7f', 'a\\x1b[31m\\r\\n\\t\\0\\x7f'],
    ['quote and backslash', '"\\', '\\"\\\\'],
    ['C1 code point', 'x\u009by', 'x\\u{009b}y'],
    ['bidi and zero-width', '\u202egnp.exe\u200b', '\\u{202e}gnp.exe\\u{200b}'],
    ['lone surrogates', 'a\ud800b\udc00', 'a\\u{d800}b\\u{dc00}'],
    ['Chinese and emoji', '你好 😀', '你好 😀'],
    ['astral private use', '\u{100000}', '\\u{100000}'],
  ])('%s', (_name, input, want) => {
    expect(escapeText(input)).toBe(want);
  });

  it('agrees with escapeBytes on well-formed strings (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (s) => {
        expect(escapeText(s)).toBe(escapeBytes(utf8(s)).text);
      }),
    );
  });

  it('never outputs forbidden characters, even from lone surrogates (property)', () => {
    fc.assert(
      // Code units, not code points, so lone surrogates come up too.
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 60 }), (units) => {
        const s = String.fromCharCode(...units);
        expect(escapeText(s)).not.toMatch(FORBIDDEN);
      }),
    );
  });
});
