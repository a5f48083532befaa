import { describe, expect, it } from 'vitest';
import { jsonBytesPrinter, toJsonBytes, toJsonLine } from '../../src/render/json.js';
import type { SessionEvent } from '../../src/session/events.js';

// --json writes toJsonBytes; every other view (tests, the classroom feed) reads toJsonLine.
// The two must agree byte for byte on every event, whatever the peer sent.
const T = 1_700_000_000_123;

/** Chunks that take each path: ASCII (with and without DEL, C0, quotes), UTF-8, invalid UTF-8, the hidden classes. */
const CHUNKS: Buffer[] = [
  Buffer.alloc(0),
  Buffer.from('hello\n'),
  Buffer.alloc(64 * 1024, 'socklab bench payload 0123456789\n'),
  Buffer.from('quote " backslash \\ slash / tab \t cr \r nul \0 esc \x1b bel \x07 end'),
  Buffer.from('del \x7f in ASCII\x7f'),
  Buffer.from([0x7f]),
  Buffer.from(Array.from({ length: 128 }, (_, i) => i)),
  Buffer.from('héllo wörld ✓ \u2028 \u202e \u{e0041} \u009b \ufeff'),
  Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x9f]),
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
];

/** Random bytes, ASCII-heavy so that both paths run often; a fixed seed so a failure repeats. */
function randomChunks(n: number, seed = 17): Buffer[] {
  let s = seed;
  const next = (): number => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31);
  return Array.from({ length: n }, () => {
    const len = next() % 300;
    const ascii = next() % 2 === 0;
    return Buffer.from(Array.from({ length: len }, () => (ascii ? next() % 128 : next() % 256)));
  });
}

function dataEvents(data: Buffer): SessionEvent[] {
  return [
    { type: 'data', t: T, id: 'c1', data },
    { type: 'message', t: T, id: 'c2', data },
    { type: 'send', t: T, id: 's1', data },
    { type: 'send', t: T, id: 'u1', data, to: '127.0.0.1:9' },
    { type: 'data', t: T, id: 'c3', data, framed: true },
    { type: 'datagram', t: T, id: 'u1', from: '127.0.0.1:9', data },
    { type: 'relay', t: T, id: 'p1', from: 'c1', to: 'c2', dir: 'up', data },
  ] as SessionEvent[];
}

const OTHERS = [
  { type: 'end', t: T, id: 'c1' },
  { type: 'close', t: T, id: 'c1', hadError: false },
  { type: 'note', t: T, message: 'a note with \x1b[2J and \u202e' },
  { type: 'command', t: T, line: '.send c1 "héllo"' },
] as SessionEvent[];

// Compared as latin1 text: one character per byte, exact, and far quicker than a deep compare of Buffers.
const expected = (ev: SessionEvent): string | undefined => {
  const line = toJsonLine(ev);
  return line === undefined ? undefined : Buffer.from(line + '\n').toString('latin1');
};
const actual = (ev: SessionEvent): string | undefined => toJsonBytes(ev)?.toString('latin1');

describe('toJsonBytes: the bytes of toJsonLine plus a newline', () => {
  it('agrees on every kind of chunk and event', () => {
    for (const chunk of [...CHUNKS, ...randomChunks(400)]) {
      for (const ev of dataEvents(chunk)) expect(actual(ev), `${ev.type} of ${chunk.toString('hex').slice(0, 40)}`).toBe(expected(ev));
    }
    for (const ev of OTHERS) expect(actual(ev)).toBe(expected(ev));
  });

  it('keeps every byte and escapes DEL in text, on the ASCII path too', () => {
    const line = toJsonBytes({ type: 'data', t: T, id: 'c1', data: Buffer.from('a\x7fb\n"') })!;
    expect(line.toString('latin1')).toContain('"text":"a\\u007fb\\n\\""}\n');
    const parsed = JSON.parse(line.toString('utf8')) as { base64: string; text: string; bytes: number };
    expect(Buffer.from(parsed.base64, 'base64')).toEqual(Buffer.from('a\x7fb\n"'));
    expect(parsed).toMatchObject({ bytes: 5, text: 'a\x7fb\n"' });
  });

  it('leaves out what toJsonLine leaves out (a framed socket\'s chunks)', () => {
    expect(toJsonBytes({ type: 'data', t: T, id: 'c1', data: Buffer.from('x'), framed: true })).toBeUndefined();
  });
});

describe('jsonBytesPrinter', () => {
  it('writes what toJsonLine says when one Buffer comes back in later events (an echo\'s send)', () => {
    const a = Buffer.from('first chunk\n');
    const b = Buffer.from('second \x7f chunk\n');
    const events = [
      { type: 'data', t: T, id: 'c1', data: a },
      { type: 'send', t: T, id: 'c1', data: a },
      { type: 'data', t: T, id: 'c1', data: b },
      { type: 'data', t: T, id: 'c1', data: a },
      { type: 'send', t: T, id: 'c1', data: b },
      { type: 'send', t: T, id: 'c1', data: a },
      { type: 'send', t: T, id: 'c1', data: a },
      { type: 'message', t: T, id: 'c2', data: b },
      { type: 'send', t: T, id: 'u1', data: b, to: '127.0.0.1:9' },
      { type: 'send', t: T, id: 'c2', data: b },
    ] as SessionEvent[];
    const out: Buffer[] = [];
    const print = jsonBytesPrinter((line) => out.push(line));
    for (const ev of events) print(ev);
    expect(Buffer.concat(out).toString('latin1')).toBe(events.map((ev) => expected(ev)).join(''));
  });

  it('a Buffer changed between its data line and its send line is logged as sent, not as received (review 3 #1)', () => {
    const out: Buffer[] = [];
    const print = jsonBytesPrinter((line) => out.push(line));
    const chunk = Buffer.from('hello');
    print({ type: 'data', t: T, id: 'c2', data: chunk });
    // What c2.on('data', (d) => { d.fill(0x5a); c2.write(d) }) does between the two events.
    chunk.fill(0x5a);
    print({ type: 'send', t: T, id: 'c2', data: chunk });
    const [data, send] = Buffer.concat(out).toString().trim().split('\n').map((l) => JSON.parse(l) as { base64: string });
    expect(data?.base64).toBe(Buffer.from('hello').toString('base64'));
    expect(send?.base64).toBe(Buffer.from('ZZZZZ').toString('base64'));
  });

  it('writes one line per event, each ending in a newline', () => {
    const out: Buffer[] = [];
    const print = jsonBytesPrinter((b) => out.push(b));
    print({ type: 'data', t: T, id: 'c1', data: Buffer.from('hi\n') });
    print({ type: 'data', t: T, id: 'c1', data: Buffer.from('x'), framed: true });
    print({ type: 'end', t: T, id: 'c1' });
    expect(Buffer.concat(out).toString()).toBe(
      `{"t":${T},"event":"data","id":"c1","bytes":3,"base64":"aGkK","text":"hi\\n"}\n{"t":${T},"event":"end","id":"c1"}\n`,
    );
  });
});
