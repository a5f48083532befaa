/**
 * Running ss: the filter on socklab's 4-tuples, one plain statement where
 * ss is missing or the platform is not Linux, and what happens when the `ss`
 * on PATH misbehaves (a fake one in a temp directory: hostile output, a hang,
 * a flood, a failure).
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_FILTERED_KEYS, NEEDS_SS, SS_MAX_OUTPUT, kernelKeyOf, queryKernel, ssArguments, ssFilter, type KernelKey } from '../../src/observers/kernel-view.js';
import { closeAll, tempDir } from '../helpers/loopback.js';

afterEach(closeAll);

const KEY: KernelKey = { local: { host: '127.0.0.1', port: 40000 }, remote: { host: '127.0.0.1', port: 9000 } };
const LINUX = process.platform === 'linux';

/** A directory holding only an executable `ss` that runs this shell script; its PATH. */
function fakeSs(script: string): NodeJS.ProcessEnv {
  const dir = tempDir();
  const file = join(dir, 'ss');
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return { PATH: `${dir}:/bin:/usr/bin` };
}

describe('keys and the filter', () => {
  it('kernelKeyOf takes socklab\'s host:port strings, IPv6 in brackets; not paths, names or ports out of range', () => {
    expect(kernelKeyOf('127.0.0.1:40000', '127.0.0.1:9000')).toEqual(KEY);
    expect(kernelKeyOf('[::1]:5', '[::FFFF:127.0.0.1]:6')).toEqual({ local: { host: '::1', port: 5 }, remote: { host: '::ffff:127.0.0.1', port: 6 } });
    expect(kernelKeyOf('/tmp/x.sock', '(unnamed)')).toBeUndefined();
    expect(kernelKeyOf('127.0.0.1:1', 'localhost:9000')).toBeUndefined();
    expect(kernelKeyOf('127.0.0.1:0', '127.0.0.1:9000')).toBeUndefined();
    expect(kernelKeyOf('127.0.0.1:70000', '127.0.0.1:9000')).toBeUndefined();
  });

  it('one filter for every connection, both directions, IPv6 in brackets; past the bound no filter at all', () => {
    const v6: KernelKey = { local: { host: '::1', port: 5 }, remote: { host: '::1', port: 6 } };
    expect(ssFilter([KEY, v6])).toBe(
      '( src 127.0.0.1:40000 and dst 127.0.0.1:9000 ) or ( src 127.0.0.1:9000 and dst 127.0.0.1:40000 ) or ( src [::1]:5 and dst [::1]:6 ) or ( src [::1]:6 and dst [::1]:5 )',
    );
    // Both ends of one loopback connection give the same two terms once.
    const other: KernelKey = { local: KEY.remote, remote: KEY.local };
    expect(ssFilter([KEY, other])).toBe(ssFilter([KEY]));
    expect(ssArguments([KEY])).toEqual(['-tinoH', 'state', 'all', ssFilter([KEY])]);
    const many = Array.from({ length: MAX_FILTERED_KEYS + 1 }, (_, i) => ({ ...KEY, local: { host: '127.0.0.1', port: 1000 + i } }));
    expect(ssArguments(many)).toEqual(['-tinoH', 'state', 'all']);
  });
});

describe('where there is no kernel view, one plain line', () => {
  it('on another platform, without running anything', async () => {
    expect(await queryKernel([KEY], { platform: 'darwin' })).toEqual({ ok: false, reason: `${NEEDS_SS} (this system is darwin)` });
  });

  it.runIf(LINUX)('with a PATH that has no ss', async () => {
    const view = await queryKernel([KEY], { env: { PATH: tempDir() } });
    expect(view).toEqual({ ok: false, reason: "the kernel's view needs `ss` from iproute2 on Linux (no ss on PATH: install iproute2)" });
  });

  it.runIf(LINUX)('an ss that fails says its first line of stderr; one that hangs is given up on; one that floods is cut off', async () => {
    const failing = await queryKernel([KEY], { env: fakeSs('echo "ss: bad filter" >&2; echo more >&2; exit 1') });
    expect(failing).toEqual({ ok: false, reason: 'ss failed: ss: bad filter' });
    const hanging = await queryKernel([KEY], { env: fakeSs('exec sleep 60'), timeoutMs: 300 });
    expect(hanging).toEqual({ ok: false, reason: 'ss did not answer within 300 ms: try again' });
    const flooding = await queryKernel([KEY], { env: fakeSs(`head -c ${SS_MAX_OUTPUT + 10} /dev/zero`) });
    expect(flooding).toEqual({ ok: false, reason: `ss printed more than ${SS_MAX_OUTPUT} bytes: too many sockets to read` });
  });

  it.runIf(LINUX)('an ss that prints garbage and escape codes: nothing is found, the unreadable lines are counted', async () => {
    const env = fakeSs(String.raw`printf 'ESTAB 0 0 127.0.0.1:40000 127.0.0.1:9000\n\t rtt:1/1 cwnd:3\n\033[2J\033]0;pwned\007 0 0 127.0.0.1:40000 127.0.0.1:9000\n'`);
    const view = await queryKernel([KEY], { env });
    expect(view.ok).toBe(true);
    if (!view.ok) return;
    expect(view.unreadable).toBe(1);
    expect(view.find(KEY)).toMatchObject({ state: 'ESTABLISHED', cwnd: 3 });
    expect(view.findPeer(KEY)).toBeUndefined();
  });
});
