/**
 * Output that cannot be written and signals from outside (SPEC section 7):
 * a full disk, a closed pipe or a terminal gone end the run with one line on
 * stderr and no stack trace; SIGHUP, SIGINT and SIGTERM end the session as
 * .exit does, so a peer in the middle of a flood sees our FIN, not a reset.
 * Real child processes, a real Python peer.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, cleanupProcesses, hasCommand, runCli, spawnProcess } from '../helpers/cli.js';
import { closeAll, tempDir, until } from '../helpers/loopback.js';

afterEach(cleanupProcesses);
// tempDir() folders are removed with the rest of what loopback tracks.
afterEach(closeAll);

/** True when process `pid` has `path` open (a link in /proc/PID/fd). */
function holds(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

const HELLO = '.listen 0 --reply echo\n.connect s1\n.sendln c1 hello\n.expect c1 hello\n';

describe('output that cannot be written', () => {
  it('socklab hello.lab > /dev/full: one line on stderr, no stack trace, exit 1', async () => {
    const file = join(tempDir(), 'hello.lab');
    writeFileSync(file, HELLO);
    const p = spawnProcess('bash', ['-c', `exec node ${BIN} --no-time ${file} > /dev/full`], { env: { NO_COLOR: '1' } });
    const exit = await p.waitForExit(10_000);
    expect(exit.code).toBe(1);
    expect(p.stderr()).toBe('socklab: cannot write to stdout (the disk is full); stopping\n');
  });

  it('--json > /dev/full and -e lines > /dev/full: the same one line', async () => {
    for (const args of [`--json -e '.listen 0' --exit`, `-e '.listen 0' -e '.connect s1' --exit`]) {
      const p = spawnProcess('bash', ['-c', `exec node ${BIN} ${args} > /dev/full`], { env: { NO_COLOR: '1' } });
      expect((await p.waitForExit(10_000)).code, args).toBe(1);
      expect(p.stderr(), args).toBe('socklab: cannot write to stdout (the disk is full); stopping\n');
    }
  });

  it('stderr on /dev/full while stdout is fine: said on stdout, exit 1', async () => {
    const file = join(tempDir(), 'bad.lab');
    writeFileSync(file, '.listen 0\n.listen 0\nthis is js\n');
    // A refused script writes its problem to stdout (events) and the exit message to stderr.
    const p = spawnProcess('bash', ['-c', `exec node ${BIN} --no-time --json ${file} 2> /dev/full`], { env: { NO_COLOR: '1' } });
    const exit = await p.waitForExit(10_000);
    expect(exit.code).not.toBe(0);
    expect(p.stdout()).not.toMatch(/\n\s+at /);
  });

  it('a reader that leaves (| head -c 1 on a long run): one line, exit 1, no EPIPE stack', async () => {
    const steps = Array.from({ length: 200 }, (_, i) => `.sendln c1 line${i}\n.expect c1 line${i}\n`).join('');
    const file = join(tempDir(), 'long.lab');
    writeFileSync(file, HELLO + steps);
    const p = spawnProcess('bash', ['-c', `set -o pipefail; node ${BIN} --no-time ${file} | head -c 1 >/dev/null; echo "exit $?" >&2`], { env: { NO_COLOR: '1' } });
    await p.waitForExit(15_000);
    expect(p.stderr()).toBe('socklab: cannot write to stdout (its reader has gone); stopping\nexit 1\n');
  });
});

const hasPython = hasCommand('python3');

/**
 * A Python peer that connects to PORT, floods it from a thread and reports
 * what its reading side saw: "FIN" (recv returned b'') or the error.
 */
const FLOOD_PEER = `
import socket, sys, threading
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
def flood():
    try:
        while True: s.sendall(b'x' * 65536)
    except OSError: pass
threading.Thread(target=flood, daemon=True).start()
print('flooding', flush=True)
try:
    while True:
        d = s.recv(65536)
        if not d:
            print('peer saw FIN', flush=True); break
except OSError as e:
    print('peer saw', type(e).__name__, flush=True)
`;

describe.skipIf(!hasPython)('signals end the session as .exit does, during a flood', () => {
  it.each(['SIGHUP', 'SIGTERM', 'SIGINT'] as const)('%s while a peer floods a headless run: the peer sees FIN, the closes are reported', async (signal) => {
    // The peer is a python3 started after the listen: on a loaded machine it can take longer
    // than the default 5 s of .wait to connect, so the script waits as long as the test does.
    const lab = runCli(['--no-time', '-e', '.listen 0', '-e', '.wait s1 accept --timeout 2m', '-e', '.expect c1 never --timeout 2m', '--exit']);
    const port = (await lab.waitForStdout(/listening on 127\.0\.0\.1:(\d+)/))[1]!;
    const peer = spawnProcess('python3', ['-c', FLOOD_PEER, port]);
    await peer.waitForStdout('flooding', 15_000);
    await lab.waitForStdout(/c1 {3}← /, 15_000);
    lab.child.kill(signal);
    await peer.waitForStdout(/peer saw .+/, 15_000);
    expect(peer.stdout()).toMatch(/peer saw FIN/);
    const exit = await lab.waitForExit(20_000);
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(1);
    expect(lab.stdout()).toMatch(/c1 {3}→ FIN/);
    expect(lab.stdout()).toMatch(/s1 {3}closed/);
    expect(lab.stderr()).not.toMatch(/\n\s+at /);
  });

  it('SIGHUP in the REPL (stdin a pipe): leaves as .exit does, with its report', async () => {
    const lab = runCli(['--no-time', '-e', '.listen 0'], { keepStdin: true });
    const port = (await lab.waitForStdout(/listening on 127\.0\.0\.1:(\d+)/))[1]!;
    const peer = spawnProcess('python3', ['-c', FLOOD_PEER, port]);
    await peer.waitForStdout('flooding', 15_000);
    await lab.waitForStdout(/c1 {3}← /, 15_000);
    lab.child.kill('SIGHUP');
    await peer.waitForStdout(/peer saw .+/, 15_000);
    expect(peer.stdout()).toMatch(/peer saw FIN/);
    const exit = await lab.waitForExit(20_000);
    expect(exit.signal).toBeNull();
    expect(lab.stdout()).toMatch(/closed 1 server and 1 socket; bye/);
  });

  it('a script waiting on a FIFO nobody writes to ends on SIGTERM (it is not stuck in open())', async () => {
    const fifo = join(tempDir(), 'never.lab');
    execFileSync('mkfifo', [fifo]);
    const lab = runCli([fifo]);
    // It prints nothing until the script arrives: wait until it holds the FIFO open (/proc says so;
    // its signal handlers are installed before it opens the script).
    await until(() => holds(lab.child.pid!, fifo), 10_000, 'socklab to open the FIFO');
    lab.child.kill('SIGTERM');
    const exit = await lab.waitForExit(20_000);
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(1);
  });
});
