/**
 * Write bytes as payload syntax (SPEC 3) that `decodePayload` reads back as
 * exactly those bytes: always `"quoted"` (so a leading `hex:`, `file:` or
 * `base64:`, and edge spaces, stay plain text), `\` and `"` escaped, every
 * byte that is not valid UTF-8 as `\xHH`, and every control, format,
 * separator or mark character as an escape, so the text shows nothing
 * invisible or terminal-controlling. The one way peer bytes enter a command
 * line (`.on` substitutions): whatever the bytes are, the result is one
 * payload and nothing else.
 */
export function payloadLiteral(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (isPlain(b)) {
      // A run of printable ASCII is copied whole: a 1 MiB capture must not cost a million concatenations.
      let end = i + 1;
      while (end < bytes.length && isPlain(bytes[end] as number)) end++;
      out += buf.toString('latin1', i, end);
      i = end;
      continue;
    }
    if (b < 0x80) {
      out += asciiEscape(b);
      i++;
      continue;
    }
    const n = sequenceLength(bytes, i);
    if (n === 0) {
      out += `\\x${hex(b)}`;
      i++;
      continue;
    }
    const ch = buf.toString('utf8', i, i + n);
    out += invisible().test(ch) ? `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}` : ch;
    i += n;
  }
  return `${out}"`;
}

// Characters a terminal would not show as themselves (as quotePayload in script/succeeded.ts).
// Made at first use: V8 builds a Unicode-property class when the literal is first
// evaluated (~2.6 M instructions for this one), and start-up does not need it.
let invisibleClass: RegExp | undefined;
const invisible = (): RegExp => (invisibleClass ??= /[\p{C}\p{Z}\p{M}\u{fe00}-\u{fe0f}\u{3164}\u{115f}\u{1160}\u{ffa0}]/u);

/** Printable ASCII that stands for itself inside `"…"`. */
function isPlain(b: number): boolean {
  return b >= 0x20 && b < 0x7f && b !== 0x5c && b !== 0x22;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

function asciiEscape(b: number): string {
  switch (b) {
    case 0x5c: return '\\\\';
    case 0x22: return '\\"';
    case 0x0a: return '\\n';
    case 0x0d: return '\\r';
    case 0x09: return '\\t';
    default: return b < 0x20 || b === 0x7f ? `\\x${hex(b)}` : String.fromCharCode(b);
  }
}

/**
 * Length of the well-formed UTF-8 sequence starting at `i` (2–4), or 0 when
 * it is not one (a stray continuation byte, an overlong form, a surrogate,
 * past U+10FFFF, or cut short): RFC 3629 section 4.
 */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i] as number;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) n = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b === 0xe0) lo = 0xa0;
    if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b === 0xf0) lo = 0x90;
    if (b === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + n > bytes.length) return 0;
  const second = bytes[i + 1] as number;
  if (second < lo || second > hi) return 0;
  for (let k = 2; k < n; k++) {
    const c = bytes[i + k] as number;
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return n;
}
