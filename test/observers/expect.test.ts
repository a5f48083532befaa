import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SocklabError } from '../../src/errors.js';
import type { SessionEvent } from '../../src/session/events.js';
import { EXPECT_BUDGET, EXPECT_MIN_KEEP, EXPECT_SLACK, EXPECT_WINDOW, ExpectBuffers, parseRegexPattern, type Pattern } from '../../src/observers/expect.js';

// Pure tests: ExpectBuffers is fed synthetic data events, no sockets.

const data = (id: string, bytes: Buffer | string): SessionEvent => ({ type: 'data', t: 0, id, data: Buffer.from(bytes) });
const lit = (text: string | Buffer): Pattern => ({ kind: 'bytes', bytes: Buffer.from(text) });
const re = (text: string): Pattern => {
  const regex = parseRegexPattern(text);
  if (!regex) throw new Error(`not a regex: ${text}`);
  return { kind: 'regex', regex };
};
const never = () => false;

/** Feed `chunks` to c1, one data event each. */
function feed(b: ExpectBuffers, chunks: Array<Buffer | string>, id = 'c1'): void {
  for (const c of chunks) b.record(data(id, c));
}

/** Split `buf` at the given offsets (sorted, deduplicated, within range). */
function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), buf.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) out.push(buf.subarray(from, p));
    from = Math.max(from, p);
  }
  if (from < buf.length) out.push(buf.subarray(from));
  return out;
}

async function miss(p: Promise<unknown>): Promise<SocklabError & { received: Buffer }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SocklabError);
  return err as SocklabError & { received: Buffer };
}

describe('ExpectBuffers: literals across chunks', () => {
  it.each([
    ['2 chunks', ['HEL', 'LO']],
    ['3 chunks', ['H', 'EL', 'LO']],
    ['1-byte chunks', ['H', 'E', 'L', 'L', 'O']],
  ])('matches a literal split in %s (arrived before the expect)', async (_name, chunks) => {
    const b = new ExpectBuffers();
    feed(b, chunks);
    const got = await b.expect('c1', lit('HELLO'), 100, never);
    expect(got.toString()).toBe('HELLO');
  });

  it.each([
    ['2 chunks', ['xxHEL', 'LOyy']],
    ['3 chunks', ['xxH', 'ELL', 'Oyy']],
    ['1-byte chunks', [...'xxHELLOyy']],
  ])('matches a literal split in %s arriving while it waits', async (_name, chunks) => {
    const b = new ExpectBuffers();
    const p = b.expect('c1', lit('HELLO'), 2000, never);
    for (const c of chunks) {
      await Promise.resolve();
      feed(b, [c]);
    }
    expect((await p).toString()).toBe('xxHELLO');
    expect(b.pending('c1').toString()).toBe('yy');
  });

  it('the match consumes up to its end: a second expect sees only later bytes', async () => {
    const b = new ExpectBuffers();
    feed(b, ['one PING two ', 'PING three']);
    expect((await b.expect('c1', lit('PING'), 100, never)).toString()).toBe('one PING');
    expect((await b.expect('c1', lit('PING'), 100, never)).toString()).toBe(' two PING');
    const err = await miss(b.expect('c1', lit('PING'), 20, never));
    expect(err.code).toBe('E_EXPECT');
    expect(err.received.toString()).toBe(' three');
  });

  it('bytes before the match are not found again by a later pattern', async () => {
    const b = new ExpectBuffers();
    feed(b, ['AB', 'CD']);
    await b.expect('c1', lit('C'), 100, never);
    const err = await miss(b.expect('c1', lit('A'), 20, never));
    expect(err.received.toString()).toBe('D');
  });

  it('matches raw bytes that are not UTF-8', async () => {
    const b = new ExpectBuffers();
    feed(b, [Buffer.from([0x00, 0xff]), Buffer.from([0xfe, 0x01])]);
    const got = await b.expect('c1', lit(Buffer.from([0xff, 0xfe])), 100, never);
    expect([...got]).toEqual([0x00, 0xff, 0xfe]);
    expect([...b.pending('c1')]).toEqual([0x01]);
  });

  it('keeps sockets apart', async () => {
    const b = new ExpectBuffers();
    feed(b, ['PI'], 'c1');
    feed(b, ['NG'], 'c2');
    const err = await miss(b.expect('c1', lit('PING'), 20, never));
    expect(err.received.toString()).toBe('PI');
  });

  it('refuses a second expect on the same socket while one waits', async () => {
    const b = new ExpectBuffers();
    const first = b.expect('c1', lit('x'), 1000, never);
    await expect(b.expect('c1', lit('y'), 1000, never)).rejects.toMatchObject({ code: 'E_STATE' });
    feed(b, ['x']);
    expect((await first).toString()).toBe('x');
  });
});

describe('ExpectBuffers: regex', () => {
  it('matches /…/flags over the UTF-8 text', async () => {
    const b = new ExpectBuffers();
    feed(b, ['HTTP/1.1 2', '00 OK\r\n']);
    const got = await b.expect('c1', re('/http\\/1\\.1 (\\d+)/i'), 100, never);
    expect(got.toString()).toBe('HTTP/1.1 200');
    expect(b.pending('c1').toString()).toBe(' OK\r\n');
  });

  it('counts the consumed bytes in UTF-8, not in UTF-16 units', async () => {
    const b = new ExpectBuffers();
    feed(b, ['你好, 😀 world!']);
    const got = await b.expect('c1', re('/😀/u'), 100, never);
    expect(got.toString()).toBe('你好, 😀');
    expect(b.pending('c1').toString()).toBe(' world!');
  });

  it('matches a UTF-8 character split across chunks', async () => {
    const b = new ExpectBuffers();
    const bytes = Buffer.from('a你好b');
    const p = b.expect('c1', re('/你好/'), 2000, never);
    for (const c of splitAt(bytes, [2, 3, 5])) {
      await Promise.resolve();
      feed(b, [c]);
    }
    expect((await p).toString()).toBe('a你好');
    expect(b.pending('c1').toString()).toBe('b');
  });

  it('matches a literal UTF-8 pattern with every byte in its own chunk', async () => {
    const b = new ExpectBuffers();
    feed(b, [...Buffer.from('哇咔咔')].map((x) => Buffer.from([x])));
    expect((await b.expect('c1', lit('咔咔'), 100, never)).toString()).toBe('哇咔咔');
  });

  it('consumes exactly up to the match when invalid UTF-8 comes before it', async () => {
    const b = new ExpectBuffers();
    feed(b, [Buffer.from([0xff, 0x41, 0x42, 0x43, 0x44])]);
    const got = await b.expect('c1', re('/AB/'), 100, never);
    expect([...got]).toEqual([0xff, 0x41, 0x42]);
    expect(b.pending('c1').toString()).toBe('CD');
  });

  it('consumes exactly up to the match after a truncated multi-byte sequence', async () => {
    const b = new ExpectBuffers();
    // e4 bd is the start of 你 without its last byte: one U+FFFD in the text.
    feed(b, [Buffer.from([0xe4, 0xbd]), Buffer.from('xy-rest')]);
    const got = await b.expect('c1', re('/xy/'), 100, never);
    expect([...got]).toEqual([0xe4, 0xbd, 0x78, 0x79]);
    expect(b.pending('c1').toString()).toBe('-rest');
  });

  it('ignores the g flag (each expect searches from the last match)', async () => {
    const b = new ExpectBuffers();
    feed(b, ['a1 a2']);
    expect((await b.expect('c1', re('/a\\d/g'), 100, never)).toString()).toBe('a1');
    expect((await b.expect('c1', re('/a\\d/g'), 100, never)).toString()).toBe(' a2');
  });

  it('parseRegexPattern: /…/ only; a bad regex is E_BAD_PAYLOAD', () => {
    expect(parseRegexPattern('PONG')).toBeUndefined();
    expect(parseRegexPattern('/')).toBeUndefined();
    expect(parseRegexPattern('/a/i')?.source).toBe('/a/i');
    expect(() => parseRegexPattern('/a(/')).toThrow(expect.objectContaining({ code: 'E_BAD_PAYLOAD' }));
  });
});

describe('ExpectBuffers: misses', () => {
  it('times out with E_EXPECT and what did arrive as received', async () => {
    const b = new ExpectBuffers();
    feed(b, ['PI', 'NG\n']);
    const started = Date.now();
    const err = await miss(b.expect('c1', lit('PONG'), 50, never));
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(err.code).toBe('E_EXPECT');
    expect(err.message).toBe('expect c1 timed out after 50 ms');
    expect(err.received.toString()).toBe('PING\n');
    // A miss consumes nothing: the bytes are still there for the next expect.
    expect(b.pending('c1').toString()).toBe('PING\n');
  });

  it('a miss with nothing received has an empty received', async () => {
    const b = new ExpectBuffers();
    const err = await miss(b.expect('c9', lit('x'), 10, never));
    expect(err.received.length).toBe(0);
  });

  it('fails early, without waiting for the timeout, once the socket ended', async () => {
    const b = new ExpectBuffers();
    feed(b, ['partial']);
    let ended = false;
    // A timeout far past the test's own: the test passes only if the end, not the timer, settles it.
    const p = miss(b.expect('c1', lit('PONG'), 600_000, () => ended));
    await Promise.resolve();
    ended = true;
    b.record({ type: 'end', t: 0, id: 'c1' });
    const err = await p;
    expect(err.code).toBe('E_EXPECT');
    expect(err.message).toMatch(/closed/);
    expect(err.received.toString()).toBe('partial');
  });

  it('wakes on close too', async () => {
    const b = new ExpectBuffers();
    let ended = false;
    const p = miss(b.expect('c1', lit('x'), 5000, () => ended));
    await Promise.resolve();
    ended = true;
    b.record({ type: 'close', t: 0, id: 'c1', hadError: false });
    expect((await p).message).toMatch(/closed/);
  });

  it('still matches what arrived before the end', async () => {
    const b = new ExpectBuffers();
    feed(b, ['bye\n']);
    expect((await b.expect('c1', lit('bye'), 100, () => true)).toString()).toBe('bye');
  });
});

describe('ExpectBuffers: bounded window', () => {
  const CHUNK = 64 * 1024;
  const TOTAL = 5 * 1024 * 1024;

  it('without an expect waiting, keeps at most EXPECT_WINDOW + EXPECT_SLACK + one chunk', () => {
    const b = new ExpectBuffers();
    const chunk = Buffer.alloc(CHUNK, 0x61);
    for (let sent = 0; sent < TOTAL; sent += CHUNK) {
      feed(b, [chunk]);
      expect(b.pending('c1').length).toBeLessThanOrEqual(EXPECT_WINDOW + EXPECT_SLACK + CHUNK);
    }
    expect(b.pending('c1').length).toBeGreaterThanOrEqual(EXPECT_WINDOW);
  });

  it('while an expect waits and misses on every chunk, stays within EXPECT_WINDOW + EXPECT_SLACK + one chunk', async () => {
    const b = new ExpectBuffers();
    let stop = false;
    const p = miss(b.expect('c1', lit('NEVER'), 10_000, () => stop));
    const chunk = Buffer.alloc(CHUNK, 0x61);
    let max = 0;
    for (let sent = 0; sent < TOTAL; sent += CHUNK) {
      feed(b, [chunk]);
      // Let the waiting expect look at the new chunk.
      await new Promise((resolve) => setImmediate(resolve));
      max = Math.max(max, b.pending('c1').length);
    }
    expect(max).toBeLessThanOrEqual(EXPECT_WINDOW + EXPECT_SLACK + CHUNK);
    expect(max).toBeGreaterThanOrEqual(EXPECT_WINDOW);
    stop = true;
    b.record({ type: 'close', t: 0, id: 'c1', hadError: false });
    const err = await p;
    expect(err.received.length).toBeLessThanOrEqual(EXPECT_WINDOW + EXPECT_SLACK + CHUNK);
    // What is kept is the newest bytes.
    expect(err.received.equals(Buffer.alloc(err.received.length, 0x61))).toBe(true);
  });

  it('while a regex expect misses on every chunk, stays within EXPECT_WINDOW + EXPECT_SLACK + one chunk', async () => {
    const b = new ExpectBuffers();
    let stop = false;
    const p = miss(b.expect('c1', re('/NEVER/'), 10_000, () => stop));
    const chunk = Buffer.alloc(CHUNK, 0x62);
    let max = 0;
    for (let sent = 0; sent < TOTAL; sent += CHUNK) {
      feed(b, [chunk]);
      await new Promise((resolve) => setImmediate(resolve));
      max = Math.max(max, b.pending('c1').length);
    }
    stop = true;
    b.record({ type: 'end', t: 0, id: 'c1' });
    const err = await p;
    expect(max).toBeLessThanOrEqual(EXPECT_WINDOW + EXPECT_SLACK + CHUNK);
    expect(err.received.length).toBeLessThanOrEqual(EXPECT_WINDOW + EXPECT_SLACK + CHUNK);
  });

  it('still finds a pattern that arrives after the window filled', async () => {
    const b = new ExpectBuffers();
    const p = b.expect('c1', lit('NEEDLE'), 10_000, never);
    const chunk = Buffer.alloc(CHUNK, 0x61);
    for (let sent = 0; sent < 2 * EXPECT_WINDOW; sent += CHUNK) {
      feed(b, [chunk]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    feed(b, ['NEE', 'DLE!']);
    const got = await p;
    expect(got.subarray(-6).toString()).toBe('NEEDLE');
    expect(got.length).toBeLessThanOrEqual(EXPECT_WINDOW + EXPECT_SLACK + CHUNK);
    expect(b.pending('c1').toString()).toBe('!');
  });
});

describe('ExpectBuffers: property', () => {
  it('for any split of bytes that contain the pattern, the expect matches and consumes up to the first match', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.array(fc.nat({ max: 100 }), { maxLength: 20 }),
        fc.boolean(),
        async (before, pattern, after, cuts, waitFirst) => {
          const whole = Buffer.concat([before, pattern, after]);
          const chunks = splitAt(whole, cuts);
          const b = new ExpectBuffers();
          let got: Buffer;
          if (waitFirst) {
            const p = b.expect('c1', lit(Buffer.from(pattern)), 1000, never);
            for (const c of chunks) {
              await Promise.resolve();
              feed(b, [c]);
            }
            got = await p;
          } else {
            feed(b, chunks);
            got = await b.expect('c1', lit(Buffer.from(pattern)), 1000, never);
          }
          const first = whole.indexOf(Buffer.from(pattern));
          expect(first).toBeGreaterThanOrEqual(0);
          expect(got.equals(whole.subarray(0, first + pattern.length))).toBe(true);
          expect(b.pending('c1').equals(whole.subarray(first + pattern.length))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a regex consumes exactly up to its match whatever bytes (valid UTF-8 or not) come before', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ min: 1, max: 255, maxLength: 30 }),
        fc.uint8Array({ min: 1, max: 255, maxLength: 10 }),
        fc.array(fc.nat({ max: 50 }), { maxLength: 10 }),
        async (before, after, cuts) => {
          // NUL never belongs to a multi-byte sequence, so the match ends right after it.
          const whole = Buffer.concat([before, Buffer.from([0]), after]);
          const b = new ExpectBuffers();
          feed(b, splitAt(whole, cuts));
          const got = await b.expect('c1', re('/\\x00/'), 1000, never);
          expect([...got]).toEqual([...before, 0]);
          expect([...b.pending('c1')]).toEqual([...after]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the same for a regex over UTF-8 text split anywhere, even inside a character', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', maxLength: 12 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
        fc.string({ unit: 'grapheme', maxLength: 12 }),
        fc.array(fc.nat({ max: 120 }), { maxLength: 20 }),
        async (before, needle, after, cuts) => {
          const whole = Buffer.from(before + needle + after);
          const escaped = needle.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
          const b = new ExpectBuffers();
          const p = b.expect('c1', re(`/${escaped}/u`), 1000, never);
          for (const c of splitAt(whole, cuts)) {
            await Promise.resolve();
            feed(b, [c]);
          }
          const got = await p;
          const text = before + needle + after;
          const end = Buffer.byteLength(text.slice(0, text.indexOf(needle) + needle.length));
          expect(got.equals(whole.subarray(0, end))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('over all sockets keeps at most EXPECT_BUDGET, one window and EXPECT_MIN_KEEP per socket; a quiet socket keeps its bytes', async () => {
    const b = new ExpectBuffers();
    feed(b, ['the reply'], 'quiet');
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    // 200 busy sockets of 1 MiB each would be 200 MiB without the budget.
    for (let i = 0; i < 200; i++) feed(b, [chunk, chunk, chunk, chunk], `c${i}`);
    expect(b.keptBytes()).toBeLessThanOrEqual(EXPECT_BUDGET + EXPECT_WINDOW + EXPECT_SLACK + 200 * EXPECT_MIN_KEEP);
    expect(b.keptBytes()).toBeLessThan(100 * 1024 * 1024);
    expect(b.pending('c199').length).toBeLessThanOrEqual(Math.max(EXPECT_MIN_KEEP, chunk.length));
    expect((await b.expect('quiet', lit('reply'), 100, never)).toString()).toBe('the reply');
  });

  it('a waiting literal expect searches each new chunk once, not the whole window again', async () => {
    const b = new ExpectBuffers();
    const p = b.expect('c1', lit('NEEDLE'), 5000, never);
    const concat = Buffer.concat;
    let joined = 0;
    Buffer.concat = ((list: readonly Uint8Array[], total?: number) => {
      const out = concat(list, total);
      joined += out.length;
      return out;
    }) as typeof Buffer.concat;
    try {
      for (let i = 0; i < 1000; i++) {
        feed(b, [Buffer.alloc(1024, 0x62)]);
        await Promise.resolve();
      }
    } finally {
      Buffer.concat = concat;
    }
    feed(b, ['NEED', 'LE']);
    expect((await p).length).toBe(1000 * 1024 + 6);
    // Joining the whole window per chunk would join ~500 MiB; the tails are a few KiB each.
    expect(joined).toBeLessThan(8 * 1024 * 1024);
  });
});
