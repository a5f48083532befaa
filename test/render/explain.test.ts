/**
 * `.explain on`: one sentence per event for a learner. Pure: explainEvent on
 * sample events, and the HumanPrinter (settings.explain = true) on a scripted
 * stream of events, without sockets.
 */
import { describe, expect, it } from 'vitest';
import { explainEvent } from '../../src/render/explain.js';
import { HumanPrinter } from '../../src/render/printer.js';
import type { SessionEvent, SessionEventType } from '../../src/session/events.js';
import { defaultSettings } from '../../src/settings.js';
import { SAMPLES, T } from './events.js';

/** Words each explanation must contain: what the event means in TCP and Node terms. */
const EXPECTED: { [K in SessionEventType]: RegExp[] | undefined } = {
  listening: [/kernel/, /backlog/],
  accept: [/three-way handshake/, /\bc2\b/, /\bs1\b/],
  connect: [/SYN/, /SYN-ACK/, /'connect'/],
  data: [/'data'/, /byte stream/],
  relay: [/\bc3\b/, /\bc4\b/, /client → target/, /backpressure/],
  message: [/whole message/, /--frame/, /sticky packets/],
  datagram: [/boundaries/, /No connection/, /no delivery guarantee/],
  secure: [/ClientHello/, /SNI name localhost/, /ALPN/, /h2 was agreed/, /TLSv1\.3/, /DEPTH_ZERO_SELF_SIGNED_CERT/, /--insecure/],
  send: [/'drain'/, /write\(\) returns false/],
  end: [/FIN/, /'end'/, /allowHalfOpen/],
  shutdown: [/FIN/, /socket\.end\(\)/, /keep reading/],
  stop: [/server\.close\(\)/, /open ones carry on/],
  close: [/'close'/, /exactly one close/],
  error: [/RST/, /no program listens/],
  timeout: [/'timeout'/, /only reports it/],
  // Nothing about the network to teach: the command line itself says it.
  command: undefined,
  'command-error': undefined,
  'expect-ok': undefined,
  'expect-fail': undefined,
  note: undefined,
  rule: [/Rule r1 matched an event of c2/, /as if typed/, /1,000 times a second is suspended/, /\.off r1/],
};

describe('explainEvent: one line for every event kind that teaches something', () => {
  it.each(Object.keys(SAMPLES) as SessionEventType[])('%s', (type) => {
    const text = explainEvent(SAMPLES[type]);
    const words = EXPECTED[type];
    if (words === undefined) {
      expect(text).toBeUndefined();
      return;
    }
    expect(text).toBeTypeOf('string');
    // One line, one or two sentences, no trailing blank.
    expect(text).not.toMatch(/[\n\r]/);
    expect(text).toBe(text!.trim());
    expect(text!.length).toBeGreaterThan(40);
    expect(text).toMatch(/[.)]$/);
    for (const w of words) expect(text).toMatch(w);
  });

  it('close: a normal close, a close after an error, and an abort (RST) say different things', () => {
    const normal = explainEvent(SAMPLES.close)!;
    const afterError = explainEvent({ ...SAMPLES.close, hadError: true })!;
    const aborted = explainEvent({ ...SAMPLES.close, aborted: true, reset: true })!;
    const destroyed = explainEvent({ ...SAMPLES.close, aborted: true })!;
    expect(destroyed).toMatch(/FIN/);
    expect(destroyed).not.toMatch(/ECONNRESET/);
    expect(new Set([normal, afterError, aborted]).size).toBe(3);
    expect(afterError).toMatch(/hadError true/);
    expect(aborted).toMatch(/RST/);
    expect(aborted).toMatch(/ECONNRESET/);
  });

  it('accept names the new socket and its server', () => {
    expect(explainEvent({ ...SAMPLES.accept, id: 'c7', server: 's3' })).toMatch(/gave us c7, a socket of its own, separate from s3/);
  });
});

describe('explainEvent: OS error codes', () => {
  const error = (code: string): SessionEvent => ({ type: 'error', t: T, id: 'c1', code, message: `connect ${code} 127.0.0.1:9` });
  const cases: Array<[string, RegExp[]]> = [
    ['ECONNREFUSED', [/RST/, /no program listens on that port/]],
    ['ECONNRESET', [/aborted the connection with RST/, /error, then close/]],
    ['EADDRINUSE', [/already listening on that address and port/, /or 0/]],
    ['EPIPE', [/wrote after the peer closed/]],
    ['ETIMEDOUT', [/No answer in time/, /firewall/]],
  ];
  it.each(cases)('%s', (code, words) => {
    const text = explainEvent(error(code));
    expect(text).toBeTypeOf('string');
    expect(text).not.toMatch(/\n/);
    for (const w of words) expect(text).toMatch(w);
  });

  it('each code has its own explanation', () => {
    const texts = cases.map(([code]) => explainEvent(error(code)));
    expect(new Set(texts).size).toBe(cases.length);
  });

  it('an unknown code has none (the error line itself is shown)', () => {
    expect(explainEvent(error('EWHATEVER'))).toBeUndefined();
  });
});

/** A printer with explanations on; `lines()` writes out what is pending and returns every line so far. */
function explainingPrinter(explain = true): { printer: HumanPrinter; lines: () => string[]; settings: ReturnType<typeof defaultSettings> } {
  const settings = defaultSettings({ time: false, color: false, explain });
  const out: string[] = [];
  const printer = new HumanPrinter(settings, (text) => out.push(text));
  return {
    printer,
    settings,
    lines: () => {
      printer.flush();
      return out.join('').split('\n').slice(0, -1);
    },
  };
}

const ev = {
  send: (id: string, text: string): SessionEvent => ({ type: 'send', t: T, id, data: Buffer.from(text) }),
  data: (id: string, text: string): SessionEvent => ({ type: 'data', t: T, id, data: Buffer.from(text) }),
};

describe('HumanPrinter with .explain on', () => {
  it('every event line with an explanation is followed by exactly one ↳ line', () => {
    const { printer, lines } = explainingPrinter();
    const events: SessionEvent[] = [SAMPLES.listening, SAMPLES.accept, SAMPLES.connect, SAMPLES.end, SAMPLES.shutdown, SAMPLES.stop, SAMPLES.timeout, SAMPLES.error, SAMPLES.close];
    for (const e of events) printer.handle(e);
    const out = lines();
    expect(out).toHaveLength(events.length * 2);
    events.forEach((e, i) => {
      expect(out[2 * i]).not.toMatch(/↳/);
      expect(out[2 * i + 1]).toBe(`     ↳ ${explainEvent(e)!}`);
    });
  });

  it('data and send are explained once per socket, not on every chunk', () => {
    const { printer, lines } = explainingPrinter();
    printer.handle(ev.send('c1', 'one'));
    printer.handle(ev.data('c2', 'one'));
    printer.handle(ev.send('c1', 'two'));
    printer.handle(ev.data('c2', 'two'));
    printer.handle(ev.data('c1', 'back'));
    printer.handle(ev.data('c1', 'again'));
    expect(lines()).toEqual([
      'c1   → 3 B  "one"',
      `     ↳ ${explainEvent(ev.send('c1', ''))!}`,
      'c2   ← 3 B  "one"',
      `     ↳ ${explainEvent(ev.data('c2', ''))!}`,
      'c1   → 3 B  "two"',
      'c2   ← 3 B  "two"',
      'c1   ← 4 B  "back"',
      `     ↳ ${explainEvent(ev.data('c1', ''))!}`,
      'c1   ← 5 B  "again"',
    ]);
  });

  it('events that teach nothing get no ↳ line (command errors, expect, notes, an unknown error code)', () => {
    const { printer, lines } = explainingPrinter();
    printer.handle(SAMPLES['command-error']);
    printer.handle(SAMPLES['expect-ok']);
    printer.handle(SAMPLES.note);
    printer.handle({ ...SAMPLES.error, code: 'EWHATEVER', message: 'EWHATEVER odd' });
    printer.handle(SAMPLES.command);
    const out = lines();
    expect(out).toHaveLength(4);
    expect(out.filter((l) => l.includes('↳'))).toEqual([]);
  });

  it('off by default; the setting is read live (.explain on, then off)', () => {
    const { printer, lines, settings } = explainingPrinter(false);
    printer.handle(SAMPLES.end);
    settings.explain = true;
    printer.handle(SAMPLES.end);
    settings.explain = false;
    printer.handle(SAMPLES.end);
    expect(lines()).toEqual([
      'c2   ← FIN (peer ended its side)',
      'c2   ← FIN (peer ended its side)',
      `     ↳ ${explainEvent(SAMPLES.end)!}`,
      'c2   ← FIN (peer ended its side)',
    ]);
  });

  it('the ↳ line is dim when colours are on', () => {
    const settings = defaultSettings({ time: false, color: true, explain: true });
    const out: string[] = [];
    const printer = new HumanPrinter(settings, (text) => out.push(text));
    printer.handle(SAMPLES.end);
    printer.flush();
    const explanation = out.join('').split('\n')[1]!;
    expect(explanation).toBe(`\x1b[2m     ↳ ${explainEvent(SAMPLES.end)!}\x1b[22m`);
  });
});
