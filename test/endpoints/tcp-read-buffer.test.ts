/**
 * A TCP socket that reads a chunk of 32 KiB or more (a bulk stream) reads
 * into a 64 KiB buffer of its own from then on (src/endpoints/tcp-read-buffer.ts),
 * and lends each chunk (a view of that buffer, read into again) while nothing
 * keeps it. Short messages never switch. Outside the shortcut (a JavaScript
 * 'data' listener, a subscriber that keeps bytes, `.expect`'s window, a
 * paused socket) every holder still sees the bytes as they were read: the
 * test log copies event bytes, as it says, so these run the path a user's
 * session runs.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commandRig } from '../helpers/commands.js';
import { oneClient } from '../helpers/one-client.js';
import { closeAll, collect, is, peerClient, receive, tempDir, track, until } from '../helpers/loopback.js';
import { OWN_BUFFER_FROM, OWN_BUFFER_SOCKETS, ownBufferSocketsInUse, ownBufferStats } from '../../src/endpoints/tcp-read-buffer.js';
import type { SocketEndpoint } from '../../src/endpoints/tcp-types.js';

afterEach(closeAll);

/** Send `bytes` from the client and wait until c1 has read all it was sent so far. */
async function feed(client: net.Socket, c1: SocketEndpoint, bytes: Buffer): Promise<void> {
  const target = c1.bytesIn + bytes.length;
  client.write(bytes);
  await until(() => c1.bytesIn >= target, 5000, `c1 read ${target} B`);
}

/** Until c1 has switched: one write of 1 MiB holds chunks of 32 KiB or more. */
async function switched(client: net.Socket, c1: SocketEndpoint): Promise<void> {
  await feed(client, c1, Buffer.alloc(1024 * 1024, 0x2e));
  expect(ownBufferStats(c1.socket)).toBeDefined();
}

/** What `socket` receives, with a running count of its bytes (polling a count, not a concatenation of everything). */
function counted(socket: net.Socket): { data: () => Buffer; ended: Promise<Buffer>; bytes: () => number } {
  const back = collect(socket);
  let bytes = 0;
  socket.on('data', (d: Buffer) => (bytes += d.length));
  return { ...back, bytes: () => bytes };
}

const hash = (chunks: Buffer[]): string => createHash('sha256').update(Buffer.concat(chunks)).digest('hex');

describe('a bulk stream reads into a buffer of its own', () => {
  it('--reply echo: 16 MiB of random bytes come back intact, every data and send event carries them, and chunks were lent', async () => {
    const { rig, client, c1 } = await oneClient('--reply echo');
    const total = 16 * 1024 * 1024;
    const payload = randomBytes(total);
    const back = counted(client);
    // Written as a bulk client does: 64 KiB writes, waiting for drain, so the echo's writes back up too.
    for (let at = 0; at < total; at += 65536) {
      if (!client.write(payload.subarray(at, at + 65536))) await new Promise((resolve) => client.once('drain', resolve));
    }
    await until(() => back.bytes() >= total, 20_000, 'the echo of 16 MiB');
    const sent = hash([payload]);
    expect(hash([back.data()])).toBe(sent);
    expect(hash(rig.log.of('data', 'c1').map((ev) => ev.data))).toBe(sent);
    expect(hash(rig.log.of('send', 'c1').map((ev) => ev.data))).toBe(sent);
    expect(c1.bytesIn).toBe(total);
    expect(c1.bytesOut).toBe(total);
    expect(ownBufferStats(c1.socket)?.lent).toBeGreaterThan(0);
  });

  it('--reply echo to a client that stops reading: the echo backs up (Node keeps queued chunks by reference) and every byte still comes back intact', async () => {
    const { rig, client, c1 } = await oneClient('--reply echo');
    const back = collect(client);
    let received = 0;
    client.on('data', (d: Buffer) => (received += d.length));
    const sent: Buffer[] = [];
    client.pause();
    // More than the kernel buffers of both sockets hold (loopback: up to 32 MiB to read, 4 MiB to send).
    const piece = randomBytes(40 * 1024 * 1024);
    sent.push(piece);
    client.write(piece);
    // The kernel buffers both ways are full: c1 holds (part of) an echo it could not write.
    await until(() => c1.socket.writableLength > 0, 10_000, 'the echo backed up');
    client.resume();
    await until(() => received >= piece.length, 10_000, 'the echo caught up');
    expect(hash([back.data()])).toBe(hash(sent));
    expect(hash(rig.log.of('send', 'c1').map((ev) => ev.data))).toBe(hash(sent));
    expect(ownBufferStats(c1.socket)?.lent).toBeGreaterThan(0);
  });

  it('a Unix socket: 8 MiB of random bytes echoed intact, through its own buffer', async () => {
    const path = join(tempDir(), 'echo.sock');
    const rig = commandRig();
    await rig.ok(`.listen ${path} --reply echo`);
    const client = net.connect({ path });
    client.on('error', () => {});
    track(() => void client.destroy());
    const back = counted(client);
    const payload = randomBytes(8 * 1024 * 1024);
    client.end(payload);
    const received = await back.ended;
    expect(hash([received])).toBe(hash([payload]));
    const c1 = rig.ctx.session.get('c1');
    if (c1.kind !== 'socket') throw new Error('c1 is not a socket');
    expect(ownBufferStats(c1.socket)?.lent).toBeGreaterThan(0);
    expect(hash(rig.log.of('data', 'c1').map((ev) => ev.data))).toBe(hash([payload]));
  });

  it('a socket that only ever reads chunks under 32 KiB keeps reading as Node does', async () => {
    const { client, c1 } = await oneClient('--reply echo');
    for (let i = 0; i < 50; i++) {
      client.write(`ping ${i}|`);
      await receive(client, `ping ${i}|`);
    }
    const small = Buffer.alloc(OWN_BUFFER_FROM - 1, 0x61);
    client.write(small);
    await until(() => c1.bytesOut >= c1.bytesIn && c1.bytesIn > small.length, 5000, 'the echo of a 32 KiB − 1 write');
    expect(c1.socket.listenerCount('data')).toBe(1);
    expect(ownBufferStats(c1.socket)).toBeUndefined();
  });
});

describe('a bounded number of sockets have a buffer of their own (SPEC §7)', () => {
  it('at most OWN_BUFFER_SOCKETS at once: one more reads as Node does, and switches once a socket with a buffer closes', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    const s1 = rig.ctx.session.get('s1');
    if (s1.kind !== 'server') throw new Error('s1 is not a server');
    const port = Number(s1.address.split(':').at(-1));
    const free = OWN_BUFFER_SOCKETS - ownBufferSocketsInUse();
    const clients: net.Socket[] = [];
    for (let i = 0; i <= free; i++) clients.push(await peerClient(port));
    await until(() => rig.log.of('accept').length === clients.length, 10_000, 'every accept');
    // The server's socket of each client, by the client's port.
    const byPort = new Map<number, SocketEndpoint>();
    for (const ev of rig.log.of('accept')) {
      const ep = rig.ctx.session.get(ev.id);
      if (ep.kind === 'socket') byPort.set(ep.socket.remotePort ?? 0, ep);
    }
    const server = (client: net.Socket): SocketEndpoint => byPort.get(client.localPort ?? -1)!;
    for (const client of clients.slice(0, free)) await switched(client, server(client));
    expect(ownBufferSocketsInUse()).toBe(OWN_BUFFER_SOCKETS);
    const last = clients[free]!;
    await feed(last, server(last), Buffer.alloc(1024 * 1024, 0x2e));
    expect(ownBufferStats(server(last).socket)).toBeUndefined();
    // A socket with a buffer closes: its slot goes to the next bulk chunk.
    const first = server(clients[0]!);
    clients[0]!.destroy();
    await rig.log.waitFor(is('close', first.id));
    await until(() => ownBufferSocketsInUse() < OWN_BUFFER_SOCKETS, 5000, 'the slot freed');
    await switched(last, server(last));
  });
});

describe('outside the shortcut, no holder sees a chunk changed', () => {
  it("a JavaScript 'data' listener added after the switch hears every chunk, intact; lending stops while it listens", async () => {
    const { rig, client, c1 } = await oneClient();
    await switched(client, c1);
    const kept: Buffer[] = [];
    c1.socket.on('data', (d: Buffer) => kept.push(d));
    const lentBefore = ownBufferStats(c1.socket)?.lent;
    const pieces = ['A', 'B', 'C', 'D'].map((l) => Buffer.alloc(48 * 1024, l));
    for (const piece of pieces) await feed(client, c1, piece);
    expect(ownBufferStats(c1.socket)?.lent).toBe(lentBefore);
    expect(Buffer.concat(kept).equals(Buffer.concat(pieces))).toBe(true);
    // The events saw the same bytes, in order, after the MiB that switched it.
    expect(Buffer.concat(rig.log.of('data', 'c1').map((ev) => ev.data)).subarray(1024 * 1024).equals(Buffer.concat(pieces))).toBe(true);
  });

  it.each([
    { what: 'every event kind (one added from JavaScript)', options: '', type: 'data', types: undefined },
    { what: 'send events alone, on an echo', options: '--reply echo', type: 'send', types: ['send' as const] },
  ] as const)('a subscriber of $what that may keep bytes turns lending off; what it kept stays as read; lending resumes after', async ({ options, type, types }) => {
    const { rig, client, c1 } = await oneClient(options);
    await switched(client, c1);
    const kept: Buffer[] = [];
    const off = rig.ctx.session.subscribe(
      (ev) => {
        if (ev.type === type && ev.id === 'c1') kept.push(ev.data);
      },
      types === undefined ? {} : { types },
    );
    const stats = ownBufferStats(c1.socket);
    const lentBefore = stats?.lent ?? 0;
    const pieces = ['E', 'F', 'G'].map((l) => Buffer.alloc(40 * 1024, l));
    for (const piece of pieces) await feed(client, c1, piece);
    expect(stats?.lent).toBe(lentBefore);
    expect(Buffer.concat(kept).equals(Buffer.concat(pieces))).toBe(true);
    off();
    await feed(client, c1, Buffer.alloc(40 * 1024, 'H'));
    expect(stats?.lent).toBeGreaterThan(lentBefore);
  });

  it('.expect finds bytes read before later reads went into the same buffer', async () => {
    const { rig, client, c1 } = await oneClient();
    await switched(client, c1);
    await rig.ok('.expect c1 "." --timeout 5s');
    const lentBefore = ownBufferStats(c1.socket)?.lent ?? 0;
    await feed(client, c1, Buffer.concat([Buffer.alloc(40_000, 'x'), Buffer.from('NEEDLE')]));
    await feed(client, c1, Buffer.alloc(50_000, 'y'));
    await feed(client, c1, Buffer.alloc(50_000, 'z'));
    expect(ownBufferStats(c1.socket)?.lent).toBeGreaterThan(lentBefore);
    await rig.ok('.expect c1 "NEEDLE" --timeout 5s');
    await rig.ok(`.expect c1 "${'y'.repeat(50_000)}${'z'.repeat(100)}" --timeout 5s`);
  });

  it('.pause stops reading a switched socket at once (the client backs up, nothing is read); .resume reads every byte in order', async () => {
    const { rig, client, c1 } = await oneClient('--reply echo');
    const back = counted(client);
    await feed(client, c1, Buffer.alloc(1024 * 1024, 0x2e));
    expect(ownBufferStats(c1.socket)).toBeDefined();
    await until(() => back.bytes() === 1024 * 1024, 5000, 'the first MiB echoed');
    await rig.ok('.pause c1');
    const readBefore = c1.bytesIn;
    const piece = Buffer.alloc(256 * 1024, 0x62);
    let written = 0;
    while (!client.writableNeedDrain) {
      client.write(piece);
      written += piece.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(c1.bytesIn).toBe(readBefore);
    await rig.ok('.resume c1');
    client.write('after');
    const total = 1024 * 1024 + written + 'after'.length;
    await until(() => back.bytes() >= total, 10_000, 'everything echoed');
    const all = back.data();
    expect(all.length).toBe(total);
    expect(all.subarray(1024 * 1024, -5).every((b) => b === 0x62)).toBe(true);
    expect(all.subarray(-5).toString()).toBe('after');
  });
});
