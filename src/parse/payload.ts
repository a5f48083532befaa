import { readPayloadFile as readSafely } from './payload-file.js';
import { SocklabError, isSocklabError, messageOf, osErrorCode } from '../errors.js';

/** How `decodePayload` reaches the outside world and how much it accepts. */
export interface PayloadOptions {
  /** Reads a `file:` payload; defaults to `fs.readFileSync`. */
  readFile?: (path: string) => Buffer;
  /** Largest payload in bytes (default 64 MiB); past it `E_LIMIT`. */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const ESCAPES_HINT = 'use \\n \\r \\t \\0 \\\\ \\" \\xHH or \\u{HHHH}';

/**
 * Decode payload syntax to bytes:
 * - text with escapes `\n \r \t \0 \\ \" \xHH \u{H…}`, the rest as UTF-8
 *   (`\xff` is the raw byte 0xff; `\u{ff}` is U+00FF as UTF-8);
 * - `"quoted text"`: the surrounding quotes are dropped, escapes still apply,
 *   so leading and trailing spaces survive (and `"hex:41"` is plain text);
 * - `hex:48 65 6c` (whitespace anywhere), `base64:SGVsbG8=`, `file:PATH`.
 *
 * Throws `SocklabError` `E_BAD_PAYLOAD` with a one-line message naming the
 * column and offending text, `E_IO` when a file cannot be read, and `E_LIMIT`
 * past `maxBytes`.
 */
export function decodePayload(text: string, options: PayloadOptions = {}): Buffer {
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let bytes: Buffer;
  if (text.startsWith('hex:')) bytes = decodeHex(text, 4);
  else if (text.startsWith('base64:')) bytes = decodeBase64(text, 7);
  else if (text.startsWith('file:')) bytes = readPayloadFile(text.slice(5), options.readFile, max);
  else if (isQuoted(text)) bytes = decodeRange(text, 1, text.length - 1, 1);
  else bytes = decodeRange(text, 0, text.length, 1);
  if (bytes.length > max) throw limitError(bytes.length, max);
  return bytes;
}

/**
 * Decode only the escape syntax of a text: no prefixes, no quote stripping.
 * Used for the literal parts of reply templates. `column` is where `text`
 * starts in the line the user typed, so error columns point into that line.
 */
export function decodeEscapes(text: string, column = 1): Buffer {
  return decodeRange(text, 0, text.length, column);
}

/** True for `"quoted text"` whose closing quote is not escaped (payload syntax drops the quotes). */
export function isQuoted(text: string): boolean {
  if (text.length < 2 || text[0] !== '"' || text[text.length - 1] !== '"') return false;
  // `"a\"` ends with an escaped quote, not a closing one.
  let backslashes = 0;
  for (let i = text.length - 2; i > 0 && text.charCodeAt(i) === 0x5c; i--) backslashes++;
  return backslashes % 2 === 0;
}

/** 1-based column of `text[index]` in code points, `text[0]` being at `column0`. */
function columnOf(text: string, index: number, column0: number): number {
  let column = column0;
  for (const _ of text.slice(0, index)) column++;
  return column;
}

function badPayload(message: string): SocklabError {
  return new SocklabError('E_BAD_PAYLOAD', message);
}

function limitError(size: number, max: number): SocklabError {
  return new SocklabError('E_LIMIT', `payload is ${size} bytes, over the ${max}-byte limit: send it in smaller parts`);
}

/** Hex digit value of a char code, or -1. */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

// Escapes never produce more bytes than their own UTF-8 source, so one buffer
// of the range's byte length holds the result and plain runs are copied whole.
function decodeRange(text: string, from: number, to: number, column0: number): Buffer {
  let slash = text.indexOf('\\', from);
  const source = from === 0 && to === text.length ? text : text.slice(from, to);
  if (slash < 0 || slash >= to) return Buffer.from(source, 'utf8');
  const out = Buffer.allocUnsafe(Buffer.byteLength(source, 'utf8'));
  let n = 0;
  let i = from;
  while (slash >= 0 && slash < to) {
    if (slash > i) n += out.write(text.slice(i, slash), n, 'utf8');
    const code = slash + 1 < to ? text.charCodeAt(slash + 1) : -1;
    const single = simpleEscape(code);
    if (single >= 0) {
      out[n++] = single;
      i = slash + 2;
    } else if (code === 0x78 /* x */) {
      const hi = slash + 2 < to ? hexValue(text.charCodeAt(slash + 2)) : -1;
      const lo = slash + 3 < to ? hexValue(text.charCodeAt(slash + 3)) : -1;
      if (hi < 0 || lo < 0) {
        const shown = text.slice(slash, Math.min(slash + 4, to));
        throw escapeError(text, slash, column0, shown, '\\x needs exactly two hex digits, e.g. \\x0a or \\xff');
      }
      out[n++] = hi * 16 + lo;
      i = slash + 4;
    } else if (code === 0x75 /* u */) {
      const [codePoint, end] = codePointEscape(text, slash, to, column0);
      n += out.write(String.fromCodePoint(codePoint), n, 'utf8');
      i = end;
    } else if (code < 0) {
      throw escapeError(text, slash, column0, '\\', 'write \\\\ for a backslash');
    } else {
      const shown = String.fromCodePoint(text.codePointAt(slash + 1) ?? code);
      throw escapeError(text, slash, column0, `\\${shown}`, ESCAPES_HINT);
    }
    slash = text.indexOf('\\', i);
  }
  if (i < to) n += out.write(text.slice(i, to), n, 'utf8');
  return out.subarray(0, n);
}

function simpleEscape(code: number): number {
  switch (code) {
    case 0x6e: return 0x0a; // n
    case 0x72: return 0x0d; // r
    case 0x74: return 0x09; // t
    case 0x30: return 0x00; // 0
    case 0x5c: return 0x5c; // backslash
    case 0x22: return 0x22; // quote
    default: return -1;
  }
}

/** Parse `\u{H…}` at `slash`; returns the code point and the index after `}`. */
function codePointEscape(text: string, slash: number, to: number, column0: number): [number, number] {
  const close = text.indexOf('}', slash + 3);
  const digits = text.charCodeAt(slash + 2) === 0x7b && close >= 0 && close < to ? text.slice(slash + 3, close) : '';
  if (!/^[0-9a-fA-F]{1,6}$/.test(digits)) {
    const shown = close >= 0 && close < to && close - slash <= 12 ? text.slice(slash, close + 1) : text.slice(slash, Math.min(slash + 6, to));
    const plain = /^\\u([0-9a-fA-F]{4})$/.exec(shown);
    const hint = plain ? `write \\u{${plain[1]}}` : 'use \\u{H…} with 1 to 6 hex digits, e.g. \\u{e9} or \\u{1F600}';
    throw escapeError(text, slash, column0, shown, hint);
  }
  const codePoint = Number.parseInt(digits, 16);
  const shown = text.slice(slash, close + 1);
  if (codePoint > 0x10ffff) throw escapeError(text, slash, column0, shown, 'code points go up to \\u{10FFFF}');
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
    throw escapeError(text, slash, column0, shown, 'that is a UTF-16 surrogate, not a character; write the code point itself, e.g. \\u{1F600}');
  }
  return [codePoint, close + 1];
}

function escapeError(text: string, index: number, column0: number, shown: string, hint: string): SocklabError {
  const where = shown === '\\' ? `at the end (column ${columnOf(text, index, column0)})` : `at column ${columnOf(text, index, column0)}`;
  return badPayload(`bad escape "${shown}" ${where}: ${hint}`);
}

function decodeHex(text: string, start: number): Buffer {
  const out = Buffer.allocUnsafe((text.length - start) >> 1);
  let n = 0;
  let high = -1;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) continue;
    const value = hexValue(code);
    if (value < 0) {
      const shown = String.fromCodePoint(text.codePointAt(i) ?? code);
      throw badPayload(`bad hex digit "${shown}" at column ${columnOf(text, i, 1)}: use pairs of 0-9 a-f, e.g. hex:48 65 6c`);
    }
    if (high < 0) high = value;
    else {
      out[n++] = high * 16 + value;
      high = -1;
    }
  }
  if (high >= 0) {
    throw badPayload(`hex: has an odd number of digits (${n * 2 + 1}): every byte needs two, e.g. hex:0a or hex:48 65`);
  }
  return out.subarray(0, n);
}

function decodeBase64(text: string, start: number): Buffer {
  const body = text.slice(start);
  const bad = body.search(/[^A-Za-z0-9+/=\s]/);
  if (bad >= 0) {
    const shown = String.fromCodePoint(body.codePointAt(bad) ?? 0);
    const urlHint = shown === '-' || shown === '_' ? ' (base64url? write + for - and / for _)' : '';
    throw badPayload(`bad base64 character "${shown}" at column ${columnOf(text, start + bad, 1)}: use A-Z a-z 0-9 + / and = at the end${urlHint}`);
  }
  const firstPad = body.indexOf('=');
  if (firstPad >= 0 && !/^=\s*=?\s*$/.test(body.slice(firstPad))) {
    throw badPayload(`bad base64 padding at column ${columnOf(text, start + firstPad, 1)}: "=" goes only at the end, at most twice`);
  }
  const clean = body.replace(/\s+/g, '');
  const padded = firstPad >= 0;
  if ((padded && clean.length % 4 !== 0) || clean.length % 4 === 1) {
    throw badPayload(`bad base64 length: ${clean.length} characters, but base64 comes in groups of 4 (pad with =), e.g. base64:SGVsbG8=`);
  }
  return Buffer.from(clean, 'base64');
}

const IO_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

function readPayloadFile(path: string, readFile: PayloadOptions['readFile'], max: number): Buffer {
  if (path === '') throw badPayload('file: needs a path, e.g. file:./request.bin');
  try {
    if (readFile) return readFile(path);
    // Size checked before reading; a device or FIFO is read only up to the limit.
    return readSafely(path, max);
  } catch (err) {
    if (isSocklabError(err)) throw err;
    const osCode = osErrorCode(err);
    const reason = (osCode === undefined ? undefined : IO_REASONS[osCode]) ?? messageOf(err);
    throw new SocklabError('E_IO', `cannot read file:${path}: ${reason}`, osCode === undefined ? { cause: err } : { cause: err, osCode });
  }
}
