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

/** What one escaping pass produced: the shown text and how many bytes were cut. */
export interface Escaped {
  /** The text to show, to be wrapped in double quotes by the renderer. */
  text: string;
  /** Bytes not shown because of `maxBytes`. */
  omitted: number;
}

const HEX = '0123456789abcdef';
const hex2 = (b: number): string => HEX[b >> 4]! + HEX[b & 15]!;

// 1 where an ASCII byte is shown as itself; the hot loop only asks this table.
const PLAIN = new Uint8Array(256);
// Display form of every byte value taken on its own (ASCII or an invalid UTF-8 byte).
const BYTE_TEXT: string[] = [];
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
const HIDDEN = new RegExp(SHOWN_ESCAPED_CLASS, 'u');
// Lazily filled verdicts for every code point (0 unknown, 1 shown, 2 escaped),
// so text pays the regex once per distinct character, not once per character.
const verdict = new Uint8Array(0x110000);

/**
 * True when code point `cp` is shown escaped in every view (the rule is in
 * this module's comment). Code points outside 0–U+10FFFF count as escaped.
 */
export function isShownEscaped(cp: number): boolean {
  if (cp < 0x80) return PLAIN[cp] !== 1 && cp !== 0x22 && cp !== 0x5c;
  if (cp > 0x10ffff) return true;
  let v = verdict[cp]!;
  if (v === 0) {
    v = HIDDEN.test(String.fromCodePoint(cp)) ? 2 : 1;
    verdict[cp] = v;
  }
  return v === 2;
}
const isHidden = isShownEscaped;

/** Display form of a code point ≥ U+0080. */
function showCodePoint(cp: number): string {
  return isHidden(cp) ? '\\u{' + cp.toString(16).padStart(4, '0') + '}' : String.fromCodePoint(cp);
}

function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Length of the valid UTF-8 sequence starting at `i` (lead byte ≥ 0x80), 0 if
 * the bytes there are invalid, or -1 if they are a valid prefix cut by `end`.
 */
function sequenceLength(bytes: Uint8Array, i: number, end: number): number {
  const lead = bytes[i]!;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) n = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3;
    if (lead === 0xe0) lo = 0xa0; // overlong
    else if (lead === 0xed) hi = 0x9f; // UTF-16 surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4;
    if (lead === 0xf0) lo = 0x90; // overlong
    else if (lead === 0xf4) hi = 0x8f; // beyond U+10FFFF
  } else return 0;
  for (let k = 1; k < n; k++) {
    if (i + k >= end) return -1;
    const c = bytes[i + k]!;
    if (c < lo || c > hi) return 0;
    lo = 0x80;
    hi = 0xbf;
  }
  return n;
}

function decode(bytes: Uint8Array, i: number, n: number): number {
  const lead = bytes[i]!;
  if (n === 2) return ((lead & 0x1f) << 6) | (bytes[i + 1]! & 0x3f);
  if (n === 3) return ((lead & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f);
  return (
    ((lead & 0x07) << 18) | ((bytes[i + 1]! & 0x3f) << 12) | ((bytes[i + 2]! & 0x3f) << 6) | (bytes[i + 3]! & 0x3f)
  );
}

// Escapes of single bytes as ASCII, 4 slots per byte value, for the byte writer below.
const BYTE_ESC = new Uint8Array(256 * 4);
const BYTE_ESC_LEN = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const t = BYTE_TEXT[b]!;
  BYTE_ESC_LEN[b] = t.length;
  for (let k = 0; k < t.length; k++) BYTE_ESC[b * 4 + k] = t.charCodeAt(k);
}
const HEX_CODES = Uint8Array.from(HEX, (c) => c.charCodeAt(0));

/** Escapes `bytes[0, end)`, showing at most `limit` bytes; returns the text and the bytes shown. */
function escapeRange(bytes: Uint8Array, end: number, limit: number): { text: string; shown: number } {
  const stop = Math.min(end, limit);
  let i = 0;
  while (i < stop && PLAIN[bytes[i]!] === 1) i++;
  if (i === stop) return { text: asBuffer(bytes).toString('latin1', 0, stop), shown: stop };
  // Writing UTF-16 code units and decoding once beats concatenating many short
  // strings, and Node 20's UTF-8 decoder is several times slower than this.
  // No byte grows beyond 4 code units (`\xHH`; `\u{0085}` for 2 bytes).
  const out = new Uint16Array(i + (stop - i) * 4);
  out.set(bytes.subarray(0, i));
  let o = i;
  while (i < stop) {
    const b = bytes[i]!;
    if (PLAIN[b] === 1) {
      out[o++] = b;
      i++;
      continue;
    }
    const n = b < 0x80 ? 0 : sequenceLength(bytes, i, end);
    if (n <= 0) {
      // Invalid bytes go one at a time: the next ones are judged again on their own.
      const len = BYTE_ESC_LEN[b]!;
      for (let k = 0; k < len; k++) out[o++] = BYTE_ESC[b * 4 + k]!;
      i++;
    } else if (i + n > stop) {
      break; // never split a character at the cut
    } else {
      const cp = decode(bytes, i, n);
      if (isHidden(cp)) {
        out[o++] = 0x5c; // \u{
        out[o++] = 0x75;
        out[o++] = 0x7b;
        const digits = cp > 0xfffff ? 6 : cp > 0xffff ? 5 : 4;
        for (let k = digits - 1; k >= 0; k--) out[o++] = HEX_CODES[(cp >> (4 * k)) & 15]!;
        out[o++] = 0x7d;
      } else if (cp < 0x10000) {
        out[o++] = cp;
      } else {
        out[o++] = 0xd7c0 + (cp >> 10);
        out[o++] = 0xdc00 + (cp & 0x3ff);
      }
      i += n;
    }
  }
  return { text: utf16ToString(out, o), shown: i };
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function utf16ToString(units: Uint16Array, length: number): string {
  if (LITTLE_ENDIAN) return Buffer.from(units.buffer, units.byteOffset, length * 2).toString('utf16le');
  return Buffer.from(units.subarray(0, length).map((u) => (u >> 8) | ((u & 0xff) << 8)).buffer).toString('utf16le');
}

function limitOf(maxBytes: number | undefined): number {
  return maxBytes === undefined || Number.isNaN(maxBytes) ? Infinity : Math.max(0, Math.floor(maxBytes));
}

/** Escape peer bytes for display. Returns the shown text and how many bytes were cut. */
export function escapeBytes(buf: Uint8Array, maxBytes?: number): Escaped {
  const { text, shown } = escapeRange(buf, buf.length, limitOf(maxBytes));
  return { text, omitted: buf.length - shown };
}

/** Bytes at the end of `bytes` that start a valid UTF-8 sequence the end cuts short. */
function incompleteTail(bytes: Uint8Array): number {
  const len = bytes.length;
  for (let back = 1; back <= 3 && back <= len; back++) {
    const b = bytes[len - back]!;
    if (b < 0x80 || b >= 0xc0) return sequenceLength(bytes, len - back, len) === -1 ? back : 0;
  }
  return 0;
}

/**
 * Streaming variant: keeps an incomplete trailing UTF-8 sequence for the next
 * chunk, so a character split across two TCP chunks shows as that character.
 */
export class StreamEscaper {
  private held: Uint8Array = new Uint8Array(0);

  /**
   * Escape the next chunk. Held bytes from the previous chunk come first and
   * count towards `maxBytes`; `omitted` counts bytes cut, not bytes held back.
   */
  write(buf: Uint8Array, maxBytes?: number): Escaped {
    let data = buf;
    if (this.held.length > 0) {
      data = new Uint8Array(this.held.length + buf.length);
      data.set(this.held);
      data.set(buf, this.held.length);
    }
    const keep = incompleteTail(data);
    const end = data.length - keep;
    // A copy (Buffer#slice would be a view), since callers may reuse the chunk's memory.
    this.held = new Uint8Array(data.subarray(end));
    const { text, shown } = escapeRange(data, end, limitOf(maxBytes));
    return { text, omitted: end - shown };
  }

  /** Flush any held bytes as escapes (the stream ended mid-character). */
  flush(): string {
    const { text } = escapeRange(this.held, this.held.length, Infinity);
    this.held = new Uint8Array(0);
    return text;
  }
}

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

// Fast check: only printable ASCII and newlines (plus `"`/`\` in message mode) is left alone.
const PLAIN_MESSAGE = /^[\x20-\x7e\n]*$/;

function escapeString(s: string, quoted: boolean): string {
  if (!quoted && PLAIN_MESSAGE.test(s)) return s;
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

const HIDDEN_ALL = new RegExp(SHOWN_ESCAPED_CLASS, 'gu');
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
  HIDDEN_ALL.lastIndex = 0;
  return json.replace(HIDDEN_ALL, jsonEscape);
}
