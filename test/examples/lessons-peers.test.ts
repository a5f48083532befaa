/**
 * Lessons 1–5 against the real peers the tutorials used (SPEC section 8).
 * Each test runs the lesson's SERVER line (its first `.listen`, moved to port
 * 0) in a long-lived `socklab --json -e LINE` whose stdin stays open, reads
 * the port from the `listening` event, drives the peer (nc or a Node `net`
 * client), checks both sides, then closes socklab's stdin: it must exit 0.
 *
 * HTTP, EADDRINUSE and framing: lessons-peers-http-ports-framing.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  bytesOf,
  cleanupLessons,
  connectClient,
  eventsOf,
  hasOpenbsdNc,
  serveLesson,
  start,
  type LessonServer,
} from '../helpers/lessons.js';

afterEach(cleanupLessons);

const NC = hasOpenbsdNc();
const OK = { code: 0, signal: null };

/** The id of the n-th (1-based) connection the server accepted, once there is one. */
async function accepted(srv: LessonServer, n = 1): Promise<string> {
  await srv.proc.waitFor(`accept #${n}`, () => eventsOf(srv.proc, 'accept', undefined).length >= n);
  const ev = eventsOf(srv.proc, 'accept')[n - 1]!;
  expect(ev.server).toBe(srv.id);
  return String(ev.id);
}

function closeOf(srv: LessonServer, id: string) {
  return srv.proc.waitForEvent(`close of ${id}`, (e) => e.event === 'close' && e.id === id);
}

describe('echo-server.lab against nc', () => {
  it.skipIf(!NC)('nc -N gets "hello\\n" and all 256 byte values back exactly', async () => {
    const srv = await serveLesson('echo-server');
    expect(srv.line).toBe('.listen 0 --reply echo as echo');
    const input = Buffer.concat([Buffer.from('hello\n'), Buffer.from(Array.from({ length: 256 }, (_, i) => i))]);
    const nc = start('nc', ['-N', srv.address, String(srv.port)], { stdin: input });
    expect(await nc.waitForExit(5000), nc.describe()).toEqual(OK);
    expect(nc.stdoutBytes().toString('hex')).toBe(input.toString('hex'));

    const conn = await accepted(srv);
    await closeOf(srv, conn);
    expect(bytesOf(srv.proc, 'data', conn).toString('hex')).toBe(input.toString('hex'));
    expect(bytesOf(srv.proc, 'send', conn).toString('hex')).toBe(input.toString('hex'));
    expect(eventsOf(srv.proc, 'end', conn)).toHaveLength(1); // nc -N sent its FIN
    expect(await srv.stop(), srv.proc.describe()).toEqual(OK);
  });
});

describe('you-said-upper.lab against a Node client', () => {
  it('the client sends "I am Chuck Norris!", gets exactly the upper-cased answer, destroys; socklab sees the close', async () => {
    const srv = await serveLesson('you-said-upper');
    const client = await connectClient(srv.address, srv.port);
    client.socket.write('I am Chuck Norris!');
    const want = 'You said "I AM CHUCK NORRIS!"';
    const got = await client.waitForBytes(Buffer.byteLength(want));
    expect(got.toString('utf8')).toBe(want);
    client.socket.destroy();

    const conn = await accepted(srv);
    await closeOf(srv, conn);
    const mine = srv.proc.events().filter((e) => e.id === conn);
    expect(mine.filter((e) => e.event === 'close')).toHaveLength(1);
    expect(mine.at(-1)?.event).toBe('close');
    expect(client.received().toString('utf8')).toBe(want); // nothing more arrived
    expect(bytesOf(srv.proc, 'data', conn).toString('utf8')).toBe('I am Chuck Norris!');
    expect(await srv.stop(), srv.proc.describe()).toEqual(OK);
  });
});

describe('greeting.lab against a Node client', () => {
  it('the client writes 哇咔咔 on connect and receives 你好哇咔咔 (15 bytes)', async () => {
    const srv = await serveLesson('greeting');
    const client = await connectClient(srv.address, srv.port, (socket) => socket.write('哇咔咔'));
    const got = await client.waitForBytes(15);
    expect(got.toString('utf8')).toBe('你好哇咔咔');
    expect(got).toHaveLength(15);

    const conn = await accepted(srv);
    // The client has its answer; socklab's line about the data may still be in the pipe.
    const data = await srv.proc.waitForEvent(`data on ${conn}`, (e) => e.event === 'data' && e.id === conn);
    expect([data.bytes, data.text]).toEqual([9, '哇咔咔']);

    // socklab closing (end of its input) ends the connection gracefully: the client sees the end.
    expect(await srv.stop(), srv.proc.describe()).toEqual(OK);
    await client.closed;
    expect(client.received().toString('utf8')).toBe('你好哇咔咔');
    expect(eventsOf(srv.proc, 'data', conn)).toHaveLength(1);
    expect(eventsOf(srv.proc, 'close', srv.id)).toHaveLength(1);
    expect(eventsOf(srv.proc, 'close', conn)).toHaveLength(1);
  });
});

describe('idle-timeout.lab against nc', () => {
  it.skipIf(!NC)(
    'nc sends nothing; after 3000 ms socklab reports the timeout, destroys the socket, and nc exits by itself',
    async () => {
      const srv = await serveLesson('idle-timeout');
      expect(srv.line).toBe('.listen 127.0.0.1:0 --timeout 3s as srv');
      // -d: do not read stdin, so nc says nothing and ends when the server goes away
      // (with stdin an open pipe, nc.openbsd would wait for stdin to end as well).
      const nc = start('nc', ['-d', srv.address, String(srv.port)]);
      const conn = await accepted(srv);
      const timeout = await srv.proc.waitForEvent('timeout', (e) => e.event === 'timeout', 6000);
      expect(timeout.id).toBe(conn);
      expect(timeout.ms).toBe(3000);
      const acceptedAt = eventsOf(srv.proc, 'accept')[0]!.t;
      expect(timeout.t - acceptedAt).toBeGreaterThanOrEqual(2900);

      expect(await nc.waitForExit(3000), nc.describe()).toEqual(OK);
      await closeOf(srv, conn);
      expect(eventsOf(srv.proc, 'data', conn)).toEqual([]);
      expect(await srv.stop(), srv.proc.describe()).toEqual(OK);
    },
  );
});

describe('two-clients.lab against two Node clients', () => {
  it('each client gets "server got: <its text>", and a broadcast typed into socklab reaches both', async () => {
    const srv = await serveLesson('two-clients');
    const one = await connectClient(srv.address, srv.port);
    const two = await connectClient(srv.address, srv.port);
    one.socket.write('hi from one\n');
    two.socket.write('hi from two\n');
    expect((await one.waitForBytes(24)).toString('utf8')).toBe('server got: hi from one\n');
    expect((await two.waitForBytes(24)).toString('utf8')).toBe('server got: hi from two\n');

    const conns = [await accepted(srv, 1), await accepted(srv, 2)];
    expect(new Set(conns).size).toBe(2);

    // The lesson's broadcast line, typed into the running REPL.
    srv.proc.write('.sendln srv welcome, both of you\n');
    const welcome = 'welcome, both of you\n';
    expect((await one.waitForBytes(45)).toString('utf8')).toBe(`server got: hi from one\n${welcome}`);
    expect((await two.waitForBytes(45)).toString('utf8')).toBe(`server got: hi from two\n${welcome}`);

    one.socket.end();
    two.socket.end();
    await Promise.all([one.closed, two.closed, ...conns.map((id) => closeOf(srv, id))]);
    expect(await srv.stop(), srv.proc.describe()).toEqual(OK);
    expect(eventsOf(srv.proc, 'command-error')).toEqual([]);
  });
});
