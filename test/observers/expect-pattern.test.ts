import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePattern, type BytePattern } from '../../src/protocols/pattern.js';
import type { SessionEvent } from '../../src/session/events.js';
import { EXPECT_WINDOW, ExpectBuffers, type Pattern } from '../../src/observers/expect.js';

/** A chunk as a flood brings them, bytes. */
const CHUNK = 4 * 1024;

// The linear-time pattern module (re2js) and how ExpectBuffers uses it: pure, no sockets.

const compile = (text: string): BytePattern => {
  const p = compilePattern(text);
  if (!p) throw new Error(`not a regex: ${text}`);
  return p;
};
const re = (text: string): Pattern => ({ kind: 'regex', regex: compile(text) });
const data = (id: string, bytes: Buffer | string): SessionEvent => ({ type: 'data', t: 0, id, data: Buffer.from(bytes) });
const never = () => false;

describe('compilePattern: JavaScript syntax on RE2', () => {
  it('finds the first match as byte offsets, with captures', () => {
    const m = compile('/(\\d+) (OK|FAIL)(x)?/').find(Buffer.from('é 200 OK!'));
    expect(m).toEqual({ start: 3, end: 9, captures: [{ start: 3, end: 6 }, { start: 7, end: 9 }, undefined] });
  });

  it.each([
    ['/hello/i', 'HeLLo', true],
    ['/^b$/m', 'a\nb\nc', true],
    ['/^b$/', 'a\nb\nc', false],
    ['/a.b/s', 'a\nb', true],
    ['/a.b/', 'a\nb', false],
    ['/\\u{1F600}/u', '😀', true],
    ['/caf\\u00e9/', 'café', true],
    ['/(?<word>ab)c/', 'abc', true],
    ['/\\cA/', '\x01', true],
    ['/a\\/b/', 'a/b', true],
  ])('%s on %j → %s', (pattern, text, hit) => {
    expect(compile(pattern).find(Buffer.from(text)) !== undefined).toBe(hit);
  });

  it('g changes nothing; y anchors at the first byte searched', () => {
    expect(compile('/b/g').find(Buffer.from('ab'))?.end).toBe(2);
    expect(compile('/b/y').find(Buffer.from('ab'))).toBeUndefined();
    expect(compile('/a/y').find(Buffer.from('ab'))?.end).toBe(1);
  });

  it.each([
    ['/(a)\\1/', 'a backreference'],
    ['/(?<n>a)\\k<n>/', 'a named backreference'],
    ['/a(?=b)/', 'a lookahead'],
    ['/a(?!b)/', 'a negative lookahead'],
    ['/(?<=a)b/', 'a lookbehind'],
    ['/(?<!a)b/', 'a negative lookbehind'],
    ['/a/x', 'flag "x" is not supported'],
    ['/a/d', 'flag "d" is not supported'],
    ['/a{1001}/', 'invalid repeat count'],
    ['/a(/', 'missing closing )'],
  ])('%s is refused in one line naming %s', (pattern, what) => {
    let err: unknown;
    try {
      compilePattern(pattern);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'E_BAD_PAYLOAD' });
    const message = (err as Error).message;
    expect(message).toContain(what);
    expect(message).toContain(pattern);
    expect(message).not.toContain('\n');
  });

  it('a paren inside a class is not a lookahead', () => {
    expect(compile('/[(?=]/').find(Buffer.from('=')) !== undefined).toBe(true);
  });

  it('the catastrophic pattern /(a+)+$/ runs in linear time over 1 MiB that never matches', () => {
    const input = Buffer.concat([Buffer.alloc(EXPECT_WINDOW, 0x61), Buffer.from('!')]);
    // A backtracking engine would not come back from this in the lifetime of the test run.
    expect(compile('/(a+)+$/').find(input)).toBeUndefined();
  });

  it('find(bytes, from) keeps the bytes before `from` as context', () => {
    const p = compile('/^ab/');
    expect(p.find(Buffer.from('abab'), 2)).toBeUndefined();
    expect(compile('/^ab/m').find(Buffer.from('x\nab'), 2)?.start).toBe(2);
    expect(compile('/\\bab/').find(Buffer.from('xab ab'), 1)?.start).toBe(4);
  });

  it('maxLength: a bound for fixed-size patterns, Infinity for unbounded repeats', () => {
    expect(compile('/HTTP\\/1\\.1 200/').maxLength).toBeGreaterThanOrEqual(Buffer.byteLength('HTTP/1.1 200'));
    expect(compile('/a{2,5}/').maxLength).toBeGreaterThanOrEqual(5);
    expect(compile('/[*+]x/').maxLength).toBeLessThan(Infinity);
    for (const p of ['/a+/', '/a*/', '/a{2,}/', '/(ab)+c/']) expect(compile(p).maxLength).toBe(Infinity);
  });
});

describe('ExpectBuffers with RE2', () => {
  it('the issue example: /(a+)+$/ against a greeting of 30 (and 40) a and "!" misses at its timeout', async () => {
    // A backtracking engine tries 2^n paths with the event loop blocked: seconds for the issue's
    // 30, hours for 40. The bound is a hang detector, 300 times the 100 ms timeout, not a speed bound.
    for (const n of [30, 40]) {
      const b = new ExpectBuffers();
      b.record(data('c1', `${'a'.repeat(n)}!`));
      const started = Date.now();
      await expect(b.expect('c1', re('/(a+)+$/'), 100, never)).rejects.toMatchObject({ code: 'E_EXPECT' });
      expect(Date.now() - started).toBeLessThan(30_000);
    }
  });

  it.each(['/NEEDLE \\d{3}/', '/NEEDLE \\d+/'])('%s is found across chunks when it arrives after a long window (bounded and unbounded)', async (pattern) => {
    const b = new ExpectBuffers();
    const p = b.expect('c1', re(pattern), 5000, never);
    for (let i = 0; i < 40; i++) {
      b.record(data('c1', Buffer.alloc(16 * 1024, 0x62)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const c of ['NEE', 'DLE ', '2', '00', '!']) {
      b.record(data('c1', c));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const got = await p;
    expect(got.subarray(-10).toString()).toMatch(/NEEDLE 2/);
    expect(b.pending('c1').length).toBeLessThanOrEqual(3);
  });

  it('a match that needs the next byte (\\B) is found once that byte comes', async () => {
    const b = new ExpectBuffers();
    const p = b.expect('c1', re('/ab\\B/'), 2000, never);
    b.record(data('c1', 'xxab'));
    await new Promise((resolve) => setImmediate(resolve));
    b.record(data('c1', 'c'));
    expect((await p).toString()).toBe('xxab');
  });

  it('a waiting bounded regex joins each new chunk with a short look-back, not the whole window', async () => {
    const b = new ExpectBuffers();
    const p = b.expect('c1', re('/NEEDLE/'), 5000, never);
    const concat = Buffer.concat;
    let joined = 0;
    Buffer.concat = ((list: readonly Uint8Array[], total?: number) => {
      const out = concat(list, total);
      joined += out.length;
      return out;
    }) as typeof Buffer.concat;
    try {
      for (let i = 0; i < 1000; i++) {
        b.record(data('c1', Buffer.alloc(CHUNK, 0x62)));
        await Promise.resolve();
      }
    } finally {
      Buffer.concat = concat;
    }
    b.record(data('c1', 'NEEDLE'));
    expect((await p).subarray(-6).toString()).toBe('NEEDLE');
    // The whole window per chunk would be ~1,000 × 1 MiB / 2 joined; the tails are a few KiB each.
    expect(joined).toBeLessThan(16 * 1024 * 1024);
  });

  it('an unbounded regex rescans the window a bounded number of times, however many chunks come', async () => {
    const b = new ExpectBuffers();
    const regex = compile('/a.*NEVER/s');
    let scanned = 0;
    const counted: BytePattern = { ...regex, find: (bytes, from) => ((scanned += bytes.length - (from ?? 0)), regex.find(bytes, from)) };
    const p = b.expect('c1', { kind: 'regex', regex: counted }, 10_000, never).catch(() => undefined);
    const chunks = 4000;
    for (let i = 0; i < chunks; i++) {
      b.record(data('c1', Buffer.alloc(CHUNK, 0x61)));
      await Promise.resolve();
    }
    // A rescan per chunk would search ~2 GiB here (window up to 1 MiB × 4,000); the bound is a few windows per RESCAN_MS.
    expect(scanned).toBeLessThan(400 * 1024 * 1024);
    b.record({ type: 'close', t: 0, id: 'c1', hadError: false });
    b.forget('c1');
    void p;
  });

  it('a miss reports only after every byte was searched (no deferred bytes left behind)', async () => {
    const b = new ExpectBuffers();
    let ended = false;
    const p = b.expect('c1', re('/x.*END/'), 5000, () => ended);
    b.record(data('c1', Buffer.alloc(200_000, 0x78)));
    await new Promise((resolve) => setImmediate(resolve));
    b.record(data('c1', 'END'));
    ended = true;
    b.record({ type: 'end', t: 0, id: 'c1' });
    expect((await p).subarray(-3).toString()).toBe('END');
  });
});

describe('ExpectBuffers: many tiny chunks', () => {
  it('300,000 one-byte chunks are kept in a few blocks, not 300,000 Buffers', async () => {
    const b = new ExpectBuffers();
    const one = Buffer.from('x');
    for (let i = 0; i < 300_000; i++) b.record({ type: 'data', t: 0, id: 'c1', data: one });
    expect(b.keptBytes()).toBe(300_000);
    expect(b.keptChunks()).toBeLessThan(300_000 / 1000);
    b.record(data('c1', 'DONE'));
    expect((await b.expect('c1', { kind: 'bytes', bytes: Buffer.from('xDONE') }, 100, never)).length).toBe(300_004);
  });

  it('a block is never written under a view handed out earlier', async () => {
    const b = new ExpectBuffers();
    b.record(data('c1', 'ab'));
    const first = await b.expect('c1', { kind: 'bytes', bytes: Buffer.from('a') }, 100, never);
    for (const c of ['c', 'd', 'e']) b.record(data('c1', c));
    expect(first.toString()).toBe('a');
    expect(b.pending('c1').toString()).toBe('bcde');
  });
});

describe('the flags the README documents (review #15)', () => {
  it('every flag compilePattern accepts is in the README row of .expect, with what g and y do', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const row = readme.split('\n').find((l) => l.startsWith('| `.expect ID PATTERN')) ?? '';
    for (const f of 'abcdefghijklmnopqrstuvwxyz') {
      let accepted = true;
      try {
        compilePattern(`/x/${f}`);
      } catch {
        accepted = false;
      }
      if (accepted) expect(row, `flag ${f}`).toMatch(new RegExp(`\`[^\`]*\\b${f}\\b[^\`]*\``));
    }
    expect(row).toMatch(/`g` changes nothing, `y` anchors at the first unmatched byte/);
    expect(() => compilePattern('/x/q')).toThrow(/flag "q" is not supported/);
  });
});
