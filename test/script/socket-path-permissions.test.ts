/**
 * Unix socket paths are files of the script (SPEC 6, REVIEW2 #8): `.listen
 * PATH` and `.proxy PATH …` create one (a script needs --allow-write),
 * `.connect PATH` and a `.proxy` path TARGET use one (without --allow-read it
 * stays in the script's folder). Relative paths resolve against the script's
 * folder; a refusal comes before anything runs (exit 2). The person typing
 * holds every permission. A path where something other than a socket exists
 * is never to be removed: the error says to pick another path.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { errorHint } from '../../src/render/hints.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, tempDir } from '../helpers/loopback.js';
import { lesson, problems } from '../helpers/script-perms.js';
import { cleanupProcesses, runCli } from '../helpers/cli.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

describe('Unix socket paths in scripts go through the permission check', () => {
  it.each([
    ['.listen /tmp/socklab-x.sock', /\.listen \/tmp\/socklab-x\.sock would write a file: .*--allow-write/],
    ['.listen ../out.sock', /\.listen \.\.\/out\.sock would write a file: .*--allow-write/],
    ['.listen lab.sock', /\.listen lab\.sock would write a file: .*--allow-write/],
    ['.proxy ./p.sock 9000', /\.proxy \.\/p\.sock would write a file: .*--allow-write/],
    ['.connect /var/run/docker.sock', /\.connect \/var\/run\/docker\.sock is an absolute path outside the script's folder: .*--allow-read/],
    ['.connect ../up.sock', /\.connect \.\.\/up\.sock leads out of the script's folder: .*--allow-read/],
    ['.proxy 0 /var/run/docker.sock', /\.proxy \/var\/run\/docker\.sock is an absolute path .*--allow-read/],
  ])('without permission, %s is refused before anything runs', (line, message) => {
    const found = problems(line, lesson().perms);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it('ports and server names are no files; --allow-write lets a script create socket files, --allow-read reach any', () => {
    expect(problems('.listen 0 as s\n.connect s\n.proxy 0 s\n.connect 127.0.0.1:9\n.connect in.sock\n.proxy 0 ./in.sock', lesson().perms)).toEqual([]);
    expect(problems('.listen lab.sock\n.listen /tmp/socklab-y.sock\n.proxy p.sock 9000', lesson({ write: true }).perms)).toEqual([]);
    expect(problems('.connect /var/run/docker.sock\n.proxy 0 ../up.sock', lesson({ read: true }).perms)).toEqual([]);
  });

  it('when the lines run, relative paths resolve against the script folder (not the working directory)', async () => {
    const { dir, perms } = lesson({ write: true });
    const rig = commandRig();
    rig.ctx.permissions = perms;
    await rig.ok('.listen lab.sock --reply echo as srv');
    expect(lstatSync(join(dir, 'lab.sock')).isSocket()).toBe(true);
    expect(existsSync(join(process.cwd(), 'lab.sock'))).toBe(false);
    await rig.ok('.proxy relay.sock lab.sock');
    expect(lstatSync(join(dir, 'relay.sock')).isSocket()).toBe(true);
    await rig.ok('.connect relay.sock');
    await rig.ok('.send c1 hi');
    // Through the relay to the echo server and back: both paths were the script folder's.
    await rig.log.waitFor((e) => e.type === 'data' && e.id === 'c1');
    // The check runs again as the line runs: a path out of the folder is refused there too.
    const err = await rig.fail('.connect ../lab.sock');
    expect(err.code).toBe('E_PERMISSION');
  });

  it('the person typing holds every permission: any path, as typed', async () => {
    const dir = tempDir();
    const rig = commandRig({ interactive: true });
    await rig.ok(`.listen ${join(dir, 'typed.sock')}`);
    expect(lstatSync(join(dir, 'typed.sock')).isSocket()).toBe(true);
  });

  it('socklab FILE: a socket path without --allow-write is refused with exit 2, no file created, nothing run', async () => {
    const { dir } = lesson();
    writeFileSync(join(dir, 'main.lab'), '.listen 0\n.listen ../out.sock\n');
    const p = runCli(['--no-time', join(dir, 'main.lab')]);
    const exit = await p.waitForExit(10_000);
    const out = p.stdout() + p.stderr();
    expect(exit.code, out).toBe(2);
    expect(out).toMatch(/main\.lab:2: \.listen \.\.\/out\.sock would write a file: .*--allow-write/);
    expect(out).not.toMatch(/listening/);
    expect(existsSync(join(dir, '..', 'out.sock'))).toBe(false);
  });
});

describe('a socket path where something else exists', () => {
  function things(): { dir: string; paths: Record<string, string> } {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'keep me\n');
    mkdirSync(join(dir, 'folder'));
    symlinkSync('notes.txt', join(dir, 'link'));
    symlinkSync('nowhere', join(dir, 'dangling'));
    return { dir, paths: { file: join(dir, 'notes.txt'), directory: join(dir, 'folder'), symlink: join(dir, 'link'), 'dangling symlink': join(dir, 'dangling') } };
  }

  it.each(['file', 'directory', 'symlink', 'dangling symlink'])('.listen on a %s: "PATH exists and is not a socket: pick another path", never rm', async (kind) => {
    const { dir, paths } = things();
    const path = paths[kind]!;
    const rig = commandRig({ interactive: true });
    await rig.run(`.listen ${path}`);
    const error = await rig.log.waitFor((e) => e.type === 'error' && e.id === 's1');
    expect(error).toMatchObject({ code: 'EADDRINUSE', context: 'socket-path-not-socket', message: `${path} exists and is not a socket: pick another path` });
    const hint = errorHint('EADDRINUSE', 'socket-path-not-socket') ?? '';
    expect(hint).not.toMatch(/\brm\b|remove/i);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('keep me\n');
  });

  it.each(['file', 'directory', 'symlink'])('.connect to a %s: not a "stale socket file" either', async (kind) => {
    const { paths } = things();
    const path = paths[kind]!;
    const rig = commandRig({ interactive: true });
    await rig.run(`.connect ${path}`);
    const error = await rig.log.waitFor((e) => e.type === 'error' && e.id === 'c1');
    expect(error).toMatchObject({ code: 'ECONNREFUSED', context: 'socket-path-not-socket', message: `${path} exists and is not a socket: pick another path` });
    expect(errorHint('ECONNREFUSED', 'socket-path-not-socket') ?? '').not.toMatch(/\brm\b|remove|stale/i);
  });
});
