/**
 * `socklab test`'s progress line: on a terminal only, and erased before each
 * result line, so the lines a person reads are whole. (The CLI tests run
 * with stdout a pipe: there, no `\r` and no erase sequence may appear.)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTestArgs, runTestCommand } from '../../src/cli-test.js';
import { cleanupProcesses, runCli } from '../helpers/cli.js';
import { closeAll, tempDir } from '../helpers/loopback.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

function suite(n: number): string {
  const dir = tempDir();
  for (let i = 0; i < n; i++) writeFileSync(join(dir, `f${i}.lab`), '.listen 0 --reply echo as srv\n.connect srv as c\n.sendln c hi\n.expect c "hi"\n');
  return dir;
}

describe('the progress line', () => {
  it('on a terminal: [done/total] while files run, erased before each result line and at the end', async () => {
    let out = '';
    const code = await runTestCommand(parseTestArgs(['--jobs', '2', suite(3)]), { write: (t) => (out += t), isTTY: true });
    expect(code).toBe(0);
    expect(out).toMatch(/\r\x1b\[K\[0\/3\] 1 running/);
    expect(out).toMatch(/\r\x1b\[KPASS /);
    // What stays on the screen: every result line whole, then the summary.
    const screen = out.split('\n').map((line) => line.split('\r').pop()?.replace(/\x1b\[K/g, '') ?? '');
    expect(screen.filter((l) => l.startsWith('PASS'))).toHaveLength(3);
    expect(screen.at(-2)).toMatch(/^3 passed, 0 failed; 3 files in /);
  });

  it('not on a terminal (a CI log): no progress line, no \\r, no escape sequence', async () => {
    const p = runCli(['test', suite(2)]);
    expect((await p.waitForExit(20_000)).code).toBe(0);
    expect(p.stdout()).not.toMatch(/[\r\x1b]/);
    expect(p.stdout()).toMatch(/^PASS .*\nPASS .*\n\n2 passed, 0 failed; 2 files in /);
  });
});
