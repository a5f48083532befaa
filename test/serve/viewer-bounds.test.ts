/**
 * A browser cannot grow socklab's memory: a viewer that never reads is held
 * at VIEWER_QUEUE_BYTES and resynced, the number of viewers is bounded, and
 * a flood is folded for the page as for the terminal.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { commandRig } from '../helpers/commands.js';
import { closeAll, track, until } from '../helpers/loopback.js';
import { closeStreams, openSse } from '../helpers/sse.js';
import { MAX_VIEWERS, servingOf, type Serving } from '../../src/serve/serve.js';
import { ENTRY_CHARS } from '../../src/serve/feed.js';
import { VIEWER_QUEUE_BYTES } from '../../src/serve/viewer.js';

afterEach(async () => {
  closeStreams();
  await closeAll();
});

async function served() {
  const rig = commandRig();
  await rig.ok('.serve 0');
  const serving = servingOf(rig.ctx.session) as Serving;
  track(() => serving.stop());
  return { rig, serving, base: `http://127.0.0.1:${serving.port}/` };
}

/** A raw viewer that asks for the stream and then never reads a byte. */
async function stalledViewer(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  track(() => void socket.destroy());
  await once(socket, 'connect');
  socket.pause();
  socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
  return socket;
}

describe('viewer bounds', () => {
  it('a viewer that never reads keeps RSS bounded: what socklab holds for it stops at the bound', async () => {
    const { rig, serving } = await served();
    await stalledViewer(serving.port);
    await until(() => serving.viewers.size === 1, 20_000, 'the stalled viewer to be counted');
    const [viewer] = [...serving.viewers];
    const before = process.memoryUsage().rss;
    const message = 'x'.repeat(ENTRY_CHARS - 100);
    // 400 MB of entries in all: without the bound, all of it would wait in the viewer's buffer.
    let maxBuffered = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 1000; i++) rig.ctx.session.emit({ type: 'note', t: Date.now(), message });
      maxBuffered = Math.max(maxBuffered, viewer!.buffered);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const grown = process.memoryUsage().rss - before;
    expect(maxBuffered).toBeLessThanOrEqual(VIEWER_QUEUE_BYTES + 2 * ENTRY_CHARS);
    expect(grown, `RSS grew by ${(grown / 2 ** 20).toFixed(0)} MiB`).toBeLessThan(150 * 2 ** 20);
  });

  it('a viewer that comes back after falling out of the ring is told and resynced', async () => {
    const { rig, serving, base } = await served();
    const socket = await stalledViewer(serving.port);
    await until(() => serving.viewers.size === 1, 20_000, 'the stalled viewer to be counted');
    const [viewer] = [...serving.viewers];
    const message = 'y'.repeat(ENTRY_CHARS - 100);
    for (let i = 0; i < 2000; i++) rig.ctx.session.emit({ type: 'note', t: Date.now(), message: `${i} ${message}` });
    rig.ctx.session.emit({ type: 'note', t: Date.now(), message: 'the last one' });
    // Now it reads: the drain sends it on, from the newest entries, with a resync frame first.
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text = (text + chunk).slice(-100_000)));
    socket.resume();
    await until(() => text.includes('the last one'), 20_000, 'the last entry to reach the resumed viewer');
    expect(viewer!.resyncs).toBeGreaterThan(0);
    // A browser watching all along sees the same last entry.
    const fresh = await openSse(`${base}events`);
    await fresh.waitFor((f) => f.data.includes('the last one'));
  });

  it(`takes at most ${MAX_VIEWERS} viewers; one more gets 503`, async () => {
    const { base, serving } = await served();
    const streams = [];
    for (let i = 0; i < MAX_VIEWERS; i++) streams.push(await openSse(`${base}events`));
    expect(streams.every((s) => s.status === 200)).toBe(true);
    await until(() => serving.viewers.size === MAX_VIEWERS, 20_000, 'every viewer');
    const extra = await openSse(`${base}events`);
    expect(extra.status).toBe(503);
    streams[0]?.close();
    await until(() => serving.viewers.size === MAX_VIEWERS - 1, 20_000, 'a viewer to leave');
    expect((await openSse(`${base}events`)).status).toBe(200);
  });

  it('folds a flood for the page as the terminal does: a summary, not a row per chunk', async () => {
    const { rig, base } = await served();
    const stream = await openSse(`${base}events`);
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.log.waitFor((ev) => ev.type === 'accept');
    const t = Date.now();
    for (let i = 0; i < 5000; i++) rig.ctx.session.emit({ type: 'data', t, id: 'c1', data: Buffer.from('chunk ') });
    rig.ctx.session.emit({ type: 'note', t: Date.now(), id: 'c1', message: 'flood over' });
    await stream.waitFor((f) => f.data.includes('flood over'));
    const rows = stream.logs().filter((l) => l.type === 'data');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(100);
    await rig.ok('.close c1');
    await stream.waitFor((f) => f.event === 'log' && f.data.includes('chunks'), 3000, 'the fold summary');
  });
});
