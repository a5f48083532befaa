/**
 * Trigger rules (`.on`, `.off`; SPEC 12) on real loopback sockets, with real
 * peers: nc sending `PING n` lines answered `PONG n`, a Node client whose
 * PINGs are cut across chunks, rules on a server applying to its later
 * connections, the loop guard (two rules answering each other), `.off`, the
 * listing with counts, and a failing command shown once per rule.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rulesOf, RULE_RATE_LIMIT } from '../../src/behaviours/rules.js';
import type { ServerEndpoint } from '../../src/endpoints/tcp-types.js';
import type { UdpEndpoint } from '../../src/endpoints/udp-types.js';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { cleanupLessons, hasOpenbsdNc, start } from '../helpers/lessons.js';
import { closeAll, is, peerClient, receive } from '../helpers/loopback.js';
import { patience } from '../helpers/patience.js';

afterEach(async () => {
  await cleanupLessons();
  await closeAll();
});

const NC = hasOpenbsdNc();

async function pingServer(rig: CommandRig): Promise<number> {
  await rig.ok('.listen 0 as srv');
  await rig.ok('.on srv data /PING (\\d+)\\r?\\n/ .sendln $id PONG $1');
  return Number((rig.ctx.session.get('srv') as ServerEndpoint).address.split(':').at(-1));
}

describe('.on: a server answering PING n with PONG n', () => {
  it.skipIf(!NC)('nc sends PING lines and reads a PONG for each', async () => {
    const rig = commandRig();
    const port = await pingServer(rig);
    const nc = start('nc', ['127.0.0.1', String(port)], { stdin: 'pipe' });
    nc.write('PING 1\n');
    await nc.waitForText('PONG 1\n');
    nc.write('PING 22\r\nPING 333\n');
    await nc.waitForText('PONG 1\nPONG 22\nPONG 333\n');
    expect(rig.log.of('rule').map((e) => e.command)).toEqual(['.sendln c1 "PONG 1"', '.sendln c1 "PONG 22"', '.sendln c1 "PONG 333"']);
    expect(rig.log.of('command-error')).toEqual([]);
    nc.end();
  });

  it('a Node client: a PING cut across chunks fires once, when its end arrives; bytes between PINGs are skipped', async () => {
    const rig = commandRig();
    const port = await pingServer(rig);
    const client = await peerClient(port);
    client.write('PI');
    await rig.log.waitFor(is('data'));
    client.write('NG 4');
    await rig.log.waitFor((ev) => ev.type === 'data' && rig.log.of('data').length >= 2);
    expect(rig.log.of('rule')).toHaveLength(0);
    client.write('2\nnoise PING 5\n');
    expect(await receive(client, 'PONG 5\n')).toBe('PONG 42\nPONG 5\n');
    expect(rulesOf(rig.ctx.session).list()[0]?.fired).toBe(2);
  });

  it('a rule on a server applies to the connections it has now and to later ones; not to other servers', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 as srv');
    await rig.ok('.listen 0 as other');
    const port = (name: string) => Number((rig.ctx.session.get(name) as ServerEndpoint).address.split(':').at(-1));
    const early = await peerClient(port('srv'));
    await rig.log.waitFor(is('accept', 'c1'));
    await rig.ok('.on srv data hello .sendln $id hi $id');
    const late = await peerClient(port('srv'));
    const elsewhere = await peerClient(port('other'));
    await rig.log.waitFor(is('accept', 'c3'));
    early.write('hello');
    late.write('hello');
    elsewhere.write('hello');
    expect(await receive(early, 'hi c1\n')).toBe('hi c1\n');
    expect(await receive(late, 'hi c2\n')).toBe('hi c2\n');
    await rig.log.waitFor(is('data', 'c3'));
    expect(rig.log.of('rule').map((e) => e.id).sort()).toEqual(['c1', 'c2']);
  });

  it('accept and close rules; $remote is the peer; all matches every endpoint', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 as srv');
    await rig.ok('.on srv accept .sendln $id "welcome $remote"');
    await rig.ok('.on all close .ls');
    const client = await peerClient(Number((rig.ctx.session.get('srv') as ServerEndpoint).address.split(':').at(-1)));
    const text = await receive(client, '\n');
    expect(text).toBe(`welcome 127.0.0.1:${client.localPort}\n`);
    client.end();
    const fired = await rig.log.waitFor((ev) => ev.type === 'rule' && ev.rule === 'r2');
    expect(fired).toMatchObject({ id: 'c1', command: '.ls' });
  });

  it('a UDP socket: a rule answers a datagram to its sender, matched inside the datagram', async () => {
    const rig = commandRig();
    await rig.ok('.udp 0 as u');
    await rig.ok('.udp 0 as peer');
    // No --to: a UDP socket answers the last peer that sent to it ($remote may stand only in a payload).
    await rig.ok('.on u datagram /^ask (\\w+)$/ .send $id "answer: $1 (to $remote)"');
    await rig.ok('.send --to u peer "ask why"');
    await rig.ok('.expect peer /^answer: why \\(to 127\\.0\\.0\\.1:\\d+\\)$/');
    expect(rig.log.of('rule')[0]?.command).toBe(`.send u1 "answer: why (to ${(rig.ctx.session.get('peer') as UdpEndpoint).local})"`);
  });
});

describe('hostile captures over a real socket', () => {
  it('the peer gets back exactly its bytes: options, escapes, quotes, $1, invalid UTF-8, 512 KiB; nothing else runs', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 as srv');
    await rig.ok('.on srv data /ECHO ([^\\n]*)\\n/ .sendln $id got: $1');
    const client = await peerClient(Number((rig.ctx.session.get('srv') as ServerEndpoint).address.split(':').at(-1)));
    const payloads = [
      Buffer.from('--repeat 99999 c1 x'),
      Buffer.from('\\x41 \\n \\u{41} "quoted" \'single\' $1 $id $0 ${HOME} as srv'),
      Buffer.from('\r.exit\r.close all'),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x00, 0x1b, 0x5b, 0x32, 0x4a]),
      Buffer.alloc(512 * 1024, 'Z"\\\xff'),
    ];
    const answers: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${answers.length} answers of ${payloads.length} within ${patience(60_000)} ms`)), patience(60_000));
      client.on('data', (d: Buffer) => {
        pending = Buffer.concat([pending, d]);
        for (let nl = pending.indexOf(10); nl !== -1; nl = pending.indexOf(10)) {
          answers.push(pending.subarray(0, nl));
          pending = pending.subarray(nl + 1);
        }
        if (answers.length < payloads.length) return;
        clearTimeout(timer);
        resolve();
      });
    });
    for (const p of payloads) client.write(Buffer.concat([Buffer.from('ECHO '), p, Buffer.from('\n')]));
    await all;
    expect(answers.map((a) => a.toString('hex'))).toEqual(payloads.map((p) => Buffer.concat([Buffer.from('got: '), p]).toString('hex')));
    expect(rig.log.of('command-error')).toEqual([]);
    expect(rig.ctx.session.list().filter((ep) => ep.closedAt === undefined)).toHaveLength(2);
  });
});

describe('.on / .off: the list, removal, errors', () => {
  it('.on lists each rule with its count; .off rN stops it; ids are not reused; .off all', async () => {
    const rig = commandRig();
    const port = await pingServer(rig);
    await rig.ok('.on srv end .close $id');
    const client = await peerClient(port);
    client.write('PING 1\nPING 2\n');
    await receive(client, 'PONG 2\n');
    await rig.ok('.on');
    expect(rig.printed.at(-1)).toBe(
      'r1   .on srv data /PING (\\d+)\\r?\\n/ .sendln $id PONG $1  (fired 2 times)\nr2   .on srv end .close $id  (fired 0 times)',
    );
    await rig.ok('.off r1');
    expect(rig.printed.at(-1)).toBe('removed r1');
    client.write('PING 3\n');
    await rig.log.waitFor((ev) => ev.type === 'data' && ev.data.includes('PING 3'));
    expect(rig.log.of('rule')).toHaveLength(2);
    const again = await rig.fail('.off r1');
    expect(again.code).toBe('E_UNKNOWN_ID');
    expect(again.message).toBe('no rule "r1": rules now: r2; .on lists them');
    await rig.ok('.on srv data PING .sendln $id new');
    expect(rig.printed.at(-1)).toMatch(/^r3: /);
    await rig.ok('.off all');
    expect(rig.printed.at(-1)).toBe('removed r2, r3');
    await rig.ok('.on');
    expect(rig.printed.at(-1)).toMatch(/^no rules/);
  });

  it('a rule whose command fails shows the error once, with the rule id; .on counts the failures', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 as srv');
    await rig.ok('.on srv data x .send nobody $0');
    const client = await peerClient(Number((rig.ctx.session.get('srv') as ServerEndpoint).address.split(':').at(-1)));
    client.write('x');
    await rig.log.waitFor(is('command-error'));
    client.write('xx');
    await rig.log.waitFor(() => rig.log.of('rule').length >= 3);
    await rulesOf(rig.ctx.session).settled();
    expect(rulesOf(rig.ctx.session).list()[0]!.failed).toBe(3);
    const errors = rig.log.of('command-error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ source: 'rule r1', code: 'E_UNKNOWN_ID', line: '.send nobody "x"' });
    expect(errors[0]?.message).toMatch(/^no endpoint "nobody".*\(shown once: \.on counts its later failures\)$/);
    await rig.ok('.on');
    expect(rig.printed.at(-1)).toMatch(/\(fired 3 times, 3 failed\)$/);
  });

  it('bad rules are refused with one clear line and nothing is added', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 as srv');
    const cases: Array<[string, string, RegExp]> = [
      ['.on srv', 'E_USAGE', /missing EVENT and COMMAND/],
      ['.on srv dat .ls', 'E_USAGE', /no event "dat" for a rule: use one of accept, connect, data/],
      ['.on srv accept /x/ .ls', 'E_USAGE', /a PATTERN goes with data, message, datagram, relay events, not accept/],
      ['.on srv data /(?=x)/ .ls', 'E_BAD_PAYLOAD', /lookahead/],
      ['.on srv data /x .ls', 'E_USAGE', /unterminated \/regex\//],
      ['.on nobody data .ls', 'E_UNKNOWN_ID', /no endpoint "nobody"/],
      ['.on srv data x .send --repeat $1 $id y', 'E_USAGE', /may stand only in the PAYLOAD/],
      ['.on srv data "x"', 'E_USAGE', /missing COMMAND after the pattern "x"/],
    ];
    for (const [line, code, message] of cases) {
      const err = await rig.fail(line);
      expect(err.code, line).toBe(code);
      expect(err.message, line).toMatch(message);
    }
    expect(rulesOf(rig.ctx.session).list()).toEqual([]);
  });
});

describe('the loop guard', () => {
  it('two rules answering each other over a socket pair: one is suspended past 1,000 firings a second, with a note, and the loop stops', async () => {
    // The clock stands still, so every firing falls in the same second however slow the machine is.
    const rig = commandRig({ session: { now: () => 1_000_000 } });
    await rig.ok('.listen 0 as srv');
    await rig.ok('.connect srv as a');
    await rig.ok('.wait srv accept as b');
    await rig.ok('.on a data ping .send $id ping');
    await rig.ok('.on b data ping .send $id ping');
    await rig.ok('.send a ping');
    const note = await rig.log.waitFor((ev) => ev.type === 'note' && /suspended/.test(ev.message), 60_000);
    expect(note).toMatchObject({ type: 'note' });
    expect((note as { message: string }).message).toMatch(/^rule r[12] suspended: it fired more than 1,000 times in a second \(a loop\? two rules answering each other\?\); \.off r[12] removes it$/);
    const rules = rulesOf(rig.ctx.session).list();
    const suspended = rules.filter((r) => r.suspended !== undefined);
    expect(suspended).toHaveLength(1);
    expect(suspended[0]!.fired).toBe(RULE_RATE_LIMIT);
    // The loop stops. TCP keeps order: once a marker sent each way after the
    // commands settled has arrived, nothing either side sent before it is in flight.
    const engine = rulesOf(rig.ctx.session);
    const markers = async (n: number): Promise<void> => {
      await engine.settled();
      await rig.ok(`.send b "|b${n}|"`);
      await rig.ok(`.expect a "|b${n}|"`);
      await rig.ok(`.send a "|a${n}|"`);
      await rig.ok(`.expect b "|a${n}|"`);
      await engine.settled();
    };
    await markers(1);
    const counts = rules.map((r) => r.fired);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(RULE_RATE_LIMIT - 1);
    await markers(2);
    expect(rules.map((r) => r.fired)).toEqual(counts);
    await rig.ok('.on');
    expect(rig.printed.at(-1)).toMatch(/SUSPENDED: it fired more than 1,000 times in a second/);
  });

  it('a rule firing fewer than 1,000 times in each second is not suspended (the clock moves 2 ms a firing)', async () => {
    let t = 0;
    const rig = commandRig({ session: { now: () => (t += 2) } });
    await rig.ok('.listen 0 as srv');
    await rig.ok('.on srv data x .ls');
    const client = await peerClient(Number((rig.ctx.session.get('srv') as ServerEndpoint).address.split(':').at(-1)));
    // 500 at a time: more than 1,000 commands waiting at once would suspend it too (they could not keep up).
    for (let i = 1; i <= 3; i++) {
      client.write(Buffer.alloc(500, 'x'));
      await rig.log.waitFor(() => rulesOf(rig.ctx.session).list()[0]!.fired >= 500 * i);
      await rulesOf(rig.ctx.session).settled();
    }
    expect(rulesOf(rig.ctx.session).list()[0]!.suspended).toBeUndefined();
    expect(rig.log.of('note')).toEqual([]);
  });
});

describe('bounds', () => {
  it('a rule whose commands fall 1,000 behind is suspended with a note (one chunk of 1,500 matches)', async () => {
    let t = 0;
    const rig = commandRig({ session: { now: () => (t += 2) } });
    await rig.ok('.listen 0 as srv');
    await rig.ok('.on srv data x .ls');
    const client = await peerClient(Number((rig.ctx.session.get('srv') as ServerEndpoint).address.split(':').at(-1)));
    client.write(Buffer.alloc(1500, 'x'));
    const note = await rig.log.waitFor(is('note', 'r1'));
    expect(note.message).toBe('rule r1 suspended: it has 1,000 commands waiting to run (they cannot keep up); .off r1 removes it');
    expect(rulesOf(rig.ctx.session).list()[0]!.fired).toBe(1000);
  });

  it('a pattern that never matches keeps at most one window of bytes per socket', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 as srv');
    await rig.ok('.on srv data /NEVER\\d+/ .ls');
    const client = await peerClient(Number((rig.ctx.session.get('srv') as ServerEndpoint).address.split(':').at(-1)));
    const chunk = Buffer.alloc(64 * 1024, 'a');
    for (let i = 0; i < 48; i++) client.write(chunk);
    await new Promise<void>((resolve) => client.end(resolve));
    await rig.log.waitFor(is('end', 'c1'));
    expect(rulesOf(rig.ctx.session).keptBytes()).toBeLessThanOrEqual(1024 * 1024 + 256 * 1024);
    await rig.ok('.close c1');
    await rig.log.waitFor(is('close', 'c1'));
    expect(rulesOf(rig.ctx.session).keptBytes()).toBe(0);
  });
});

