/**
 * Lesson 12, examples/slow-network.lab: a relay with latency and a slicer
 * makes one write arrive as many chunks, late, and the client's idle timeout
 * fires first. Run as a script by the built CLI, and its faults against real
 * peers (a Node echo server and a Node client with socket.setTimeout).
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupLessons, lessonSource, runLesson, socklab, withListenPort } from '../helpers/lessons.js';

afterEach(cleanupLessons);

/** The `.fault` lines of the lesson, with its relay's alias replaced by `p1`. */
function faultLines(): string[] {
  return lessonSource('slow-network')
    .split('\n')
    .filter((l) => /^\.fault slow --/.test(l))
    .map((l) => l.replace('.fault slow', '.fault p1'));
}

describe('slow-network.lab', () => {
  it('runs as a script: the timeout fires before the answer, which comes in pieces of ≤ 4 B naming both faults', async () => {
    const { exit, proc } = await runLesson('slow-network', withListenPort(lessonSource('slow-network'), 0));
    expect(exit, proc.describe()).toEqual({ code: 0, signal: null });
    const lines = proc.stdout().split('\n');
    const timeout = lines.findIndex((l) => /^c1 +idle for 200 ms: timeout$/.test(l));
    const pieces = lines.flatMap((l, i) => {
      const m = /^c1 +← (\d+) B {2}"(.*)"$/.exec(l);
      return m ? [{ i, size: Number(m[1]), text: m[2] }] : [];
    });
    expect(timeout, proc.stdout()).toBeGreaterThan(-1);
    const answer = pieces.filter((p) => p.text !== 'fast again\\n');
    expect(answer.length, proc.stdout()).toBeGreaterThanOrEqual(Math.ceil(18 / 4));
    expect(answer.every((p) => p.size <= 4 && p.i > timeout)).toBe(true);
    expect(answer.map((p) => p.text).join('')).toBe('Hello, slow world\\n');
    expect(lines.filter((l) => /^p1 +c2 ⇐ c3 {2}\d B \(latency, slicer\) {2}"/.test(l))).toHaveLength(answer.length);
    // Once the faults are off, the answer is one chunk again, and no relay line names a fault.
    expect(pieces.at(-1)).toMatchObject({ size: 11, text: 'fast again\\n' });
    expect(lines.filter((l) => l.includes('"fast again\\n"') && l.includes('('))).toEqual([]);
  });

  it("its faults against real peers: a Node client's setTimeout(200) fires first, then the echo arrives late and in ≥ 5 chunks", async () => {
    const server = net.createServer((s) => s.pipe(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const args = ['--json', '-e', `.proxy 0 ${(server.address() as net.AddressInfo).port}`, ...faultLines().flatMap((l) => ['-e', l])];
      expect(args.filter((a) => a.startsWith('.fault'))).toHaveLength(2);
      const relay = socklab(args, { stdin: 'pipe' });
      const listening = await relay.waitForEvent('listening', (e) => e.event === 'listening');
      await relay.waitForEvent('the second fault', (e) => e.event === 'note' && String(e.message).startsWith('fault slicer'));
      const client = net.connect(Number(listening.port), '127.0.0.1');
      await once(client, 'connect');
      const seen: string[] = [];
      const chunks: Buffer[] = [];
      client.setTimeout(200, () => seen.push('timeout'));
      client.on('data', (c: Buffer) => {
        seen.push('data');
        chunks.push(c);
      });
      client.write('Hello, slow world\n');
      const done = new Promise<void>((resolve) => client.on('data', () => Buffer.concat(chunks).length === 18 && resolve()));
      await done;
      client.destroy();
      expect(seen[0]).toBe('timeout');
      expect(Buffer.concat(chunks).toString()).toBe('Hello, slow world\n');
      // Pieces leave the relay 50 ms apart, each its own write (a client that is slow to read
      // may still find two in one read: its chunks are not asserted, the relay's writes are).
      const down = () => relay.events().filter((e) => e.event === 'relay' && e.dir === 'down');
      await relay.waitForEvent('the last piece', () => down().reduce((n, e) => n + Number(e.bytes), 0) === 18);
      const pieces = down();
      expect(pieces.length).toBeGreaterThanOrEqual(5);
      for (const p of pieces) expect(Number(p.bytes)).toBeLessThanOrEqual(4);
      relay.end();
      await relay.waitForExit(20_000);
    } finally {
      server.close();
    }
  });
});
