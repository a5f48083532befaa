import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, closedPort, collect, is, newSession, peerClient, peerServer, receive, until } from '../helpers/loopback.js';

afterEach(closeAll);

const portOf = (server: net.Server): number => (server.address() as net.AddressInfo).port;

describe('Session.end', () => {
  it('sends FIN and keeps reading what the peer still sends', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const { session, log } = newSession();
    const c1 = session.connect({ port: peer.port });
    await c1.ready;
    const theirs = await peer.nextSocket();
    session.end(c1);
    await once(theirs, 'end');
    expect((await log.waitFor(is('shutdown', 'c1'))).id).toBe('c1');
    expect(c1.state).toBe('half-closed (we sent FIN)');
    theirs.end('late reply');
    expect((await log.waitFor(is('data', 'c1'))).data.toString()).toBe('late reply');
    await log.waitFor(is('close', 'c1'));
    expect(log.of('end', 'c1')).toHaveLength(1);
  });

  it('a second .end is a note, not an error (SPEC 3: idempotent)', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const { session, log } = newSession();
    const c1 = session.connect({ port: peer.port });
    await c1.ready;
    session.end(c1);
    session.end(c1);
    const note = await log.waitFor(is('note', 'c1'));
    expect(note.message).toBe('our FIN is already on its way: nothing to do; .destroy c1 aborts it');
  });
});

describe('Session.destroy', () => {
  it('aborts with RST: the peer gets ECONNRESET, we close once as aborted', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0 });
    await s1.ready;
    const client = net.connect(portOf(s1.server), '127.0.0.1');
    const errored = once(client, 'error');
    await log.waitFor(is('accept', 'c1'));
    session.destroy(session.getSocket('c1'));
    const [err] = (await errored) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNRESET');
    const close = await log.waitFor(is('close', 'c1'));
    expect(close).toMatchObject({ aborted: true });
    expect(() => session.destroy(session.getSocket('c1'))).toThrow(expect.objectContaining({ code: 'E_STATE' }));
  });

  it('while connecting: one close, no error event', async () => {
    const lookup = (() => {}) as unknown as net.LookupFunction;
    const { session, log } = newSession({ lookup });
    const c1 = session.connect({ host: 'never.invalid', port: 80 });
    session.destroy(c1);
    await log.waitFor(is('close', 'c1'));
    await expect(c1.ready).rejects.toMatchObject({ code: 'E_NET' });
    expect(log.of('error')).toEqual([]);
  });
});

describe('Session.closeServer', () => {
  it('stops accepting, keeps open connections, closes after the last one', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0, reply: 'echo' });
    await s1.ready;
    const port = portOf(s1.server);
    const client = await peerClient(port);
    await log.waitFor(is('accept', 'c1'));
    expect(session.closeServer(s1)).toBe(1);
    expect((await log.waitFor(is('stop', 's1'))).open).toBe(1);
    expect(s1.state).toBe('stopped');
    client.write('still echoed');
    expect(await receive(client, 'still echoed')).toBe('still echoed');
    const refused = net.connect(port, '127.0.0.1');
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
    expect(log.of('close', 's1')).toEqual([]);
    client.end();
    await log.waitFor(is('close', 's1'));
    const order = log.events.filter((e) => e.type === 'close').map((e) => 'id' in e && e.id);
    expect(order).toEqual(['c1', 's1']);
  });

  it('--force destroys its connections too', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0 });
    await s1.ready;
    const client = await peerClient(portOf(s1.server));
    const { ended } = collect(client);
    await log.waitFor(is('accept', 'c1'));
    session.destroy(session.getSocket('c1')); // destroyed but not closed yet: --force must skip it, not throw
    expect(session.closeServer(s1, true)).toBe(0);
    await ended;
    await log.waitFor(is('close', 's1'));
    expect(log.of('stop', 's1')).toEqual([expect.objectContaining({ open: 0 })]);
    expect(log.of('close', 'c1')).toEqual([expect.objectContaining({ aborted: true })]);
  });

  it('closed while still starting: ready rejects instead of hanging, no listening event', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0 });
    session.closeServer(s1);
    await expect(s1.ready).rejects.toMatchObject({ code: 'E_STATE', message: 's1 was closed before it was listening' });
    await log.waitFor(is('close', 's1'));
    expect(log.events.map((e) => e.type)).toEqual(['stop', 'close']);
  });

  it('an idle server: stop, then close; closing it again is a note', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0 });
    await s1.ready;
    session.closeServer(s1);
    await log.waitFor(is('close', 's1'));
    expect(log.events.filter((e) => 'id' in e && e.id === 's1').map((e) => e.type)).toEqual(['listening', 'stop', 'close']);
    session.closeServer(s1);
    expect((await log.waitFor(is('note', 's1'))).message).toBe('already closed: nothing to do');
  });
});

describe('Session.pause', () => {
  it('a paused socket reads nothing, so the peer backs up; resume delivers it all', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0 });
    await s1.ready;
    const client = await peerClient(portOf(s1.server));
    await log.waitFor(is('accept', 'c1'));
    const c1 = session.getSocket('c1');
    session.pause(c1, true);
    expect(c1.userPaused).toBe(true);
    const block = Buffer.alloc(1024 * 1024, 0x62);
    let written = 0;
    while (client.write(block)) written += block.length;
    written += block.length;
    await until(() => client.writableLength > 0 && client.writableNeedDrain, 5000, 'the peer backing up');
    expect(log.of('data', 'c1')).toEqual([]);
    session.pause(c1, false);
    await until(() => c1.bytesIn === written, 10_000, 'every byte read after resume');
    expect(c1.userPaused).toBe(false);
  });

  it('--pause-on-connect: accepted sockets start paused on purpose; resume reads what waited', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0, pauseOnConnect: true });
    await s1.ready;
    const client = await peerClient(portOf(s1.server));
    await log.waitFor(is('accept', 'c1'));
    const c1 = session.getSocket('c1');
    expect(c1.userPaused).toBe(true);
    client.write('waited');
    session.pause(c1, false);
    expect((await log.waitFor(is('data', 'c1'))).data.toString()).toBe('waited');
  });

  it('an echo reply held by backpressure does not resume a socket the user paused', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0, reply: 'echo' });
    await s1.ready;
    const client = await peerClient(portOf(s1.server));
    client.pause(); // never reads the echo, so the echo backs up
    await log.waitFor(is('accept', 'c1'));
    const c1 = session.getSocket('c1');
    const block = Buffer.alloc(1024 * 1024, 0x63);
    for (let i = 0; i < 256 && !c1.socket.writableNeedDrain; i++) {
      client.write(block);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => c1.socket.writableNeedDrain && c1.socket.isPaused(), 5000, 'the echo holding reads');
    session.pause(c1, true);
    const drained = once(c1.socket, 'drain');
    client.resume();
    await drained;
    expect(c1.socket.isPaused()).toBe(true);
    session.pause(c1, false);
    expect(c1.socket.isPaused()).toBe(false);
  });
});

describe('Session.shutdown', () => {
  it('closes servers and sockets; every endpoint ends with one close', async () => {
    const peer = await peerServer();
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0, reply: 'echo' });
    await s1.ready;
    await session.connect({ port: portOf(s1.server) }).ready;
    await session.connect({ port: peer.port }).ready;
    await log.waitFor(is('accept', 'c2'));
    await session.shutdown();
    expect(session.list().every((ep) => ep.state === 'closed')).toBe(true);
    expect(log.of('close').map((e) => e.id).sort()).toEqual(['c1', 'c2', 'c3', 's1']);
  });

  it('destroys what does not close within the grace time (a peer that never ends)', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const { session, log } = newSession();
    await session.connect({ port: peer.port }).ready;
    await session.shutdown(50);
    expect(log.of('close', 'c1')).toHaveLength(1);
  });

  it('settles with servers still starting, and with ones whose listen fails', async () => {
    const taken = await peerServer();
    const { session, log } = newSession();
    session.listen({ port: 0 });
    session.listen({ port: taken.port });
    session.connect({ port: await closedPort() });
    await session.shutdown(100);
    expect(log.of('close').map((e) => e.id).sort()).toEqual(['c1', 's1', 's2']);
    expect(log.of('error', 's2')).toEqual([expect.objectContaining({ code: 'EADDRINUSE' })]);
  });

  it('resolves at once when nothing is open', async () => {
    const { session } = newSession();
    await expect(session.shutdown()).resolves.toBeUndefined();
  });
});
