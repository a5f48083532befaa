/**
 * `.udp` (SPEC 9) on real UDP sockets, 127.0.0.1 and ::1, port 0: datagram
 * and send events with peers, the destination rules of `.send`, `.expect`
 * inside one datagram, `.wait uN datagram`, `.ls`/`.show`, ICMP port
 * unreachable on a connected socket, and each bad input as one clear line.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { allBytes } from '../helpers/cli.js';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { closeAll, is, newSession, track, until } from '../helpers/loopback.js';
import { existsSync, readFileSync } from 'node:fs';
import { openUdp } from '../../src/endpoints/udp.js';
import type { SessionEvent } from '../../src/session/events.js';
import type { UdpEndpoint } from '../../src/endpoints/udp-types.js';

afterEach(closeAll);

/** A bare dgram socket bound on `host` port 0, closed after the test. */
async function bareUdp(host: string): Promise<dgram.Socket> {
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  track(() => new Promise<void>((resolve) => s.close(() => resolve())));
  s.bind(0, host);
  await once(s, 'listening');
  return s;
}

const addr = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

function udpOf(rig: CommandRig, ref: string): UdpEndpoint {
  const ep = rig.ctx.session.get(ref);
  if (ep.kind !== 'udp') throw new Error(`${ref} is not udp`);
  return ep;
}

function portOf(rig: CommandRig, ref: string): number {
  return Number(udpOf(rig, ref).local.split(':').at(-1));
}

describe.each(['127.0.0.1', '::1'])('UDP on %s', (host) => {
  const bind = host.includes(':') ? `[${host}]:0` : `${host}:0`;

  it('.udp --reply echo: a datagram event names its sender, the answer a send event with `to`; listening says kind udp', async () => {
    const rig = commandRig();
    await rig.ok(`.udp ${bind} --reply echo as echo`);
    const listening = rig.log.of('listening', 'u1')[0];
    expect(listening).toMatchObject({ kind: 'udp', address: host, alias: 'echo' });
    const peer = await bareUdp(host);
    const back = once(peer, 'message') as Promise<[Buffer, dgram.RemoteInfo]>;
    peer.send(Buffer.from('hello'), portOf(rig, 'echo'), host);
    const [msg] = await back;
    expect(msg.toString()).toBe('hello');
    const from = addr(host, peer.address().port);
    const dg = await rig.log.waitFor(is('datagram', 'u1'));
    expect(dg).toMatchObject({ from });
    expect(dg.data.toString()).toBe('hello');
    const sent = await rig.log.waitFor(is('send', 'u1'));
    expect(sent.to).toBe(from);
  });

  it('all 256 byte values round-trip in one datagram, both ways', async () => {
    const rig = commandRig();
    await rig.ok(`.udp ${bind} --reply echo`);
    await rig.ok(`.udp ${bind} as cli`);
    const hex = `hex:${[...allBytes()].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
    await rig.ok(`.send --to u1 cli ${hex}`);
    const got = await rig.log.waitFor((ev: SessionEvent) => ev.type === 'datagram' && ev.id === 'u2');
    expect(got.type === 'datagram' && got.data.equals(allBytes())).toBe(true);
    expect(rig.log.of('datagram', 'u1')[0]?.data.equals(allBytes())).toBe(true);
  });

  it('.send without --to goes to the last peer that sent to it; --repeat N is N datagrams', async () => {
    const rig = commandRig();
    await rig.ok(`.udp ${bind}`);
    const peer = await bareUdp(host);
    const got: string[] = [];
    peer.on('message', (m) => got.push(m.toString()));
    peer.send('hi', portOf(rig, 'u1'), host);
    await rig.ok('.wait u1 datagram');
    await rig.ok('.send --repeat 3 u1 ab');
    while (got.length < 3) await once(peer, 'message');
    expect(got).toEqual(['ab', 'ab', 'ab']);
    expect(rig.log.of('send', 'u1').map((e) => e.to)).toEqual(Array(3).fill(addr(host, peer.address().port)));
  });

  it('--connect: the default destination; .ls and .show count datagrams and bytes each way and name the peer', async () => {
    const rig = commandRig();
    const peer = await bareUdp(host);
    await rig.ok(`.udp ${bind} --connect ${addr(host, peer.address().port)}`);
    const got = once(peer, 'message') as Promise<[Buffer]>;
    await rig.ok('.send u1 "to the peer"');
    expect((await got)[0].toString()).toBe('to the peer');
    await rig.ok('.ls');
    expect(rig.printed.at(-1)).toMatch(new RegExp(`u1 .*udp 0↓ 1↑ .*${addr(host, peer.address().port).replace(/[[\]]/g, '\\$&')} .*connected .*0 B .*11 B`));
    await rig.ok('.show u1');
    expect(rig.printed.at(-1)).toMatch(/sent\s+11 B in 1 datagram\n/);
  });

  it('.expect u1 matches inside one datagram, never across two', async () => {
    const rig = commandRig();
    await rig.ok(`.udp ${bind}`);
    const peer = await bareUdp(host);
    peer.send('ab', portOf(rig, 'u1'), host);
    await rig.ok('.wait u1 datagram');
    peer.send('cd', portOf(rig, 'u1'), host);
    await rig.ok('.wait u1 datagram');
    // "bc" is in the bytes that arrived, but across the boundary of two datagrams.
    const miss = await rig.fail('.expect u1 bc --timeout 200ms');
    expect(miss.code).toBe('E_EXPECT');
    await rig.ok('.expect u1 cd');
    expect(rig.log.of('expect-ok', 'u1')[0]?.received.toString()).toBe('abcd');
  });
});

describe('UDP ids and bad input', () => {
  it('u ids have their own counter next to s and c; ids are never reused', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.udp 0');
    await rig.ok('.connect s1');
    await rig.ok('.close u1');
    await rig.log.waitFor(is('close', 'u1'));
    await rig.ok('.udp 0');
    expect(rig.ctx.session.list().map((ep) => ep.id)).toEqual(['s1', 'u1', 'c1', 'c2', 'u2']);
  });

  it('each bad input is one clear line', async () => {
    const rig = commandRig({ session: { lookup: (_h, _o, cb) => cb(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), '', 4) } });
    await rig.ok('.udp 0');
    expect((await rig.fail('.send u1 hi')).message).toMatch(/^u1 has no destination: give one with \.send --to HOST:PORT/);
    expect((await rig.fail('.send --to nosuch.invalid:9 u1 hi')).message).toMatch(/--to nosuch\.invalid:9: the name nosuch\.invalid does not resolve .*ENOTFOUND/);
    const big = await rig.fail('.send --to 127.0.0.1:9 u1 file:/dev/null'.replace('file:/dev/null', `hex:${'00 '.repeat(65_508).trim()}`));
    expect(big).toMatchObject({ code: 'E_LIMIT' });
    expect(big.message).toMatch(/65508 B is too large \(EMSGSIZE\): UDP over IPv4 carries at most 65507 B/);
    expect((await rig.fail('.udp 0 --multicast 10.1.2.3')).message).toMatch(/--multicast 10\.1\.2\.3 is not a multicast group/);
    expect((await rig.fail('.connect u1')).message).toBe('u1 is a UDP socket: connect to a server (s1), a relay (p1) or an address');
    expect((await rig.fail('.end u1')).message).toBe('u1 is a UDP socket: UDP has no connection, so there is no FIN to send: .close u1 closes the socket');
    expect((await rig.fail('.send --chunk 2 --to 127.0.0.1:9 u1 hi')).message).toMatch(/^--chunk with a UDP socket: UDP keeps message boundaries/);
    expect((await rig.fail('.pause u1')).message).toMatch(/^u1 is a UDP socket: UDP has no flow control/);
    expect((await rig.fail('.ls u1')).message).toBe('u1 is a UDP socket: this needs a server (s1, s2, …)');
    expect((await rig.fail('.send --no-drain --to 127.0.0.1:9 u1 hi')).message).toMatch(/^--no-drain with a UDP socket: a datagram is handed to the kernel at once/);
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    expect((await rig.fail('.send --to 127.0.0.1:9 c1 hi')).message).toMatch(/^--to with a socket: it has one peer; --to is for UDP sockets/);
    // Nothing was sent by any refused line.
    expect(rig.log.of('send', 'u1')).toHaveLength(0);
  });

  it('a datagram of exactly 65,507 B goes out whole over IPv4', async () => {
    const rig = commandRig();
    await rig.ok('.udp 0');
    await rig.ok('.udp 0 as big');
    await rig.ok(`.send --to big u1 hex:${'41 '.repeat(65_507).trim()}`);
    const got = await rig.log.waitFor(is('datagram', 'u2'));
    expect(got.data.length).toBe(65_507);
  });

  it('ICMP port unreachable on a connected socket is an error event ECONNREFUSED, explained; the socket stays open', async () => {
    const rig = commandRig();
    await rig.ok('.udp 0 as gone');
    await rig.ok('.close gone');
    await rig.log.waitFor(is('close', 'u1'));
    await rig.ok('.udp 0 --connect gone');
    // The ICMP answer to one datagram is reported on a later send or read: send until it is.
    for (let i = 0; i < 50 && rig.log.of('error', 'u2').length === 0; i++) {
      await rig.ok('.send u2 ping');
      await new Promise((resolve) => setImmediate(resolve));
    }
    const err = rig.log.of('error', 'u2')[0];
    expect(err).toMatchObject({ code: 'ECONNREFUSED', context: 'udp' });
    expect(udpOf(rig, 'u2').state).toBe('connected');
  });
});

describe('the --reply data path', () => {
  it("each answer's send event follows its datagram event, before the next datagram's; --reply '{data}' answers the bytes as received", async () => {
    for (const reply of ['echo', "'{data}'"]) {
      const rig = commandRig();
      await rig.ok(`.udp 0 --reply ${reply}`);
      const peer = await bareUdp('127.0.0.1');
      const got: string[] = [];
      peer.on('message', (m) => got.push(m.toString('latin1')));
      for (const text of ['one', 'two\xff', 'three']) {
        peer.send(Buffer.from(text, 'latin1'), portOf(rig, 'u1'), '127.0.0.1');
        while (got.length < ['one', 'two\xff', 'three'].indexOf(text) + 1) await once(peer, 'message');
      }
      expect(got).toEqual(['one', 'two\xff', 'three']);
      await rig.log.waitFor((ev) => ev.type === 'send' && ev.data.toString() === 'three');
      const path = rig.log.events.filter((ev) => ev.type === 'datagram' || ev.type === 'send');
      expect(path.map((ev) => `${ev.type} ${ev.type === 'datagram' || ev.type === 'send' ? ev.data.toString('latin1') : ''}`)).toEqual([
        'datagram one',
        'send one',
        'datagram two\xff',
        'send two\xff',
        'datagram three',
        'send three',
      ]);
      const from = addr('127.0.0.1', peer.address().port);
      expect(path.every((ev) => (ev.type === 'send' ? ev.to === from : ev.type === 'datagram' && ev.from === from))).toBe(true);
      expect(udpOf(rig, 'u1')).toMatchObject({ datagramsIn: 3, datagramsOut: 3, bytesOut: 12 });
      await rig.ok('.close u1');
    }
  });

  it('--connect with a host name (not an IP) is still looked up: localhost reaches the peer on 127.0.0.1', async () => {
    const rig = commandRig();
    const peer = await bareUdp('127.0.0.1');
    const back = once(peer, 'message') as Promise<[Buffer, dgram.RemoteInfo]>;
    await rig.ok(`.udp 127.0.0.1:0 --connect localhost:${peer.address().port}`);
    expect(udpOf(rig, 'u1').connected).toBe(addr('127.0.0.1', peer.address().port));
    await rig.ok('.send u1 by-name');
    const [msg] = await back;
    expect(msg.toString()).toBe('by-name');
  });
});

describe('a flood of datagrams', () => {
  it('a peer sending as fast as it can: every datagram counted, the .expect queue bounded, the socket still answers', async () => {
    const rig = commandRig();
    await rig.ok('.udp 0');
    const peer = await bareUdp('127.0.0.1');
    const port = portOf(rig, 'u1');
    const payload = Buffer.alloc(512, 0x61);
    const N = 20_000;
    for (let i = 0; i < N; i += 200) {
      await Promise.all(Array.from({ length: 200 }, () => new Promise((resolve) => peer.send(payload, port, '127.0.0.1', resolve))));
    }
    // The kernel drops what its receive buffer cannot hold (UDP: nobody is told), so a marker
    // is sent until it arrives.
    for (let i = 0; i < 100 && rig.log.of('datagram', 'u1').every((e) => e.data.toString() !== 'end'); i++) {
      peer.send('end', port, '127.0.0.1');
      await rig.log.waitFor((ev) => ev.type === 'datagram' && ev.data.toString() === 'end', 50).catch(() => undefined);
    }
    const ep = udpOf(rig, 'u1');
    const events = rig.log.of('datagram', 'u1');
    expect(ep.datagramsIn).toBe(events.length);
    expect(ep.bytesIn).toBe(events.reduce((n, e) => n + e.data.length, 0));
    const queues = (rig.ctx.session.expects as unknown as { datagrams: { queues: Map<string, { datagrams: Buffer[]; bytes: number }> } }).datagrams.queues;
    expect(queues.get('u1')?.datagrams.length ?? 0).toBeLessThanOrEqual(4096 + 1024);
    expect(queues.get('u1')?.bytes ?? 0).toBeLessThanOrEqual(1024 * 1024);
    await rig.ok('.expect u1 end');
  });
});

describe('--multicast, --broadcast, --ttl', () => {
  it('a socket on 127.0.0.1 joins a group with a TTL and may broadcast; a failure to join would close it with an error', async () => {
    const rig = commandRig();
    await rig.ok('.udp 0 --multicast 239.1.2.3 --ttl 2 --broadcast as group');
    expect(rig.log.of('listening', 'u1')[0]).toMatchObject({ kind: 'udp', address: '127.0.0.1', exposed: false });
    expect(rig.log.of('error', 'u1')).toEqual([]);
    expect(udpOf(rig, 'group').state).toBe('open');
    await rig.ok('.show group');
    const options = rig.printed.at(-1)?.split('\n').find((l) => l.startsWith('options')) ?? '';
    for (const o of ['broadcast=true', 'multicast=239.1.2.3', 'ttl=2']) expect(options).toContain(o);
  });
});

/** Bytes the kernel holds for a UDP socket bound to 127.0.0.1:port (rx_queue of /proc/net/udp). */
function rxQueue(port: number): number {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const line = readFileSync('/proc/net/udp', 'utf8').split('\n').find((l) => l.trim().split(/\s+/)[1] === want);
  return line === undefined ? 0 : parseInt(line.trim().split(/\s+/)[4]?.split(':')[1] ?? '0', 16);
}

describe('output backpressure', () => {
  it.runIf(existsSync('/proc/net/udp'))('while output holds reading the datagrams wait in the kernel; after, every one arrives', async () => {
    const { session, log } = newSession();
    const ep = openUdp(session, { port: 0 });
    await ep.ready;
    const port = Number(ep.local.split(':').at(-1));
    session.holdReading(true);
    const peer = await bareUdp('127.0.0.1');
    for (const d of ['one', 'two', 'three']) peer.send(d, port, '127.0.0.1');
    await until(() => rxQueue(port) > 0, 3000, 'the datagrams queued in the kernel');
    expect(log.of('datagram', 'u1')).toHaveLength(0);
    session.holdReading(false);
    await until(() => log.of('datagram', 'u1').length === 3, 3000, 'three datagrams');
    expect(log.of('datagram', 'u1').map((e) => e.data.toString())).toEqual(['one', 'two', 'three']);
  });
});
