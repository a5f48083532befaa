import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveTargets, sendTo, type Session } from '../../src/session/session.js';
import { closeAll, collect, is, newSession, peerServer, receive, until, type EventLog } from '../helpers/loopback.js';
import { rejection } from '../helpers/errors.js';

afterEach(closeAll);

/** A server s1 with `n` connected clients c1, c3, … (accepted as c2, c4, …). */
async function serverWithClients(session: Session, log: EventLog, n: number) {
  const s1 = session.listen({ port: 0 });
  await s1.ready;
  const port = (s1.server.address() as net.AddressInfo).port;
  const clients = [];
  for (let i = 0; i < n; i++) {
    const c = session.connect({ port });
    await c.ready;
    clients.push(c);
  }
  await until(() => log.of('accept').length === n, 3000, `${n} accepts`);
  return { s1, clients, accepted: [...s1.connections] };
}

describe('sendTo / resolveTargets', () => {
  it('writes to one socket; the peer gets the bytes and a send event shows them', async () => {
    const peer = await peerServer();
    const { session, log } = newSession();
    const c1 = session.connect({ port: peer.port });
    await c1.ready;
    const theirs = await peer.nextSocket();
    const result = await sendTo(session, resolveTargets(session, 'c1'), Buffer.from('hello\n'));
    expect(result).toEqual({ bytes: 6, buffered: { c1: 0 } });
    expect(await receive(theirs, 'hello\n')).toBe('hello\n');
    expect((await log.waitFor(is('send', 'c1'))).data.toString()).toBe('hello\n');
    expect(c1.bytesOut).toBe(6);
  });

  it('a server target means every open connection of it; all means every open socket', async () => {
    const { session, log } = newSession();
    const { accepted } = await serverWithClients(session, log, 2);
    expect(resolveTargets(session, 's1').map((e) => e.id)).toEqual(accepted.map((e) => e.id));
    expect(resolveTargets(session, 'all').map((e) => e.id)).toEqual(['c1', 'c2', 'c3', 'c4']);
    const result = await sendTo(session, resolveTargets(session, 's1'), Buffer.from('hi'));
    expect(result.bytes).toBe(4);
    await until(() => log.of('data').length === 2, 3000, 'data on both clients');
    expect(log.of('data').map((e) => e.id).sort()).toEqual(['c1', 'c3']);
  });

  it('refuses unknown ids, servers without connections and an empty all', async () => {
    const { session } = newSession();
    expect(() => resolveTargets(session, 'all')).toThrow(expect.objectContaining({ code: 'E_STATE' }));
    expect(() => resolveTargets(session, 'c9')).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_ID', message: expect.stringContaining('no endpoint "c9"') }));
    await session.listen({ port: 0 }).ready;
    expect(() => resolveTargets(session, 's1')).toThrow(/s1 has no open connection/);
  });

  it('--chunk splits into separate writes; --repeat repeats', async () => {
    const peer = await peerServer();
    const { session, log } = newSession();
    const c1 = session.connect({ port: peer.port });
    await c1.ready;
    const theirs = await peer.nextSocket();
    await sendTo(session, [c1], Buffer.from('abc'), { chunk: 1, repeat: 2, delay: 1 });
    expect(await receive(theirs, 'abcabc')).toBe('abcabc');
    await until(() => log.of('send', 'c1').length === 6);
    expect(log.of('send', 'c1').map((e) => e.data.toString())).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('refuses a socket that sent FIN or closed, with E_STATE', async () => {
    const peer = await peerServer();
    const { session, log } = newSession();
    const c1 = session.connect({ port: peer.port });
    await c1.ready;
    session.end(c1);
    const err = await rejection(sendTo(session, [c1], Buffer.from('x')));
    expect(err).toMatchObject({ code: 'E_STATE', message: expect.stringMatching(/^cannot send to c1/) });
    await peer.close();
    await log.waitFor(is('close', 'c1'));
    expect((await rejection(sendTo(session, [c1], Buffer.from('x')))).message).toBe('cannot send to c1: it is closed');
  });

  it('JS writes (socket.write, socket.end(data)) appear as send events', async () => {
    const peer = await peerServer();
    const { session, log } = newSession();
    const c1 = session.connect({ port: peer.port });
    await c1.ready;
    const theirs = await peer.nextSocket();
    const { ended } = collect(theirs);
    c1.socket.write(Buffer.from([1, 2]));
    c1.socket.write('three');
    c1.socket.end('x');
    expect([...(await ended)]).toEqual([1, 2, ...Buffer.from('threex')]);
    await log.waitFor(is('close', 'c1'));
    expect(Buffer.concat(log.of('send', 'c1').map((e) => e.data)).toString('latin1')).toBe('\x01\x02threex');
    expect(c1.bytesOut).toBe(8);
    expect(log.of('shutdown', 'c1')).toHaveLength(1);
  });

  it('waits for drain when the peer does not read, and completes once it does', async () => {
    const peer = await peerServer();
    const { session } = newSession();
    const c1 = session.connect({ port: peer.port });
    await c1.ready;
    const theirs = await peer.nextSocket();
    theirs.pause();
    const size = 32 * 1024 * 1024;
    let settled = false;
    const sending = sendTo(session, [c1], Buffer.alloc(size, 0x61)).finally(() => (settled = true));
    await until(() => c1.socket.writableNeedDrain, 5000, 'a full send buffer');
    expect(settled).toBe(false);
    expect(c1.socket.writableLength).toBeGreaterThan(0);
    let received = 0;
    theirs.on('data', (c: Buffer) => (received += c.length));
    theirs.resume();
    const result = await sending;
    expect(result.bytes).toBe(size);
    await until(() => received === size, 5000, 'all bytes at the peer');
  });

  it('past the queued-bytes cap, a send fails with E_BUFFER_FULL', async () => {
    const peer = await peerServer();
    const { session } = newSession({ maxQueuedBytes: 64 * 1024 });
    const c1 = session.connect({ port: peer.port });
    await c1.ready;
    (await peer.nextSocket()).pause();
    // Fill the kernel buffers and Node's queue from JS, which the cap does not police.
    const block = Buffer.alloc(1024 * 1024);
    while (c1.socket.writableLength <= 64 * 1024) {
      c1.socket.write(block);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const err = await rejection(sendTo(session, [c1], Buffer.from('one more')));
    expect(err.code).toBe('E_BUFFER_FULL');
    expect(err.message).toMatch(/^c1 already has \d+ B queued that the peer has not read; the cap is 65536 B/);
  });
});
