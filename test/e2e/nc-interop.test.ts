/**
 * The built CLI against real peers it did not write: netcat-openbsd and socat,
 * both directions, every byte value 0x00..0xff exactly once, over loopback.
 * Each tool's block is skipped when the tool is not installed.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { allBytes, cleanupProcesses, freePort, hasCommand, jsonEvents, runCli, spawnProcess, type RunningProcess } from '../helpers/cli.js';

afterEach(cleanupProcesses);

const BYTES = allBytes();
/** `.send` payload for all 256 values: `hex:00 01 … ff`. */
const HEX_PAYLOAD = `hex:${[...BYTES].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;

/** Concatenated bytes of one socket's `data` (or `send`) JSON events. */
function bytesOf(stdout: string, event: 'data' | 'send', id: string): Buffer {
  return Buffer.concat(jsonEvents(stdout).filter((e) => e.event === event && e.id === id).map((e) => Buffer.from(String(e.base64), 'base64')));
}

/** Hex for readable diffs of binary buffers. */
const hex = (b: Buffer): string => b.toString('hex');

/** socklab echo server (interactive, reading a pipe); resolves with its port. */
async function socklabEchoServer(): Promise<{ lab: RunningProcess; port: number }> {
  const lab = runCli(['--json', '-e', '.listen 0 --reply echo'], { keepStdin: true });
  const m = await lab.waitForStdout(/"event":"listening","id":"s1","address":"127\.0\.0\.1","port":(\d+)/, 10_000);
  return { lab, port: Number(m[1]) };
}

/** After the peer is done: socklab saw every byte come in and echoed every byte back; then it leaves cleanly. */
async function expectEchoedAndExit(lab: RunningProcess): Promise<void> {
  await lab.waitForStdout(/"event":"close","id":"c1"/);
  expect(hex(bytesOf(lab.stdout(), 'data', 'c1'))).toBe(hex(BYTES));
  expect(hex(bytesOf(lab.stdout(), 'send', 'c1'))).toBe(hex(BYTES));
  lab.end();
  expect((await lab.waitForExit()).code).toBe(0);
}

const isOpenBsdNc = (): boolean => hasCommand('nc') && /OpenBSD netcat/.test(spawnSync('nc', ['-h'], { encoding: 'utf8' }).stderr ?? '');

/**
 * `nc -l 127.0.0.1 PORT` (netcat-openbsd wants a real port): take a port that
 * was just free, wait until nc says it listens, try once more if another
 * process took the port in between.
 */
async function ncListen(extra: string[], input?: Buffer): Promise<{ nc: RunningProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const nc = spawnProcess('nc', ['-v', ...extra, '-l', '127.0.0.1', String(port)], input ? { input } : {});
    try {
      await nc.waitForStderr(/Listening on/);
      return { nc, port };
    } catch (err) {
      if (attempt < 2 && /in use/i.test(nc.stderr())) continue;
      throw err;
    }
  }
}

describe.skipIf(!isOpenBsdNc())('netcat-openbsd', () => {
  it('nc client → socklab echo server: all 256 byte values come back, and show in the data event', async () => {
    const { lab, port } = await socklabEchoServer();
    // -N: shut down the sending side once stdin ends, so the server sees FIN and ends too.
    const nc = spawnProcess('nc', ['-N', '127.0.0.1', String(port)], { input: BYTES });
    expect((await nc.waitForExit(10_000)).code).toBe(0);
    expect(hex(nc.stdoutBytes())).toBe(hex(BYTES));
    await expectEchoedAndExit(lab);
  });

  it('socklab client → nc server: .send hex:00 … ff arrives as the 256 bytes', async () => {
    const { nc, port } = await ncListen([]);
    const lab = runCli(['--json', '-e', `.connect ${port}`, '-e', `.send c1 ${HEX_PAYLOAD}`, '-e', '.end c1', '--exit']);
    expect((await lab.waitForExit(10_000)).code).toBe(0);
    // nc leaves when socklab's FIN arrives.
    expect((await nc.waitForExit()).code).toBe(0);
    expect(hex(nc.stdoutBytes())).toBe(hex(BYTES));
    expect(hex(bytesOf(lab.stdout(), 'send', 'c1'))).toBe(hex(BYTES));
  });

  it('nc server → socklab client: the data events carry the 256 bytes', async () => {
    const { nc, port } = await ncListen(['-N'], BYTES);
    const lab = runCli(['--json', '-e', `.connect ${port}`, '-e', '.wait c1 end', '--exit']);
    expect((await lab.waitForExit(10_000)).code).toBe(0);
    expect(hex(bytesOf(lab.stdout(), 'data', 'c1'))).toBe(hex(BYTES));
    expect(jsonEvents(lab.stdout()).filter((e) => e.event === 'end' && e.id === 'c1')).toHaveLength(1);
    expect((await nc.waitForExit()).code).toBe(0);
  });
});

/** `socat -d -d TCP-LISTEN:0,bind=127.0.0.1 -`: socat can take port 0 and logs the real one. */
async function socatListen(input?: Buffer): Promise<{ socat: RunningProcess; port: number }> {
  const socat = spawnProcess('socat', ['-d', '-d', 'TCP-LISTEN:0,bind=127.0.0.1', '-'], input ? { input } : { keepStdin: true });
  const m = await socat.waitForStderr(/listening on .*?:(\d+)\s*$/m);
  return { socat, port: Number(m[1]) };
}

describe.skipIf(!hasCommand('socat'))('socat', () => {
  it('socat client → socklab echo server: all 256 byte values come back', async () => {
    const { lab, port } = await socklabEchoServer();
    // -t 5: after stdin's EOF, wait up to 5 s (not socat's 0.5 s) for the echo and the server's FIN.
    const socat = spawnProcess('socat', ['-t', '5', '-', `TCP:127.0.0.1:${port}`], { input: BYTES });
    expect((await socat.waitForExit(10_000)).code).toBe(0);
    expect(hex(socat.stdoutBytes())).toBe(hex(BYTES));
    await expectEchoedAndExit(lab);
  });

  it('socklab client → socat server: .send hex:00 … ff arrives as the 256 bytes', async () => {
    // socat's stdin stays open: its EOF would half-close the connection before socklab sent anything.
    const { socat, port } = await socatListen();
    const lab = runCli(['--json', '-e', `.connect ${port}`, '-e', `.send c1 ${HEX_PAYLOAD}`, '-e', '.end c1', '--exit']);
    expect((await lab.waitForExit(10_000)).code).toBe(0);
    socat.end();
    expect((await socat.waitForExit()).code).toBe(0);
    expect(hex(socat.stdoutBytes())).toBe(hex(BYTES));
  });

  it('socat server → socklab client: the data events carry the 256 bytes', async () => {
    const { socat, port } = await socatListen(BYTES);
    const lab = runCli(['--json', '-e', `.connect ${port}`, '-e', '.wait c1 end', '--exit']);
    expect((await lab.waitForExit(10_000)).code).toBe(0);
    expect(hex(bytesOf(lab.stdout(), 'data', 'c1'))).toBe(hex(BYTES));
    expect((await socat.waitForExit()).code).toBe(0);
  });
});
