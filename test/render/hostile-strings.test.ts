/**
 * Strings that are not peer bytes but still reach the terminal (issue 9):
 * socket paths, names, file names and messages quoting input. Each renderer
 * escapes every string field it shows; cuts happen after escaping, between
 * characters. Pure renderers, no sockets.
 */
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { cutEscaped, escapeMessage } from '../../src/render/escape.js';
import { formatEvent, type HumanOptions } from '../../src/render/human.js';
import { HumanPrinter } from '../../src/render/printer.js';
import { renderMermaid, renderTimeline } from '../../src/render/timeline.js';
import type { SessionEvent } from '../../src/session/events.js';
import type { Step } from '../../src/observers/history.js';
import { defaultSettings } from '../../src/settings.js';
import { rawControls } from '../hostile/helpers.js';

const OSC = '\x1b]0;pwned\x07';
const PATH = `/tmp/${OSC}.sock`;
const plain: HumanOptions = { time: true, colors: pc.createColors(false) };
const colored: HumanOptions = { time: true, colors: pc.createColors(true) };
const T = 1_700_000_000_000;

/** Output is clean when it has no raw control but the SGR colours we add ourselves. */
const clean = (text: string, ours = false): string[] =>
  rawControls(Buffer.from(ours ? text.replace(/\x1b\[\d+m/g, '') : text));

const EVENTS: SessionEvent[] = [
  { type: 'listening', t: T, id: 's1', address: PATH, path: PATH, alias: undefined, reply: `echo ${OSC}` } as SessionEvent,
  { type: 'accept', t: T, id: 'c2', server: 's1', local: PATH, remote: `${OSC}\u202e` } as SessionEvent,
  { type: 'connect', t: T, id: 'c1', local: `a\u2028b`, remote: PATH } as SessionEvent,
  { type: 'error', t: T, id: 'c1', code: 'ENOENT', message: `connect ENOENT ${PATH}` },
  { type: 'error', t: T, id: 'c1', code: `E\x1b[2J`, message: `x ${OSC}` },
  { type: 'command-error', t: T, line: `.record ${PATH}`, code: 'E_USAGE', message: `cannot write ${PATH}`, source: `${OSC}.lab:3` },
  { type: 'expect-ok', t: T, id: 'c1', line: `.expect c1 ${OSC}`, received: Buffer.from('') },
  { type: 'note', t: T, id: 'c1', message: `HTTP GET /${OSC}\u{e0041}\u3164 (0 B body)` },
];

describe('formatEvent escapes every string field it interpolates', () => {
  it.each(EVENTS.map((ev) => [ev.type, ev] as const))('%s', (_type, ev) => {
    for (const options of [plain, colored]) {
      const line = formatEvent(ev, options)!;
      expect(clean(line, options === colored)).toEqual([]);
    }
    expect(formatEvent(ev, plain)).toMatch(/\\x1b|\\u\{/);
  });

  it('an error code inside the user text does not cut the line (EHTTP in a request line)', () => {
    const message = 'bad request line "GET /EHTTP-and-more HTTP/1.1"';
    const line = formatEvent({ type: 'error', t: T, id: 'c2', code: 'EHTTP', message }, plain)!;
    expect(line).toContain(`error EHTTP ${message}`);
    // Node's own prefix is still dropped: `syscall CODE rest`.
    const refused = formatEvent({ type: 'error', t: T, id: 'c1', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9' }, plain)!;
    expect(refused).toMatch(/error ECONNREFUSED 127\.0\.0\.1:9 \(/);
    const inUse = formatEvent({ type: 'error', t: T, id: 's1', code: 'EADDRINUSE', message: 'listen EADDRINUSE: address already in use /tmp/ECONNRESET' }, plain)!;
    expect(inUse).toContain('error EADDRINUSE address already in use /tmp/ECONNRESET');
    const host = formatEvent({ type: 'error', t: T, id: 'c1', code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND ENOTFOUND.example' }, plain)!;
    expect(host).toContain('error ENOTFOUND ENOTFOUND.example');
  });
});

describe('HumanPrinter.print: command output is escaped, newlines kept', () => {
  it('a path in "recording to …" and a table row', () => {
    let out = '';
    const printer = new HumanPrinter(defaultSettings({ color: true }), (t) => (out += t));
    printer.print(`recording to ${PATH}`);
    printer.print(`id  what\nc1  ${PATH}\u202e`);
    printer.flush();
    expect(out).toBe(`recording to /tmp/\\x1b]0;pwned\\x07.sock\nid  what\nc1  /tmp/\\x1b]0;pwned\\x07.sock\\u{202e}\n`);
  });

  it('explanations of an event with a hostile path are escaped too', () => {
    let out = '';
    const printer = new HumanPrinter(defaultSettings({ color: false, explain: true }), (t) => (out += t));
    for (const ev of EVENTS) printer.handle(ev);
    printer.flush();
    expect(clean(out)).toEqual([]);
  });
});

describe('.timeline: names are escaped before they are cut', () => {
  const steps: Step[] = [
    { kind: 'connect', t: T, id: 'c1', local: 'local', remote: PATH },
    { kind: 'send', t: T, id: 'c1', bytes: 5, chunks: 1, preview: Buffer.from('hi\x1b]0') },
    { kind: 'closed', t: T, id: 'c1' },
  ] as Step[];

  it('a socket path with an OSC in the header shows escaped, and the rows after it are intact', () => {
    const text = renderTimeline(steps);
    expect(clean(text)).toEqual([]);
    const [head, ...rows] = text.split('\n');
    expect(head).toContain('/tmp/\\x1b]0;pwned\\x0');
    expect(head).not.toContain('\\x0…');
    expect(rows.join('\n')).toContain('5 B "hi\\x1b]0"');
  });

  it('mermaid: the participant is escaped for the terminal and for Mermaid', () => {
    const text = renderMermaid(steps);
    expect(clean(text)).toEqual([]);
    expect(text).toMatch(/participant P1 as \/tmp\/\\x1b]0#59;pwned\\x07.sock/);
  });
});

describe('cutEscaped', () => {
  it.each<[string, number, string]>([
    ['abc', 2, 'ab'],
    ['abc', 5, 'abc'],
    ['\\x1b]0', 1, '\\x1b'],
    ['a\\x1b', 2, 'a\\x1b'],
    ['a\\x1b', 1, 'a'],
    ['\\u{202e}x', 1, '\\u{202e}'],
    ['\\\\n', 1, '\\\\'],
    ['😀😀', 1, '😀'],
    ['a😀', 1, 'a'],
  ])('%s cut to %i → %s', (text, max, want) => {
    expect(cutEscaped(text, max)).toBe(want);
  });

  it('escapeMessage is idempotent: escaping what is escaped changes nothing', () => {
    const once = escapeMessage(`${PATH}\n\u202e\t"\\x1b"`);
    expect(escapeMessage(once)).toBe(once);
    expect(once).toBe('/tmp/\\x1b]0;pwned\\x07.sock\n\\u{202e}\\t"\\x1b"');
  });
});
