/**
 * Terminal-safe display of bytes that came from a peer, by the one escaping
 * table of escape-table.ts (its comment states the rule): a C0, DEL or C1
 * control, an invisible, bidi, tag or private-use character, and every byte
 * that is not valid UTF-8 are shown as escapes. The string side (message
 * lines, JSON) is in escape-text.ts; both are exported from here.
 */
import { BYTE_TEXT, HEX, PLAIN, isShownEscaped } from './escape-table.js';

export { SHOWN_ESCAPED_CLASS, isShownEscaped } from './escape-table.js';
export { cutEscaped, escapeJsonHidden, escapeMessage, escapeText } from './escape-text.js';

/** What one escaping pass produced: the shown text and how many bytes were cut. */
export interface Escaped {
  /** The text to show, to be wrapped in double quotes by the renderer. */
  text: string;
  /** Bytes not shown because of `maxBytes`. */
  omitted: number;
}


const isHidden = isShownEscaped;

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

/** Escapes of single bytes as ASCII, 4 slots per byte value (`len` the slots used), for the byte writer below. */
interface ByteEscapes {
  codes: Uint8Array;
  len: Uint8Array;
}
// Built at the first byte that needs one, not at start-up (~2.7 M instructions of interpreted loops).
let byteEscapes: ByteEscapes | undefined;
function makeByteEscapes(): ByteEscapes {
  const codes = new Uint8Array(256 * 4);
  const len = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    const t = BYTE_TEXT[b]!;
    len[b] = t.length;
    for (let k = 0; k < t.length; k++) codes[b * 4 + k] = t.charCodeAt(k);
  }
  return { codes, len };
}
const HEX_CODES = Buffer.from(HEX, 'latin1');

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
      const esc = (byteEscapes ??= makeByteEscapes());
      const len = esc.len[b]!;
      for (let k = 0; k < len; k++) out[o++] = esc.codes[b * 4 + k]!;
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

