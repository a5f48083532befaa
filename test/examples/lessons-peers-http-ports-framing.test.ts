/**
 * Lessons 6–8 against real peers (SPEC section 8): http-echo with curl,
 * eaddrinuse with a port another program holds (nc, or a Node server), and
 * sticky-packets with a Node client. Same pattern as lessons-peers.test.ts:
 * the lesson's server line runs in a long-lived `socklab --json -e LINE`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  bytesOf,
  cleanupLessons,
  connectClient,
  eventsOf,
  hasOpenbsdNc,
  hasTool,
  holdPort,
  lessonSource,
  listenLineNumbers,
  ncHoldsPort,
  runLesson,
  serveLesson,
  socklab,
  start,
  withListenPort,
} from '../helpers/lessons.js';

afterEach(cleanupLessons);

const OK = { code: 0, signal: null };
const FAILED = { code: 1, signal: null };
const HINT = 'another server already listens on that port';

describe('http-echo.lab against curl', () => {
  it.skipIf(!hasTool('curl'))('curl --data hello prints exactly You said "hello"; two URLs in one call share one connection', async () => {
    const srv = await serveLesson('http-echo');
    const url = `http://${srv.hostPort}/`;
    const once = start('curl', ['-sS', '--max-time', '5', '--data', 'hello', url]);
    expect(await once.waitForExit(7000), once.describe()).toEqual(OK);
    expect(once.stdout()).toBe('You said "hello"');
    expect(once.stderr()).toBe('');

    // Keep-alive: curl reuses the connection for the second URL, and both are answered.
    const pair = start('curl', ['-sS', '--max-time', '5', '--data', 'hello', url, url]);
    expect(await pair.waitForExit(7000), pair.describe()).toEqual(OK);
    expect(pair.stdout()).toBe('You said "hello"You said "hello"');
    expect(pair.stderr()).toBe('');

    // Each curl closes its connection when it exits; once socklab reports both
    // closes, every earlier event of the two connections has been read too.
    const closedConns = () => eventsOf(srv.proc, 'close').filter((e) => e.id !== srv.id);
    await srv.proc.waitFor('the close of both curl connections', () => closedConns().length >= 2);
    const accepts = eventsOf(srv.proc, 'accept');
    expect(accepts.map((e) => e.id), 'one connection per curl call: the pair should share one').toHaveLength(2);
    expect(closedConns().map((e) => e.id).sort()).toEqual(accepts.map((e) => e.id).sort());
    const [first, second] = accepts.map((e) => bytesOf(srv.proc, 'send', String(e.id)).toString('utf8'));
    expect(first?.match(/HTTP\/1\.1 200 OK\r\n/g)).toHaveLength(1);
    expect(second?.match(/HTTP\/1\.1 200 OK\r\n/g)).toHaveLength(2);
    expect(second?.match(/\r\n\r\nYou said "hello"/g)).toHaveLength(2);
    expect(bytesOf(srv.proc, 'data', String(accepts[1]!.id)).toString('utf8').match(/POST \/ HTTP\/1\.1\r\n/g)).toHaveLength(2);

    expect(await srv.stop(), srv.proc.describe()).toEqual(OK);
  });
});

describe('eaddrinuse.lab against a port another program holds', () => {
  it.skipIf(!hasOpenbsdNc())('nc -l holds the port: .listen on it fails with EADDRINUSE and the hint, exit 1; so does the lesson', async () => {
    const { nc, port } = await ncHoldsPort();

    const line = socklab(['--no-time', '--no-color', '-e', `.listen ${port}`, '--exit']);
    expect(await line.waitForExit(5000), line.describe()).toEqual(FAILED);
    const out = line.stdout() + line.stderr();
    expect(out).toContain(`s1   error EADDRINUSE address already in use 127.0.0.1:${port}`);
    expect(out).toContain(HINT);

    // The lesson itself, both .listen lines on the held port: the first one already fails.
    const source = lessonSource('eaddrinuse');
    const first = listenLineNumbers(source)[0];
    const lesson = await runLesson('eaddrinuse', withListenPort(source, port));
    expect(lesson.exit, lesson.proc.describe()).toEqual(FAILED);
    const lessonOut = lesson.proc.stdout() + lesson.proc.stderr();
    expect(lessonOut).toContain('EADDRINUSE');
    expect(lessonOut).toContain(HINT);
    expect(lessonOut).toMatch(new RegExp(`eaddrinuse\\.lab:${first}: s1: listen EADDRINUSE`));
    expect(lessonOut).not.toMatch(/^s2 /m); // the script stopped at the failing line

    expect(nc.process.exitCode, 'socklab must not disturb the program holding the port').toBeNull();
  });

  it('a Node server holds the port: the JSON stream has the error event with code EADDRINUSE, exit 1', async () => {
    const port = await holdPort();
    const proc = socklab(['--json', '-e', `.listen 127.0.0.1:${port} as first`, '--exit']);
    expect(await proc.waitForExit(5000), proc.describe()).toEqual(FAILED);
    const error = eventsOf(proc, 'error');
    expect(error.map((e) => [e.id, e.code])).toEqual([['s1', 'EADDRINUSE']]);
    expect(String(error[0]!.message)).toContain(`127.0.0.1:${port}`);
    expect(eventsOf(proc, 'close', 's1').map((e) => e.hadError)).toEqual([true]);
    expect(eventsOf(proc, 'listening')).toEqual([]);
    expect(eventsOf(proc, 'command-error').map((e) => e.line)).toEqual([`.listen 127.0.0.1:${port} as first`]);
  });
});

describe('sticky-packets.lab against a Node client', () => {
  it('Hello then (after <Hello>) World come back as <Hello><World>; one 300 KB write arrives as several chunks', async () => {
    const srv = await serveLesson('sticky-packets');
    expect(srv.line).toBe(".listen 0 --reply '<{data}>' as srv");
    const client = await connectClient(srv.address, srv.port);
    client.socket.write('Hello');
    expect((await client.waitForBytes(7)).toString('utf8')).toBe('<Hello>');
    client.socket.write('World');
    expect((await client.waitForBytes(14)).toString('utf8')).toBe('<Hello><World>');

    const conn = String((await srv.proc.waitForEvent('accept', (e) => e.event === 'accept')).id);
    await srv.proc.waitFor('2 data events', () => eventsOf(srv.proc, 'data', conn).length >= 2);
    expect(eventsOf(srv.proc, 'data', conn).map((e) => e.text)).toEqual(['Hello', 'World']);

    // One write of 300 KB: TCP delivers it in several reads, and the template runs once per read.
    const big = Buffer.from(Array.from({ length: 300 * 1024 }, (_, i) => 0x61 + (i % 26)));
    client.socket.write(big);
    await srv.proc.waitFor('300 KB at socklab', () => bytesOf(srv.proc, 'data', conn).length >= 10 + big.length, 10_000);
    expect(bytesOf(srv.proc, 'data', conn).subarray(10).equals(big)).toBe(true);
    const chunks = eventsOf(srv.proc, 'data', conn)
      .slice(2)
      .map((e) => Buffer.from(String(e.base64), 'base64'));
    expect(chunks.length).toBeGreaterThan(1);
    const replies = Buffer.concat(chunks.flatMap((c) => [Buffer.from('<'), c, Buffer.from('>')]));
    expect(replies.length).toBe(big.length + 2 * chunks.length);

    const got = await client.waitForBytes(14 + replies.length, 10_000);
    expect(got.length).toBe(14 + replies.length);
    expect(got.subarray(14).equals(replies)).toBe(true);

    client.socket.end();
    await client.closed;
    expect(await srv.stop(), srv.proc.describe()).toEqual(OK);
  });
});
