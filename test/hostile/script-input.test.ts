/**
 * Script input is bounded (SPEC section 6): a device is refused before a
 * byte is read, a pipe is read only up to 16 MiB (or a 1 MiB line), a file
 * that is not a script is named, never quoted. Each run is a real child
 * process; its peak memory is measured by /usr/bin/time.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, cleanupProcesses, hasCommand, spawnProcess } from '../helpers/cli.js';
import { closeAll, tempDir } from '../helpers/loopback.js';

afterEach(cleanupProcesses);
// tempDir() folders are removed with the rest of what loopback tracks.
afterEach(closeAll);

/** Peak RSS allowed for a refused script, in KiB: the node process itself is ~50 MiB. */
const RSS_BOUND_KIB = 160 * 1024;

const hasTime = hasCommand('/usr/bin/time');

/** Run `shell` (with socklab as $SOCKLAB) under /usr/bin/time; resolves to exit code, stderr and peak RSS. */
async function measured(shell: string): Promise<{ code: number | null; stderr: string; rssKib: number }> {
  const p = spawnProcess('bash', ['-c', shell.replaceAll('$SOCKLAB', `/usr/bin/time -q -f maxrss=%M node ${BIN} --no-time`)], { env: { NO_COLOR: '1', SOCKLAB_HISTORY: '' } });
  const exit = await p.waitForExit(20_000);
  const rss = /maxrss=(\d+)/.exec(p.stderr());
  return { code: exit.code, stderr: p.stderr().replace(/maxrss=\d+\n?/, ''), rssKib: Number(rss?.[1] ?? Infinity) };
}

describe.skipIf(!hasTime)('script input is bounded', () => {
  it('socklab < /dev/zero: refused as a device at once, exit 2, bounded memory', async () => {
    const r = await measured('$SOCKLAB < /dev/zero');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('socklab: <stdin> is a device, not a script: a script is a regular file or a pipe\n');
    expect(r.rssKib).toBeLessThan(RSS_BOUND_KIB);
  });

  it('socklab /dev/zero: refused as a device, exit 2, bounded memory', async () => {
    const r = await measured('$SOCKLAB /dev/zero');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('socklab: /dev/zero is a device, not a script: a script is a regular file or a pipe\n');
    expect(r.rssKib).toBeLessThan(RSS_BOUND_KIB);
  });

  it('.replay /dev/zero inside a script: refused at check time, exit 2, nothing ran', async () => {
    const file = join(tempDir(), 'zero.lab');
    writeFileSync(file, '.listen 0\n.replay /dev/zero\n');
    const r = await measured(`$SOCKLAB --allow-read ${file}`);
    expect(r.code).toBe(2);
    expect(r.rssKib).toBeLessThan(RSS_BOUND_KIB);
  });

  it('cat /dev/zero | socklab: a pipe without a newline is stopped at the 1 MiB line bound', async () => {
    const r = await measured('cat /dev/zero | $SOCKLAB');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('socklab: <stdin>:1: line longer than 1 MiB, the limit of a script line: use file:PATH for large payloads\n');
    expect(r.rssKib).toBeLessThan(RSS_BOUND_KIB);
  });

  it('yes .sleep 0 | socklab: an endless pipe of valid lines is stopped at 16 MiB, before a line runs', async () => {
    const r = await measured("yes '.sleep 0' | $SOCKLAB");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('socklab: <stdin> is longer than 16 MiB, the limit of a script: split it and .replay the parts\n');
    expect(r.rssKib).toBeLessThan(RSS_BOUND_KIB);
  });

  it('a file of 17 MiB and a file with a 2 MiB line are refused without running', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'big.lab'), '# padding\n'.repeat(1.7 * 1024 * 1024));
    writeFileSync(join(dir, 'line.lab'), `.listen 0\n.send c1 ${'x'.repeat(2 * 1024 * 1024)}\n`);
    const big = await measured(`$SOCKLAB ${join(dir, 'big.lab')}`);
    expect([big.code, big.stderr]).toEqual([2, `socklab: ${join(dir, 'big.lab')} is longer than 16 MiB, the limit of a script: split it and .replay the parts\n`]);
    const line = await measured(`$SOCKLAB ${join(dir, 'line.lab')}`);
    expect(line.code).toBe(2);
    expect(line.stderr).toMatch(/line\.lab:2: line longer than 1 MiB/);
  });

  it('a FIFO as the script is read like a pipe; a FIFO nobody writes to waits without blocking signals', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'in.lab');
    execFileSync('mkfifo', [fifo]);
    const r = await measured(`(echo .listen 0; echo .exit) > ${fifo} & $SOCKLAB ${fifo}`);
    expect(r.code).toBe(0);
  });
});

describe('a file that is not a script is named, never quoted', () => {
  it.each([
    ['binary (NUL bytes)', Buffer.from('.listen 0\nSECRET\x00KEY\n'), 'it holds NUL bytes (a binary file)'],
    ['not UTF-8', Buffer.from([0x2e, 0x6c, 0x0a, 0x53, 0x45, 0x43, 0xff, 0xfe, 0x0a]), 'it is not UTF-8 text'],
  ])('.replay of a %s file: the error names the file and what is wrong, no content', async (_kind, bytes, why) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'not.lab'), bytes);
    writeFileSync(join(dir, 'main.lab'), '.replay not.lab\n');
    const p = spawnProcess('node', [BIN, '--no-time', join(dir, 'main.lab')], { env: { NO_COLOR: '1' } });
    expect((await p.waitForExit(10_000)).code).toBe(2);
    expect(p.stdout()).toBe(`!    ${join(dir, 'main.lab')}:1: not.lab is not a socklab script: ${why}\n`);
    expect(p.stdout() + p.stderr()).not.toMatch(/SEC/);
  });
});
