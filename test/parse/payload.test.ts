import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SocklabError } from '../../src/errors.js';
import { decodeEscapes, decodePayload, type PayloadOptions } from '../../src/parse/payload.js';
import { thrown } from '../helpers/errors.js';

const bytes = (...values: number[]): Buffer => Buffer.from(values);

/** The SocklabError `fn` throws; fails the test if it returns or throws anything else. */

describe('decodePayload: text and escapes', () => {
  it.each<[string, Buffer]>([
    ['', Buffer.alloc(0)],
    ['hello', Buffer.from('hello')],
    ['a\\nb', Buffer.from('a\nb')],
    ['\\r\\n', bytes(13, 10)],
    ['\\t', bytes(9)],
    ['\\0', bytes(0)],
    ['\\\\', bytes(0x5c)],
    ['\\"', bytes(0x22)],
    ['\\x41\\x0a', bytes(0x41, 0x0a)],
    ['\\xff', bytes(0xff)],
    ['\\xFF\\xfe', bytes(0xff, 0xfe)],
    ['\\u{41}', Buffer.from('A')],
    ['\\u{e9}', bytes(0xc3, 0xa9)],
    ['\\u{20AC}', Buffer.from('€')],
    ['\\u{1F600}', Buffer.from('😀')],
    ['\\u{10FFFF}', Buffer.from(String.fromCodePoint(0x10ffff))],
    ['\\u{000041}', Buffer.from('A')],
    ['你好\\n', Buffer.from('你好\n')],
    ['😀 x\\x00', Buffer.concat([Buffer.from('😀 x'), bytes(0)])],
    ['GET / HTTP/1.0\\r\\n\\r\\n', Buffer.from('GET / HTTP/1.0\r\n\r\n')],
  ])('%j', (text, expected) => {
    expect(decodePayload(text)).toEqual(expected);
  });

  it('round-trips all 256 byte values written as \\xHH', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const text = [...all].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
    expect(decodePayload(text)).toEqual(all);
    expect(decodePayload(text.toUpperCase().replaceAll('\\X', '\\x'))).toEqual(all);
  });

  // Its speed is not asserted here (a loaded machine would fail it): that is what `npm run bench` is for.
  it('decodes 8 MiB of plain text with an escape at its end, byte for byte', () => {
    const text = 'abcdefgh'.repeat(1 << 20) + '\\n';
    const out = decodePayload(text);
    expect(out.length).toBe(8 * (1 << 20) + 1);
    expect(out.subarray(0, 8).toString()).toBe('abcdefgh');
    expect(out.subarray(-9).toString()).toBe('abcdefgh\n');
  });
});

describe('decodePayload: quotes', () => {
  it.each<[string, string]>([
    ['"  hi  "', '  hi  '],
    ['""', ''],
    ['"a\\tb"', 'a\tb'],
    ['"say \\"hi\\""', 'say "hi"'],
    ['"\\\\"', '\\'],
    ['"hex:41"', 'hex:41'],
    ['"', '"'],
    ['"open', '"open'],
    ['close"', 'close"'],
    ['"a\\"', '"a"'],
  ])('%j → %j', (text, expected) => {
    expect(decodePayload(text).toString('utf8')).toBe(expected);
  });
});

describe('decodePayload: errors', () => {
  it.each<[string, string]>([
    ['hello\\q', 'bad escape "\\q" at column 6: use \\n \\r \\t \\0 \\\\ \\" \\xHH or \\u{HHHH}'],
    ['abc\\', 'bad escape "\\" at the end (column 4)'],
    ['\\x4', 'bad escape "\\x4" at column 1: \\x needs exactly two hex digits'],
    ['\\x4g', 'bad escape "\\x4g" at column 1'],
    ['\\x', 'bad escape "\\x" at column 1'],
    ['\\u{}', 'bad escape "\\u{}" at column 1: use \\u{H…} with 1 to 6 hex digits'],
    ['\\u{1234567}', 'bad escape "\\u{1234567}"'],
    ['\\u{zz}', 'bad escape "\\u{zz}"'],
    ['\\u{41', 'bad escape "\\u{41"'],
    ['\\u0041', 'bad escape "\\u0041" at column 1: write \\u{0041}'],
    ['\\u{110000}', 'bad escape "\\u{110000}" at column 1: code points go up to \\u{10FFFF}'],
    ['\\u{D800}', 'bad escape "\\u{D800}" at column 1: that is a UTF-16 surrogate'],
    ['你好\\q', 'bad escape "\\q" at column 3'],
    ['"ab\\q"', 'bad escape "\\q" at column 4'],
    ['\\😀', 'bad escape "\\😀" at column 1'],
    ['hex:48 6g', 'bad hex digit "g" at column 9: use pairs of 0-9 a-f'],
    ['hex:0x41', 'bad hex digit "x" at column 6'],
    ['hex:486', 'hex: has an odd number of digits (3)'],
    ['base64:SGV-', 'bad base64 character "-" at column 11: use A-Z a-z 0-9 + / and = at the end (base64url?'],
    ['base64:SGVsbG8*', 'bad base64 character "*" at column 15'],
    ['base64:SG=sbG8=', 'bad base64 padding at column 10'],
    ['base64:SGVsb', 'bad base64 length: 5 characters'],
    ['base64:SGVsbG===', 'bad base64 padding'],
    ['base64:SGVsbA=', 'bad base64 length: 7 characters'],
    ['file:', 'file: needs a path'],
  ])('%j', (text, message) => {
    const err = thrown(() => decodePayload(text));
    expect(err.code).toBe('E_BAD_PAYLOAD');
    expect(err.message).toContain(message);
    expect(err.message).not.toContain('\n');
  });

  it('refuses payloads past maxBytes with E_LIMIT', () => {
    expect(decodePayload('abcd', { maxBytes: 4 })).toEqual(Buffer.from('abcd'));
    for (const text of ['abcde', 'hex:0102030405', 'base64:AAAAAAAA', 'file:x']) {
      const err = thrown(() => decodePayload(text, { maxBytes: 4, readFile: () => Buffer.alloc(5) }));
      expect(err.code).toBe('E_LIMIT');
      expect(err.message).toContain('over the 4-byte limit');
    }
  });
});

describe('decodePayload: prefixes', () => {
  it.each<[string, Buffer]>([
    ['hex:48 65 6c 6c 6f', Buffer.from('Hello')],
    ['hex:48656C6c6F', Buffer.from('Hello')],
    ['hex: 4 8\t65\n', Buffer.from('He')],
    ['hex:', Buffer.alloc(0)],
    ['hex:ff00', bytes(0xff, 0)],
    ['base64:SGVsbG8=', Buffer.from('Hello')],
    ['base64:SGVsbG8', Buffer.from('Hello')],
    ['base64:SGVsbA==', Buffer.from('Hell')],
    ['base64:SGVs bG8=', Buffer.from('Hello')],
    ['base64:', Buffer.alloc(0)],
    ['base64:/+8=', bytes(0xff, 0xef)],
    ['HEX:41', Buffer.from('HEX:41')],
  ])('%j', (text, expected) => {
    expect(decodePayload(text)).toEqual(expected);
  });
});

describe('decodePayload: file:', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads the bytes of a file', () => {
    dir = mkdtempSync(join(tmpdir(), 'socklab-payload-'));
    const path = join(dir, 'request.bin');
    writeFileSync(path, bytes(0, 0xff, 0x0a, 0x41));
    expect(decodePayload(`file:${path}`)).toEqual(bytes(0, 0xff, 0x0a, 0x41));
  });

  it('refuses a file past maxBytes before reading it', () => {
    dir = mkdtempSync(join(tmpdir(), 'socklab-payload-'));
    const path = join(dir, 'big.bin');
    writeFileSync(path, Buffer.alloc(100));
    expect(thrown(() => decodePayload(`file:${path}`, { maxBytes: 99 })).code).toBe('E_LIMIT');
  });

  it('file:/dev/zero is refused as a device, not read forever', () => {
    const err = thrown(() => decodePayload('file:/dev/zero', { maxBytes: 1024 }));
    expect(err.message).toBe('file:/dev/zero is a device: a file: payload is read from a regular file');
  });

  it('a FIFO (no writer, or an idle writer) and a directory are refused in one line (review 12)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'socklab-payload-'));
    const fifo = join(dir, 'f');
    execFileSync('mkfifo', [fifo]);
    expect(thrown(() => decodePayload(`file:${fifo}`)).message).toBe(`file:${fifo} is a FIFO: a file: payload is read from a regular file`);
    const writer = spawn('sh', ['-c', `exec sleep 30 > "${fifo}"`]);
    try {
      // The writer holds the FIFO open once our reader has opened it (open(2) waits for both ends).
      const err = thrown(() => decodePayload(`file:${fifo}`));
      expect(err.message).toBe(`file:${fifo} is a FIFO: a file: payload is read from a regular file`);
    } finally {
      writer.kill();
      await once(writer, 'exit');
    }
    expect(thrown(() => decodePayload(`file:${dir}`)).message).toBe(`file:${dir} is a directory: a file: payload is read from a regular file`);
  });

  it('reports a missing file as E_IO with the cause', () => {
    const path = join(tmpdir(), 'socklab-no-such-dir', 'missing.bin');
    const err = thrown(() => decodePayload(`file:${path}`));
    expect(err.code).toBe('E_IO');
    expect(err.osCode).toBe('ENOENT');
    expect(err.message).toBe(`cannot read file:${path}: no such file`);
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('uses the readFile it is given', () => {
    const seen: string[] = [];
    const options: PayloadOptions = { readFile: (path) => (seen.push(path), Buffer.from('from memory')) };
    expect(decodePayload('file:some/path.txt', options).toString()).toBe('from memory');
    expect(seen).toEqual(['some/path.txt']);
  });
});

describe('decodeEscapes', () => {
  it('decodes escapes but neither prefixes nor quotes', () => {
    expect(decodeEscapes('hex:41').toString()).toBe('hex:41');
    expect(decodeEscapes('"a\\n"').toString()).toBe('"a\n"');
    expect(decodeEscapes('\\xff')).toEqual(bytes(0xff));
  });

  it('reports columns from the given start column', () => {
    const err = thrown(() => decodeEscapes('ab\\q', 10));
    expect(err.code).toBe('E_BAD_PAYLOAD');
    expect(err.message).toContain('at column 12');
  });
});

describe('decodePayload: properties', () => {
  const plainChar = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 1 })
    .filter((c) => c !== '\\' && c !== '"' && !/[\p{Cc}]/u.test(c));

  it('plain printable text without backslash or quote is its UTF-8', () => {
    fc.assert(
      fc.property(fc.array(plainChar, { maxLength: 40 }), (chars) => {
        const s = chars.join('');
        fc.pre(!/^(hex|base64|file):/.test(s));
        expect(decodePayload(s)).toEqual(Buffer.from(s, 'utf8'));
      }),
    );
  });

  it('arbitrary bytes written as \\xHH decode back to themselves', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
        const text = [...raw].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
        expect(decodePayload(text)).toEqual(Buffer.from(raw));
      }),
    );
  });

  it('any input returns a Buffer or throws a SocklabError', () => {
    const piece = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.constantFrom('\\', '\\x', '\\u{', '}', '"', 'hex:', 'base64:', '=', 'ff', '\\u{D800}', '\\u{110000}'),
    );
    const options: PayloadOptions = { readFile: () => Buffer.from('file') };
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const text = pieces.join('');
        try {
          expect(Buffer.isBuffer(decodePayload(text, options))).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(SocklabError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
