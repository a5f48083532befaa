/**
 * The one escaping table for text that reaches a terminal. Every view uses
 * the same decision, {@link isShownEscaped}: the human event lines, command
 * output, the REPL's printing of JavaScript values and completion candidates
 * show such a code point as `\u{hhhh}` (a byte that is not valid UTF-8 as
 * `\xHH`), and the NDJSON stream writes it as a JSON `\uXXXX` escape.
 *
 * The class, by Unicode property (the tables of the running Node's ICU):
 * - general categories Cc (C0, DEL, C1 controls), Cf (format: bidi
 *   controls, zero-width characters, U+0600 and U+06DD number signs, tags
 *   U+E0001–U+E007F), Co (private use), Cs (lone surrogates), Cn
 *   (unassigned code points and noncharacters: nobody can tell how a
 *   terminal draws them), Zl and Zp (U+2028, U+2029 break lines);
 * - Default_Ignorable_Code_Point: characters a terminal draws as nothing,
 *   though their category says otherwise (the Hangul fillers U+115F, U+1160,
 *   U+3164, U+FFA0; U+034F, U+17B4/5, U+180B–U+180F; the variation selectors
 *   U+FE00–U+FE0F and U+E0100–U+E01EF, so `❤️` shows as `❤\u{fe0f}`);
 * - U+FFFD, so a `�` on screen never hides which bytes arrived.
 * Visible blanks that take a cell (U+00A0 and the other Zs spaces, U+2800)
 * are shown as themselves, as are combining marks and emoji.
 */

/** Lower-case hex digits, for `\\xHH` and `\\u{…}`. */
export const HEX = '0123456789abcdef';
const hex2 = (b: number): string => HEX[b >> 4]! + HEX[b & 15]!;

/** 1 where an ASCII byte is shown as itself; the hot loops only ask this table. */
export const PLAIN = new Uint8Array(256);
/** Display form of every byte value taken on its own (ASCII or an invalid UTF-8 byte). */
export const BYTE_TEXT: string[] = [];
for (let b = 0; b < 256; b++) {
  if (b >= 0x20 && b <= 0x7e && b !== 0x5c && b !== 0x22) {
    PLAIN[b] = 1;
    BYTE_TEXT.push(String.fromCharCode(b));
  } else {
    BYTE_TEXT.push('\\x' + hex2(b));
  }
}
BYTE_TEXT[0x00] = '\\0';
BYTE_TEXT[0x09] = '\\t';
BYTE_TEXT[0x0a] = '\\n';
BYTE_TEXT[0x0d] = '\\r';
BYTE_TEXT[0x22] = '\\"';
BYTE_TEXT[0x5c] = '\\\\';

/** The class of {@link isShownEscaped} as a RegExp character class (needs the `u` flag). */
export const SHOWN_ESCAPED_CLASS =
  '[\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}\\p{Cn}\\p{Zl}\\p{Zp}\\p{Default_Ignorable_Code_Point}\\u{fffd}]';
// Built on the first character ≥ U+0080: compiling these Unicode properties is the
// costliest line of start-up (docs/performance.md, "Round 2, session 3").
let hidden: RegExp | undefined;
// Lazily filled verdicts for every code point (0 unknown, 1 shown, 2 escaped),
// so text pays the regex once per distinct character, not once per character.
let verdict: Uint8Array | undefined;

/**
 * True when code point `cp` is shown escaped in every view (the rule is in
 * this module's comment). Code points outside 0–U+10FFFF count as escaped.
 */
export function isShownEscaped(cp: number): boolean {
  if (cp < 0x80) return PLAIN[cp] !== 1 && cp !== 0x22 && cp !== 0x5c;
  if (cp > 0x10ffff) return true;
  verdict ??= new Uint8Array(0x110000);
  let v = verdict[cp]!;
  if (v === 0) {
    hidden ??= new RegExp(SHOWN_ESCAPED_CLASS, 'u');
    v = hidden.test(String.fromCodePoint(cp)) ? 2 : 1;
    verdict[cp] = v;
  }
  return v === 2;
}
/** Display form of a code point ≥ U+0080. */
export function showCodePoint(cp: number): string {
  return isShownEscaped(cp) ? '\\u{' + cp.toString(16).padStart(4, '0') + '}' : String.fromCodePoint(cp);
}

