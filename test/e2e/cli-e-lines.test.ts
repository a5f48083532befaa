/**
 * `-e` lines (SPEC section 1): a line that is not a dot-command is JavaScript,
 * as typed at the prompt — the person on the command line holds every
 * permission, so no --allow-js. And once a signal arrived, no further line
 * starts: not in an -e list, a script or a .replay, --keep-going or not
 * (review #3, #4). The built CLI, real child processes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, runCli } from '../helpers/cli.js';
import { closeAll, tempDir } from '../helpers/loopback.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

describe('-e JavaScript lines', () => {
  it('run headless with --exit, without --allow-js; the value is printed escaped', async () => {
    const lab = runCli(['--no-time', '-e', '1+1', '-e', '.listen 0 as s', '-e', 's.address().port > 0', '-e', 'Symbol("\\x1b]0;T\\x07")', '--exit']);
    const exit = await lab.waitForExit(20_000);
    expect(lab.stdout()).not.toMatch(/unknown command/);
    expect(lab.stdout()).toMatch(/^2$/m);
    expect(lab.stdout()).toMatch(/^true$/m);
    expect(lab.stdout()).toContain('Symbol(\\x1b]0;T\\x07)');
    expect(lab.stdout()).not.toContain('\x1b');
    expect(exit.code).toBe(0);
  });

  it('a JavaScript error is one line naming the -e line, exit 1; --keep-going runs the rest', async () => {
    const lab = runCli(['--no-time', '--keep-going', '-e', 'nope', '-e', '"after"', '--exit']);
    const exit = await lab.waitForExit(20_000);
    expect(lab.stdout()).toMatch(/-e 1: nope is not defined/);
    expect(lab.stdout()).toMatch(/'after'/);
    expect(exit.code).toBe(1);
  });

  it('run in the REPL too (stdin a pipe), before the typed lines', async () => {
    const lab = runCli(['--no-time', '-e', '40+2', '-e', 'const seen = 7'], { keepStdin: true });
    await lab.waitForStdout(/\b42$/m, 20_000);
    lab.write('seen * 6\n');
    await lab.waitForStdout(/\b42\n(?:.*\n)*?.*\b42$/m, 20_000);
    expect(lab.stdout()).not.toMatch(/unknown command/);
    lab.end();
    expect((await lab.waitForExit(20_000)).code).toBe(0);
  });
});

describe('-e lines without --exit, stdin not a terminal and already at its end (CI, < /dev/null)', () => {
  it('every line runs to completion and prints before the end of stdin ends the session (review2 #1)', async () => {
    const lab = runCli(['--no-time', '-e', '.listen 0 --reply echo', '-e', '.connect s1', '-e', '.send c1 a', '-e', '.ls']);
    const exit = await lab.waitForExit(20_000);
    const out = lab.stdout();
    expect(out).toMatch(/c1 +connected/);
    expect(out).toMatch(/c1 +→ 1 B +"a"/);
    expect(out).toMatch(/^id +name +kind/m);
    expect(out.indexOf('kind')).toBeLessThan(out.indexOf('bye'));
    expect(exit.code).toBe(0);
  });
});

describe('a signal: no further line starts', () => {
  const after = ['-e', '.listen 0 as late', '-e', '.ls'];

  it('-e lines with --keep-going', async () => {
    const lab = runCli(['--no-time', '--keep-going', '-e', '.listen 0 as s', '-e', '.sleep 10m', ...after, '--exit']);
    await lab.waitForStdout(/s1 +listening/, 20_000);
    lab.child.kill('SIGTERM');
    const exit = await lab.waitForExit(20_000);
    expect(exit.code).toBe(1);
    expect(lab.stdout()).not.toMatch(/s2|late/);
  });

  it.each([true, false])('a script, and a .replay inside it (--keep-going %s)', async (keepGoing) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'inner.lab'), '.listen 0 as s\n.sleep 10m\n.listen 0 as late\n');
    writeFileSync(join(dir, 'outer.lab'), '.replay inner.lab\n.listen 0 as later\n.ls\n');
    const lab = runCli(['--no-time', ...(keepGoing ? ['--keep-going'] : []), join(dir, 'outer.lab')]);
    await lab.waitForStdout(/s1 +listening/, 20_000);
    lab.child.kill('SIGHUP');
    const exit = await lab.waitForExit(20_000);
    expect(exit.code).toBe(1);
    expect(lab.stdout()).not.toMatch(/s2|late/);
  });
});
