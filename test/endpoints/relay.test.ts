/**
 * `.proxy` (SPEC 10) on real sockets, 127.0.0.1 port 0, with a bare Node
 * client and server on either side: both directions relayed as `relay`
 * events, every byte value intact, half-close passed through both ways,
 * an upstream that refuses, `--max`, `.expect`/`.wait` on link sockets.
 */
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allBytes } from '../helpers/cli.js';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { closeAll, closedPort, collect, is, peerClient, peerServer, receive, tempDir, track } from '../helpers/loopback.js';
import type { RelayEndpoint } from '../../src/endpoints/relay-types.js';
import type { RelayEvent } from '../../src/session/events.js';

afterEach(closeAll);

function relayOf(rig: CommandRig, ref: string): RelayEndpoint {
  const ep = rig.ctx.session.get(ref);
  if (ep.kind !== 'relay') throw new Error(`${ref} is not a relay`);
  return ep;
}

const portOf = (rig: CommandRig, ref: string): number => Number(relayOf(rig, ref).address.split(':').at(-1));

/** Bytes of the relay events in one direction, joined. */
const relayed = (rig: CommandRig, dir: 'up' | 'down'): Buffer =>
  Buffer.concat(rig.log.of('relay').filter((ev) => ev.dir === dir).map((ev) => ev.data));

describe('.proxy', () => {
  it('relays both ways; each chunk is a relay event naming from, to and dir; the link sockets have their own accept and connect', async () => {
    const peer = await peerServer({ echo: true });
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port} as watch`);
    expect(rig.log.of('listening', 'p1')[0]).toMatchObject({ kind: 'relay', target: `127.0.0.1:${peer.port}`, alias: 'watch' });
    const client = await peerClient(portOf(rig, 'p1'));
    client.write('hello\n');
    await receive(client, 'hello\n');
    const accept = await rig.log.waitFor(is('accept', 'c1'));
    expect(accept).toMatchObject({ server: 'p1' });
    await rig.log.waitFor(is('connect', 'c2'));
    const up = await rig.log.waitFor((ev): ev is RelayEvent => ev.type === 'relay' && ev.dir === 'up');
    expect(up).toMatchObject({ id: 'p1', from: 'c1', to: 'c2' });
    const down = await rig.log.waitFor((ev): ev is RelayEvent => ev.type === 'relay' && ev.dir === 'down');
    expect(down).toMatchObject({ id: 'p1', from: 'c2', to: 'c1' });
    expect(relayed(rig, 'up').toString()).toBe('hello\n');
  });

  it('carries all 256 byte values both ways', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port}`);
    const client = await peerClient(portOf(rig, 'p1'), { allowHalfOpen: true });
    const server = await peer.nextSocket();
    const atServer = collect(server);
    const atClient = collect(client);
    const bytes = allBytes();
    client.end(bytes);
    server.end(Buffer.from(bytes).reverse());
    expect((await atServer.ended).equals(bytes)).toBe(true);
    expect((await atClient.ended).equals(Buffer.from(bytes).reverse())).toBe(true);
    expect(relayed(rig, 'up').equals(bytes)).toBe(true);
    expect(relayed(rig, 'down').equals(Buffer.from(bytes).reverse())).toBe(true);
  });

  it('passes a client FIN on to the target, and the target can still answer (half-close up)', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port}`);
    const client = await peerClient(portOf(rig, 'p1'), { allowHalfOpen: true });
    const server = await peer.nextSocket();
    const atClient = collect(client);
    const atServer = collect(server);
    client.end('question');
    const serverEnded = new Promise<void>((resolve) => server.once('end', resolve));
    await serverEnded;
    await rig.log.waitFor(is('end', 'c1'));
    await rig.log.waitFor(is('shutdown', 'c2'));
    server.end('answer after your FIN');
    expect((await atClient.ended).toString()).toBe('answer after your FIN');
    expect((await atServer.ended).toString()).toBe('question');
    await rig.log.waitFor(is('close', 'c1'));
    await rig.log.waitFor(is('close', 'c2'));
  });

  it('passes a target FIN on to the client, and the client can still send (half-close down)', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port}`);
    const client = await peerClient(portOf(rig, 'p1'), { allowHalfOpen: true });
    const server = await peer.nextSocket();
    const atServer = collect(server);
    const atClient = collect(client);
    server.end('bye');
    await new Promise<void>((resolve) => client.once('end', resolve));
    await rig.log.waitFor(is('end', 'c2'));
    client.end('still talking');
    expect((await atServer.ended).toString()).toBe('still talking');
    expect((await atClient.ended).toString()).toBe('bye');
    await rig.log.waitFor(is('close', 'c1'));
    await rig.log.waitFor(is('close', 'c2'));
  });

  it('closes the client with a clear note when the target refuses', async () => {
    const port = await closedPort();
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${port}`);
    const client = await peerClient(portOf(rig, 'p1'));
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const error = await rig.log.waitFor(is('error', 'c2'));
    expect(error.code).toBe('ECONNREFUSED');
    const note = await rig.log.waitFor((ev) => ev.type === 'note' && ev.id === 'p1');
    expect(note).toMatchObject({ message: expect.stringMatching(/c2 could not connect to 127\.0\.0\.1:\d+: closing c1/) });
    await closed;
    await rig.log.waitFor(is('close', 'c1'));
  });

  it('--max N refuses clients past N with a note; .wait p1 accept; .expect on either socket of a link', async () => {
    const peer = await peerServer({ echo: true });
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port} --max 1`);
    const first = await peerClient(portOf(rig, 'p1'));
    await rig.ok('.wait p1 accept as first');
    first.write('ping');
    await rig.ok('.expect c1 "ping"');
    await rig.ok('.expect c2 "ping"');
    await peerClient(portOf(rig, 'p1'));
    await rig.log.waitFor((ev) => ev.type === 'note' && ev.id === 'p1' && /--max 1 reached/.test(ev.message));
  });

  it('a target given as sN is reached where the server listens', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --reply echo');
    await rig.ok('.proxy 0 s1');
    const client = await peerClient(portOf(rig, 'p1'));
    client.write('via s1');
    await receive(client, 'via s1');
  });

  it('.close p1 stops accepting and the link stays; again is a note; --force resets the link; the relay closes after it', async () => {
    const peer = await peerServer({ echo: true });
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port}`);
    const port = portOf(rig, 'p1');
    const client = await peerClient(port);
    await rig.log.waitFor(is('connect', 'c2'));
    await rig.ok('.close p1');
    expect(await rig.log.waitFor(is('stop', 'p1'))).toMatchObject({ open: 1 });
    client.write('still relayed');
    await receive(client, 'still relayed');
    await rig.ok('.close p1');
    await rig.log.waitFor((ev) => ev.type === 'note' && ev.id === 'p1' && /already stopped accepting; 1 link still open/.test(ev.message));
    const reset = new Promise<NodeJS.ErrnoException>((resolve) => client.once('error', resolve));
    await rig.ok('.close p1 --force');
    expect((await reset).code).toBe('ECONNRESET');
    await rig.log.waitFor(is('close', 'p1'));
    const order = rig.log.events.filter((ev) => ev.type === 'close').map((ev) => ev.id);
    expect(order.indexOf('p1')).toBeGreaterThan(Math.max(order.indexOf('c1'), order.indexOf('c2')));
  });

  it('the session shutdown closes links with a FIN both ways, then the relay', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port}`);
    const client = await peerClient(portOf(rig, 'p1'), { allowHalfOpen: true });
    const server = await peer.nextSocket();
    const clientEnd = new Promise<void>((resolve) => client.once('end', resolve));
    const serverEnd = new Promise<void>((resolve) => server.once('end', resolve));
    client.resume();
    server.resume();
    const done = rig.ctx.session.shutdown(20_000);
    await Promise.all([clientEnd, serverEnd]);
    client.end();
    server.end();
    await done;
    for (const id of ['c1', 'c2', 'p1']) expect(rig.log.of('close', id)).toHaveLength(1);
  });

  it('.end, .pause/.resume and .destroy work on a link socket; .send and .end on the relay say what to use', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port}`);
    const client = await peerClient(portOf(rig, 'p1'), { allowHalfOpen: true });
    const server = await peer.nextSocket();
    await rig.log.waitFor(is('connect', 'c2'));
    expect((await rig.fail('.send p1 hi')).message).toMatch(/p1 is a relay: this needs a socket of one of its links/);
    expect((await rig.fail('.send c1 hi')).message).toMatch(/c1 is a relay socket: its bytes come from the other side/);
    await rig.ok('.pause c2');
    server.write('wait');
    await rig.ok('.resume c2');
    await receive(client, 'wait');
    const ended = new Promise<void>((resolve) => server.once('end', resolve));
    server.resume();
    await rig.ok('.end c2');
    await ended;
    const reset = new Promise<NodeJS.ErrnoException>((resolve) => client.once('error', resolve));
    await rig.ok('.destroy c2');
    expect((await reset).code).toBe('ECONNRESET');
  });

  it('listens on a Unix socket path and relays to a TCP target; a path target works too', async () => {
    const dir = tempDir();
    const peer = await peerServer({ echo: true });
    const rig = commandRig();
    await rig.ok(`.proxy ${join(dir, 'front.sock')} ${peer.port} as front`);
    await rig.ok(`.listen ${join(dir, 'back.sock')} --reply echo`);
    await rig.ok(`.proxy 0 ${join(dir, 'back.sock')}`);
    const viaPath = net.connect({ path: join(dir, 'front.sock') });
    viaPath.on('error', () => {});
    track(() => void viaPath.destroy());
    viaPath.write('over a path');
    await receive(viaPath, 'over a path');
    const toPath = await peerClient(portOf(rig, 'p2'));
    toPath.write('to a path');
    await receive(toPath, 'to a path');
    expect(rig.log.of('connect').map((ev) => ev.remote)).toContain(join(dir, 'back.sock'));
  });

  it('refuses a target that is not a server', async () => {
    const rig = commandRig();
    await rig.ok('.udp 0');
    const err = await rig.fail('.proxy 0 u1');
    expect(err.message).toMatch(/u1 is a UDP socket: a relay's target is a server/);
  });
});
