/**
 * Issue #5.1: nothing a peer sends reaches the terminal raw. One socklab
 * process (the built CLI, interactive on a pipe) receives every class of
 * hostile bytes, each on its own connection, in text and hex view; then shows
 * them again through .ls, .show, .timeline, a failing .expect, and an HTTP
 * server's request lines and header errors. Every byte it printed is checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupProcesses, runCli, type RunningProcess } from '../helpers/cli.js';
import { listeningPort, rawControls, sendAndEnd, timeToAnswer, waitForStdoutAfter } from './helpers.js';

const bytes = (...b: number[]): Buffer => Buffer.from(b);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const utf8 = (...cps: number[]): Buffer => Buffer.from(String.fromCodePoint(...cps), 'utf8');

/** Each class a hostile peer could use: the bytes, and text its escaped form must contain. */
const CLASSES: Array<{ name: string; data: Buffer; shown: string[] }> = [
  { name: 'CSI cursor movement and clear screen', data: Buffer.from('\x1b[2J\x1b[H\x1b[10A\x1b[999C'), shown: ['\\x1b[2J\\x1b[H\\x1b[10A'] },
  { name: 'alternate screen', data: Buffer.from('\x1b[?1049h'), shown: ['\\x1b[?1049h'] },
  { name: 'device status query', data: Buffer.from('\x1b[6n\x1b[c'), shown: ['\\x1b[6n\\x1b[c'] },
  { name: 'OSC window title', data: Buffer.from('\x1b]0;pwned\x07'), shown: ['\\x1b]0;pwned\\x07'] },
  { name: 'OSC 52 clipboard write', data: Buffer.from('\x1b]52;c;cm0gLXJmIH4=\x1b\\'), shown: ['\\x1b]52;c;cm0gLXJmIH4=\\x1b\\\\'] },
  { name: 'OSC 8 hyperlink', data: Buffer.from('\x1b]8;;http://evil.invalid/\x1b\\click\x1b]8;;\x1b\\'), shown: ['\\x1b]8;;http://evil.invalid/\\x1b\\\\click'] },
  { name: 'DCS', data: Buffer.from('\x1bP$q"p\x1b\\'), shown: ['\\x1bP$q\\"p\\x1b\\\\'] },
  { name: 'raw C1 controls 0x80-0x9f', data: bytes(...range(0x80, 0x9f)), shown: ['\\x80\\x81', '\\x9b\\x9c\\x9d\\x9e\\x9f'] },
  { name: 'UTF-8 encoded C1 controls', data: utf8(...range(0x80, 0x9f)), shown: ['\\u{0080}\\u{0081}', '\\u{009b}\\u{009c}\\u{009d}'] },
  { name: 'CR, BS, BEL, DEL, NUL', data: Buffer.from('ok\rfake\b\x07\x7f\x00'), shown: ['ok\\rfake\\x08\\x07\\x7f\\0'] },
  { name: 'invalid UTF-8', data: bytes(0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf8, 0x88, 0x80, 0x80, 0x80, 0x41), shown: ['\\xff\\xfe\\xc0\\xaf\\xed\\xa0\\x80\\xf8\\x88\\x80\\x80\\x80A'] },
  { name: 'bidi overrides', data: utf8(0x61, ...range(0x202a, 0x202e), ...range(0x2066, 0x2069)), shown: ['a\\u{202a}\\u{202b}\\u{202c}\\u{202d}\\u{202e}\\u{2066}\\u{2067}\\u{2068}\\u{2069}'] },
  { name: 'zero-width characters', data: utf8(0x62, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff), shown: ['b\\u{200b}\\u{200c}\\u{200d}\\u{2060}\\u{feff}'] },
  { name: 'line and paragraph separators', data: utf8(0x63, 0x2028, 0x2029, 0x85), shown: ['c\\u{2028}\\u{2029}\\u{0085}'] },
];

/** HTTP requests whose request line or headers carry hostile text, and what the shown message must contain. */
const HTTP: Array<{ name: string; request: Buffer; shown: string }> = [
  {
    name: 'request line with C1 and bidi bytes (a valid request, noted)',
    request: Buffer.concat([Buffer.from('GET /'), bytes(0x9b, 0xc2, 0x9b, 0xe2, 0x80, 0xae), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]),
    // As the data line shows the same bytes (review 8: it was Latin-1, `Â\\u{009b}â\\u{0080}®`).
    shown: 'HTTP GET /\\x9b\\u{009b}\\u{202e} (0 B body)',
  },
  { name: 'request line with an OSC', request: Buffer.from('GET /\x1b]0;x\x07 HTTP/1.1\r\n\r\n'), shown: 'bad request line "GET /\\x1b]0;x\\x07 HTTP/1.1"' },
  { name: 'header name with a CSI', request: Buffer.from('GET / HTTP/1.1\r\nX-\x1b[2J: v\r\n\r\n'), shown: 'bad header name "X-\\x1b[2J"' },
  { name: 'header line with cursor movement', request: Buffer.from('GET / HTTP/1.1\r\n\x1b[1A\x1b[2K\r\n\r\n'), shown: 'bad header line "\\x1b[1A\\x1b[2K"' },
];

let lab: RunningProcess;
/** Accepted socket ids, in the order the classes were sent. */
const ids = new Map<string, string>();

beforeAll(async () => {
  lab = runCli(['--no-time', '-e', '.listen 0 as raw', '-e', '.listen 0 --http as web', '-e', '.view both'], { keepStdin: true });
  const raw = await listeningPort(lab, 1);
  const web = await listeningPort(lab, 2);
  let n = 0;
  // One connection at a time, so class k arrives on socket c(k+1) and nothing interleaves.
  for (const c of [...CLASSES, ...HTTP]) {
    const id = `c${++n}`;
    await sendAndEnd('data' in c ? raw : web, 'data' in c ? c.data : c.request);
    await lab.waitForStdout(new RegExp(`^${id} +closed$`, 'm'));
    ids.set(c.name, id);
  }
  // Peer-controlled text again, through every command that shows it.
  const answers: Array<[string, RegExp]> = [
    ['.ls', /^c\d+ +conn of s2 /m],
    ['.show c1', /^options .*\n/m],
    ['.show c8', /^options .*\n/m],
    ['.timeline', /closed|│/],
    ['.timeline --mermaid', /sequenceDiagram[^]*\n(?!.*->>)/],
    // 36 participants: the whole timeline draws the newest 12 columns; naming c8 draws its row.
    ['.timeline c8', /│/],
    ['.timeline --mermaid c8', /sequenceDiagram[^]*\n(?!.*->>)/],
  ];
  for (const [line, answer] of answers) await timeToAnswer(lab, line, answer);
  await timeToAnswer(lab, '.expect c4 NEVER --timeout 100ms', /expect c4 "NEVER" .*received "[^\n]*\n/);
});

afterAll(cleanupProcesses);

describe('no raw control byte reaches the output', () => {
  it.each(CLASSES)('$name: shown escaped in the data event', ({ name, shown }) => {
    const id = ids.get(name)!;
    const line = lab.stdout().split('\n').find((l) => new RegExp(`^${id} +← \\d+ B  "`).test(l));
    expect(line, `no data line for ${id}`).toBeDefined();
    for (const s of shown) expect(line).toContain(s);
  });

  it('hex view: every hostile byte is a dot in the ASCII column', () => {
    // 16 of the raw C1 bytes, as hexdump -C lays them out.
    expect(lab.stdout()).toContain('80 81 82 83 84 85 86 87  88 89 8a 8b 8c 8d 8e 8f  |................|');
    expect(lab.stdout()).toContain('1b 5b 3f 31 30 34 39 68                           |.[?1049h|');
  });

  it.each(HTTP)('HTTP $name: shown escaped', ({ shown }) => {
    expect(lab.stdout()).toContain(shown);
  });

  it('.expect failure messages show what arrived, escaped', () => {
    expect(lab.stdout()).toMatch(/expect c4 "NEVER" .*received "\\x1b]0;pwned\\x07"/);
  });

  it('.ls, .show and .timeline answered, and the whole stdout is free of terminal controls', async () => {
    const out = lab.stdout();
    expect(out).toMatch(/^c8 +conn of s1 /m); // .ls
    expect(out).toMatch(/^received +32 B in 1 chunks$/m); // .show c8: the raw C1 socket
    expect(out).toContain('│ 32 B "\\x80\\x81'); // .timeline preview
    expect(out).toMatch(/->>c8: 32 B #34;\\x80\\x81/); // .timeline --mermaid
    expect(rawControls(lab.stdoutBytes())).toEqual([]);
    expect(lab.stderr()).toBe('');
    const from = lab.stdout().length;
    lab.write('.exit\n');
    expect((await lab.waitForExit(5000)).code).toBe(0);
    await waitForStdoutAfter(lab, from, /^closed 2 servers and 0 sockets; bye$/m);
    expect(rawControls(lab.stdoutBytes())).toEqual([]);
  });
});
