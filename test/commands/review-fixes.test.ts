/**
 * Behaviour settled after a new user's review: names, views, timeouts,
 * keep-going summaries, connecting to a server that never listened.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runScript } from '../../src/script/runner.js';
import { scriptPermissions } from '../../src/script/permissions.js';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { peerServer } from '../helpers/loopback.js';

let rig: CommandRig | undefined;
let dir: string | undefined;
afterEach(async () => {
  await rig?.ctx.session.shutdown();
  rig = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('names', () => {
  it.each(['class', 'function', 'await', 'undefined'])('a JavaScript keyword (%s) is not a name: it is bound in the JS context', async (word) => {
    rig = commandRig();
    const err = await rig.fail(`.listen 0 as ${word}`);
    expect(err.code).toBe('E_USAGE');
    expect(err.message).toContain('JavaScript keyword');
  });

  it('a lesson that names its endpoints can be replayed twice in one session', async () => {
    rig = commandRig();
    dir = mkdtempSync(join(tmpdir(), 'socklab-replay-'));
    const file = join(dir, 'lesson.lab');
    writeFileSync(file, ['.listen 0 --reply echo as srv', '.connect srv as cli', '.sendln cli hi', '.expect cli hi', '.close cli', '.wait cli close', '.close srv', '.wait srv close'].join('\n'));
    await rig.ok(`.replay ${file}`);
    await rig.ok(`.replay ${file}`);
    expect(rig.ctx.session.get('srv').id).toBe('s2');
  });
});

describe('.view', () => {
  it('the session view replaces the per-socket ones', async () => {
    rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.ok('.view hex c1');
    expect(rig.settings.views.get('c1')).toBe('hex');
    await rig.ok('.view off');
    expect(rig.settings.view).toBe('off');
    expect(rig.settings.views.size).toBe(0);
  });
});

describe('.connect', () => {
  it('--timeout 0 is refused with what would be right', async () => {
    rig = commandRig();
    const err = await rig.fail('.connect 9 --timeout 0');
    expect(err.message).toMatch(/--timeout 0 would give up at once: give a duration like 500ms/);
  });

  it('to a server whose listen failed: says the server is not listening', async () => {
    const peer = await peerServer();
    rig = commandRig({ interactive: true });
    // Interactive: the listen error shows as an event; the connect must still answer.
    void rig.run(`.listen ${peer.port}`);
    const err = await rig.fail('.connect s1');
    expect(err.code).toBe('E_STATE');
    expect(err.message).toMatch(/^s1 is not listening: listen EADDRINUSE/);
    await peer.close();
  });
});

describe('--keep-going', () => {
  it('ends with a note that counts the failed lines', async () => {
    rig = commandRig();
    const code = await runScript(rig.ctx, { name: 'kg.lab', source: '.listen 0\n.send c9 x\n.close c9\n', permissions: scriptPermissions(undefined, { js: false, read: false, write: false }), keepGoing: true });
    expect(code).toBe(1);
    expect(rig.log.of('note').map((n) => n.message)).toContain('kg.lab: 2 of 3 lines failed');
  });
});

describe('.wait … accept', () => {
  it('says so when the queued accept it hands over is a socket that is already closed', async () => {
    rig = commandRig();
    await rig.ok('.listen 0 as q');
    await rig.ok('.connect q as first');
    await rig.ok('.close first');
    await rig.ok('.wait first close');
    await rig.ok('.wait c2 close');
    await rig.ok('.wait q accept as old');
    expect(rig.printed.at(-1)).toBe('old is c2, accepted earlier and already closed');
  });
});
