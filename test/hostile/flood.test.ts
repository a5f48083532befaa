/**
 * Issue #5.2: floods and slow readers, against the built CLI (interactive on
 * a pipe). The resident memory of the socklab process is read from
 * /proc/PID/status (VmHWM: its peak) and must stay under MEMORY_BOUND: were
 * the 1 GiB kept, or the 1 GB `.send` buffered, it would be far above.
 * Measured numbers are printed (console.info) and recorded in docs/reliability.md.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, runCli, type RunningProcess } from '../helpers/cli.js';
import { closeAll, track } from '../helpers/loopback.js';
import { MiB, line, listeningPort, memoryOf, timeToAnswer, waitForStdoutAfter, report } from './helpers.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

/** Peak resident memory allowed to the socklab process, KiB (Node alone takes about 55 MB). */
const MEMORY_BOUND_KIB = 200 * 1024;
/** Lines the whole 1 GiB flood may print (it measured 10–15 beyond the 20 shown chunks). */
const FLOOD_LINES_BOUND = 80;
// A command typed during the flood must answer while the flood is still going: checked by
// the order of events (how much the peer had sent when the answer came), never by a time
// bound, which a loaded machine would fail.

describe('a peer that sends 1 GiB as fast as it can', () => {
  it('memory stays bounded, data events fold into a few summary lines, .ls answers during the flood', async () => {
    const lab = runCli(['--no-time', '-e', '.listen 0'], { keepStdin: true });
    const port = await listeningPort(lab);
    const base = memoryOf(lab.child.pid!);
    const peer = net.connect(port, '127.0.0.1');
    peer.on('error', () => {});
    track(() => void peer.destroy());
    await once(peer, 'connect');

    const total = 1024 * MiB;
    const block = Buffer.alloc(MiB, 0x61);
    let sent = 0;
    let lsMs = NaN;
    let sentAtAnswer = NaN;
    let lsAnswered: Promise<unknown> = Promise.resolve();
    const started = performance.now();
    while (sent < total) {
      if (!peer.write(block)) await once(peer, 'drain');
      sent += block.length;
      // A quarter in, type .ls: its table must come while the rest pours in.
      if (sent === total / 4) {
        lsAnswered = timeToAnswer(lab, '.ls', line('c1 +conn of s1 .*')).then((ms) => {
          lsMs = ms;
          sentAtAnswer = sent;
        });
      }
    }
    // Flow control holds the peer back until socklab reads: had socklab answered only once it
    // had read everything, the peer would have written its last block before the answer came.
    const sentAtEnd = sent;
    await lsAnswered;
    expect(sentAtAnswer, '.ls answered while the peer was still sending').toBeLessThan(sentAtEnd);
    peer.end();
    await lab.waitForStdout(line('c1 +closed'));
    const floodMs = performance.now() - started;
    const mem = memoryOf(lab.child.pid!);
    // And on screen: the table is printed above the close of the flooding connection.
    expect(lab.stdout().search(line('c1 +conn of s1 .*'))).toBeLessThan(lab.stdout().search(line('c1 +closed')));

    // Every chunk is accounted for: shown as a data line or counted in a fold summary.
    const from = lab.stdout().length;
    lab.write('.show c1\n');
    const chunks = Number((await waitForStdoutAfter(lab, from, line('received +1\\.0 GiB in (\\d+) chunks')))[1]);
    const out = lab.stdout().slice(0, from);
    const shownLines = out.split('\n').filter((l) => /^(?:socklab> )*c1 +← [\d.]+ (?:B|KiB) {2}"/.test(l)).length;
    const folds = [...out.matchAll(/^(?:socklab> )*c1 +← ([\d,]+) chunks, [\d.]+ \wiB in [\d.]+ s$/gm)].map((m) => Number(m[1]!.replace(/,/g, '')));
    expect(folds.length).toBeGreaterThan(0);
    expect(shownLines + folds.reduce((a, b) => a + b, 0)).toBe(chunks);
    const lines = out.split('\n').length;
    expect(lines).toBeLessThan(FLOOD_LINES_BOUND);
    expect(mem.peakKiB).toBeLessThan(MEMORY_BOUND_KIB);

    lab.write('.exit\n');
    expect((await lab.waitForExit(5000)).code).toBe(0);
    report(
      `1 GiB flood: ${Math.round(floodMs)} ms, ${chunks} chunks, ${lines} lines printed (${shownLines} data lines, ${folds.length} summaries), ` +
        `.ls answered in ${Math.round(lsMs)} ms, RSS ${Math.round(base.rssKiB / 1024)} MB before, peak ${Math.round(mem.peakKiB / 1024)} MB`,
    );
  });
});

/** The `queued` line of `.show c1`, in bytes (as precise as its one decimal). */
async function queuedBytes(lab: RunningProcess): Promise<number> {
  const from = lab.stdout().length;
  lab.write('.show c1\n');
  const m = await waitForStdoutAfter(lab, from, line('queued +([\\d.]+) (B|KiB|MiB)'));
  return Number(m[1]) * { B: 1, KiB: 1024, MiB }[m[2] as 'B' | 'KiB' | 'MiB'];
}

describe('a peer that never reads', () => {
  it('.send --repeat 1000000 waits for drain with little queued; --no-drain reports what is queued and stops at the 8 MiB cap', async () => {
    // The peer accepts and never reads a byte.
    const server = net.createServer((s) => {
      s.pause();
      s.on('error', () => {});
      track(() => void s.destroy());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    track(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as net.AddressInfo).port;

    const lab = runCli(['--no-time', '-e', `.connect ${port}`], { keepStdin: true });
    await lab.waitForStdout(line('c1 +connected .*'), 10_000);
    const base = memoryOf(lab.child.pid!);

    // 1,000,000 × 1,000 B = 1 GB: only what the kernel and one 64 KiB write hold may be in memory.
    lab.write(`.send --repeat 1000000 c1 ${'x'.repeat(1000)}\n`);
    // Ask until the send has filled the kernel buffers and waits for a drain that never comes.
    let queued = 0;
    for (let i = 0; i < 100 && queued === 0; i++) queued = await queuedBytes(lab);
    expect(queued, 'the send waits for drain: Node holds at most about one write').toBeGreaterThan(0);
    expect(queued).toBeLessThanOrEqual(128 * 1024);
    // The send still waits for a drain that never comes, and .ls answers meanwhile (the send
    // ends only at the .destroy below, with its own line after this answer).
    const lsMs = await timeToAnswer(lab, '.ls', line('c1 +client .*'));
    expect(lab.stdout()).not.toMatch(/closed before the peer read everything/);

    // --no-drain: the command completes at once and says how much the peer has not read.
    lab.write('.send --no-drain --repeat 65536 c1 0123456789abcdef\n');
    await lab.waitForStdout(line('c1: 1\\.\\d MiB still queued \\(the peer has not read it yet\\)'));
    // Past the per-socket cap (8 MiB by default) a send is refused with a clear error.
    lab.write('.send --no-drain --repeat 1000000 c1 0123456789abcdef\n');
    await lab.waitForStdout(line('! +c1 already has \\d+ B queued that the peer has not read; the cap is 8388608 B: wait, or \\.destroy c1'));
    expect(await queuedBytes(lab)).toBeLessThanOrEqual(8 * MiB + 128 * 1024);
    const mem = memoryOf(lab.child.pid!);
    expect(mem.peakKiB).toBeLessThan(MEMORY_BOUND_KIB);

    // Aborting the socket ends the stuck send with a message, not a crash.
    lab.write('.destroy c1\n');
    await lab.waitForStdout(line('! +c1 closed before the peer read everything we sent'));
    lab.write('.exit\n');
    expect((await lab.waitForExit(5000)).code).toBe(0);
    report(
      `never-reading peer: queued ${queued} B while .send --repeat 1000000 waits, .ls answered in ${Math.round(lsMs)} ms, ` +
        `RSS ${Math.round(base.rssKiB / 1024)} MB before, peak ${Math.round(mem.peakKiB / 1024)} MB`,
    );
  });
});
