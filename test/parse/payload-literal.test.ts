/**
 * payloadLiteral: any bytes, written as payload syntax, read back by
 * decodePayload as exactly those bytes; the text is one quoted payload with
 * nothing invisible, whatever the bytes (how `.on` puts a peer's bytes into
 * a command line).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePayload } from '../../src/parse/payload.js';
import { payloadLiteral } from '../../src/parse/payload-literal.js';

const roundTrip = (bytes: Uint8Array): Buffer => decodePayload(payloadLiteral(bytes));

describe('payloadLiteral', () => {
  it('property: decodePayload(payloadLiteral(bytes)) is the same bytes, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(roundTrip(bytes).toString('hex')).toBe(Buffer.from(bytes).toString('hex'));
      }),
      { numRuns: 2000 },
    );
  });

  it('property: any string, as UTF-8, round-trips, and the literal has no control, line break or unpaired quote', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const bytes = Buffer.from(text, 'utf8');
        const literal = payloadLiteral(bytes);
        expect(roundTrip(bytes).equals(bytes)).toBe(true);
        expect(literal).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
        expect(literal.startsWith('"') && literal.endsWith('"')).toBe(true);
        // Inside, every quote is escaped: the payload is one token that ends where it should.
        expect(literal.slice(1, -1).replace(/\\\\/g, '').replace(/\\"/g, '')).not.toContain('"');
      }),
      { numRuns: 1000 },
    );
  });

  it('hostile bytes stay text: prefixes, options, escapes, quotes, $1, invalid UTF-8', () => {
    const cases: Array<[string | Buffer, string]> = [
      ['file:/etc/passwd', '"file:/etc/passwd"'],
      ['hex:41', '"hex:41"'],
      ['--repeat 99999 c1 x', '"--repeat 99999 c1 x"'],
      ['\\x41', '"\\\\x41"'],
      ['say "hi" \\', '"say \\"hi\\" \\\\"'],
      ['a\nb\r\n', '"a\\nb\\r\\n"'],
      ['$1 $id', '"$1 $id"'],
      [Buffer.from([0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80]), '"\\xff\\xc3(\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80"'],
      ['\x1b[2J\u202e', '"\\x1b[2J\\u{202e}"'],
      ['你好 é', '"你好 é"'],
      ['', '""'],
    ];
    for (const [input, literal] of cases) {
      const bytes = typeof input === 'string' ? Buffer.from(input) : input;
      expect(payloadLiteral(bytes)).toBe(literal);
      expect(roundTrip(bytes).equals(bytes)).toBe(true);
    }
  });
});
