/**
 * Issue 10, item 10: past 40 rows `.ls` shows the live endpoints first, then
 * the most recently closed; the old code showed the oldest (closed) rows and
 * hid the live ones in "… N more".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LS_ROWS } from '../../src/commands/view.js';
import { closeAll, is } from '../helpers/loopback.js';
import { commandRig } from '../helpers/commands.js';

afterEach(closeAll);

describe('.ls past 40 rows', () => {
  it('50 closed sockets, then a server and a connection: the live rows are shown, and the newest closed', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 as old');
    for (let i = 0; i < 25; i++) {
      await rig.ok('.connect old');
      await rig.ok(`.destroy c${2 * i + 1}`);
      await rig.log.waitFor(is('close', `c${2 * i + 2}`));
    }
    await rig.ok('.close old');
    await rig.ok('.wait old close');
    await rig.ok('.listen 0 as live');
    await rig.ok('.connect live');
    await rig.ok('.wait live accept');
    await rig.ok('.ls');
    const out = rig.printed.join('\n');
    const ids = [...out.matchAll(/^([sc]\d+) /gm)].map((m) => m[1]);
    expect(ids).toHaveLength(LS_ROWS);
    expect(ids.slice(0, 3)).toEqual(['s2', 'c51', 'c52']);
    // The closed ones shown are the most recent: s1 closed last of them.
    expect(ids[3]).toBe('s1');
    expect(ids).not.toContain('c1');
    expect(out).toMatch(/… 14 more \(/);
  });
});
