/**
 * The output gate on a real session and real sockets: while the output says
 * it is full, no socket of the session reads (the peer's writes back up in
 * the kernel), also a socket that connects meanwhile; on 'drain' every byte
 * arrives. A socket the user paused stays paused.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { OutputGate } from '../../src/observers/output-gate.js';
import type { SocketEndpoint } from '../../src/endpoints/tcp-types.js';
import { closeAll, is, newSession, peerClient, until } from '../helpers/loopback.js';

afterEach(closeAll);

/** An output whose fullness the test sets by hand. */
class FakeOutput extends EventEmitter {
  writableNeedDrain = false;
  drain(): void {
    this.writableNeedDrain = false;
    this.emit('drain');
  }
}

/** A session listening on loopback, its port, a fake output and a gate on it (`watch`: the gate also subscribed). */
async function gatedServer(watch: boolean) {
  const { session, log } = newSession();
  const server = session.listen({ port: 0, host: '127.0.0.1' });
  await server.ready;
  const port = (server.server.address() as { port: number }).port;
  const out = new FakeOutput();
  const gate = new OutputGate(session, out);
  if (watch) session.subscribe(gate.watch);
  return { session, log, port, out, gate };
}

/** Write from `peer` until the kernel buffers are full (write() returns false). */
async function fillUp(peer: import('node:net').Socket): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  while (peer.write(chunk)) sent += chunk.length;
  return sent + chunk.length;
}

describe('OutputGate', () => {
  it('holds reading on every socket while the output is full, and lets every byte in after drain', async () => {
    const { session, log, port, out, gate } = await gatedServer(true);

    const a = await peerClient(port);
    await until(() => log.events.some(is('accept')), 3000, 'accept');
    out.writableNeedDrain = true;
    gate.check();
    expect(gate.holding).toBe(true);
    // Connected while held: its first chunk gets through at most, then it is stopped too.
    const b = await peerClient(port);
    await until(() => log.events.filter(is('accept')).length === 2, 3000, 'second accept');

    const sentA = await fillUp(a);
    const sentB = await fillUp(b);
    const ids = log.events.filter(is('accept')).map((ev) => ev.id);
    const inOf = (id: string) => (session.get(id) as SocketEndpoint).bytesIn;
    // The peers could not write it all: our side stopped reading, the kernel buffers are full.
    expect(ids.map(inOf).reduce((x, y) => x + y, 0)).toBeLessThan(sentA + sentB);

    out.drain();
    expect(gate.holding).toBe(false);
    await until(() => inOf(ids[0]!) === sentA && inOf(ids[1]!) === sentB, 10_000, 'every byte after drain');
    expect(gate.holds).toBe(1);
  });

  // The session stops late readers through a subscriber that is there only while reading
  // is held (not called per chunk otherwise): a second hold must bring it back.
  it('a second hold stops a socket that connects during it, as the first did', async () => {
    const { session, log, port, out, gate } = await gatedServer(true);
    out.writableNeedDrain = true;
    gate.check();
    out.drain();
    expect(gate.holding).toBe(false);
    // Released: a socket reads freely.
    const a = await peerClient(port);
    await until(() => log.events.some(is('accept')), 3000, 'accept');
    const first = session.get(log.events.find(is('accept'))!.id) as SocketEndpoint;
    a.write('free');
    await until(() => first.bytesIn === 4, 3000, 'bytes while not held');

    out.writableNeedDrain = true;
    gate.check();
    expect(gate.holding).toBe(true);
    const b = await peerClient(port);
    await until(() => log.events.filter(is('accept')).length === 2, 3000, 'second accept');
    const second = session.get(log.events.filter(is('accept'))[1]!.id) as SocketEndpoint;
    const sent = await fillUp(b);
    // Its first chunk may get through; then it is stopped, so the peer's writes back up.
    await until(() => second.bytesIn > 0, 3000, 'first chunk of the late socket');
    expect(second.socket.isPaused()).toBe(true);
    expect(second.bytesIn).toBeLessThan(sent);
    out.drain();
    await until(() => second.bytesIn === sent, 10_000, 'every byte after the second drain');
    expect(gate.holds).toBe(2);
  });

  it('a socket the user paused stays paused when the output drains', async () => {
    const { session, log, port, out, gate } = await gatedServer(false);
    const peer = await peerClient(port);
    await until(() => log.events.some(is('accept')), 3000, 'accept');
    const ep = session.get(log.events.find(is('accept'))!.id) as SocketEndpoint;
    session.pause(ep, true);
    out.writableNeedDrain = true;
    gate.check();
    out.drain();
    expect(ep.socket.isPaused()).toBe(true);
    const sent = await fillUp(peer);
    expect(ep.bytesIn).toBeLessThan(sent);
    session.pause(ep, false);
    await until(() => ep.bytesIn === sent, 10_000, 'bytes after .resume');
  });
});
