import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SocklabError } from '../../src/errors.js';
import { closeAll, collect, hasIpv6Loopback, is, newSession, peerClient, peerServer, receive, tempDir, waitForEvent } from '../helpers/loopback.js';
import { thrown } from '../helpers/errors.js';

afterEach(closeAll);

const ipv6 = await hasIpv6Loopback();

/** The SocklabError a call throws. */

describe('Session.listen', () => {
  it('numbers servers s1, s2 and sockets c1, c2 in order of creation', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0 });
    const s2 = session.listen({ port: 0 });
    expect([s1.id, s2.id]).toEqual(['s1', 's2']);
    await Promise.all([s1.ready, s2.ready]);
    const c1 = session.connect({ port: (s1.server.address() as net.AddressInfo).port });
    expect(c1.id).toBe('c1');
    const accepted = await log.waitFor(is('accept'));
    expect(accepted).toMatchObject({ id: 'c2', server: 's1' });
    expect(session.list().map((ep) => ep.id)).toEqual(['s1', 's2', 'c1', 'c2']);
  });

  it('never reuses an id after its endpoint closed', async () => {
    const { session, log } = newSession();
    const s1 = session.listen({ port: 0 });
    await s1.ready;
    session.closeServer(s1);
    await log.waitFor(is('close', 's1'));
    const next = session.listen({ port: 0 });
    expect(next.id).toBe('s2');
    await next.ready;
  });

  it('emits listening with the real port on 127.0.0.1 by default', async () => {
    const { session, log } = newSession();
    const ep = session.listen({ port: 0, reply: 'echo' });
    await ep.ready;
    const ev = await log.waitFor(is('listening', 's1'));
    expect(ev).toMatchObject({ address: '127.0.0.1', exposed: false, reply: 'echo' });
    expect(ev.port).toBe((ep.server.address() as net.AddressInfo).port);
    expect(ev.port).toBeGreaterThan(0);
    expect(ep.state).toBe('listening');
  });

  it('gives an alias that finds the endpoint', async () => {
    const { session } = newSession();
    const ep = session.listen({ port: 0, alias: 'srv' });
    expect(session.get('srv')).toBe(ep);
    expect(ep.alias).toBe('srv');
    await ep.ready;
  });

  it.each(['s1', 'c7', 'all', 'session', 'as', '1abc', 'a-b', ''])('refuses the bad name %j with E_USAGE and opens nothing', (name) => {
    const { session } = newSession();
    const err = thrown(() => session.listen({ port: 0, alias: name }));
    expect(err.code).toBe('E_USAGE');
    expect(err.message).toMatch(/bad name/);
    expect(session.list()).toEqual([]);
  });

  it('refuses a taken name, naming who has it', async () => {
    const { session } = newSession();
    await session.listen({ port: 0, alias: 'srv' }).ready;
    const err = thrown(() => session.listen({ port: 0, alias: 'srv' }));
    expect(err.code).toBe('E_USAGE');
    expect(err.message).toBe('name "srv" is taken by s1, which is listening: choose another');
    expect(session.listen({ port: 0 }).id).toBe('s2');
  });

  it('a closed endpoint gives its name up to the next one (a lesson replayed twice)', async () => {
    const { session } = newSession();
    const first = session.listen({ port: 0, alias: 'srv' });
    await first.ready;
    session.closeServer(first);
    await waitForEvent(session, (ev) => ev.type === 'close' && ev.id === first.id);
    const second = session.listen({ port: 0, alias: 'srv' });
    await second.ready;
    expect(session.get('srv')).toBe(second);
    expect(first.alias).toBeUndefined();
  });

  it('EADDRINUSE: error event with the code, one close, ready rejects with osCode', async () => {
    const peer = await peerServer();
    const { session, log } = newSession();
    const ep = session.listen({ port: peer.port });
    const err = await ep.ready.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SocklabError);
    expect(err).toMatchObject({ code: 'E_NET', osCode: 'EADDRINUSE' });
    expect((err as Error).message).toContain('EADDRINUSE');
    await log.waitFor(is('close', 's1'));
    expect(log.of('error', 's1')).toEqual([expect.objectContaining({ code: 'EADDRINUSE' })]);
    expect(log.of('close', 's1')).toEqual([expect.objectContaining({ hadError: true })]);
    expect(ep.state).toBe('closed');
  });

  it('echo: sends back what came', async () => {
    const { session } = newSession();
    const ep = session.listen({ port: 0, reply: 'echo' });
    await ep.ready;
    const client = await peerClient((ep.server.address() as net.AddressInfo).port);
    client.write('ping\n');
    expect(await receive(client, 'ping\n')).toBe('ping\n');
  });

  it('template: answers each chunk from the template', async () => {
    const { session, log } = newSession();
    const ep = session.listen({ port: 0, reply: 'You said "{upper}"' });
    await ep.ready;
    const client = await peerClient((ep.server.address() as net.AddressInfo).port);
    client.write('hi');
    expect(await receive(client, '"HI"')).toBe('You said "HI"');
    const sent = await log.waitFor(is('send', 'c1'));
    expect(sent.data.toString()).toBe('You said "HI"');
  });

  it('--greet: every new connection gets the greeting, shown as a send event', async () => {
    const { session, log } = newSession();
    const ep = session.listen({ port: 0, greet: Buffer.from('hello!\n') });
    await ep.ready;
    const client = await peerClient((ep.server.address() as net.AddressInfo).port);
    expect(await receive(client, 'hello!\n')).toBe('hello!\n');
    const sent = await log.waitFor(is('send', 'c1'));
    expect(sent.data.toString()).toBe('hello!\n');
  });

  it('--timeout: an idle connection times out and is destroyed', async () => {
    const { session, log } = newSession();
    const ep = session.listen({ port: 0, idleTimeout: 30 });
    await ep.ready;
    const client = await peerClient((ep.server.address() as net.AddressInfo).port);
    const { ended } = collect(client);
    const close = await log.waitFor(is('close', 'c1'));
    expect(log.of('timeout', 'c1')).toEqual([expect.objectContaining({ ms: 30, destroyed: true })]);
    expect(close.aborted).toBe(true);
    await ended;
  });

  it('default: a peer FIN ends our side too', async () => {
    const { session, log } = newSession();
    const ep = session.listen({ port: 0 });
    await ep.ready;
    const client = await peerClient((ep.server.address() as net.AddressInfo).port, { allowHalfOpen: true });
    const clientEnd = once(client, 'end');
    client.end();
    await log.waitFor(is('close', 'c1'));
    await clientEnd;
    expect(log.events.filter((e) => 'id' in e && e.id === 'c1').map((e) => e.type)).toEqual(['accept', 'end', 'shutdown', 'close']);
  });

  it('--half-open: after a peer FIN we can still send, until we end', async () => {
    const { session, log } = newSession();
    const ep = session.listen({ port: 0, halfOpen: true });
    await ep.ready;
    const client = await peerClient((ep.server.address() as net.AddressInfo).port, { allowHalfOpen: true });
    const { ended } = collect(client);
    client.end();
    await log.waitFor(is('end', 'c1'));
    const c1 = session.getSocket('c1');
    expect(c1.state).toBe('half-closed (peer sent FIN)');
    expect(log.of('shutdown', 'c1')).toEqual([]);
    c1.socket.write('still here');
    session.end(c1);
    expect((await ended).toString()).toBe('still here');
    await log.waitFor(is('close', 'c1'));
  });

  it('--close-after-reply: FIN right after the first reply', async () => {
    const { session } = newSession();
    const ep = session.listen({ port: 0, reply: 'echo', closeAfterReply: true });
    await ep.ready;
    const client = await peerClient((ep.server.address() as net.AddressInfo).port);
    const { ended } = collect(client);
    const end = once(client, 'end');
    client.write('once');
    await end;
    expect((await ended).toString()).toBe('once');
  });

  it('--max: a connection past the limit is closed without an accept, and shown as a note', async () => {
    const { session, log } = newSession();
    const ep = session.listen({ port: 0, max: 1 });
    await ep.ready;
    const port = (ep.server.address() as net.AddressInfo).port;
    await peerClient(port);
    await log.waitFor(is('accept', 'c1'));
    const second = await peerClient(port);
    await once(second, 'close');
    const note = await log.waitFor(is('note', 's1'));
    expect(note.message).toMatch(/--max 1/);
    expect(log.of('accept')).toHaveLength(1);
    expect(ep.accepted).toBe(1);
  });

  it('listens on a Unix socket path and connects to it', async () => {
    const path = join(tempDir(), 'lab.sock');
    const { session, log } = newSession();
    const ep = session.listen({ path, reply: 'echo' });
    await ep.ready;
    expect(await log.waitFor(is('listening', 's1'))).toMatchObject({ address: path, path, exposed: false });
    const c = session.connect({ path });
    await c.ready;
    c.socket.write('unix!');
    const data = await log.waitFor((ev) => ev.type === 'data' && ev.id === c.id);
    expect(data.type === 'data' && data.data.toString()).toBe('unix!');
  });

  it.skipIf(!ipv6)('listens and connects on ::1', async () => {
    const { session, log } = newSession();
    const ep = session.listen({ host: '::1', port: 0, reply: 'echo' });
    await ep.ready;
    const ev = await log.waitFor(is('listening', 's1'));
    expect(ev).toMatchObject({ address: '::1', exposed: false });
    const c = session.connect({ host: '::1', port: ev.port });
    await c.ready;
    expect(c.remote).toBe(`[::1]:${ev.port}`);
    c.socket.write('v6');
    const data = await log.waitFor(is('data', c.id));
    expect(data.data.toString()).toBe('v6');
  });
});
