/**
 * What start-up no longer builds (issue 17 item 3, docs/performance.md "Round 2,
 * session 5") is built on first use: each case is one fresh process of the BUILT
 * CLI, so the first use in it is the first use in that process.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.js';

const ENV = { ...process.env, NO_COLOR: '1', SOCKLAB_HISTORY: '' };

/** One headless run of the built CLI with these `-e` lines: { code, out } (stdout and stderr). */
function run(args: string[], lines: string[]): { code: number | null; out: string } {
  const argv = [BIN, '--no-color', ...args, '--exit'];
  for (const l of lines) argv.push('-e', l);
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', env: ENV, timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('start-up defers these to their first use, and they work then', () => {
  it('--version is the version in package.json (the bundle has it built in)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(execFileSync(process.execPath, [BIN, '--version'], { encoding: 'utf8', env: ENV, timeout: 60_000 })).toBe(`socklab ${pkg.version}\n`);
  });

  it('the first invalid byte is escaped and the first hex dump laid out (their tables made then)', () => {
    const r = run([], ['.listen 0', '.connect s1', '.view hex c2', '.send c1 "\\xff\\x00ab"', '.expect c2 ab']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('→ 4 B  "\\xff\\0ab"');
    expect(r.out).toMatch(/^ {5}00000000 {2}ff 00 61 62 {39}\|\.\.ab\|$/m);
  });

  it('the first --var check refuses a control character in a value', () => {
    const r = run(['--var', 'X=a\u0001'], ['.set time on']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('--var X: the value holds a control character or line break');
  });

  it('the first TLS command loads node:tls and node-forge (the bundle\'s own require, made then)', () => {
    const r = run([], ['.listen 0 --tls', '.connect s1 --tls --insecure', '.send c1 hi', '.expect c2 hi']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/s1 {3}TLS with a self-signed certificate made now/);
    expect(r.out).toMatch(/c2 {3}← 2 B {2}"hi"/);
  });
});
