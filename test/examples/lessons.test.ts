/**
 * The eight tutorial lessons (examples/*.lab, SPEC section 8) run as scripts by
 * the built CLI. Their servers are moved off the tutorials' fixed ports to
 * port 0 first (the scripts reach servers by alias, so nothing else changes),
 * and each run must pass and show the lesson's key lines.
 *
 * The lessons against real peers (nc, curl, Node clients): lessons-peers*.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanupLessons,
  freePort,
  lessonNames,
  lessonSource,
  listenLineNumbers,
  listenPorts,
  runLesson,
  withListenPort,
} from '../helpers/lessons.js';

afterEach(cleanupLessons);

const TESTED = ['eaddrinuse', 'echo-server', 'greeting', 'http-echo', 'idle-timeout', 'sticky-packets', 'two-clients', 'you-said-upper'];

/** Run the lesson with its servers on port 0; it must exit 0. Returns its stdout (no colours, no timestamps). */
async function selfRun(name: string, ms?: number): Promise<string> {
  const { exit, proc } = await runLesson(name, withListenPort(lessonSource(name), 0), ms);
  expect(exit, proc.describe()).toEqual({ code: 0, signal: null });
  expect(proc.stderr(), proc.describe()).toBe('');
  return proc.stdout();
}

/** The lines of `out` whose id column is any endpoint and whose text is exactly `what`. */
function idsWith(out: string, what: string): string[] {
  return out
    .split('\n')
    .flatMap((line) => {
      const m = /^([sc]\d+) +(.*)$/.exec(line);
      return m && m[2] === what ? [m[1] as string] : [];
    });
}

/** The index of the first line equal to `<id>  what` (any column padding); -1 when absent. */
function lineIndex(out: string, id: string, what: string): number {
  return out.split('\n').findIndex((line) => new RegExp(`^${id} +`).test(line) && line.replace(/^\S+ +/, '') === what);
}

/** Lessons added after the eight (e.g. flow-control): no key lines known here, but they must pass too. */
const OTHERS = lessonNames().filter((name) => !TESTED.includes(name));

describe('the lessons in examples/', () => {
  it('include the eight of SPEC section 8', () => {
    expect(lessonNames()).toEqual(expect.arrayContaining(TESTED));
  });

  it.each(lessonNames())('%s listens only on fixed ports, and the rewrite moves every .listen to port 0', (name) => {
    const source = lessonSource(name);
    const ports = listenPorts(source);
    expect(ports.length).toBeGreaterThan(0);
    expect(ports.length).toBe(listenLineNumbers(source).length); // no .listen the rewrite would miss
    for (const port of ports) expect(port).toBeGreaterThan(0);
    const rewritten = withListenPort(source, 0);
    expect(listenPorts(rewritten).every((p) => p === 0)).toBe(true);
    // Only the port numbers changed.
    expect(rewritten.split('\n').length).toBe(source.split('\n').length);
    expect(rewritten.replace(/\.(listen|udp|proxy) (\S+:)?0\b/g, '.$1 PORT')).toBe(source.replace(/\.(listen|udp|proxy) (\S+:)?\d+\b/g, '.$1 PORT'));
  });

  it.runIf(OTHERS.length > 0).each(OTHERS)('%s (not one of the eight) runs with port 0 and exits 0', async (name) => {
    await selfRun(name);
  });
});

describe('each lesson runs as a script and shows its point', () => {
  it('echo-server: the line comes back on both sides, control bytes escaped, FIN then close', async () => {
    const out = await selfRun('echo-server');
    // c1 is the client, c2 the accepted connection: both receive the 6 bytes.
    expect(idsWith(out, '← 6 B  "hello\\n"').sort(), out).toEqual(['c1', 'c2']);
    expect(idsWith(out, '→ 6 B  "hello\\n"').sort(), out).toEqual(['c1', 'c2']);
    expect(idsWith(out, '← 10 B  "tab\\tand \\x01\\x02"').sort(), out).toEqual(['c1', 'c2']);
    expect(out).not.toMatch(/[\x01\x02\x1b]/);
    expect(idsWith(out, '← FIN (peer ended its side)'), out).toContain('c2');
    expect(idsWith(out, 'closed').sort(), out).toEqual(['c1', 'c2', 's1']);
    expect(lineIndex(out, 'c2', '← FIN (peer ended its side)')).toBeLessThan(lineIndex(out, 'c2', 'closed'));
  });

  it('you-said-upper: the upper-cased answer, then the client aborts', async () => {
    const out = await selfRun('you-said-upper');
    expect(idsWith(out, '→ 18 B  "I am Chuck Norris!"'), out).toEqual(['c1']);
    expect(idsWith(out, '← 29 B  "You said \\"I AM CHUCK NORRIS!\\""'), out).toEqual(['c1']);
    expect(idsWith(out, '→ 29 B  "You said \\"I AM CHUCK NORRIS!\\""'), out).toEqual(['c2']);
    expect(idsWith(out, 'closed (aborted by us)'), out).toEqual(['c1']);
    // The server side sees the abort: a reset, or a plain close; never a FIN.
    expect(out).toMatch(/^c2 +closed/m);
    expect(idsWith(out, '← FIN (peer ended its side)'), out).not.toContain('c2');
  });

  it('greeting: 你好 + what the client said, in UTF-8 (9 B out, 15 B back), and the server closes', async () => {
    const out = await selfRun('greeting');
    expect(idsWith(out, '→ 9 B  "哇咔咔"'), out).toEqual(['c1']);
    expect(idsWith(out, '← 15 B  "你好哇咔咔"'), out).toEqual(['c1']);
    expect(idsWith(out, '→ 15 B  "你好哇咔咔"'), out).toEqual(['c2']);
    // The .ls table: the client received 15 B and sent 9 B; the connection the reverse.
    expect(out).toMatch(/^c1 +client +client +\S+ +\S+ +open +15 B +9 B +0 B/m);
    expect(out).toMatch(/^c2 +conn +conn of s1 +\S+ +\S+ +open +9 B +15 B +0 B/m);
    expect(out).toMatch(/^s1 +stopped accepting; 1 connection stays open$/m);
    expect(idsWith(out, 'closed').sort(), out).toEqual(['c1', 'c2', 's1']);
  });

  it('idle-timeout: the idle connection times out after 3000 ms and is destroyed', async () => {
    const started = Date.now();
    const out = await selfRun('idle-timeout', 12_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(idsWith(out, 'idle for 3000 ms: timeout, destroyed'), out).toEqual(['c2']);
    expect(idsWith(out, 'closed (destroyed by us)'), out).toEqual(['c2']);
    // The quiet client learns of it: the connection goes away and it closes.
    expect(idsWith(out, 'closed'), out).toContain('c1');
  });

  it('two-clients: each client gets its own reply, both get the broadcast, .ls lists four sockets', async () => {
    const out = await selfRun('two-clients');
    expect(idsWith(out, '← 24 B  "server got: hi from one\\n"'), out).toEqual(['c1']);
    expect(idsWith(out, '← 24 B  "server got: hi from two\\n"'), out).toEqual(['c2']);
    expect(idsWith(out, '← 21 B  "welcome, both of you\\n"').sort(), out).toEqual(['c1', 'c2']);
    expect(idsWith(out, '→ 21 B  "welcome, both of you\\n"').sort(), out).toEqual(['c3', 'c4']);

    const lines = out.split('\n');
    const header = lines.findIndex((l) => /^id +name +kind +local +remote +state +in +out/.test(l));
    expect(header, out).toBeGreaterThanOrEqual(0);
    const rows = lines.slice(header + 1, header + 6);
    expect(rows.map((r) => r.split(/ +/).slice(0, 2).join(' '))).toEqual(['s1 srv', 'c1 client1', 'c2 client2', 'c3 first', 'c4 second']);
    expect(rows[0]).toMatch(/2 open \/ 2 accepted +listening/);
    for (const row of rows.slice(1, 3)) expect(row).toMatch(/ client +127\.0\.0\.1:\d+ +127\.0\.0\.1:\d+ +open +45 B +12 B/);
    for (const row of rows.slice(3)) expect(row).toMatch(/ conn of s1 +127\.0\.0\.1:\d+ +127\.0\.0\.1:\d+ +open +12 B +45 B/);
    expect(idsWith(out, 'closed').sort(), out).toEqual(['c1', 'c2', 'c3', 'c4', 's1']);
  });

  it('http-echo: a hand-typed POST gets 200 and You said "hello", then the server closes the connection', async () => {
    const out = await selfRun('http-echo');
    const response = 'HTTP/1.1 200 OK\\r\\nContent-Type: text/plain; charset=utf-8\\r\\nContent-Length: 16\\r\\nConnection: close\\r\\n\\r\\nYou said \\"hello\\"';
    expect(idsWith(out, `← 115 B  "${response}"`), out).toEqual(['c1']);
    expect(idsWith(out, 'HTTP POST / (5 B body) → 200, 16 B'), out).toEqual(['c2']);
    expect(idsWith(out, '← FIN (peer ended its side)'), out).toContain('c1');
    expect(lineIndex(out, 'c2', '→ FIN (we ended our side; still reading)')).toBeGreaterThan(-1);
  });

  it('sticky-packets: three writes arrive as one chunk; one message split in two arrives as two', async () => {
    const out = await selfRun('sticky-packets');
    expect(idsWith(out, '← 11 B  "onetwothree"'), out).toEqual(['c2']);
    expect(idsWith(out, '← 13 B  "<onetwothree>"'), out).toEqual(['c1']);
    // The server got Hello and World as two chunks and answered each: <Hello> then <World>.
    // How the client's kernel hands those two replies on (one read or two) depends on when it
    // reads, which a loaded machine changes: only their bytes, in order, are the lesson's point.
    expect(lineIndex(out, 'c2', '← 5 B  "Hello"')).toBeGreaterThan(-1);
    expect(lineIndex(out, 'c2', '← 5 B  "World"')).toBeGreaterThan(-1);
    expect(idsWith(out, '← 10 B  "HelloWorld"')).toEqual([]);
    const received = [...out.matchAll(/^c1 +← \d+ B {2}"(.*)"$/gm)].map((m) => m[1]).join('');
    expect(received, out).toBe('<onetwothree><Hello><World>');
  });

  it('eaddrinuse: both servers on one port — the second .listen fails, the lesson exits 1 naming its line', async () => {
    // Port 0 would give two different ports; the lesson needs the same one twice.
    const source = lessonSource('eaddrinuse');
    const second = listenLineNumbers(source)[1];
    expect(second).toBeDefined();
    const port = await freePort();
    const { exit, proc } = await runLesson('eaddrinuse', withListenPort(source, port));
    const out = proc.stdout() + proc.stderr();
    expect(exit, proc.describe()).toEqual({ code: 1, signal: null });
    expect(out).toMatch(new RegExp(`^s1 +listening on 127\\.0\\.0\\.1:${port} as first$`, 'm'));
    expect(out).toContain(`s2   error EADDRINUSE address already in use 127.0.0.1:${port}`);
    expect(out).toContain('another server already listens on that port');
    expect(out).toContain(`eaddrinuse.lab:${second}: s2: listen EADDRINUSE`);
  });

  it('eaddrinuse with port 0 everywhere has nothing to collide with, and passes', async () => {
    const out = await selfRun('eaddrinuse');
    expect(out).toMatch(/^s1 +listening on 127\.0\.0\.1:\d+ as first$/m);
    expect(out).toMatch(/^s2 +listening on 127\.0\.0\.1:\d+$/m);
    expect(out).not.toContain('EADDRINUSE');
  });
});
