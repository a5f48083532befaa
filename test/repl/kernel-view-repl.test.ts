/**
 * The kernel's view does not block the REPL: while `ss` has not answered,
 * events still print and the prompt is back; lines typed after `.show` wait
 * their turn (so a pasted `.close c1` cannot overtake it), and print after it.
 * The `ss` here is a wrapper on PATH that holds its answer until the test
 * creates a file, then runs the real ss.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasCommand } from '../helpers/cli.js';
import { closeAll, peerClient, tempDir, track } from '../helpers/loopback.js';
import { startHarness } from '../helpers/repl-harness.js';
import { execFileSync } from 'node:child_process';

afterEach(closeAll);

const HAS_SS = process.platform === 'linux' && hasCommand('ss');

describe.runIf(HAS_SS)('the REPL while ss is slow', () => {
  it('events print and the prompt returns; the line typed after .show runs after its answer', async () => {
    const realSs = execFileSync('sh', ['-c', 'command -v ss'], { encoding: 'utf8' }).trim();
    const dir = tempDir();
    const go = join(dir, 'go');
    writeFileSync(join(dir, 'ss'), `#!/bin/sh\nwhile [ ! -e '${go}' ]; do sleep 0.05; done\nexec '${realSs}' "$@"\n`);
    chmodSync(join(dir, 'ss'), 0o755);
    const saved = process.env.PATH;
    process.env.PATH = `${dir}:${saved ?? ''}`;
    track(() => void (process.env.PATH = saved));

    const h = startHarness();
    h.type('.listen 0 as srv');
    await h.waitFor(/s1 +listening on 127\.0\.0\.1:(\d+)/);
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(h.output())![1]);
    const client = await peerClient(port);
    track(() => void client.destroy());
    await h.waitFor('accepted by s1');
    h.mark();
    h.type('.show c1');
    h.type('"after " + "show"');
    // ss is held: an event from the peer still prints at once.
    client.write('ping');
    await h.waitFor('← 4 B  "ping"');
    expect(h.output()).not.toContain("'after show'");
    expect(h.output()).not.toContain('kernel ');
    writeFileSync(go, '');
    const answer = await h.waitFor(/kernel {11}ESTABLISHED {2}\(ss\)[\s\S]*'after show'/);
    expect(answer).toContain('options');
  });
});
