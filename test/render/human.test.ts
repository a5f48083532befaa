import pc from 'picocolors';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatEvent, formatFold, PLAIN_LINES, type HumanOptions } from '../../src/render/human.js';
import { escapeMessage } from '../../src/render/escape.js';
import { FOLD_AFTER, FOLD_INTERVAL, HumanPrinter } from '../../src/render/printer.js';
import type { SessionEvent, SessionEventType } from '../../src/session/events.js';
import { defaultSettings, type Settings } from '../../src/settings.js';
import { SAMPLES, T } from './events.js';

const plain: HumanOptions = { time: false, colors: pc.createColors(false) };
const show = (ev: SessionEvent, payload?: string): string | undefined => formatEvent(ev, plain, payload);

describe('formatEvent: one line per event kind', () => {
  const expected: { [K in SessionEventType]: string | undefined } = {
    listening: 's1   listening on 127.0.0.1:9000  (reply: echo)',
    connect: 'c1   connected 127.0.0.1:51234 → 127.0.0.1:9000',
    accept: 'c2   accepted by s1 from 127.0.0.1:51234',
    send: 'c1   → 6 B',
    data: 'c2   ← 6 B',
    message: 'c2   ← msg 5 B',
    datagram: 'u1   ← 5 B from 127.0.0.1:5353',
    relay: 'p1   c3 ⇒ c4  16 B',
    secure: 'c1   TLS 1.3 TLS_AES_256_GCM_SHA384  ALPN h2  cert CN=localhost (self-signed: not verified)',
    end: 'c2   ← FIN (peer ended its side)',
    shutdown: 'c1   → FIN (we ended our side; still reading)',
    stop: 's1   stopped accepting; 2 connections stay open',
    close: 'c1   closed',
    error: 'c3   error ECONNREFUSED 127.0.0.1:9 (nothing listens there)',
    timeout: 'c2   idle for 3000 ms: timeout, destroyed',
    command: undefined,
    'command-error': '!    unknown command .lisen: did you mean .listen?',
    'expect-ok': 'c1   expect ok: .expect c1 PONG',
    // The failure reaches the person as the command-error of the .expect line.
    'expect-fail': undefined,
    note: 'c2   HTTP GET / (0 B body) → 200, 5 B',
    rule: 'c2   r1 fired: .sendln c2 "PONG 1"',
  };
  it.each(Object.keys(SAMPLES) as SessionEventType[])('%s', (type) => {
    expect(show(SAMPLES[type])).toBe(expected[type]);
  });

  it('a timestamp in front when time is on', () => {
    expect(formatEvent(SAMPLES.end, { ...plain, time: true })).toBe('03:04:05.006  c2   ← FIN (peer ended its side)');
  });

  it('colours by kind when colours are on', () => {
    const line = formatEvent(SAMPLES.error, { time: false, colors: pc.createColors(true) })!;
    expect(line).toContain('\x1b[31m'); // red
    expect(line.replace(/\x1b\[\d+m/g, '')).toBe(expected.error);
  });

  it('each colour is its own', () => {
    const colored: HumanOptions = { time: false, colors: pc.createColors(true) };
    const opening = (ev: SessionEvent): string | undefined => /\x1b\[1m.*?\x1b\[22m {2}(\x1b\[\d+m)/.exec(formatEvent(ev, colored) ?? '')?.[1];
    expect(opening(SAMPLES.accept)).toBe('\x1b[32m'); // green
    expect(opening(SAMPLES.error)).toBe('\x1b[31m'); // red
    expect(opening(SAMPLES.end)).toBe('\x1b[33m'); // yellow
    expect(opening(SAMPLES.data)).toBe('\x1b[36m'); // cyan
    expect(opening(SAMPLES.send)).toBe('\x1b[35m'); // magenta
    expect(opening(SAMPLES.close)).toBe('\x1b[2m'); // dim
    expect(opening(SAMPLES.rule)).toBe('\x1b[34m'); // blue
  });

  it('listening variants: alias, path, IPv6, exposed', () => {
    const l = SAMPLES.listening;
    expect(show({ ...l, alias: 'srv', reply: undefined })).toBe('s1   listening on 127.0.0.1:9000 as srv');
    expect(show({ ...l, address: '/tmp/lab.sock', port: undefined, path: '/tmp/lab.sock', reply: undefined })).toBe('s1   listening on /tmp/lab.sock');
    expect(show({ ...l, address: '::1', reply: undefined })).toBe('s1   listening on [::1]:9000');
    expect(show({ ...l, address: '0.0.0.0', exposed: true, reply: undefined })).toBe(
      's1   listening on 0.0.0.0:9000  — reachable from the network, not only this machine',
    );
  });

  it('close variants, stop with one connection, timeout without destroy, connect with alias', () => {
    expect(show({ ...SAMPLES.close, hadError: true })).toBe('c1   closed after an error');
    expect(show({ ...SAMPLES.close, aborted: true, reset: true })).toBe('c1   closed (aborted by us)');
    expect(show({ ...SAMPLES.close, aborted: true })).toBe('c1   closed (destroyed by us)');
    expect(show({ ...SAMPLES.stop, open: 1 })).toBe('s1   stopped accepting; 1 connection stays open');
    expect(show({ ...SAMPLES.timeout, destroyed: false })).toBe('c2   idle for 3000 ms: timeout');
    expect(show({ ...SAMPLES.connect, alias: 'alice' })).toBe('c1   connected 127.0.0.1:51234 → 127.0.0.1:9000 as alice');
  });

  it('errors: session-level, unknown code, a source, peer text escaped', () => {
    expect(show({ type: 'error', t: T, code: 'EMFILE', message: 'accept EMFILE' })).toMatch(/^- {4}error EMFILE \(too many open files/);
    expect(show({ ...SAMPLES.error, code: 'EWEIRD', message: 'something EWEIRD odd' })).toBe('c3   error EWEIRD odd');
    expect(show({ ...SAMPLES['command-error'], source: 'demo.lab:12' })).toMatch(/^! {4}demo\.lab:12: unknown command/);
    expect(show({ ...SAMPLES.note, message: 'GET /\x1b[2J' })).toBe('c2   GET /\\x1b[2J');
  });

  it('the fixed lines it does not escape are ones escaping would leave as they are', () => {
    expect(PLAIN_LINES.length).toBeGreaterThan(0);
    for (const text of PLAIN_LINES) expect(escapeMessage(text)).toBe(text);
  });

  // The id part and the clock part of the last line are reused for the next one: the lines
  // just outside that (another id, another millisecond, colours switched on) are built anew.
  it('a line with another id, time or colours than the one before is its own', () => {
    const timed: HumanOptions = { ...plain, time: true };
    const colored: HumanOptions = { time: true, colors: pc.createColors(true) };
    expect(formatEvent(SAMPLES.end, timed)).toBe('03:04:05.006  c2   ← FIN (peer ended its side)');
    expect(formatEvent({ ...SAMPLES.end, id: 'c3' }, timed)).toBe('03:04:05.006  c3   ← FIN (peer ended its side)');
    expect(formatEvent({ ...SAMPLES.end, id: 'c3', t: T + 1 }, timed)).toBe('03:04:05.007  c3   ← FIN (peer ended its side)');
    expect(formatEvent({ ...SAMPLES.end, id: 'c3', t: T + 1 }, colored)).toBe(
      '\x1b[2m03:04:05.007\x1b[22m  \x1b[1mc3 \x1b[22m  \x1b[33m← FIN (peer ended its side)\x1b[39m',
    );
    expect(formatEvent({ ...SAMPLES.end, id: 'c3', t: T + 1 }, timed)).toBe('03:04:05.007  c3   ← FIN (peer ended its side)');
    expect(formatEvent({ ...SAMPLES.note, id: 'c3\x1b[2J', t: T + 1 }, timed)).toBe('03:04:05.007  c3\\x1b[2J  HTTP GET / (0 B body) → 200, 5 B');
  });

  it('send and data carry the formatted payload', () => {
    expect(show(SAMPLES.data, '  "hello\\n"')).toBe('c2   ← 6 B  "hello\\n"');
    expect(show({ ...SAMPLES.send, data: Buffer.alloc(2048) })).toBe('c1   → 2.0 KiB');
  });
});

describe('formatFold', () => {
  it('one summary line per socket and direction', () => {
    expect(formatFold({ id: 'c2', dir: '←', chunks: 48213, bytes: 1.2 * 1024 ** 3, ms: 1000, t: T }, plain)).toBe('c2   ← 48,213 chunks, 1.2 GiB in 1.0 s');
    expect(formatFold({ id: 'c1', dir: '→', chunks: 3, bytes: 30, ms: 250, t: T }, { ...plain, time: true })).toBe('03:04:05.006  c1   → 3 chunks, 30 B in 0.3 s');
  });
});

describe('HumanPrinter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function printer(overrides: Partial<Settings> = {}) {
    const writes: string[] = [];
    const settings = defaultSettings({ time: false, ...overrides });
    const p = new HumanPrinter(settings, (text) => writes.push(text));
    const lines = (): string[] => writes.join('').split('\n').filter((l) => l !== '');
    return { p, settings, writes, lines };
  }
  const data = (i: number, t = T, id = 'c2'): SessionEvent => ({ type: 'data', t, id, data: Buffer.from(`chunk ${i}\n`) });

  it('a burst of 1,000 data events folds into a summary; shown + folded = 1,000', () => {
    const { p, writes, lines } = printer();
    for (let i = 0; i < 1000; i++) p.handle(data(i));
    p.handle({ type: 'close', t: T, id: 'c2', hadError: false });
    p.close();
    const out = lines();
    expect(out.length).toBeLessThan(100);
    expect(writes.length).toBeLessThan(5);
    const shown = out.filter((l) => /^c2 {3}← \d+ B {2}"chunk/.test(l));
    const summary = out.map((l) => /← ([\d,]+) chunks, ([\d.]+ \w+) in/.exec(l)).filter((m) => m !== null);
    expect(shown).toHaveLength(FOLD_AFTER);
    expect(summary).toHaveLength(1);
    const folded = Number(summary[0]![1]!.replace(/,/g, ''));
    expect(shown.length + folded).toBe(1000);
    expect(folded).toBe(1000 - FOLD_AFTER);
    expect(out.at(-1)).toBe('c2   closed');
  });

  it('folding is per socket: a quiet socket keeps its lines', () => {
    const { p, lines } = printer();
    for (let i = 0; i < 100; i++) p.handle(data(i));
    p.handle(data(0, T, 'c7'));
    p.close();
    expect(lines().filter((l) => l.startsWith('c7'))).toEqual(['c7   ← 8 B  "chunk 0\\n"']);
  });

  it('the summary repeats per interval and a stream that went quiet unfolds', () => {
    vi.useFakeTimers({ now: T });
    const { p, lines } = printer();
    for (let i = 0; i < 50; i++) p.handle(data(i, Date.now()));
    vi.advanceTimersByTime(FOLD_INTERVAL);
    p.flush();
    expect(lines().at(-1)).toBe('c2   ← 30 chunks, 270 B in 1.0 s');
    vi.advanceTimersByTime(FOLD_INTERVAL); // nothing came: fold mode ends
    p.handle(data(99, Date.now()));
    p.flush();
    expect(lines().at(-1)).toBe('c2   ← 9 B  "chunk 99\\n"');
    p.close();
  });

  it('hex view: offsets run on across chunks, per socket and direction', () => {
    const { p, lines } = printer({ view: 'hex' });
    p.handle({ type: 'data', t: T, id: 'c1', data: Buffer.from('0123456789abcdefXYZ') });
    p.handle({ type: 'data', t: T, id: 'c1', data: Buffer.from('next') });
    p.handle({ type: 'send', t: T, id: 'c1', data: Buffer.from('out') });
    p.close();
    expect(lines()).toEqual([
      'c1   ← 19 B',
      '     00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|',
      '     00000010  58 59 5a                                          |XYZ|',
      'c1   ← 4 B',
      '     00000013  6e 65 78 74                                       |next|',
      'c1   → 3 B',
      '     00000000  6f 75 74                                          |out|',
    ]);
  });

  it('hex offsets keep counting through folded chunks and .view off', () => {
    vi.useFakeTimers({ now: T });
    const { p, settings, lines } = printer({ view: 'hex' });
    const block = Buffer.alloc(16, 0x41);
    for (let i = 0; i < 30; i++) p.handle({ type: 'data', t: Date.now(), id: 'c1', data: block });
    vi.advanceTimersByTime(2 * FOLD_INTERVAL); // the fold summary, then quiet: unfolded
    settings.view = 'off';
    p.handle({ type: 'data', t: Date.now(), id: 'c1', data: block });
    settings.view = 'hex';
    p.handle({ type: 'data', t: Date.now(), id: 'c1', data: block });
    p.close();
    const out = lines();
    expect(out.slice(-3)).toEqual(['c1   ← 16 B', 'c1   ← 16 B', `     000001f0  ${'41 '.repeat(8)} ${'41 '.repeat(8)} |${'A'.repeat(16)}|`]);
  });

  it('text view escapes controls and cuts at maxbytes; per-socket view wins; off shows just the size', () => {
    const { p, settings, lines } = printer({ maxbytes: 4 });
    p.handle({ type: 'data', t: T, id: 'c1', data: Buffer.from('\x1b[2Jabcdef') });
    settings.views.set('c2', 'off');
    p.handle({ type: 'data', t: T, id: 'c2', data: Buffer.from('secret') });
    p.close();
    expect(lines()).toEqual(['c1   ← 10 B  "\\x1b[2J" … (+6 B)', 'c2   ← 6 B']);
  });

  it('writes lines in one batch per turn and command output in order with events', async () => {
    const { p, writes } = printer();
    p.handle(SAMPLES.end);
    p.print('a table');
    p.handle(SAMPLES.close);
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['c2   ← FIN (peer ended its side)\na table\nc1   closed\n']);
  });
});

describe('HumanPrinter: a stream that ends inside a UTF-8 character', () => {
  it('shows the held bytes, escaped, before the FIN line', async () => {
    const { HumanPrinter } = await import('../../src/render/printer.js');
    const { defaultSettings } = await import('../../src/settings.js');
    let out = '';
    const printer = new HumanPrinter(defaultSettings({ time: false }), (text) => (out += text));
    printer.handle({ type: 'data', t: 0, id: 'c1', data: Buffer.from([0x61, 0xe4, 0xbd]) });
    printer.handle({ type: 'end', t: 0, id: 'c1' });
    printer.flush();
    const lines = out.trimEnd().split('\n');
    expect(lines).toEqual([
      'c1   ← 3 B  "a"',
      'c1   ← "\\xe4\\xbd" (the stream ended inside a UTF-8 character)',
      'c1   ← FIN (peer ended its side)',
    ]);
  });
});

describe('formatCount', () => {
  it.each([
    [0, '0'],
    [999, '999'],
    [1000, '1,000'],
    [48213, '48,213'],
    [1234567, '1,234,567'],
  ])('%i → %s', async (n, text) => {
    const { formatCount } = await import('../../src/render/units.js');
    expect(formatCount(n)).toBe(text);
  });
});

describe('formatClock', () => {
  it('is HH:MM:SS.mmm in local time, also across second boundaries, for the same millisecond twice and after going back', async () => {
    const { formatClock } = await import('../../src/render/units.js');
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    const base = Date.UTC(2026, 10, 22, 13, 59, 58, 990);
    for (const dt of [0, 0, 5, 5, 9, 10, 11, 1009, 1010, 1010, 2000, 60_000, 3_600_000, 5, 1005]) {
      const t = base + dt;
      const d = new Date(t);
      expect(formatClock(t)).toBe(`${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`);
    }
  });
});

describe('HumanPrinter: explanations in a narrow terminal', () => {
  it('wraps them to the width, continuation lines indented under the text', async () => {
    const { HumanPrinter } = await import('../../src/render/printer.js');
    const { defaultSettings } = await import('../../src/settings.js');
    let out = '';
    const printer = new HumanPrinter(defaultSettings({ time: false, explain: true }), (text) => (out += text), 0, () => 60);
    printer.handle({ type: 'end', t: 0, id: 'c1' });
    printer.flush();
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe('c1   ← FIN (peer ended its side)');
    expect(lines[1]).toMatch(/^ {5}↳ The peer sent FIN/);
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines.slice(1)) expect(l.length).toBeLessThanOrEqual(60);
    for (const l of lines.slice(2)) expect(l).toMatch(/^ {7}\S/);
  });
});
