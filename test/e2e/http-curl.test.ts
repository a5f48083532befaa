/**
 * `.listen --http` against curl, the peer of the http-echo lesson, for what
 * the lesson tests do not cover: a large upload, where curl first sends only
 * the head with `Expect: 100-continue` and waits for `100 Continue`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, hasCommand, runCli } from '../helpers/cli.js';

const run = promisify(execFile);
let dir: string | undefined;

afterEach(async () => {
  await cleanupProcesses();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe.skipIf(!hasCommand('curl'))('--http and curl', () => {
  it('a 2 MB upload gets 100 Continue, then the template\'s answer with the byte count', async () => {
    const lab = runCli(['--no-time', '-e', ".listen 0 --http --reply 'got {len} bytes'"], { keepStdin: true });
    const [, port] = await lab.waitForStdout(/listening on 127\.0\.0\.1:(\d+)/);
    dir = mkdtempSync(join(tmpdir(), 'socklab-http-'));
    const file = join(dir, 'upload.bin');
    writeFileSync(file, Buffer.alloc(2_000_000, 0x61));
    const { stdout, stderr } = await run('curl', ['-sS', '-v', '--max-time', '10', '--data-binary', `@${file}`, `http://127.0.0.1:${port}/up`]);
    expect(stderr).toContain('Expect: 100-continue');
    expect(stderr).toContain('< HTTP/1.1 100 Continue');
    expect(stdout).toBe('got 2000000 bytes');
    await lab.waitForStdout('HTTP POST /up (2000000 B body) → 200');
    lab.end();
    expect((await lab.waitForExit(5000)).code).toBe(0);
  });
});
