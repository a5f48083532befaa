/**
 * Hostile peers of a framed server (SPEC 12), against the built CLI: a length
 * prefix of 4 GiB, 64 MiB with no delimiter, and a flood of tiny messages.
 * The resident memory of the socklab process (VmHWM, its peak) must stay
 * under MEMORY_BOUND_KIB: had it allocated what the prefix announced, or kept
 * the run, or kept the messages, it would be far above. Measured numbers are
 * printed (console.info) and recorded in docs/reliability.md.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, hasCommand, runCli, spawnProcess } from '../helpers/cli.js';
import { closeAll, track } from '../helpers/loopback.js';
import { MiB, line, listeningPort, memoryOf, waitForStdoutAfter, report } from './helpers.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

/** Peak resident memory allowed to the socklab process, KiB (Node alone takes about 55 MB). */
const MEMORY_BOUND_KIB = 200 * 1024;
/** Lines a flood of a million messages may print (20 shown, then one summary per second and the rest). */
const FLOOD_LINES_BOUND = 80;

// python3 writes the prefix, then keeps sending until socklab closes: it prints how it ended.
const PY_HOSTILE = String.raw`
import socket, struct, sys
port, what = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(('127.0.0.1', port))
head = struct.pack('>I', 0xffffffff) if what == 'prefix' else b''
try:
    s.sendall(head)
    for _ in range(64):
        s.sendall(b'x' * (1024 * 1024))
    print('sent all', flush=True)
except (ConnectionResetError, BrokenPipeError) as e:
    print('stopped', type(e).__name__, flush=True)
`;

describe.skipIf(!hasCommand('python3'))('a peer past --max-message', () => {
  it.each([
    ['--frame len32', 'prefix', /c1 +error E_LIMIT the len32 length prefix announces a message of 4294967295 B, over --max-message 1048576 B: closing the connection/],
    ['--frame line', 'run', /c1 +error E_LIMIT \d+ B arrived without the \\n that ends a line message, over --max-message 1048576 B: closing the connection/],
  ])('%s, %s: one error line, the connection closed, memory bounded', async (frame, what, error) => {
    const lab = runCli(['--no-time', '-e', `.listen 0 ${frame}`], { keepStdin: true });
    const port = await listeningPort(lab);
    const py = spawnProcess('python3', ['-c', PY_HOSTILE, String(port), what]);
    await lab.waitForStdout(error, 20_000);
    await lab.waitForStdout(line('c1 +closed \\(destroyed by us\\)'), 20_000);
    // Python's sendall fails: socklab read no more once it had refused the message.
    expect((await py.waitForExit(20_000)).code).toBe(0);
    expect(py.stdout()).toMatch(/^stopped (ConnectionResetError|BrokenPipeError)/);
    const mem = memoryOf(lab.child.pid!);
    expect(mem.peakKiB).toBeLessThan(MEMORY_BOUND_KIB);
    // The process lives on: the server still answers.
    const from = lab.stdout().length;
    lab.write('.ls\n');
    await waitForStdoutAfter(lab, from, line('s1 .*listening.*'));
    lab.write('.exit\n');
    expect((await lab.waitForExit(10_000)).code).toBe(0);
    report(`${frame} ${what}: peak RSS ${Math.round(mem.peakKiB / 1024)} MB`);
  });
});

describe('a flood of tiny messages', () => {
  it('a million 1-byte len8 messages: folded into a few lines, each counted, memory bounded', async () => {
    const lab = runCli(['--no-time', '-e', '.listen 0 --frame len8'], { keepStdin: true });
    const port = await listeningPort(lab);
    const peer = net.connect(port, '127.0.0.1');
    peer.on('error', () => {});
    track(() => void peer.destroy());
    await once(peer, 'connect');
    const count = 1_000_000;
    const block = Buffer.alloc(64 * 1024);
    for (let i = 0; i < block.length; i += 2) block[i] = 1;
    for (let i = 1; i < block.length; i += 2) block[i] = 0x61;
    const started = performance.now();
    for (let sent = 0; sent < count * 2; sent += block.length) {
      const part = block.subarray(0, Math.min(block.length, count * 2 - sent));
      if (!peer.write(part)) await once(peer, 'drain');
    }
    peer.end();
    await lab.waitForStdout(line('c1 +closed'), 60_000);
    const floodMs = performance.now() - started;
    const mem = memoryOf(lab.child.pid!);

    const from = lab.stdout().length;
    lab.write('.show c1\n');
    const received = Number((await waitForStdoutAfter(lab, from, line('framing +len8 .*; ([\\d]+) messages received, none waiting')))[1]);
    expect(received).toBe(count);
    const out = lab.stdout().slice(0, from);
    const shown = out.split('\n').filter((l) => /^(?:socklab> )*c1 +← msg 1 B {2}"a"$/.test(l)).length;
    const folds = [...out.matchAll(/^(?:socklab> )*c1 +← ([\d,]+) messages, [\d.]+ \S+ in [\d.]+ s$/gm)].map((m) => Number(m[1]!.replace(/,/g, '')));
    const sessionFolds = [...out.matchAll(/^(?:socklab> )*all +← ([\d,]+) chunks, .* on [\d,]+ sockets$/gm)].map((m) => Number(m[1]!.replace(/,/g, '')));
    expect(folds.length + sessionFolds.length).toBeGreaterThan(0);
    expect(shown + folds.reduce((a, b) => a + b, 0) + sessionFolds.reduce((a, b) => a + b, 0)).toBe(count);
    expect(out.split('\n').length).toBeLessThan(FLOOD_LINES_BOUND);
    expect(mem.peakKiB).toBeLessThan(MEMORY_BOUND_KIB);
    lab.write('.exit\n');
    expect((await lab.waitForExit(10_000)).code).toBe(0);
    report(`${count} len8 messages: ${Math.round(floodMs)} ms, ${shown} shown, ${folds.length} summaries, peak RSS ${Math.round(mem.peakKiB / MiB * 1024)} MB`);
  });
});
