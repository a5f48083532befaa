/**
 * The one escaping table (STYLE habit 12, SPEC section 7): every code point
 * of the class is shown escaped by the human view, in message lines and in
 * every JSON string field, and every code point outside it is shown as
 * itself by all three. The decision is checked for all 1,114,112 code
 * points; the views for planes 0, 1 and 14 whole and both ends of the others.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeBytes, escapeJsonHidden, escapeMessage, escapeText, isShownEscaped } from '../../src/render/escape.js';
import { toJsonLine } from '../../src/render/json.js';
import { formatEvent } from '../../src/render/human.js';
import pc from 'picocolors';
import { MESSAGE_MARKS } from '../../src/render/escape-text.js';

/** The rule as the README and the TSDoc state it, written out property by property. */
const RULE = [/\p{Cc}/u, /\p{Cf}/u, /\p{Co}/u, /\p{Cs}/u, /\p{Cn}/u, /\p{Zl}/u, /\p{Zp}/u, /\p{Default_Ignorable_Code_Point}/u, /\u{fffd}/u];
const inRule = (cp: number): boolean => {
  if (cp < 0x80) return cp < 0x20 || cp === 0x7f;
  const ch = String.fromCodePoint(cp);
  return RULE.some((r) => r.test(ch));
};
const hex = (cp: number): string => cp.toString(16).padStart(4, '0');
const ALL = Array.from({ length: 0x110000 }, (_, cp) => cp);
const SAMPLE = ALL.filter((cp) => cp < 0x20000 || (cp >= 0xe0000 && cp < 0xe1000) || (cp & 0xffff) < 0x100 || (cp & 0xffff) >= 0xff00);
const ESCAPED = SAMPLE.filter((cp) => cp >= 0x80 && isShownEscaped(cp));
const asText = (cps: number[]): string => cps.filter((cp) => cp < 0xd800 || cp > 0xdfff).map((cp) => String.fromCodePoint(cp)).join('');

/** The examples of issue 9 and the brief: each must be in the class. */
const NAMED: Array<[string, number]> = [
  ['tag U+E0001', 0xe0001], ['tag U+E0041', 0xe0041], ['tag cancel U+E007F', 0xe007f],
  ['Arabic number sign U+0600', 0x600], ['end of ayah U+06DD', 0x6dd], ['private use U+E000', 0xe000],
  ['supplementary private use U+F0000', 0xf0000], ['Hangul filler U+3164', 0x3164],
  ['Hangul choseong filler U+115F', 0x115f], ['Hangul jungseong filler U+1160', 0x1160],
  ['halfwidth Hangul filler U+FFA0', 0xffa0], ['Mongolian vowel separator U+180E', 0x180e],
  ['combining grapheme joiner U+034F', 0x34f], ['Khmer inherent vowels U+17B4', 0x17b4], ['U+17B5', 0x17b5],
  ['variation selector 1 U+FE00', 0xfe00], ['emoji presentation U+FE0F', 0xfe0f],
  ['variation selector 17 U+E0100', 0xe0100], ['variation selector 256 U+E01EF', 0xe01ef],
  ['RTL override U+202E', 0x202e], ['zero width space U+200B', 0x200b], ['line separator U+2028', 0x2028],
  ['paragraph separator U+2029', 0x2029], ['soft hyphen U+00AD', 0xad], ['C1 CSI U+009B', 0x9b],
  ['noncharacter U+FFFE', 0xfffe], ['noncharacter U+10FFFF', 0x10ffff], ['replacement U+FFFD', 0xfffd],
  ['interlinear annotation U+FFF9', 0xfff9], ['musical symbol format U+1D173', 0x1d173],
];
/** Characters that stay themselves, with the reason in the README. */
const SHOWN: Array<[string, number]> = [
  ['space', 0x20], ['no-break space U+00A0', 0xa0], ['em space U+2003', 0x2003],
  ['ideographic space U+3000', 0x3000], ['braille blank U+2800 (takes a cell)', 0x2800],
  ['é', 0xe9], ['你', 0x4f60], ['😀', 0x1f600], ['skin tone U+1F3FD', 0x1f3fd], ['combining acute U+0301', 0x301],
];

describe('isShownEscaped: the class', () => {
  it.each(NAMED)('%s is escaped', (_name, cp) => expect(isShownEscaped(cp)).toBe(true));
  it.each(SHOWN)('%s is shown as itself', (_name, cp) => expect(isShownEscaped(cp)).toBe(false));

  it('is exactly Cc, Cf, Co, Cs, Cn, Zl, Zp, Default_Ignorable_Code_Point and U+FFFD, for every code point', () => {
    const wrong = ALL.filter((cp) => isShownEscaped(cp) !== inRule(cp) && !(cp === 0x22 || cp === 0x5c));
    expect(wrong.map(hex)).toEqual([]);
  });
});

describe('every view escapes exactly the class', () => {
  it('human view (escapeText): each escaped code point is \\u{hex}, each other one is itself', () => {
    const wrong = SAMPLE.filter((cp) => {
      const want = cp < 0x80 ? null : isShownEscaped(cp) ? `\\u{${hex(cp)}}` : String.fromCodePoint(cp);
      return want !== null && escapeText(String.fromCodePoint(cp)) !== want;
    });
    expect(wrong.map(hex)).toEqual([]);
  });

  it('message lines (escapeMessage) and bytes (escapeBytes) agree with escapeText on the class', () => {
    const text = asText(ESCAPED);
    const human = escapeText(text);
    expect(escapeMessage(text)).toBe(human);
    expect(escapeBytes(Buffer.from(text, 'utf8')).text).toBe(human);
    expect(human.replace(/\\u\{[0-9a-f]{4,6}\}/g, '')).toBe('');
  });

  it('JSON: every string field writes exactly the class as \\uXXXX and parses back unchanged', () => {
    const text = asText(SAMPLE);
    for (const ev of [
      { type: 'data', t: 1, id: 'c1', data: Buffer.from(text, 'utf8') },
      { type: 'note', t: 1, message: text },
      { type: 'listening', t: 1, id: 's1', address: text, port: undefined, path: text },
    ] as const) {
      const line = toJsonLine(ev as never)!;
      const left = [...line].filter((ch) => isShownEscaped(ch.codePointAt(0)!) && ch !== '"' && ch !== '\\');
      expect(left.map((ch) => hex(ch.codePointAt(0)!))).toEqual([]);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(parsed[ev.type === 'data' ? 'text' : ev.type === 'note' ? 'message' : 'path']).toBe(text);
    }
    // Characters outside the class stay as they are (readable JSON), e.g. emoji and CJK.
    expect(escapeJsonHidden(JSON.stringify('你好 😀 é'))).toBe('"你好 😀 é"');
  });

  it('the human event line and the JSON line of one event escape the same characters (property)', () => {
    const colors = pc.createColors(false);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0x10ffff }), { maxLength: 30 }), (cps) => {
        const message = String.fromCodePoint(...cps.filter((c) => c < 0xd800 || c > 0xdfff));
        const ev = { type: 'note', t: 0, message } as const;
        const human = formatEvent(ev, { time: false, colors })!;
        const json = toJsonLine(ev)!;
        for (const ch of message) {
          const cp = ch.codePointAt(0)!;
          if (cp < 0x80) continue;
          expect(human.includes(`\\u{${hex(cp)}}`)).toBe(isShownEscaped(cp));
          expect(json.includes(ch)).toBe(!isShownEscaped(cp));
        }
        expect([...human, ...json].some((ch) => ch !== '"' && ch !== '\\' && ch !== '\n' && isShownEscaped(ch.codePointAt(0)!))).toBe(false);
      }),
      { numRuns: 300, seed: 9 },
    );
  });
});

describe('the marks escapeMessage passes without looking at each character', () => {
  it('are none of them in the escaped class, so the fast path and the slow one agree', () => {
    for (const ch of MESSAGE_MARKS) {
      expect(isShownEscaped(ch.codePointAt(0) as number)).toBe(false);
      // The slow path (a character of the class beside it) shows the mark as it is.
      expect(escapeMessage(`${ch}\u200b`)).toBe(`${ch}\\u{200b}`);
      expect(escapeMessage(`c3 ${ch} c4`)).toBe(`c3 ${ch} c4`);
    }
  });
});

describe("escapeMessage's fast path (a loop over code units beside the marks' range)", () => {
  it('lets no escaped code point through in a line made of marks and ASCII', () => {
    // Every code point below U+2400 (the marks live in U+2000–U+21FF, beside LRM, RLO and other
    // escaped ones) and both halves of a surrogate pair, after a mark, inside otherwise plain text.
    const cps = [...Array.from({ length: 0x2400 }, (_, cp) => cp), 0xd800, 0xdfff, 0xfeff, 0xfffd];
    for (const cp of cps) {
      const ch = String.fromCharCode(cp);
      const line = `c3 ← ${ch} → c4 …`;
      const kept = cp === 0x0a || cp === 0x22 || cp === 0x5c || !isShownEscaped(cp);
      expect(escapeMessage(line) === line).toBe(kept);
    }
  });
});
