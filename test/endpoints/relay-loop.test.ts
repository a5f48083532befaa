/**
 * A relay that would connect to itself (SPEC 10): a target equal to its own
 * address, or a chain of this session's relays that leads back to it, is
 * refused with one line before any client comes. A loop the session cannot
 * see (through another process) is cut by the link-rate guard, injected low
 * here so the test opens a handful of sockets, never a flood.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { commandRig } from '../helpers/commands.js';
import { closeAll, closedPort, is, peerClient, track } from '../helpers/loopback.js';
import type { RelayEndpoint } from '../../src/endpoints/relay-types.js';

afterEach(closeAll);

describe('.proxy loops', () => {
  it('refuses a target that is its own address, with one line, before a client can come', async () => {
    const port = await closedPort();
    const rig = commandRig();
    const error = await rig.fail(`.proxy ${port} 127.0.0.1:${port}`);
    expect(error.message).toBe(`p1 would relay to itself: p1 → 127.0.0.1:${port} (p1); each link would open another without end: give a target that is not this relay`);
    expect(rig.log.of('listening')).toEqual([]);
    expect(rig.log.of('accept')).toEqual([]);
    // The port is free again: nothing was left listening.
    const probe = net.connect(port, '127.0.0.1');
    const [err] = (await new Promise((resolve) => probe.once('error', (e) => resolve([e])))) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('refuses localhost:PORT and a wildcard bind reached through 127.0.0.1 the same way', async () => {
    const a = await closedPort();
    const rig = commandRig();
    expect((await rig.fail(`.proxy ${a} localhost:${a}`)).message).toMatch(/^p1 would relay to itself: p1 → localhost:\d+ \(p1\)/);
    const b = await closedPort();
    expect((await rig.fail(`.proxy 0.0.0.0:${b} 127.0.0.1:${b}`)).message).toMatch(/^p2 would relay to itself/);
  });

  it('refuses the relay that closes a chain of this session\'s relays; the others keep working', async () => {
    const free = await closedPort();
    const rig = commandRig();
    await rig.ok(`.proxy 0 127.0.0.1:${free} as first`);
    const p1 = rig.ctx.session.get('p1') as RelayEndpoint;
    const error = await rig.fail(`.proxy ${free} first`);
    expect(error.message).toBe(`p2 would relay to itself: p2 → ${p1.address} (p1), p1 → 127.0.0.1:${free} (p2); each link would open another without end: give a target that is not this relay`);
    expect(p1.state).toBe('listening');
    expect(rig.log.of('accept')).toEqual([]);
  });

  it('a loop through another process is stopped by the link-rate guard: one note, the relay stops accepting', async () => {
    const rig = commandRig({ session: { relayLinkRate: { links: 5, perMs: 60_000 } } });
    // A forwarder outside the session that sends every connection back to the relay.
    const sockets = new Set<net.Socket>();
    let relayPort = 0;
    const forwarder = net.createServer((inbound) => {
      const out = net.connect(relayPort, '127.0.0.1');
      for (const s of [inbound, out]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => (inbound.destroy(), out.destroy()));
      }
      inbound.pipe(out).pipe(inbound);
    });
    track(() => {
      for (const s of sockets) s.destroy();
      forwarder.close();
    });
    forwarder.listen(0, '127.0.0.1');
    await new Promise((resolve) => forwarder.once('listening', resolve));
    await rig.ok(`.proxy 0 127.0.0.1:${(forwarder.address() as net.AddressInfo).port}`);
    const p1 = rig.ctx.session.get('p1') as RelayEndpoint;
    relayPort = Number(p1.address.split(':').at(-1));
    await peerClient(relayPort);
    const note = await rig.log.waitFor((ev) => ev.type === 'note' && ev.id === 'p1');
    expect(note).toMatchObject({ message: expect.stringMatching(/^more than 5 new links in 60,000 ms \(a loop\? its target leads back to it\): stopped accepting; \.close p1 --force resets the \d+ open$/) });
    await rig.log.waitFor(is('stop', 'p1'));
    expect(p1.accepted).toBe(5);
    expect(p1.state).toBe('stopped');
    await rig.ok('.close p1 --force');
    await rig.log.waitFor(is('close', 'p1'));
    expect(rig.log.of('note').filter((ev) => ev.id === 'p1')).toHaveLength(1);
  });
});
