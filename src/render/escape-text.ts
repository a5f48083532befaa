/**
 * Strings through the one escaping table (escape-table.ts): JS strings for
 * display, message lines, cuts of escaped text, and the NDJSON side.
 */
import { BYTE_TEXT, PLAIN, SHOWN_ESCAPED_CLASS, showCodePoint } from './escape-table.js';

/**
 * Escape a JS string that came from a peer (HTTP header, error text): the
 * rules of escapeBytes applied to code points, for display inside double
 * quotes (`"` and `\` are escaped too). A lone surrogate is `\u{d800}`.
 */
export function escapeText(s: string): string {
  return escapeString(s, true);
}

/**
 * Escape text for a message line (errors, tables, command output, paths): the
 * same table as escapeText, but quotes and backslashes stay as they are and
 * `\n` still breaks lines. Escaping twice changes nothing.
 */
export function escapeMessage(s: string): string {
  return escapeString(s, false);
}

// Fast check: only printable ASCII and newlines (plus `"`/`\` in message mode) is left alone,
// and the arrows and marks socklab's own lines use (`← FIN`, `c3 ⇒ c4`, `… (+N B)`): none of
// them is in the escaped class (a test checks), and an accept/close cycle prints two such lines.
export const MESSAGE_MARKS = '←→⇒⇐⇄—…↳';
// The marks all lie in U+2000–U+21FF: 1 where a code unit there is one of them.
const MARK_BASE = 0x2000;
const MARKS = new Uint8Array(0x200);
for (let k = 0; k < MESSAGE_MARKS.length; k++) MARKS[MESSAGE_MARKS.charCodeAt(k) - MARK_BASE] = 1;

/**
 * True when escapeMessage leaves `s` as it is by the fast rule above. A loop
 * over code units, not a RegExp: the RegExp test (with its non-Latin-1 class)
 * was 9 % of the busy time of an accept loop, which checks ~8 short lines per
 * connection (docs/performance.md, "Round 2, session 5").
 */
function isPlainMessage(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x7f) {
      if (c < 0x20 && c !== 0x0a) return false;
    } else if (c < MARK_BASE || c >= MARK_BASE + 0x200 || MARKS[c - MARK_BASE] !== 1) return false;
  }
  return true;
}

function escapeString(s: string, quoted: boolean): string {
  if (!quoted && isPlainMessage(s)) return s;
  let text = '';
  let i = 0;
  const len = s.length;
  while (i < len) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (PLAIN[c] === 1) {
        let j = i + 1;
        while (j < len && PLAIN[s.charCodeAt(j)] === 1) j++;
        text += s.slice(i, j);
        i = j;
      } else {
        text += quoted || (c !== 0x0a && c !== 0x22 && c !== 0x5c) ? BYTE_TEXT[c]! : s[i]!;
        i++;
      }
      continue;
    }
    let cp = c;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
    }
    // A lone surrogate stays `cp = c` and is escaped as category Cs.
    text += showCodePoint(cp);
    i += cp >= 0x10000 ? 2 : 1;
  }
  return text;
}

const ESCAPE_AT = /^\\(?:u\{[0-9a-f]+\}|x[0-9a-f]{2}|.)/u;

/**
 * The first `max` characters of already escaped text, for a column of fixed
 * width. Cuts between code points, never inside a surrogate pair or an escape
 * (`\x1b`, `\u{202e}`, `\\` each count as one and stay whole or go whole), so a
 * cut can neither make a lone surrogate nor a broken escape. Returns `text`
 * when it fits.
 */
export function cutEscaped(text: string, max: number): string {
  let count = 0;
  let i = 0;
  while (i < text.length) {
    if (count >= max) return text.slice(0, i);
    let n = 1;
    const c = text.charCodeAt(i);
    if (c === 0x5c) n = ESCAPE_AT.exec(text.slice(i, i + 12))?.[0].length ?? 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) n = 2;
    i += n;
    count++;
  }
  return text;
}

// Built on first use, not at start-up (as escape-table.ts's own).
let hiddenAll: RegExp | undefined;
const jsonEscape = (ch: string): string => {
  let out = '';
  for (let k = 0; k < ch.length; k++) out += `\\u${ch.charCodeAt(k).toString(16).padStart(4, '0')}`;
  return out;
};

/**
 * The NDJSON side of the table: every code point isShownEscaped picks is
 * written as a JSON `\uXXXX` escape (a surrogate pair for astral ones), so the
 * parsed value is unchanged and no such character is in the line itself.
 * `json` is the text of JSON.stringify; outside strings it is plain ASCII.
 */
export function escapeJsonHidden(json: string): string {
  hiddenAll ??= new RegExp(SHOWN_ESCAPED_CLASS, 'gu');
  hiddenAll.lastIndex = 0;
  return json.replace(hiddenAll, jsonEscape);
}

