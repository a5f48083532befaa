/**
 * The UDP lessons: udp-echo.lab's server against the real peers it names
 * (`nc -u` and `socat - UDP:`), in both directions, every byte value; and
 * both lessons as scripts, with their point shown (udp-vs-tcp: one TCP chunk,
 * three datagrams).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupLessons, eventsOf, hasOpenbsdNc, hasTool, lessonSource, runLesson, socklab, start, withListenPort, type Child } from '../helpers/lessons.js';

afterEach(cleanupLessons);

const NC = hasOpenbsdNc();
const SOCAT = hasTool('socat');
const OK = { code: 0, signal: null };

/** The lesson's echo server (its first `.udp`, moved to port 0) in a long-lived `socklab --json -e`. */
async function udpEchoServer(): Promise<{ proc: Child; port: number }> {
  const line = withListenPort(lessonSource('udp-echo'), 0)
    .split('\n')
    .find((l) => l.startsWith('.udp '));
  expect(line).toBe('.udp 0 --reply echo as echo');
  const proc = socklab(['--json', '-e', line!], { stdin: 'pipe' });
  const ev = await proc.waitForEvent('listening', (e) => e.event === 'listening');
  expect(ev).toMatchObject({ id: 'u1', kind: 'udp', address: '127.0.0.1' });
  return { proc, port: Number(ev.port) };
}

const bytes = (proc: Child, event: 'datagram' | 'send', id = 'u1'): Buffer[] =>
  eventsOf(proc, event, id).map((e) => Buffer.from(String(e.base64), 'base64'));

describe('udp-echo.lab against real peers', () => {
  it.skipIf(!NC)('nc -u: each line is one datagram, echoed to the sender; all 256 byte values come back', async () => {
    const srv = await udpEchoServer();
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const nc = start('nc', ['-u', '127.0.0.1', String(srv.port)], { stdin: 'pipe' });
    nc.write('hello\n');
    await srv.proc.waitForEvent('the echo of hello', (e) => e.event === 'send' && e.id === 'u1');
    await nc.waitForText('hello\n');
    nc.write(all);
    await srv.proc.waitForEvent('a second datagram', () => eventsOf(srv.proc, 'datagram', 'u1').length >= 2);
    await nc.waitFor('256 bytes more', () => nc.stdoutBytes().length >= 6 + 256);
    expect(nc.stdoutBytes().subarray(6).toString('hex')).toBe(all.toString('hex'));
    await srv.proc.waitForEvent('the second echo', () => eventsOf(srv.proc, 'send', 'u1').length >= 2);
    const got = bytes(srv.proc, 'datagram');
    expect(got.map((b) => b.toString('hex'))).toEqual([Buffer.from('hello\n').toString('hex'), all.toString('hex')]);
    // The peer is named in every event: nc's own port.
    const from = eventsOf(srv.proc, 'datagram', 'u1').map((e) => e.from);
    expect(new Set(from).size).toBe(1);
    expect(eventsOf(srv.proc, 'send', 'u1').map((e) => e.to)).toEqual(from);
    nc.end();
    srv.proc.end();
    expect(await srv.proc.waitForExit(5000), srv.proc.describe()).toEqual(OK);
  });

  it.skipIf(!SOCAT)('socat - UDP: gets its echo, then a .send without --to reaches socat (the last peer)', async () => {
    const srv = await udpEchoServer();
    const socat = start('socat', ['-', `UDP:127.0.0.1:${srv.port}`], { stdin: 'pipe' });
    socat.write('ping\n');
    await socat.waitForText('ping\n');
    srv.proc.write('.send echo "from socklab\\n"\n');
    await socat.waitForText('ping\nfrom socklab\n');
    const sends = eventsOf(srv.proc, 'send', 'u1');
    expect(sends.at(-1)?.to).toBe(eventsOf(srv.proc, 'datagram', 'u1')[0]?.from);
    socat.end();
    srv.proc.end();
    expect(await srv.proc.waitForExit(5000), srv.proc.describe()).toEqual(OK);
  });
});

describe('the UDP lessons as scripts', () => {
  it('udp-echo runs and exits 0: --to, the last peer, --connect', async () => {
    const { exit, proc } = await runLesson('udp-echo', withListenPort(lessonSource('udp-echo'), 0));
    expect(exit, proc.describe()).toEqual(OK);
    expect(proc.stdout()).toMatch(/^u2 +expect ok: \.expect client hello$/m);
    expect(proc.stdout()).toMatch(/^u3 +connected to 127\.0\.0\.1:\d+: the default destination/m);
  });

  it('udp-vs-tcp: three TCP writes are read as one chunk, three datagrams as three', async () => {
    const { exit, proc } = await runLesson('udp-vs-tcp', withListenPort(lessonSource('udp-vs-tcp'), 0));
    expect(exit, proc.describe()).toEqual(OK);
    const out = proc.stdout();
    expect(out).toMatch(/^c2 +← 11 B {2}"onetwothree"$/m);
    const received = out.split('\n').filter((l) => /^u1 +← /.test(l));
    expect(received.map((l) => l.replace(/ from \S+/, ''))).toEqual(['u1   ← 3 B  "one"', 'u1   ← 3 B  "two"', 'u1   ← 5 B  "three"']);
  });
});
