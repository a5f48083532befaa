/**
 * Faults that end or starve a link (limit, reset, timeout, drop), adding and
 * removing faults on a live link, and the `fault` field in `--json`; with
 * real peers (a Python server that reports what the kernel said, nc, curl,
 * Node sockets) through a real `.proxy`.
 */
import { once } from 'node:events';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, hasCommand, jsonEvents, runCli, spawnProcess } from '../helpers/cli.js';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { closeAll, collect, is, peerClient, peerServer, receive, until } from '../helpers/loopback.js';
import { pythonPeer } from '../helpers/python-peer.js';
import { RELAY_HIGH_WATER } from '../../src/endpoints/relay-link.js';
import { HELD_PIECE_COST } from '../../src/behaviours/faults/stage.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

async function relay(to: number): Promise<{ rig: CommandRig; port: number }> {
  const rig = commandRig();
  await rig.ok(`.proxy 0 ${to}`);
  const ep = rig.ctx.session.get('p1');
  if (ep.kind !== 'relay') throw new Error('p1 is not a relay');
  return { rig, port: Number(ep.address.split(':').at(-1)) };
}

/** Bytes the relay socket `id` has read (it reached the relay, whatever a fault did next). */
function readBy(rig: CommandRig, id: string): number {
  const ep = rig.ctx.session.get(id);
  return ep.kind === 'relay-socket' ? ep.bytesIn : -1;
}

describe('limit', () => {
  it('limit 100 --up: the Python target reads exactly 100 bytes, then EOF; the client gets its FIN too', async () => {
    const py = await pythonPeer();
    const { rig, port } = await relay(py.port);
    await rig.ok('.fault p1 --up limit 100');
    const client = await peerClient(port);
    const seen = collect(client);
    await py.accepted;
    const read = py.ask('read', ['EOF', 'RESET']);
    client.write('a'.repeat(60));
    client.write('b'.repeat(60));
    client.write('c'.repeat(60));
    expect(await read).toBe('EOF 100');
    await seen.ended;
    const relays = rig.log.of('relay');
    expect(Buffer.concat(relays.map((r) => r.data)).toString()).toBe('a'.repeat(60) + 'b'.repeat(40));
    // Only the chunk that was cut names the fault.
    expect(relays.at(-1)).toMatchObject({ fault: 'limit' });
    expect(rig.log.of('note', 'p1').map((n) => n.message)).toContain('fault limit (limit 100 B passed): closing c1 ⇄ c2');
  });

  it.runIf(hasCommand('curl'))('limit on the way down cuts an HTTP answer short: curl sees a partial body', async () => {
    const body = 'x'.repeat(5000);
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { rig, port } = await relay((server.address() as net.AddressInfo).port);
    await rig.ok('.fault p1 --down limit 1000');
    const curl = spawnProcess('curl', ['-s', '-o', '/dev/null', '-w', '%{size_download}', `http://127.0.0.1:${port}/`]);
    const exit = await curl.waitForExit(20_000);
    server.close();
    expect(exit.code).toBe(18); // CURLE_PARTIAL_FILE
    expect(Number(curl.stdout())).toBeLessThan(1000);
    expect(Number(curl.stdout())).toBeGreaterThan(0);
  });
});

describe('reset', () => {
  it('reset --up: the client sees ECONNRESET and the Python target a ConnectionResetError; the byte that triggered it never passes', async () => {
    const py = await pythonPeer();
    const { rig, port } = await relay(py.port);
    await rig.ok('.fault p1 --up reset');
    const client = await peerClient(port);
    const error = new Promise<NodeJS.ErrnoException>((resolve) => client.once('error', resolve));
    await py.accepted;
    await rig.log.waitFor(is('connect', 'c2'));
    const read = py.ask('read', ['EOF', 'RESET']);
    client.write('boom');
    expect((await error).code).toBe('ECONNRESET');
    expect(await read).toBe('RESET 0');
    expect(rig.log.of('relay')).toEqual([]);
    expect(rig.log.of('note', 'p1').map((n) => n.message)).toContain('fault reset: resetting c1 and c2');
  });

  it('reset --after 300 on a FIN: the RST comes at least 300 ms after the FIN reached the relay', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const { rig, port } = await relay(peer.port);
    await rig.ok('.fault p1 --up reset --after 300');
    const client = await peerClient(port, { allowHalfOpen: true });
    const error = new Promise<number>((resolve) => client.once('error', () => resolve(performance.now())));
    await rig.log.waitFor(is('connect', 'c2'));
    client.end();
    const fin = await rig.log.waitFor(is('end', 'c1'));
    const finAt = performance.now() - (Date.now() - fin.t);
    expect((await error) - finAt).toBeGreaterThanOrEqual(299); // Date.now() has whole ms
    expect((await rig.log.waitFor(is('close', 'c1')))).toMatchObject({ reset: true });
  });
});

describe('timeout and drop', () => {
  it('timeout 0: nothing passes while it is on; removing it closes the link (FIN both ways)', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const { rig, port } = await relay(peer.port);
    await rig.ok('.fault p1 timeout 0');
    const client = await peerClient(port, { allowHalfOpen: true });
    const server = await peer.nextSocket();
    const atServer = collect(server);
    const atClient = collect(client);
    client.write('are you there?');
    server.write('yes');
    await until(() => readBy(rig, 'c1') === 14 && readBy(rig, 'c2') === 3, 5000, 'both sides read by the relay');
    expect(atServer.data().length + atClient.data().length).toBe(0);
    const ends = Promise.all([once(client, 'end'), once(server, 'end')]);
    await rig.ok('.fault p1 off timeout');
    // The relay sent FIN both ways; each peer sees end-of-stream with nothing before it.
    await rig.log.waitFor(is('shutdown', 'c1'));
    await rig.log.waitFor(is('shutdown', 'c2'));
    await ends;
    expect(rig.log.of('note', 'p1').map((n) => n.message).filter((m) => m.includes('closing'))).toEqual(['fault timeout removed: closing c1 ⇄ c2']);
    client.end();
    server.end();
    expect((await atServer.ended).length).toBe(0);
    expect((await atClient.ended).length).toBe(0);
    expect(rig.log.of('relay')).toEqual([]);
  });

  it('timeout 300: the link closes at least 300 ms after the fault reached it', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const { rig, port } = await relay(peer.port);
    const client = await peerClient(port, { allowHalfOpen: true });
    await rig.log.waitFor(is('connect', 'c2'));
    const added = performance.now();
    await rig.ok('.fault p1 --down timeout 300');
    await once(client, 'end');
    expect(performance.now() - added).toBeGreaterThanOrEqual(300);
  });

  it.runIf(hasCommand('nc'))('drop --up: nc\'s bytes vanish, its FIN still passes, and the answer down still arrives', async () => {
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      let got = 0;
      s.on('data', (c: Buffer) => (got += c.length));
      s.on('end', () => s.end(`server got ${got} B\n`));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { rig, port } = await relay((server.address() as net.AddressInfo).port);
    await rig.ok('.fault p1 --up drop');
    const nc = spawnProcess('nc', ['-N', '127.0.0.1', String(port)], { input: 'lost in the void\n' });
    await nc.waitForExit(20_000);
    server.close();
    expect(nc.stdout()).toBe('server got 0 B\n');
    expect(readBy(rig, 'c1')).toBe(17);
  });
});

describe('adding and removing on a live link', () => {
  it('latency added to a live link holds new bytes; removing it hands them on at once, in order, ahead of later bytes', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const { rig, port } = await relay(peer.port);
    const client = await peerClient(port);
    const server = await peer.nextSocket();
    const got = collect(server);
    client.write('before ');
    await receive(server, 'before ');
    await rig.ok('.fault p1 --up latency 1h as stuck');
    client.write('one ');
    client.write('two ');
    await until(() => readBy(rig, 'c1') === 15, 5000, 'bytes held in the relay');
    expect(got.data().toString()).toBe('before ');
    await rig.ok('.ls');
    expect(rig.printed.at(-1)).toMatch(/^c1 .*faults: stuck/m);
    await rig.ok('.fault p1 off stuck');
    client.write('after');
    await receive(server, 'after');
    expect(got.data().toString()).toBe('before one two after');
    // TCP may join 'one ' and 'two ' into one chunk: what counts is which chunks the fault held.
    const relays = rig.log.of('relay');
    expect(relays.map((r) => r.data.toString()).join('')).toBe('before one two after');
    expect(relays[0]?.fault).toBeUndefined();
    expect(relays.at(-1)?.fault).toBeUndefined();
    expect(relays.slice(1, -1).map((r) => r.fault)).toEqual(relays.slice(1, -1).map(() => 'stuck'));
    expect(relays.slice(1, -1).map((r) => r.data.toString()).join('')).toBe('one two ');
  });

  it('slow-close 1h removed while the FIN waits: the FIN goes on at once, once', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const { rig, port } = await relay(peer.port);
    await rig.ok('.fault p1 --up slow-close 1h as late');
    const client = await peerClient(port, { allowHalfOpen: true });
    const server = await peer.nextSocket();
    const ended = once(server, 'end');
    client.end('last words');
    await rig.log.waitFor(is('end', 'c1'));
    await receive(server, 'last words');
    expect(rig.log.of('shutdown', 'c2')).toEqual([]);
    await rig.ok('.fault p1 off late');
    await ended;
    expect(rig.log.of('shutdown', 'c2')).toHaveLength(1);
  });

  it('bandwidth removed mid-transfer: the rest goes at full speed, every byte intact and in order', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const { rig, port } = await relay(peer.port);
    await rig.ok('.fault p1 --up bandwidth 1');
    const client = await peerClient(port);
    const server = await peer.nextSocket();
    const got = collect(server);
    const payload = Buffer.alloc(300_000).map((_, i) => (i * 7) % 256);
    client.write(payload);
    await until(() => got.data().length >= 100, 5000, 'the first 100 B');
    await rig.ok('.fault p1 off bandwidth');
    await until(() => got.data().length === payload.length, 5000, 'every byte');
    expect(got.data().equals(payload)).toBe(true);
  });
});

describe('backpressure', () => {
  it('bandwidth then drop: bytes the first releases into the second still free the sender (2 MB, 8 times the high-water mark)', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const { rig, port } = await relay(peer.port);
    await rig.ok('.fault p1 --up bandwidth 2000');
    await rig.ok('.fault p1 --up drop');
    const client = await peerClient(port);
    client.write(Buffer.alloc(2_000_000, 1));
    await until(() => readBy(rig, 'c1') === 2_000_000, 5000, 'the relay read all 2 MB');
    expect(rig.log.of('relay')).toEqual([]);
  });
});

describe('bounded memory', () => {
  it('latency 1h holds at most the relay high-water mark (plus one read) of a 10 MB write; removing it hands every byte on in order', async () => {
    const peer = await peerServer({ allowHalfOpen: true });
    const { rig, port } = await relay(peer.port);
    await rig.ok('.fault p1 --up latency 1h');
    const client = await peerClient(port);
    const server = await peer.nextSocket();
    const got = collect(server);
    const payload = Buffer.alloc(10_000_000).map((_, i) => (i * 13) % 256);
    client.write(payload);
    const c1 = rig.ctx.session.get('c1');
    if (c1.kind !== 'relay-socket') throw new Error('c1 is not a link socket');
    await until(() => c1.link.up.blocked, 5000, 'the relay stops reading');
    const held = c1.link.up.stages[0]!.held();
    expect(held).toBeGreaterThan(RELAY_HIGH_WATER);
    expect(held).toBeLessThanOrEqual(RELAY_HIGH_WATER + 65_536 + 64 * HELD_PIECE_COST);
    expect(got.data().length).toBe(0);
    await rig.ok('.fault p1 off latency');
    await until(() => got.data().length === payload.length, 5000, 'every byte');
    expect(got.data().equals(payload)).toBe(true);
  });
});

describe('--json', () => {
  it('a relay event a fault changed carries `fault`; one it did not change has none', async () => {
    const cli = runCli(['--json', '--no-time', '-e', '.listen 0 --reply echo', '-e', '.proxy 0 s1', '-e', '.fault p1 --down slicer --size 2 as chop', '-e', '.connect p1', '-e', '.send c1 "abcd"', '-e', '.expect c1 "abcd"', '--exit']);
    await cli.waitForExit(20_000);
    const relays = jsonEvents(cli.stdout()).filter((ev) => ev.event === 'relay');
    expect(relays.map((ev) => [ev.dir, Buffer.from(ev.base64 as string, 'base64').toString(), ev.fault])).toEqual([
      ['up', 'abcd', undefined],
      ['down', 'ab', 'chop'],
      ['down', 'cd', 'chop'],
    ]);
    expect(relays[1]).toMatchObject({ id: 'p1', from: 'c3', to: 'c2', fault: 'chop' });
  });
});
