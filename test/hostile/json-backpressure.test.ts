/**
 * Issue 9, "--json into a pipe slower than the network": the reader got 166
 * of ~16,400 data events and no `close`, the process reached 3.7 GiB, and the
 * exit said 0. Here a real socklab child writes to a pipe that this test
 * reads slowly while a peer sends as fast as loopback allows: every byte
 * arrives as data events, `close` arrives, and the child's memory stays
 * bounded because it stops reading the socket while stdout is behind.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.js';
import { MiB, memoryOf } from './helpers.js';
import { patience } from '../helpers/patience.js';
import { readSlowly } from '../helpers/slow-reader.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Start socklab with `args`; its stdout is read one chunk per timer tick (test/helpers/slow-reader.ts). */
function slowlyRead(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', SOCKLAB_HISTORY: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => child.kill('SIGKILL'));
  let text = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines: string[] = [];
  let waiters: Array<() => void> = [];
  const ended = new Promise<void>((resolve) => child.stdout.once('end', resolve));
  // The slow reader: one chunk per tick, whatever socklab would write.
  const stop = readSlowly(child.stdout, (chunk) => {
    text += chunk.toString('utf8');
    const cut = text.lastIndexOf('\n');
    if (cut === -1) return;
    lines.push(...text.slice(0, cut).split('\n'));
    text = text.slice(cut + 1);
    for (const w of waiters) w();
  });
  cleanups.push(stop);
  // How the child ended, for a timeout's message: a line lost at exit, a wait that timed out in the
  // child, or a kill from outside each look different here (docs/reliability.md, "Open: …").
  let endedAs = 'still running';
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      endedAs = `exited with code ${code} signal ${signal} after ${lines.length} lines`;
      resolve(code);
    }),
  );
  const until = (pred: () => boolean, ms: number, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pred()) return;
        clearTimeout(t);
        waiters = waiters.filter((w) => w !== check);
        resolve();
      };
      const state = (): string => `child ${endedAs}; unread ${child.stdout.readableLength} B, stdout ended ${child.stdout.readableEnded}, partial line ${text.length} B`;
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stderr: ${stderr}; last line: ${(lines[lines.length - 1] ?? '').slice(0, 200)} (${lines.length} lines); ${state()}`)), patience(ms));
      waiters.push(check);
      check();
    });
  return { child, lines, until, exit, ended };
}

describe('--json into a slow pipe', () => {
  it('every data event and the close arrive; the child stays bounded; exit 0', async () => {
    const lab = slowlyRead(['--json', '-e', '.listen 0', '-e', '.wait s1 accept as peer', '-e', '.wait peer close --timeout 120s', '--exit']);
    await lab.until(() => lab.lines.some((l) => l.includes('"event":"listening"')), 10_000, 'listening');
    const port = (JSON.parse(lab.lines.find((l) => l.includes('"event":"listening"'))!) as { port: number }).port;

    // 96 MiB as fast as loopback takes it: about 230 MB of JSON for the reader.
    const TOTAL = 96 * MiB;
    const peer = net.connect(port, '127.0.0.1');
    cleanups.push(() => peer.destroy());
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let peak = 0;
    const sampler = setInterval(() => {
      try {
        const rss = memoryOf(lab.child.pid!).rssKiB;
        if (Number.isFinite(rss)) peak = Math.max(peak, rss);
      } catch {
        // exited
      }
    }, 50);
    cleanups.push(() => clearInterval(sampler));
    await new Promise<void>((resolve, reject) => {
      peer.on('error', reject);
      let sent = 0;
      const pump = (): void => {
        while (sent < TOTAL) {
          sent += chunk.length;
          if (!peer.write(chunk)) return void peer.once('drain', pump);
        }
        peer.end(resolve);
      };
      peer.once('connect', pump);
    });
    await lab.until(() => lab.lines.some((l) => l.includes('"event":"close"') && l.includes('"id":"c1"')), 180_000, 'close of c1');
    const code = await lab.exit;
    await lab.ended;
    clearInterval(sampler);

    let received = 0;
    let dataEvents = 0;
    for (const l of lab.lines) {
      const ev = JSON.parse(l) as { event: string; id?: string; bytes?: number };
      if (ev.event === 'data' && ev.id === 'c1') {
        received += ev.bytes ?? 0;
        dataEvents++;
      }
    }
    expect(received).toBe(TOTAL);
    expect(dataEvents).toBeGreaterThan(100);
    expect(code).toBe(0);
    // Without backpressure the child holds what the reader has not taken yet (hundreds of MiB).
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(200 * 1024);
  }, 240_000);
});
