/**
 * A certificate's names as the peer wrote them. Node's `X509Certificate`
 * escapes them, each field its own way: the subject and issuer as OpenSSL's
 * RFC 4514 text (`\1B` for a control byte, `\,` `\<` for a special
 * character), the subject alternative names JSON-style in quotes
 * (`DNS:"evil\u001b[2Jhost"`, one `\u00XX` per byte that is not printable
 * ASCII). socklab shows every untrusted string in one notation (the terminal
 * table's `\x1b`, `\u{202e}`, SPEC §4/§7), so these undo Node's escaping and
 * the renderers escape the raw text as they escape a payload. Pure; never throws.
 */

/**
 * One line of Node's subject/issuer (`CN=evil\1B[31m\, Inc.`) as the raw
 * text: `\XX` (two hex digits) is that byte, `\c` is `c`; the bytes are read
 * as UTF-8 (an invalid sequence becomes U+FFFD).
 */
export function unescapeDistinguishedName(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      const hex = text.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else {
        pushUtf8(bytes, text[++i]!);
      }
      continue;
    }
    pushUtf8(bytes, ch);
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Node's `subjectAltName` (`DNS:a, DNS:"b\u001bc", IP Address:127.0.0.1`) as
 * one raw string per name (`DNS:b<ESC>c`): a quoted value's `\\` and `\"` are
 * the character, `\u00XX` a byte (read as UTF-8 with its neighbours), a larger
 * `\uXXXX` that code point. Text it cannot read is kept as Node wrote it.
 */
export function splitAltNames(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  const names: string[] = [];
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) return text.split(', ');
    const type = text.slice(i, colon + 1);
    let j = colon + 1;
    let value: string;
    if (text[j] === '"') {
      const bytes: number[] = [];
      j++;
      while (j < text.length && text[j] !== '"') {
        const ch = text[j]!;
        if (ch === '\\' && text[j + 1] === 'u' && /^[0-9A-Fa-f]{4}$/.test(text.slice(j + 2, j + 6))) {
          const code = parseInt(text.slice(j + 2, j + 6), 16);
          if (code <= 0xff) bytes.push(code);
          else pushUtf8(bytes, String.fromCharCode(code));
          j += 6;
        } else if (ch === '\\' && j + 1 < text.length) {
          pushUtf8(bytes, text[j + 1]!);
          j += 2;
        } else {
          pushUtf8(bytes, ch);
          j++;
        }
      }
      if (j >= text.length) return text.split(', ');
      j++;
      value = Buffer.from(bytes).toString('utf8');
    } else {
      const end = text.indexOf(', ', j);
      value = text.slice(j, end < 0 ? text.length : end);
      j = end < 0 ? text.length : end;
    }
    names.push(type + value);
    if (j < text.length) {
      if (!text.startsWith(', ', j)) return text.split(', ');
      j += 2;
    }
    i = j;
  }
  return names;
}

function pushUtf8(bytes: number[], ch: string): void {
  for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
}
