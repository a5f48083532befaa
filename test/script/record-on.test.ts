/**
 * Rules in scripts (SPEC 6 and 12): `.on` lines are recorded and replayed
 * like any command, the lines a rule runs are not recorded (replaying them
 * as well would answer twice), and a rule whose COMMAND is JavaScript needs
 * --allow-js: refused when the script is checked, before anything runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkScript } from '../../src/script/check.js';
import { COMMANDS } from '../../src/commands/index.js';
import { scriptPermissions } from '../../src/script/permissions.js';
import { cleanupProcesses, jsonEvents, runCli } from '../helpers/cli.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, tempDir } from '../helpers/loopback.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

describe('record → replay of rules', () => {
  it('the .on line is recorded, the lines it ran are not; the recording replays to the same answers', async () => {
    const file = join(tempDir(), 'pingpong.lab');
    const rig = commandRig();
    await rig.ok(`.record ${file}`);
    await rig.ok('.listen 0 as srv');
    await rig.ok('.on srv data /PING (\\d+)\\r?\\n/ .sendln $id PONG $1');
    await rig.ok('.connect srv as cli');
    await rig.ok('.sendln cli PING 1');
    await rig.ok('.expect cli "PONG 1\\n"');
    await rig.ok('.record stop');
    expect(rig.log.of('rule')).toHaveLength(1);
    expect(readFileSync(file, 'utf8')).toBe(
      ['.listen 0 as srv', '.on srv data /PING (\\d+)\\r?\\n/ .sendln $id PONG $1', '.connect srv as cli', '.sendln cli PING 1', '.expect cli "PONG 1\\n"', ''].join('\n'),
    );
    const replay = runCli(['--json', file]);
    expect(await replay.waitForExit(20_000)).toMatchObject({ code: 0 });
    const events = jsonEvents(replay.stdout());
    expect(events.filter((e) => e.event === 'rule')).toEqual([expect.objectContaining({ rule: 'r1', id: 'c2', command: '.sendln c2 "PONG 1"' })]);
    expect(events.filter((e) => e.event === 'expect-ok')).toHaveLength(1);
  });

  it('a rule from .replay in a running session keeps firing after the replay ended', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'server.lab'), '.listen 0 as srv\n.on srv data /PING (\\d+)\\n/ .sendln $id PONG $1\n');
    const rig = commandRig();
    await rig.ok(`.replay ${join(dir, 'server.lab')}`);
    await rig.ok('.connect srv as cli');
    await rig.ok('.sendln cli PING 7');
    await rig.ok('.expect cli "PONG 7\\n"');
  });
});

describe('checking a script with rules', () => {
  const check = (source: string, js: boolean) => checkScript(source, COMMANDS, scriptPermissions(join(tempDir(), 'x.lab'), { js, read: false, write: false })).problems;

  it('a JavaScript COMMAND is refused without --allow-js, not quoted; allowed with it', () => {
    const source = '.listen 0 as srv\n.on srv accept globalThis.secret = "$id"\n';
    const problems = check(source, false);
    expect(problems).toEqual([{ number: 2, kind: 'js', message: "a rule's JavaScript COMMAND refused (25 characters, not quoted): scripts run JavaScript only with --allow-js" }]);
    expect(check(source, true)).toEqual([]);
  });

  it('a rule whose command reads a file outside the folder, or a bad rule, is refused before anything runs', () => {
    expect(check('.listen 0\n.on s1 accept .send $id file:/etc/passwd\n', false)).toEqual([
      expect.objectContaining({ number: 2, kind: 'permission', message: expect.stringMatching(/file:\/etc\/passwd is an absolute path .*--allow-read/) }),
    ]);
    expect(check('.on s1 data x .send --repeat $1 $id y\n.on s1 accept /x/ .ls\n', false).map((p) => p.number)).toEqual([1, 2]);
  });

  it('socklab FILE.lab with a JavaScript rule: exit 2 without --allow-js, nothing ran; with it the rule runs', async () => {
    const file = join(tempDir(), 'js-rule.lab');
    writeFileSync(file, '.listen 0 as srv\n.on srv accept globalThis.acceptedBy = "$id"\n.connect srv\n.wait srv accept\n');
    const refused = runCli(['--json', file]);
    expect(await refused.waitForExit(20_000)).toMatchObject({ code: 2 });
    expect(jsonEvents(refused.stdout()).filter((e) => e.event === 'listening')).toEqual([]);
    const allowed = runCli(['--json', '--allow-js', file]);
    expect(await allowed.waitForExit(20_000)).toMatchObject({ code: 0 });
    expect(jsonEvents(allowed.stdout()).filter((e) => e.event === 'rule')).toEqual([expect.objectContaining({ id: 'c2', command: 'globalThis.acceptedBy = "c2"' })]);
  });
});
