/**
 * `.proxy` under load: 256 MiB through a relay with the human view on
 * (folded) arrives with the same SHA-256; a client that never reads keeps
 * what the relay holds (and the process's RSS) bounded while the target
 * floods, and gets every byte once it reads; output backpressure holds a
 * relay's links too.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { commandRig } from '../helpers/commands.js';
import { closeAll, is, peerClient, peerServer, until } from '../helpers/loopback.js';
import { RELAY_HIGH_WATER } from '../../src/endpoints/relay-link.js';
import { linkSocket, relayPort } from '../helpers/relay.js';
import { HumanPrinter } from '../../src/render/printer.js';

afterEach(closeAll);

const MiB = 1024 * 1024;

/** Deterministic, incompressible bytes: block i is the SHA-256 chain of i, repeated to `size`. */
function block(i: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let seed = createHash('sha256').update(String(i)).digest();
  for (let at = 0; at < size; at += seed.length) {
    seed.copy(out, at);
    seed = createHash('sha256').update(seed).digest();
  }
  return out;
}

describe('.proxy under load', () => {
  it('256 MiB up through the relay with the human view on: the SHA-256 matches, and the view folded', async () => {
    const peer = await peerServer();
    const rig = commandRig();
    const lines: string[] = [];
    const printer = new HumanPrinter(rig.settings, (text) => lines.push(...text.split('\n').filter((l) => /chunks,/.test(l))));
    rig.ctx.session.subscribe(printer.handle);
    await rig.ok(`.proxy 0 ${peer.port}`);
    const client = await peerClient(relayPort(rig));
    const server = await peer.nextSocket();
    const received = createHash('sha256');
    let got = 0;
    server.on('data', (c: Buffer) => {
      received.update(c);
      got += c.length;
    });
    const ended = new Promise<void>((resolve) => server.once('end', resolve));
    const sent = createHash('sha256');
    const piece = block(1, 4 * MiB);
    for (let i = 0; i < 64; i++) {
      sent.update(piece);
      if (!client.write(piece)) await new Promise((resolve) => client.once('drain', resolve));
    }
    client.end();
    await ended;
    printer.close();
    expect(got).toBe(256 * MiB);
    expect(received.digest('hex')).toBe(sent.digest('hex'));
    expect(lines.some((l) => /^c1\s+← [\d,]+ chunks, /.test(l)), lines.join('\n')).toBe(true);
  });

  it('a client that never reads: the target is paused, the relay holds at most its high-water mark, RSS stays bounded; then every byte arrives', async () => {
    const TOTAL = 64 * MiB;
    const peer = await peerServer();
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port}`);
    const client = await peerClient(relayPort(rig));
    client.pause();
    const server = await peer.nextSocket();
    await rig.log.waitFor(is('connect', 'c2'));
    const toClient = linkSocket(rig, 'c1');
    const fromTarget = linkSocket(rig, 'c2');
    // The most the relay ever queued for the client: checked on every relayed chunk.
    let most = 0;
    rig.ctx.session.subscribe((ev) => {
      if (ev.type === 'relay') most = Math.max(most, toClient.socket.writableLength);
    });
    const rssBefore = process.memoryUsage().rss;
    let written = 0;
    const piece = Buffer.alloc(MiB, 0x61);
    const flood = async (): Promise<void> => {
      while (written < TOTAL) {
        written += piece.length;
        if (!server.write(piece)) await new Promise((resolve) => server.once('drain', resolve));
      }
      server.end();
    };
    void flood();
    // The target side stops being read once the client side holds the high-water mark.
    await until(() => toClient.link.down.blocked && fromTarget.socket.isPaused() && server.writableNeedDrain, 3000, 'the relay holding the target');
    const held = toClient.socket.writableLength + fromTarget.socket.readableLength;
    expect(held).toBeLessThanOrEqual(RELAY_HIGH_WATER + 2 * 64 * 1024);
    expect(written).toBeLessThan(TOTAL);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(48 * MiB);
    // Now the client reads: everything arrives, nothing was dropped.
    let got = 0;
    client.on('data', (c: Buffer) => (got += c.length));
    const closed = new Promise<void>((resolve) => client.once('end', resolve));
    client.resume();
    await closed;
    expect(got).toBe(TOTAL);
    expect(most).toBeLessThanOrEqual(RELAY_HIGH_WATER + 64 * 1024);
  });

  it('output backpressure holds a relay link, and one accepted while it holds starts held', async () => {
    const peer = await peerServer({ echo: true });
    const rig = commandRig();
    await rig.ok(`.proxy 0 ${peer.port}`);
    const first = await peerClient(relayPort(rig));
    await rig.log.waitFor(is('connect', 'c2'));
    rig.ctx.session.holdReading(true);
    const c1 = linkSocket(rig, 'c1');
    expect(c1.socket.isPaused()).toBe(true);
    await peerClient(relayPort(rig));
    await rig.log.waitFor(is('connect', 'c4'));
    expect(linkSocket(rig, 'c3').socket.isPaused()).toBe(true);
    first.write('held');
    rig.ctx.session.holdReading(false);
    await rig.ok('.expect c1 "held"');
    expect(c1.socket.isPaused()).toBe(false);
  });
});
