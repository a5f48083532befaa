/**
 * Issue 9, "no pattern and no peer can hang the process": a regex with
 * catastrophic backtracking in JavaScript's engine against a greeting that
 * never matches. With RE2 the `.expect` times out when it says it will, and
 * SIGTERM during a pending regex `.expect` ends the session as `.exit` does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, runCli } from '../helpers/cli.js';

afterEach(cleanupProcesses);

const GREET = `${'a'.repeat(30)}!`;

describe('a regex cannot hang socklab', () => {
  it('the issue example: .expect c1 /(a+)+$/ --timeout 2s fails after 2 s with exit 1', async () => {
    const lab = runCli(['-e', `.listen 0 --greet ${GREET}`, '-e', '.connect s1', '-e', '.expect c1 /(a+)+$/ --timeout 2s', '--exit']);
    const exit = await lab.waitForExit(20_000);
    expect(exit.code).toBe(1);
    expect(lab.stdout() + lab.stderr()).toMatch(/expect c1 \/\(a\+\)\+\$\/ timed out after 2000 ms; received "a{30}!"/);
  });

  it('SIGTERM during a pending catastrophic regex ends the session (no busy loop holds the signal)', async () => {
    const lab = runCli(['-e', `.listen 0 --greet ${GREET}`, '-e', '.connect s1', '-e', '.expect c1 /(a+|b)+(a+)+$/ --timeout 60s', '--exit']);
    await lab.waitForStdout(/c1 +← 31 B/, 10_000);
    lab.child.kill('SIGTERM');
    const exit = await lab.waitForExit(10_000);
    expect(exit.signal).toBeNull();
    expect(exit.code).not.toBe(0);
  });

  it('lookaround and backreferences are refused in one line naming the construct', async () => {
    const lab = runCli(['-e', '.listen 0', '-e', '.expect s1 /(a)\\1/', '-e', '.expect s1 /a(?=b)/', '--exit']);
    await lab.waitForExit(10_000);
    const out = lab.stdout() + lab.stderr();
    expect(out).toMatch(/bad regex \/\(a\)\\1\/: a backreference \(\\1 … \\9\) is not supported/);
  });
});
