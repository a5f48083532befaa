/**
 * The rule lessons (SPEC 12): ping-pong-rule.lab and line-protocol.lab run
 * as scripts and show their point, and their servers (the `.listen` and
 * `.on` lines, in a long-lived `socklab --json -e …`) answer real nc peers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupLessons, eventsOf, hasOpenbsdNc, lessonSource, runLesson, socklab, start, withListenPort, type Child } from '../helpers/lessons.js';

afterEach(cleanupLessons);

const NC = hasOpenbsdNc();
const OK = { code: 0, signal: null };

/** The lesson's server lines (`.listen` moved to port 0, and its rules) in a long-lived socklab; its port. */
async function lessonServer(name: string): Promise<{ proc: Child; port: number }> {
  const lines = withListenPort(lessonSource(name), 0)
    .split('\n')
    .filter((l) => /^\.(listen|on) /.test(l));
  const proc = socklab(['--json', ...lines.flatMap((l) => ['-e', l])], { stdin: 'pipe' });
  const ev = await proc.waitForEvent('listening', (e) => e.event === 'listening');
  return { proc, port: Number(ev.port) };
}

describe('ping-pong-rule.lab', () => {
  it('runs as a script and exits 0: one PONG per PING, also two in one chunk and one cut in two', async () => {
    const { exit, proc } = await runLesson('ping-pong-rule', withListenPort(lessonSource('ping-pong-rule'), 0));
    expect(exit, proc.describe()).toEqual(OK);
    const out = proc.stdout();
    expect(out.match(/^c2 +r1 fired: \.sendln c2 "PONG \d"$/gm), out).toEqual([1, 2, 3, 4].map((n) => `c2   r1 fired: .sendln c2 "PONG ${n}"`));
    expect(out).toMatch(/^r1 +\.on pong data \/PING \(\\d\+\)\\r\?\\n\/ \.sendln \$id PONG \$1  \(fired 4 times\)$/m);
  });

  it.skipIf(!NC)('its server answers nc: PING lines typed in any cut, each answered, CRLF too; hostile text stays text', async () => {
    const srv = await lessonServer('ping-pong-rule');
    const nc = start('nc', ['127.0.0.1', String(srv.port)], { stdin: 'pipe' });
    nc.write('PING 42\n');
    await nc.waitForText('PONG 42\n');
    nc.write('PING 7\r\nnoise PING 8');
    await nc.waitForText('PONG 42\nPONG 7\n');
    nc.write('\n');
    await nc.waitForText('PONG 42\nPONG 7\nPONG 8\n');
    // The answers on the socket and the rule lines on stdout reach this process by two paths, in either order.
    await srv.proc.waitFor('three rule events', () => eventsOf(srv.proc, 'rule').length >= 3);
    const rules = eventsOf(srv.proc, 'rule');
    expect(rules.map((e) => e.command)).toEqual(['.sendln c1 "PONG 42"', '.sendln c1 "PONG 7"', '.sendln c1 "PONG 8"']);
    nc.end();
    srv.proc.end();
    expect(await srv.proc.waitForExit(10_000), srv.proc.describe()).toEqual(OK);
  });
});

describe('line-protocol.lab', () => {
  it('runs as a script and exits 0: the test block checks every answer of the rule-driven server', async () => {
    const { exit, proc } = await runLesson('line-protocol', withListenPort(lessonSource('line-protocol'), 0));
    expect(exit, proc.describe()).toEqual(OK);
    const out = proc.stdout();
    expect(out.match(/expect ok: .*/g), out).toHaveLength(5);
    expect(out).toContain('c4   r4 fired: .close c4');
  });

  it.skipIf(!NC)('its server with two nc clients: WELCOME, MSG to everyone, PING, QUIT closes only the one who quit', async () => {
    const srv = await lessonServer('line-protocol');
    const alice = start('nc', ['127.0.0.1', String(srv.port)], { stdin: 'pipe' });
    await alice.waitForText(/^WELCOME c1\n$/);
    // -N: when its input ends, nc sends FIN (it keeps reading until the server's FIN came).
    const bob = start('nc', ['-N', '127.0.0.1', String(srv.port)], { stdin: 'pipe' });
    await bob.waitForText(/^WELCOME c2\n$/);
    alice.write('MSG hi "bob" --repeat 9 \\x41 $1\n');
    const line = 'FROM c1: hi "bob" --repeat 9 \\x41 $1\n';
    await alice.waitForText(`WELCOME c1\n${line}`);
    await bob.waitForText(`WELCOME c2\n${line}`);
    bob.write('PING\n');
    await bob.waitForText(`${line}PONG\n`);
    bob.write('QUIT\n');
    // .close is graceful: the server sends FIN, and the connection closes once bob ends its side too.
    await srv.proc.waitForEvent('the server ends c2', (e) => e.event === 'shutdown' && e.id === 'c2');
    bob.end();
    expect(await bob.waitForExit(10_000), bob.describe()).toEqual(OK);
    await srv.proc.waitForEvent('c2 closed', (e) => e.event === 'close' && e.id === 'c2');
    alice.write('PING\n');
    await alice.waitForText(`${line}PONG\n`);
    expect(eventsOf(srv.proc, 'close').map((e) => e.id)).toEqual(['c2']);
    alice.end();
    bob.end();
    srv.proc.end();
    expect(await srv.proc.waitForExit(10_000), srv.proc.describe()).toEqual(OK);
  });
});
