/**
 * Issue 10, item 7: a Unix socket shows the real path on the side that has it
 * (the server's), and says plainly that the other end is unnamed — in events,
 * `.ls` and `.show`. (The old code printed `connected unix → unix` and showed
 * the server's own path as the accepted side's peer.)
 */
import { join } from 'node:path';
import pc from 'picocolors';
import { afterEach, describe, expect, it } from 'vitest';
import { formatEvent } from '../../src/render/human.js';
import { closeAll, is, tempDir } from '../helpers/loopback.js';
import { commandRig } from '../helpers/commands.js';

afterEach(closeAll);
const plain = { time: false, colors: pc.createColors(false) };

describe('Unix socket names', () => {
  it('events, .ls and .show: the path on the server side, (unnamed) for the client end', async () => {
    const path = join(tempDir(), 'x.sock');
    const rig = commandRig();
    await rig.ok(`.listen ${path}`);
    await rig.ok(`.connect ${path}`);
    await rig.ok('.wait s1 accept');
    const connect = await rig.log.waitFor(is('connect', 'c1'));
    const accept = await rig.log.waitFor(is('accept', 'c2'));
    expect(formatEvent(connect, plain)).toBe(`c1   connected (unnamed) → ${path}`);
    expect(formatEvent(accept, plain)).toBe('c2   accepted by s1 from (unnamed)');
    expect(accept.local).toBe(path);
    await rig.ok('.ls');
    const ls = rig.printed.join('\n');
    expect(ls).toMatch(new RegExp(`^c1 .*\\(unnamed\\) +${path.replace(/[.]/g, '\\.')} `, 'm'));
    expect(ls).toMatch(new RegExp(`^c2 .*${path.replace(/[.]/g, '\\.')} +\\(unnamed\\) `, 'm'));
    expect(ls).not.toMatch(/\bunix\b/);
    rig.printed.length = 0;
    await rig.ok('.show c2');
    expect(rig.printed.join('\n')).toContain('(unnamed)');
    expect(rig.printed.join('\n')).toContain(path);
  });
});
