/**
 * The listeners of wired sockets are shared functions reading each socket's own
 * record (src/endpoints/tcp-wiring.ts): what one connection does (a reset, bytes,
 * a FIN) must never show on another accepted at the same time.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, is, newSession } from '../helpers/loopback.js';

afterEach(closeAll);

const portOf = (server: net.Server): number => (server.address() as net.AddressInfo).port;

describe('shared socket listeners', () => {
  it('keep each connection apart: a reset on one, bytes and a clean close on the other', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0 });
    await s1.ready;
    const first = net.connect(portOf(s1.server), '127.0.0.1');
    await log.waitFor(is('accept', 'c1'));
    const second = net.connect(portOf(s1.server), '127.0.0.1');
    await log.waitFor(is('accept', 'c2'));
    first.on('error', () => {});
    second.write('hello');
    await log.waitFor(is('data', 'c2'));
    first.resetAndDestroy();
    await log.waitFor(is('close', 'c1'));
    const c2 = session.getSocket('c2');
    c2.socket.write('bye');
    second.end();
    second.resume();
    await log.waitFor(is('close', 'c2'));
    expect(log.of('error', 'c1')).toHaveLength(1);
    expect(log.of('close', 'c1')[0]).toMatchObject({ hadError: true });
    expect(log.of('error', 'c2')).toHaveLength(0);
    expect(log.of('close', 'c2')[0]).toMatchObject({ hadError: false, aborted: false });
    expect(log.of('data', 'c1')).toHaveLength(0);
    expect(log.of('data', 'c2').map((e) => e.data.toString()).join('')).toBe('hello');
    expect(log.of('send', 'c2').map((e) => e.data.toString())).toEqual(['bye']);
    expect(log.of('send', 'c1')).toHaveLength(0);
    expect(log.of('end', 'c2')).toHaveLength(1);
    expect(c2.bytesIn).toBe(5);
    expect(c2.bytesOut).toBe(3);
    expect(session.getSocket('c1').bytesIn).toBe(0);
  });
});
