/**
 * Framing codecs (SPEC 12), as properties (fast-check): for every codec, any
 * sequence of messages, framed and cut into any chunks, decodes to the same
 * messages; decode(encode(m)) = m; the limit holds whatever the peer sends.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/protocols/framing-decoder.js';
import { encodeMessage, makeFraming, parseFrameSpec, type FrameCodec, type Framing } from '../../src/protocols/framing.js';
import { SocklabError } from '../../src/errors.js';
import { thrown } from '../helpers/errors.js';

/** `fnOrError` threw (or is) a SocklabError with this code, its message matching. */
function expectSocklabError(fnOrError: unknown, code: string, message: RegExp): void {
  const err = typeof fnOrError === 'function' ? thrown(fnOrError as () => unknown) : fnOrError;
  expect(err).toBeInstanceOf(SocklabError);
  expect((err as SocklabError).code).toBe(code);
  expect((err as SocklabError).message).toMatch(message);
}

const SPECS = ['line', 'crlf', 'delim:00', 'delim:0d0a', 'delim:abab', 'len8', 'len16', 'len16le', 'len32', 'len32le', 'fixed:1', 'fixed:5'];

/** Messages a codec can frame: no delimiter inside, the fixed size, what the prefix can state. */
function messages(codec: FrameCodec): fc.Arbitrary<Buffer[]> {
  const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
  // Delimiter bytes are made likely, so messages come near to holding one.
  const near = codec.kind === 'delimiter' ? fc.array(fc.oneof(fc.constantFrom(...codec.delimiter, 0x0d, 0x0a), fc.integer({ min: 0, max: 255 })), { maxLength: 40 }).map((a) => Buffer.from(a)) : bytes(0, 300);
  const one: fc.Arbitrary<Buffer> =
    codec.kind === 'fixed' ? bytes(codec.size, codec.size) : codec.kind === 'length' && codec.size === 1 ? bytes(0, 255) : near;
  return fc.array(one.filter((m) => canEncode(codec, m)), { maxLength: 30 });
}

function canEncode(codec: FrameCodec, m: Buffer): boolean {
  try {
    encodeMessage(codec, m);
    return true;
  } catch {
    return false;
  }
}

/** Cut `bytes` at the given points (sorted, deduplicated, in range). */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of [...at, bytes.length]) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  return chunks;
}

function decodeAll(framing: Framing, chunks: Buffer[]): Buffer[] {
  const decoder = new FrameDecoder(framing);
  const out: Buffer[] = [];
  // Copied: a message that lies whole in a chunk is a view of it.
  for (const c of chunks) decoder.push(Buffer.from(c), (m) => out.push(Buffer.from(m)));
  expect(decoder.waiting).toBe(0);
  return out;
}

describe.each(SPECS)('--frame %s', (spec) => {
  const framing = makeFraming(spec);
  const { codec } = framing;

  it('any messages, cut into any chunks, decode to the same messages', () => {
    fc.assert(
      fc.property(messages(codec), fc.array(fc.nat(), { maxLength: 20 }), (msgs, points) => {
        const wire = Buffer.concat(msgs.map((m) => encodeMessage(codec, m)));
        expect(decodeAll(framing, cut(wire, points))).toEqual(msgs);
      }),
      { numRuns: 300 },
    );
  });

  it('one byte at a time decodes the same', () => {
    fc.assert(
      fc.property(messages(codec), (msgs) => {
        const wire = Buffer.concat(msgs.map((m) => encodeMessage(codec, m)));
        expect(decodeAll(framing, [...wire].map((b) => Buffer.of(b)))).toEqual(msgs);
      }),
      { numRuns: 100 },
    );
  });

  it('decode(encode(m)) = m, and the decoder holds nothing after it', () => {
    fc.assert(
      fc.property(messages(codec), (msgs) => {
        for (const m of msgs) expect(decodeAll(framing, [encodeMessage(codec, m)])).toEqual([m]);
      }),
      { numRuns: 100 },
    );
  });

  it('any bytes at all never hold more than the limit, and fail with one clear E_LIMIT', () => {
    const small = makeFraming(spec, codec.kind === 'fixed' ? codec.size : 8);
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const decoder = new FrameDecoder(small);
        for (const c of chunks) {
          try {
            decoder.push(Buffer.from(c), (m) => expect(m.length).toBeLessThanOrEqual(small.maxMessage));
          } catch (err) {
            expectSocklabError(err, 'E_LIMIT', /--max-message 8 B/);
            return;
          }
          // The prefix, the message, the delimiter's bytes: never more.
          expect(decoder.waiting).toBeLessThanOrEqual(small.maxMessage + 17);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('length prefixes: byte orders and the limit', () => {
  it('reads big- and little-endian prefixes as their names say', () => {
    const got = (spec: string, wire: Buffer): Buffer[] => decodeAll(makeFraming(spec), [wire]);
    expect(got('len16', Buffer.from('0003616263', 'hex'))).toEqual([Buffer.from('abc')]);
    expect(got('len16le', Buffer.from('0300616263', 'hex'))).toEqual([Buffer.from('abc')]);
    expect(got('len32', Buffer.from('000000026162', 'hex'))).toEqual([Buffer.from('ab')]);
    expect(got('len32le', Buffer.from('020000006162', 'hex'))).toEqual([Buffer.from('ab')]);
    expect(encodeMessage(parseFrameSpec('len16'), Buffer.from('hello'))).toEqual(Buffer.from('000568656c6c6f', 'hex'));
    expect(encodeMessage(parseFrameSpec('len32le'), Buffer.from('hi'))).toEqual(Buffer.from('020000006869', 'hex'));
  });

  it('a prefix of 4 GiB is refused when it is read, before its payload and without allocating for it', () => {
    const decoder = new FrameDecoder(makeFraming('len32'));
    const seen: Buffer[] = [];
    // One good message, then the hostile prefix, in one chunk.
    const wire = Buffer.concat([encodeMessage(parseFrameSpec('len32'), Buffer.from('ok')), Buffer.from('ffffffff', 'hex')]);
    expectSocklabError(() => decoder.push(wire, (m) => seen.push(Buffer.from(m))), 'E_LIMIT', /announces a message of 4294967295 B, over --max-message 1048576 B/);
    expect(seen).toEqual([Buffer.from('ok')]);
    expect(decoder.waiting).toBe(0);
    // Dead after that: more bytes are refused with the same error, not read as a new message.
    expectSocklabError(() => decoder.push(Buffer.from('0001', 'hex'), () => {}), 'E_LIMIT', /4294967295/);
  });

  it('an unfinished message is counted as waiting, with the size its prefix announced', () => {
    const decoder = new FrameDecoder(makeFraming('len32'));
    decoder.push(Buffer.from('0000000261', 'hex'), () => expect.fail('no message is complete'));
    expect([decoder.waiting, decoder.expected]).toEqual([5, 6]);
  });

  it('a prefix split across chunks is read whole', () => {
    expect(decodeAll(makeFraming('len32'), [Buffer.of(0), Buffer.of(0, 0), Buffer.of(1), Buffer.from('x')])).toEqual([Buffer.from('x')]);
  });

  it('encoding refuses what the prefix cannot state', () => {
    expectSocklabError(() => encodeMessage(parseFrameSpec('len8'), Buffer.alloc(256)), 'E_BAD_PAYLOAD', /256 B is too long for one len8 message \(at most 255 B\)/);
    expect(encodeMessage(parseFrameSpec('len8'), Buffer.alloc(255))).toHaveLength(256);
  });
});

describe('delimiters', () => {
  it('line strips one CR before the LF, and only there', () => {
    expect(decodeAll(makeFraming('line'), [Buffer.from('a\r\nb\r'), Buffer.from('\nc\rd\n')])).toEqual(['a', 'b', 'c\rd'].map((s) => Buffer.from(s)));
  });

  it('a run with no delimiter over the limit fails, a message of exactly the limit passes', () => {
    const framing = makeFraming('crlf', 4);
    expect(decodeAll(framing, [Buffer.from('abcd\r'), Buffer.from('\n')])).toEqual([Buffer.from('abcd')]);
    const decoder = new FrameDecoder(framing);
    expectSocklabError(() => decoder.push(Buffer.from('abcdef'), () => {}), 'E_LIMIT', /6 B arrived without the \\r\\n that ends a crlf message, over --max-message 4 B/);
  });

  it('a long message in one chunk is over the limit too', () => {
    const decoder = new FrameDecoder(makeFraming('line', 3));
    expectSocklabError(() => decoder.push(Buffer.from('ok\ntoo long\n'), () => {}), 'E_LIMIT', /8 B arrived without/);
  });

  it('a delimiter split across chunks, its first bytes held, is found', () => {
    expect(decodeAll(makeFraming('delim:0d0a0d0a'), [Buffer.from('head\r'), Buffer.from('\n\r'), Buffer.from('\nbody\r\n\r\n')])).toEqual([
      Buffer.from('head'),
      Buffer.from('body'),
    ]);
  });

  it('encoding refuses a message holding its delimiter, or a trailing CR on line', () => {
    expectSocklabError(() => encodeMessage(parseFrameSpec('line'), Buffer.from('a\nb')), 'E_BAD_PAYLOAD', /holds the \\n that ends a line message/);
    expectSocklabError(() => encodeMessage(parseFrameSpec('line'), Buffer.from('a\r')), 'E_BAD_PAYLOAD', /ends with \\r/);
    expectSocklabError(() => encodeMessage(parseFrameSpec('delim:abab'), Buffer.from([0xab])), 'E_BAD_PAYLOAD', /delimiter ab ab/);
    expectSocklabError(() => encodeMessage(parseFrameSpec('fixed:4'), Buffer.from('abc')), 'E_BAD_PAYLOAD', /exactly 4 B; this one is 3 B/);
  });
});

describe('--frame SPEC and --max-message: one clear line naming what would be right', () => {
  it.each([
    ['len12', /unknown --frame "len12": use line, crlf, delim:HEX .* or fixed:N/],
    ['delim:', /delim: takes 1 to 16 bytes as hex digits/],
    ['delim:0', /two per byte, e.g. delim:00/],
    ['delim:zz', /hex digits/],
    ['fixed:0', /fixed: takes a size in bytes of 1 or more/],
    ['fixed:-3', /fixed: takes a size/],
    ['\u001b[31mred', /unknown --frame "\\u001b\[31mred"/],
  ])('%j', (spec, message) => {
    expectSocklabError(() => parseFrameSpec(spec), 'E_BAD_OPTION', message);
  });

  it('fixed:N over --max-message', () => {
    expectSocklabError(() => makeFraming('fixed:100', 10), 'E_BAD_OPTION', /raise --max-message to 100 or more/);
  });
});
