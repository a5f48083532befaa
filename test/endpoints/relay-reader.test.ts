/**
 * Both sockets of a plain relay link read into a buffer of their own (Node's
 * `onread`; the accepted one through a handle handed to a new socket,
 * src/endpoints/relay-reader.ts). While nothing downstream keeps a chunk, it
 * is lent (a view of that buffer, read into again at once); otherwise it is
 * a copy or a buffer of its own. Either way the far end and every holder see
 * the bytes as they were read: the events (the test log copies them, as it
 * says), `.expect`'s window, a subscriber that keeps bytes, JavaScript's
 * 'data' listeners. Every byte value passes in chunks up to the read size and
 * past it, `.pause` stops reading at once and `.resume` reads again, and the
 * server still counts the client as one connection until it closes (`--max`:
 * test/endpoints/relay.test.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { closeAll, collect, is, peerClient, peerServer, receive, until } from '../helpers/loopback.js';
import { RELAY_READ_BUFFER } from '../../src/endpoints/relay-reader.js';
import { linkSocket, relayPort } from '../helpers/relay.js';
import type { RelayEvent } from '../../src/session/events.js';

afterEach(closeAll);

const down = (rig: CommandRig): RelayEvent[] => rig.log.of('relay').filter((ev: RelayEvent) => ev.from === 'c2');

/** `.proxy` in front of a bare peer, one link open: the test's client, what it receives, and the peer's socket. */
async function oneLink(): Promise<{ rig: CommandRig; client: net.Socket; atClient: ReturnType<typeof collect>; server: net.Socket }> {
  const peer = await peerServer();
  const rig = commandRig();
  await rig.ok(`.proxy 0 ${peer.port}`);
  const client = await peerClient(relayPort(rig));
  const atClient = collect(client);
  const server = await peer.nextSocket();
  await rig.log.waitFor(is('connect', 'c2'));
  return { rig, client, atClient, server };
}

describe('the sockets of a link read into buffers of their own', () => {
  it('reads with onread (no data listener), and each relay event keeps its own bytes after later reads', async () => {
    const { rig, client, server } = await oneLink();
    const target = linkSocket(rig, 'c2');
    expect(target.reader).toBeDefined();
    expect(target.socket.listenerCount('data')).toBe(0);
    expect(linkSocket(rig, 'c1').reader).toBeDefined();
    expect(linkSocket(rig, 'c1').socket.listenerCount('data')).toBe(0);
    // One read each (the client has each before the next is written): all land in the same buffer.
    const letters = ['A', 'B', 'C', 'D'];
    for (const letter of letters) {
      server.write(letter.repeat(1000));
      await receive(client, letter.repeat(1000));
    }
    const events = down(rig);
    expect(Buffer.concat(events.map((ev) => ev.data)).toString()).toBe(letters.map((l) => l.repeat(1000)).join(''));
    for (const ev of events) expect(new Set(ev.data.toString()).size).toBe(1);
    expect(target.bytesIn).toBe(4000);
    expect(target.chunksIn).toBe(events.length);
    // The same up, from the client's own buffer.
    for (const letter of letters) {
      client.write(letter.repeat(1000));
      await receive(server, letter.repeat(1000));
    }
    const up = rig.log.of('relay').filter((ev: RelayEvent) => ev.from === 'c1');
    expect(Buffer.concat(up.map((ev) => ev.data)).toString()).toBe(letters.map((l) => l.repeat(1000)).join(''));
    for (const ev of up) expect(new Set(ev.data.toString()).size).toBe(1);
    // Nothing kept the chunks, so each was lent and its buffer read into again.
    for (const ep of [target, linkSocket(rig, 'c1')]) {
      expect(ep.reader?.lent).toBeGreaterThanOrEqual(letters.length);
      expect(ep.reader?.fresh).toBe(0);
    }
  });

  it('the server counts an adopted client as one connection until its link closes; .close p1 then closes the relay', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port}`);
    const relay = rig.ctx.session.get('p1');
    if (relay.kind !== 'relay') throw new Error('p1 is not a relay');
    const connections = (): Promise<number> => new Promise((resolve, reject) => relay.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    const client = await peerClient(relayPort(rig));
    await rig.log.waitFor(is('connect', 'c2'));
    expect(await connections()).toBe(1);
    client.write('hi');
    await receive(await peer.nextSocket(), 'hi');
    await rig.ok('.close p1');
    expect(rig.log.of('close', 'p1')).toHaveLength(0);
    client.destroy();
    await rig.log.waitFor(is('close', 'p1'), 5000);
    expect(await connections()).toBe(0);
  });

  it('all 256 byte values in 1 MiB of chunks from 1 B to past the read size arrive intact, and the events carry every byte', async () => {
    const { rig, atClient, server } = await oneLink();
    const sent = createHash('sha256');
    let total = 0;
    for (const size of [1, 255, 4096, RELAY_READ_BUFFER - 1, RELAY_READ_BUFFER, RELAY_READ_BUFFER + 1, 3 * RELAY_READ_BUFFER]) {
      const piece = Buffer.alloc(size);
      for (let i = 0; i < size; i++) piece[i] = (i * 7 + size) & 0xff;
      sent.update(piece);
      total += size;
      server.write(piece);
    }
    const all = Buffer.alloc(1024 * 1024 - total);
    for (let i = 0; i < all.length; i++) all[i] = i & 0xff;
    sent.update(all);
    total += all.length;
    server.end(all);
    const received = await atClient.ended;
    const digest = sent.digest('hex');
    expect(received.length).toBe(total);
    expect(createHash('sha256').update(received).digest('hex')).toBe(digest);
    await rig.log.waitFor(is('close', 'c2'));
    expect(createHash('sha256').update(Buffer.concat(down(rig).map((ev) => ev.data))).digest('hex')).toBe(digest);
  });

  it('.pause stops reading the target at once (its writes back up, nothing is relayed); .resume relays every byte in order', async () => {
    const { rig, client, atClient, server } = await oneLink();
    server.write('before');
    await receive(client, 'before');
    const relayedBefore = down(rig).length;
    await rig.ok('.pause c2');
    const piece = Buffer.alloc(256 * 1024, 0x62);
    let written = 0;
    // Until the kernel buffers between the target and the relay are full: the relay read none of it.
    while (!server.writableNeedDrain) {
      server.write(piece);
      written += piece.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => server.writableNeedDrain, 3000, 'the target blocked');
    expect(down(rig).length).toBe(relayedBefore);
    expect(linkSocket(rig, 'c2').bytesIn).toBe('before'.length);
    await rig.ok('.resume c2');
    server.end('after');
    const received = await atClient.ended;
    expect(received.length).toBe('before'.length + written + 'after'.length);
    expect(received.subarray(0, 6).toString()).toBe('before');
    expect(received.subarray(-5).toString()).toBe('after');
    expect(received.subarray(6, -5).every((b) => b === 0x62)).toBe(true);
  });
});

describe('JavaScript on a link socket (SPEC 2: every id is the live Node object)', () => {
  it("a 'data' listener added to either socket of a link hears what it reads", async () => {
    const { rig, client, server } = await oneLink();
    const heard: Record<string, string> = { c1: '', c2: '' };
    for (const id of ['c1', 'c2'] as const) linkSocket(rig, id).socket.on('data', (d: Buffer) => (heard[id] += d.toString()));
    client.write('up');
    await receive(server, 'up');
    server.write('down');
    await receive(client, 'down');
    await until(() => heard.c1 === 'up' && heard.c2 === 'down');
    expect(heard).toEqual({ c1: 'up', c2: 'down' });
  });
});

describe('a lent chunk is never seen changed (the read buffer is reused only when nothing keeps it)', () => {
  /** Write `text` from `from`, and wait until `to` has it: one read on the relay's side each. */
  const step = async (from: net.Socket, to: net.Socket, text: string): Promise<void> => {
    from.write(text);
    await receive(to, text);
  };

  it('.expect on a link socket finds bytes read before later reads reused the buffer', async () => {
    const { rig, client, server } = await oneLink();
    const first = `${'x'.repeat(8000)}NEEDLE`;
    await step(server, client, first);
    await step(server, client, 'y'.repeat(8006));
    expect(linkSocket(rig, 'c2').reader?.lent).toBeGreaterThanOrEqual(2);
    await rig.ok('.expect c2 "NEEDLE" --timeout 5s');
    await rig.ok(`.expect c2 "${'y'.repeat(100)}" --timeout 5s`);
  });

  it('a subscriber that may keep bytes (one added from JavaScript) turns lending off; what it kept stays as it was read', async () => {
    const { rig, client, server } = await oneLink();
    const kept: Buffer[] = [];
    const off = rig.ctx.session.subscribe((ev) => {
      if (ev.type === 'relay' && ev.from === 'c2') kept.push(ev.data);
    });
    const reader = linkSocket(rig, 'c2').reader;
    const lentBefore = reader?.lent;
    for (const letter of ['A', 'B', 'C']) await step(server, client, letter.repeat(5000));
    expect(reader?.lent).toBe(lentBefore);
    expect(Buffer.concat(kept).toString()).toBe(['A', 'B', 'C'].map((l) => l.repeat(5000)).join(''));
    off();
    await step(server, client, 'D'.repeat(5000));
    expect(reader?.lent).toBeGreaterThan(lentBefore ?? 0);
  });

  it("a JavaScript 'data' listener on a link socket turns lending off; the chunks it kept stay as they were read", async () => {
    const { rig, client, server } = await oneLink();
    const kept: Buffer[] = [];
    const target = linkSocket(rig, 'c2');
    target.socket.on('data', (d: Buffer) => kept.push(d));
    const lentBefore = target.reader?.lent;
    for (const letter of ['E', 'F', 'G']) await step(server, client, letter.repeat(5000));
    expect(target.reader?.lent).toBe(lentBefore);
    expect(Buffer.concat(kept).toString()).toBe(['E', 'F', 'G'].map((l) => l.repeat(5000)).join(''));
  });

  it('32 MiB of random bytes each way through an echo target: every byte arrives, and the events carry every byte in order', async () => {
    const peer = await peerServer({ echo: true });
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port}`);
    const client = await peerClient(relayPort(rig));
    const atClient = collect(client);
    await rig.log.waitFor(is('connect', 'c2'));
    const sent = createHash('sha256');
    const MiB = 1024 * 1024;
    for (let i = 0; i < 32; i++) {
      const piece = randomBytes(MiB);
      sent.update(piece);
      if (!client.write(piece)) await new Promise((resolve) => client.once('drain', resolve));
    }
    client.end();
    const back = await atClient.ended;
    const digest = sent.digest('hex');
    expect(back.length).toBe(32 * MiB);
    expect(createHash('sha256').update(back).digest('hex')).toBe(digest);
    await rig.log.waitFor(is('close', 'c2'));
    const relayed = (from: string): string => createHash('sha256').update(Buffer.concat(rig.log.of('relay').filter((ev: RelayEvent) => ev.from === from).map((ev) => ev.data))).digest('hex');
    expect(relayed('c1')).toBe(digest);
    expect(relayed('c2')).toBe(digest);
    // The first chunk each way finds an idle receiver: at least that one was lent.
    expect(linkSocket(rig, 'c1').reader?.lent).toBeGreaterThan(0);
    expect(linkSocket(rig, 'c2').reader?.lent).toBeGreaterThan(0);
  });
});
