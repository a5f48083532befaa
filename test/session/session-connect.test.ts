import type net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeAll, closedPort, is, newSession, peerServer } from '../helpers/loopback.js';
import { rejection } from '../helpers/errors.js';

afterEach(closeAll);

/** The rejection of a promise that must reject. */

describe('Session.connect', () => {
  it('connects to a peer: connect event with both addresses, ready resolves', async () => {
    const peer = await peerServer();
    const { session, log } = newSession();
    const c1 = session.connect({ port: peer.port, alias: 'alice' });
    expect(c1).toMatchObject({ id: 'c1', alias: 'alice', state: 'connecting' });
    await c1.ready;
    const ev = await log.waitFor(is('connect', 'c1'));
    const local = `127.0.0.1:${c1.socket.localPort}`;
    expect(ev).toMatchObject({ alias: 'alice', local, remote: `127.0.0.1:${peer.port}` });
    expect(session.get('alice')).toBe(c1);
    const theirs = await peer.nextSocket();
    expect(theirs.remotePort).toBe(c1.socket.localPort);
  });

  it('ECONNREFUSED: one error, then one close, and ready rejects with osCode', async () => {
    const port = await closedPort();
    const { session, log } = newSession();
    const c1 = session.connect({ port });
    const err = await rejection(c1.ready);
    expect(err).toMatchObject({ code: 'E_NET', osCode: 'ECONNREFUSED' });
    expect(err.message).toContain('ECONNREFUSED');
    await log.waitFor(is('close', 'c1'));
    const mine = log.events.filter((ev) => 'id' in ev && ev.id === 'c1');
    expect(mine.map((ev) => ev.type)).toEqual(['error', 'close']);
    expect(mine[0]).toMatchObject({ code: 'ECONNREFUSED', message: expect.stringContaining(`127.0.0.1:${port}`) });
    expect(mine[1]).toMatchObject({ hadError: true });
  });

  it('ENOTFOUND through the injected lookup: no DNS query leaves the machine', async () => {
    const asked: string[] = [];
    const lookup = ((hostname: string, _options: unknown, callback: (err: Error | null) => void) => {
      asked.push(hostname);
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
      process.nextTick(() => callback(err));
    }) as unknown as net.LookupFunction;
    const { session, log } = newSession({ lookup });
    const c1 = session.connect({ host: 'no-such-host.invalid', port: 80 });
    const err = await rejection(c1.ready);
    expect(err.osCode).toBe('ENOTFOUND');
    expect(asked).toEqual(['no-such-host.invalid']);
    await log.waitFor(is('close', 'c1'));
    expect(log.of('error', 'c1')).toEqual([expect.objectContaining({ code: 'ENOTFOUND' })]);
  });

  it('a name with several addresses, none listening: the error says what each attempt got', async () => {
    const port = await closedPort();
    const lookup = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      const both = [
        { address: '127.0.0.1', family: 4 },
        { address: '127.0.0.2', family: 4 },
      ];
      process.nextTick(() => (options.all ? callback(null, both) : callback(null, '127.0.0.1', 4)));
    }) as unknown as net.LookupFunction;
    const { session, log } = newSession({ lookup });
    const c1 = session.connect({ host: 'twice.invalid', port });
    const err = await rejection(c1.ready);
    expect(err.osCode).toBe('ECONNREFUSED');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    await log.waitFor(is('close', 'c1'));
    const [error] = log.of('error', 'c1');
    expect(error?.code).toBe('ECONNREFUSED');
    expect(error?.message).toContain(`127.0.0.1:${port}`);
  });

  it('connect timeout: a lookup that never answers gives ETIMEDOUT after --timeout', async () => {
    const lookup = (() => {}) as unknown as net.LookupFunction;
    const { session, log } = newSession({ lookup });
    const c1 = session.connect({ host: 'silent.invalid', port: 80, timeout: 40 });
    const err = await rejection(c1.ready);
    expect(err).toMatchObject({ code: 'E_NET', osCode: 'ETIMEDOUT' });
    expect(err.message).toMatch(/ETIMEDOUT silent\.invalid:80 after 40 ms/);
    await log.waitFor(is('close', 'c1'));
    expect(log.of('error', 'c1')).toEqual([expect.objectContaining({ code: 'ETIMEDOUT' })]);
    expect(log.of('close', 'c1')).toEqual([expect.objectContaining({ hadError: true })]);
  });

  it('the session default connect timeout applies without --timeout', async () => {
    const lookup = (() => {}) as unknown as net.LookupFunction;
    const { session } = newSession({ lookup, connectTimeout: 30 });
    const err = await rejection(session.connect({ host: 'silent.invalid', port: 80 }).ready);
    expect(err.message).toMatch(/ETIMEDOUT .* after 30 ms/);
  });

  it('a connected socket is not timed out by the connect timer', async () => {
    const peer = await peerServer({ echo: true });
    const { session, log } = newSession();
    // The connect timer is faked so that it can be run out at will, instead of sleeping past it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let c1;
    try {
      c1 = session.connect({ port: peer.port, timeout: 20 });
      await c1.ready;
      // Fifty times the connect timeout: a timer still armed fires now and destroys c1.
      vi.advanceTimersByTime(1000);
    } finally {
      vi.useRealTimers();
    }
    c1.socket.write('still open');
    expect((await log.waitFor(is('data', 'c1'))).data.toString()).toBe('still open');
    expect(c1.state).toBe('open');
    expect(log.of('error', 'c1')).toEqual([]);
  });

  it('--count style: many sockets get c1…cN, ids keep counting after closes', async () => {
    const peer = await peerServer();
    const { session, log } = newSession();
    const eps = [1, 2, 3].map(() => session.connect({ port: peer.port }));
    expect(eps.map((e) => e.id)).toEqual(['c1', 'c2', 'c3']);
    await Promise.all(eps.map((e) => e.ready));
    session.destroy(eps[0]!);
    await log.waitFor(is('close', 'c1'));
    expect(session.connect({ port: peer.port }).id).toBe('c4');
  });

  it('refuses a bad or taken alias before connecting', async () => {
    const peer = await peerServer();
    const { session } = newSession();
    await session.connect({ port: peer.port, alias: 'bob' }).ready;
    expect(() => session.connect({ port: peer.port, alias: 'bob' })).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
    expect(() => session.connect({ port: peer.port, alias: 'c2' })).toThrow(/bad name "c2"/);
    expect(session.list()).toHaveLength(1);
  });

  it('--reply on a client answers what the server sends', async () => {
    const peer = await peerServer();
    const { session } = newSession();
    await session.connect({ port: peer.port, reply: '[{data}]' }).ready;
    const theirs = await peer.nextSocket();
    theirs.write('x');
    const got = await new Promise<string>((resolve) => theirs.once('data', (c: Buffer) => resolve(c.toString())));
    expect(got).toBe('[x]');
  });
});
