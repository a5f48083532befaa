/**
 * Each timing fault's effect on the wire, measured against its parameters
 * through a real `.proxy` between real peers (a Node client and server in
 * this process, nc, socat). Lower bounds only: a loaded machine makes things
 * later, never earlier, so no assertion depends on a fast machine.
 */
import { once } from 'node:events';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, hasCommand, spawnProcess } from '../helpers/cli.js';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { closeAll, is, peerClient, receive, track } from '../helpers/loopback.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

/** What the target side saw: each chunk with the time it arrived (performance.now, ms), and when its FIN came. */
interface Target {
  port: number;
  chunks: Array<{ at: number; data: Buffer }>;
  socket: Promise<net.Socket>;
  ended: Promise<number>;
}

async function target(options: { echo?: boolean } = {}): Promise<Target> {
  const chunks: Target['chunks'] = [];
  let accepted!: (s: net.Socket) => void;
  let ended!: (at: number) => void;
  const t = { chunks, socket: new Promise<net.Socket>((r) => (accepted = r)), ended: new Promise<number>((r) => (ended = r)) };
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.on('data', (data: Buffer) => {
      chunks.push({ at: performance.now(), data });
      if (options.echo) s.write(data);
    });
    s.on('end', () => ended(performance.now()));
    accepted(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  track(() => new Promise<void>((resolve) => server.close(() => resolve())));
  // Only a socket that was accepted: awaiting t.socket would hang the cleanup of a test that failed before.
  let accepted_: net.Socket | undefined;
  void t.socket.then((s) => (accepted_ = s));
  track(() => void accepted_?.destroy());
  return { ...t, port: (server.address() as net.AddressInfo).port };
}

async function relay(to: number): Promise<{ rig: CommandRig; port: number }> {
  const rig = commandRig();
  await rig.ok(`.proxy 0 ${to}`);
  const ep = rig.ctx.session.get('p1');
  if (ep.kind !== 'relay') throw new Error('p1 is not a relay');
  return { rig, port: Number(ep.address.split(':').at(-1)) };
}

/** Resolve once `t` has received `n` bytes in all. */
async function bytes(t: Target, n: number): Promise<Buffer> {
  const { until } = await import('../helpers/loopback.js');
  await until(() => t.chunks.reduce((s, c) => s + c.data.length, 0) >= n, 5000, `${n} bytes at the target`);
  return Buffer.concat(t.chunks.map((c) => c.data));
}

describe('latency', () => {
  it('latency 200: each chunk arrives at the target at least 200 ms after the client wrote it', async () => {
    const t = await target();
    const { rig, port } = await relay(t.port);
    await rig.ok('.fault p1 --up latency 200');
    const client = await peerClient(port);
    for (const word of ['one', 'two', 'three']) {
      const before = t.chunks.length;
      const sent = performance.now();
      client.write(word);
      await bytes(t, Buffer.concat(t.chunks.map((c) => c.data)).length + word.length);
      const arrived = t.chunks.slice(before);
      expect(Buffer.concat(arrived.map((c) => c.data)).toString()).toBe(word);
      for (const c of arrived) expect(c.at - sent).toBeGreaterThanOrEqual(200);
    }
    const relays = rig.log.of('relay');
    expect(relays.map((r) => [r.data.toString(), r.fault])).toEqual([['one', 'latency'], ['two', 'latency'], ['three', 'latency']]);
  });

  it('latency 300 --jitter 100 on the way down: an echo comes back at least 200 ms late, and the up way is untouched', async () => {
    const t = await target({ echo: true });
    const { rig, port } = await relay(t.port);
    await rig.ok('.fault p1 --down latency 300 --jitter 100 as slow');
    const client = await peerClient(port);
    const sent = performance.now();
    client.write('ping');
    await receive(client, 'ping');
    expect(performance.now() - sent).toBeGreaterThanOrEqual(200);
    const [up, down] = rig.log.of('relay');
    expect(up).toMatchObject({ dir: 'up' });
    expect(up?.fault).toBeUndefined();
    expect(down).toMatchObject({ dir: 'down', fault: 'slow' });
  });

  it.runIf(hasCommand('nc'))('nc as the client: its bytes and its FIN both come 250 ms late, in order', async () => {
    const t = await target();
    const { rig, port } = await relay(t.port);
    await rig.ok('.fault p1 latency 250');
    const started = performance.now();
    const nc = spawnProcess('nc', ['-N', '127.0.0.1', String(port)], { input: 'hello from nc\n' });
    const ended = await t.ended;
    expect(Buffer.concat(t.chunks.map((c) => c.data)).toString()).toBe('hello from nc\n');
    expect(ended - started).toBeGreaterThanOrEqual(250);
    for (const c of t.chunks) expect(c.at - started).toBeGreaterThanOrEqual(250);
    (await t.socket).end();
    await nc.waitForExit(20_000);
  });
});

describe('bandwidth', () => {
  it('bandwidth 50 (KB/s): 40,000 bytes take at least 800 ms and arrive intact', async () => {
    const t = await target();
    const { rig, port } = await relay(t.port);
    await rig.ok('.fault p1 --up bandwidth 50');
    const client = await peerClient(port);
    const payload = Buffer.alloc(40_000, 0).map((_, i) => i % 251);
    const sent = performance.now();
    client.write(payload);
    const got = await bytes(t, payload.length);
    expect(got.equals(payload)).toBe(true);
    expect(t.chunks.at(-1)!.at - sent).toBeGreaterThanOrEqual(40_000 / 50);
    // Pieces are at most 100 ms of rate (toxiproxy): 5,000 bytes.
    for (const r of rig.log.of('relay')) expect(r.data.length).toBeLessThanOrEqual(5000);
  });

  it.runIf(hasCommand('socat'))('socat as the client: 20,000 bytes at 40 KB/s take at least 500 ms; the FIN waits for them', async () => {
    const t = await target();
    const { rig, port } = await relay(t.port);
    await rig.ok('.fault p1 bandwidth 40');
    const started = performance.now();
    const socat = spawnProcess('socat', ['-t', '30', '-', `TCP:127.0.0.1:${port}`], { input: 'z'.repeat(20_000) });
    const ended = await t.ended;
    expect(Buffer.concat(t.chunks.map((c) => c.data)).toString()).toBe('z'.repeat(20_000));
    expect(ended - started).toBeGreaterThanOrEqual(500);
    (await t.socket).end();
    await socat.waitForExit(20_000);
  });
});

describe('slicer', () => {
  it('slicer --size 10 --variation 3 --delay 100: one write of 40 B arrives as ≥ 4 relayed pieces of ≤ 13 B, the last ≥ 300 ms late', async () => {
    const t = await target();
    const { rig, port } = await relay(t.port);
    await rig.ok('.fault p1 --up slicer --size 10 --variation 3 --delay 100');
    const client = await peerClient(port);
    const payload = 'abcdefghijklmnopqrstuvwxyz0123456789ABCD';
    const sent = performance.now();
    client.write(payload);
    expect((await bytes(t, 40)).toString()).toBe(payload);
    const pieces = rig.log.of('relay');
    expect(pieces.length).toBeGreaterThanOrEqual(Math.ceil(40 / 13));
    for (const p of pieces) {
      expect(p.data.length).toBeLessThanOrEqual(13);
      expect(p.fault).toBe('slicer');
    }
    // Pieces are --delay apart, so the last left the relay at least (pieces - 1) × 100 ms after the write.
    expect(t.chunks.at(-1)!.at - sent).toBeGreaterThanOrEqual((pieces.length - 1) * 100);
    // On the wire the receiver saw more than one chunk (100 ms apart, not coalesced).
    expect(t.chunks.length).toBeGreaterThan(1);
  });

  it('slicer --size 1 with no delay: every byte is its own relay event, in order', async () => {
    const t = await target();
    const { rig, port } = await relay(t.port);
    await rig.ok('.fault p1 --up slicer --size 1');
    const client = await peerClient(port);
    client.write('sliced');
    expect((await bytes(t, 6)).toString()).toBe('sliced');
    expect(rig.log.of('relay').map((r) => r.data.toString())).toEqual(['s', 'l', 'i', 'c', 'e', 'd']);
  });
});

describe('slow-close', () => {
  it('slow-close 300: the bytes pass at once, the FIN reaches the target at least 300 ms after the relay read it', async () => {
    const t = await target();
    const { rig, port } = await relay(t.port);
    await rig.ok('.fault p1 --up slow-close 300');
    const client = await peerClient(port, { allowHalfOpen: true });
    client.end('bye');
    const finRead = performance.now() - (Date.now() - (await rig.log.waitFor(is('end', 'c1'))).t);
    const ended = await t.ended;
    expect(Buffer.concat(t.chunks.map((c) => c.data)).toString()).toBe('bye');
    expect(t.chunks[0]!.at).toBeLessThan(ended);
    // Date.now() has whole milliseconds: allow that one.
    expect(ended - finRead).toBeGreaterThanOrEqual(299);
    expect(rig.log.of('relay')[0]?.fault).toBeUndefined();
  });
});
