/**
 * What the built CLI loads before its first prompt (issue 17 item 3): the
 * built-in modules of TLS, UDP and the classroom page load on first use.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

const LAZY = ['tls', 'crypto', 'dgram', 'dns'];
let dir: string;
let probe: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'socklab-loads-'));
  probe = join(dir, 'probe.cjs');
  // Preloaded with -r: at exit, writes which of the lazy built-ins were loaded.
  writeFileSync(
    probe,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'loaded.json'))},
      JSON.stringify(${JSON.stringify(LAZY)}.filter((m) => process.moduleLoadList.includes('NativeModule ' + m)))));\n`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The lazy built-ins loaded by one CLI run of `lines`, then `.exit`. */
function loadedBy(lines: string[]): string[] {
  const args = ['-r', probe, BIN, '--no-color'];
  for (const l of lines) args.push('-e', l);
  execFileSync(process.execPath, args, { input: '.exit\n', env: { ...process.env, NO_COLOR: '1', SOCKLAB_HISTORY: '' }, timeout: 60_000 });
  return JSON.parse(readFileSync(join(dir, 'loaded.json'), 'utf8')) as string[];
}

describe('start-up loads only what the first prompt needs', () => {
  it('to the first prompt and .exit: none of node:tls, node:crypto, node:dgram, node:dns', () => {
    expect(loadedBy(['.set time on'])).toEqual([]);
  });

  it('a TCP session without TLS or .serve loads neither node:tls nor node:crypto', () => {
    // (node:dgram and node:dns come with TCP itself: net's listen and the ss of the kernel view load them.)
    const loaded = loadedBy(['.listen 0', '.connect s1', '.send c1 hi', '.expect c2 hi', '.ls']);
    expect(loaded).not.toContain('tls');
    expect(loaded).not.toContain('crypto');
  });

  it('the first .udp loads node:dgram (the probe sees a load on first use)', () => {
    expect(loadedBy(['.udp 0'])).toContain('dgram');
  });
});
