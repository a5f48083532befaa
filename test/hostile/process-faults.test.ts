/**
 * Issue #5.4, faults seen from the outside of the built CLI: listen errors the
 * OS gives (EADDRNOTAVAIL, EACCES), `.exit` while data is in flight, and
 * SIGINT / SIGTERM handled as `.exit` in the REPL and headless.
 */
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, runCli, type RunningProcess } from '../helpers/cli.js';
import { closeAll, track } from '../helpers/loopback.js';
import { canDropPrivileges, isRoot, line, runCliUnprivileged, sysctl, report } from './helpers.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

/** A bare server that reads everything; resolves with its port and what its first connection received. */
async function readingPeer(): Promise<{ port: number; conn: Promise<{ bytes: () => number; ended: Promise<'end' | 'error'> }> }> {
  let accepted!: (c: { bytes: () => number; ended: Promise<'end' | 'error'> }) => void;
  const conn = new Promise<{ bytes: () => number; ended: Promise<'end' | 'error'> }>((resolve) => (accepted = resolve));
  const server = net.createServer((s) => {
    let n = 0;
    s.on('data', (c: Buffer) => (n += c.length));
    const ended = new Promise<'end' | 'error'>((resolve) => {
      s.once('end', () => resolve('end'));
      s.once('error', () => resolve('error'));
    });
    track(() => void s.destroy());
    accepted({ bytes: () => n, ended });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  track(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as net.AddressInfo).port, conn };
}

describe('listen errors from the OS: an error event with a hint, the line fails, exit code 1', () => {
  // 192.0.2.1 is TEST-NET-1 (RFC 5737), never assigned: bind() fails locally, no packet is sent.
  it.skipIf(sysctl('net/ipv4/ip_nonlocal_bind') === 1)('EADDRNOTAVAIL: an address this machine does not have', async () => {
    const lab = runCli(['--no-time', '-e', '.listen 192.0.2.1:0', '--exit']);
    expect((await lab.waitForExit(10_000)).code).toBe(1);
    expect(lab.stdout()).toMatch(line('s1 +error EADDRNOTAVAIL .*\\(this machine has no such address\\)'));
    expect(lab.stdout()).toMatch(line('s1 +closed after an error'));
  });

  it.skipIf(isRoot() && !canDropPrivileges())('EACCES: a privileged port, and a socket file in a directory we may not write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'socklab-eacces-'));
    track(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o755); // nobody may enter it…
    mkdirSync(join(dir, 'ro'), { mode: 0o555 }); // …but not write here
    const privileged = (sysctl('net/ipv4/ip_unprivileged_port_start') ?? 1024) > 1;
    const lines = [...(privileged ? ['.listen 127.0.0.1:1'] : []), `.listen ${join(dir, 'ro', 'sock')}`];
    const lab = runCliUnprivileged(['--no-time', '--keep-going', ...lines.flatMap((l) => ['-e', l]), '--exit']);
    expect((await lab.waitForExit(10_000)).code, lab.stdout() + lab.stderr()).toBe(1);
    // Each situation its own hint (issue 10 item 6): the port's, and the directory's.
    const portHint = '\\(not allowed: ports below 1024 need privileges \\(use a port ≥ 1024\\)\\)';
    const dirHint = '\\(no permission to create a file in that directory: pick a directory you may write to\\)';
    const errors = lab.stdout().match(new RegExp(`^s\\d +error EACCES .*(${portHint}|${dirHint})$`, 'gm')) ?? [];
    expect(errors, lab.stdout()).toHaveLength(lines.length);
    expect(lab.stdout()).toMatch(new RegExp(`error EACCES .*/ro/sock ${dirHint}$`, 'm'));
    expect(lab.stdout()).toContain(`permission denied ${join(dir, 'ro', 'sock')}`);
  });
});

describe('.exit while data is in flight', () => {
  it('flushes what is queued, then FIN; prints a final report; exits 0 by itself', async () => {
    const { port, conn } = await readingPeer();
    const lab = runCli(['--no-time', '-e', `.connect ${port}`], { keepStdin: true });
    await lab.waitForStdout(line('c1 +connected .*'), 10_000);
    const peer = await conn;
    // 4 MB queued at once (--no-drain), more than the kernel takes in one go, then .exit right behind it.
    const started = performance.now();
    lab.write('.send --no-drain --repeat 400000 c1 0123456789\n.exit\n');
    const exit = await lab.waitForExit(5000);
    const ms = performance.now() - started;
    expect(exit).toEqual({ code: 0, signal: null });
    // Graceful, not cut off when the grace ran out: every byte arrived and then a FIN (a reset would be 'error').
    expect(await peer.ended).toBe('end');
    expect(peer.bytes()).toBe(4_000_000);
    // In this order: our FIN, the socket closed, then the report. (How long it took is not asserted:
    // a loaded machine would fail that; `npm run bench` measures speed.)
    const out = lab.stdout();
    const fin = out.search(line('c1 +→ FIN \\(we ended our side; still reading\\)'));
    const closed = out.search(line('c1 +closed.*'));
    const bye = out.search(line('closed 0 servers and 1 socket; bye'));
    expect([fin, closed, bye].every((i) => i >= 0), out).toBe(true);
    expect(fin).toBeLessThan(closed);
    expect(closed).toBeLessThan(bye);
    report(`.exit with 4 MB in flight: exited ${Math.round(ms)} ms after the lines were typed`);
  });
});

/** socklab with a server and a client connected to `port`; resolves once both are up. */
async function startLab(mode: 'repl' | 'headless', port: number): Promise<RunningProcess> {
  const lines = ['.listen 0', `.connect ${port}`];
  const args = mode === 'repl' ? ['--no-time', ...lines.flatMap((l) => ['-e', l])] : ['--no-time', ...[...lines, '.sleep 1m'].flatMap((l) => ['-e', l]), '--exit'];
  const lab = runCli(args, { keepStdin: mode === 'repl' });
  await lab.waitForStdout(line('c1 +connected .*'), 10_000);
  return lab;
}

describe.each(['SIGINT', 'SIGTERM'] as const)('%s is handled as .exit', (signal) => {
  it.each(['repl', 'headless'] as const)('%s: endpoints closed gracefully (the peer sees FIN), then the process exits', async (mode) => {
    const { port, conn } = await readingPeer();
    const lab = await startLab(mode, port);
    const peer = await conn;
    const from = lab.stdout().length;
    const started = performance.now();
    lab.child.kill(signal);
    const exit = await lab.waitForExit(3000);
    const ms = performance.now() - started;
    // Not killed by the signal: socklab caught it and left as .exit does (a script that was cut short fails).
    expect(exit).toEqual({ code: mode === 'repl' ? 0 : 1, signal: null });
    // Gracefully: the peer read a FIN, not a reset (what the grace's destroy would send).
    expect(await peer.ended).toBe('end');
    // Everything was printed before the exit, the report last (no time bound: ordering says it).
    const after = lab.stdout().slice(from);
    const closes = [after.search(line('s1 +closed')), after.search(line('c1 +closed.*'))];
    expect(Math.min(...closes), after).toBeGreaterThanOrEqual(0);
    if (mode === 'repl') expect(after.search(line('closed 1 server and 1 socket; bye'))).toBeGreaterThan(Math.max(...closes));
    report(`${signal} (${mode}): exited ${Math.round(ms)} ms after the signal`);
  });
});
