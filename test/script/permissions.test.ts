import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { checkScript, MAX_REPLAY_DEPTH } from '../../src/script/check.js';
import { checkFile, scriptPermissions, type Permissions } from '../../src/script/permissions.js';
import { thrown } from '../helpers/errors.js';
import { closeAll, tempDir } from '../helpers/loopback.js';

// tempDir() folders are removed with the rest of what loopback tracks.
afterEach(closeAll);

const NONE = { js: false, read: false, write: false };

/** A lesson folder with a script in it; returns its permissions without any flag. */
function lesson(flags: Partial<typeof NONE> = {}): { dir: string; perms: Permissions } {
  const dir = join(tempDir(), 'lesson');
  mkdirSync(dir);
  writeFileSync(join(dir, 'data.bin'), 'hi');
  return { dir, perms: scriptPermissions(join(dir, 'main.lab'), { ...NONE, ...flags }) };
}

/** `fn` throws E_PERMISSION with a message matching `message`. */
function refused(fn: () => unknown, message: RegExp): void {
  const err = thrown(fn);
  expect(err.code).toBe('E_PERMISSION');
  expect(err.message).toMatch(message);
}

const problemsOf = (source: string, perms: Permissions) =>
  checkScript(source, COMMANDS, perms).problems.map((p) => ({ number: p.number, kind: p.kind, file: p.file, message: p.message }));

describe('checkFile: the one permission check of every path a script uses', () => {
  it('the person typing holds every permission: the path is used as typed', () => {
    expect(checkFile(undefined, { path: '/etc/hosts', access: 'read', what: '.replay' })).toBe('/etc/hosts');
    expect(checkFile(undefined, { path: '../x.lab', access: 'write', what: '.record' })).toBe('../x.lab');
  });

  it('resolves a relative path against the script folder, not the working directory', () => {
    const { dir, perms } = lesson();
    expect(checkFile(perms, { path: 'data.bin', access: 'read', what: 'payload file:' })).toBe(join(dir, 'data.bin'));
    expect(checkFile(perms, { path: 'sub/../data.bin', access: 'read', what: 'payload file:' })).toBe(join(dir, 'data.bin'));
  });

  it.each([
    ['/etc/passwd', /payload file:\/etc\/passwd is an absolute path outside the script's folder: .*--allow-read/],
    ['../secret', /leads out of the script's folder: .*--allow-read/],
    ['sub/../../secret', /leads out of the script's folder/],
    ['..', /leads out of the script's folder/],
  ])('without --allow-read, %s is refused', (path, message) => {
    const { perms } = lesson();
    refused(() => checkFile(perms, { path, access: 'read', what: 'payload file:' }), message);
  });

  it('a symlink inside the folder that points out of it is refused; one that stays inside is fine', () => {
    const { dir, perms } = lesson();
    symlinkSync('/etc/passwd', join(dir, 'key'));
    symlinkSync(join(dir, 'data.bin'), join(dir, 'alias.bin'));
    mkdirSync(join(dir, 'up'));
    symlinkSync('/etc', join(dir, 'up', 'etc'));
    refused(() => checkFile(perms, { path: 'key', access: 'read', what: '--greet file:' }), /--greet file:key is a symlink that leads out/);
    refused(() => checkFile(perms, { path: 'up/etc/hosts', access: 'read', what: '.replay' }), /symlink that leads out/);
    expect(checkFile(perms, { path: 'alias.bin', access: 'read', what: 'payload file:' })).toBe(join(dir, 'alias.bin'));
  });

  it('with --allow-read any path is read (relative ones still from the script folder)', () => {
    const { dir, perms } = lesson({ read: true });
    expect(checkFile(perms, { path: '/etc/hosts', access: 'read', what: '.replay' })).toBe('/etc/hosts');
    expect(checkFile(perms, { path: '../x', access: 'read', what: '.replay' })).toBe(join(dir, '..', 'x'));
  });

  it('writing needs --allow-write, wherever the file is', () => {
    const { dir, perms } = lesson();
    refused(() => checkFile(perms, { path: 'out.lab', access: 'write', what: '.record' }), /\.record out\.lab would write a file: .*--allow-write/);
    const writer = lesson({ write: true }).perms;
    expect(checkFile({ ...writer, base: dir, root: dir }, { path: 'out.lab', access: 'write', what: '.record' })).toBe(join(dir, 'out.lab'));
  });
});

describe('checkScript with permissions: refused before anything runs', () => {
  it('every file: payload, --greet, --reply, .expect and .replay path goes through the check', () => {
    const { perms } = lesson();
    const source = [
      '.listen 0 --greet file:/etc/passwd',
      '.listen 0 --reply file:../x',
      '.connect s1 --reply file:/etc/hosts',
      '.send c1 file:/etc/shadow',
      '.sendln c1 file:../../id_rsa',
      '.expect c1 file:/etc/hosts --timeout 1s',
      '.replay /tmp/x.lab',
      '.record out.lab',
      '.send c1 file:data.bin',
      '.listen 0 --reply "file:{data}"',
    ].join('\n');
    const problems = problemsOf(source, perms);
    expect(problems.map((p) => [p.number, p.kind])).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => [n, 'permission']));
  });

  it('a nested .replay cannot add a permission the run does not hold (the issue: --allow-js helper.lab)', () => {
    const { dir, perms } = lesson();
    writeFileSync(join(dir, 'helper.lab'), "Buffer.constructor('return process')().exit(7)\n");
    for (const flag of ['--allow-js', '--allow-read', '--allow-write']) {
      const problems = problemsOf(`.replay ${flag} helper.lab`, perms);
      expect(problems).toEqual([expect.objectContaining({ number: 1, kind: 'permission', message: expect.stringContaining(`.replay ${flag} inside a script run without ${flag}`) })]);
    }
    // With the run's --allow-js the same flag is allowed (it adds nothing).
    expect(problemsOf('.replay --allow-js helper.lab', { ...perms, js: true })).toEqual([]);
  });

  it('follows literal .replay lines: the nested file is checked with the permissions it inherits', () => {
    const { dir, perms } = lesson();
    mkdirSync(join(dir, 'parts'));
    writeFileSync(join(dir, 'parts', 'a.lab'), '# part a\n.send c1 file:../data.bin\n.replay b.lab\n');
    writeFileSync(join(dir, 'parts', 'b.lab'), '.listen 0\nprocess.exit(1)\n.send c1 file:../../../etc/passwd\n');
    const problems = problemsOf('.listen 0\n.replay parts/a.lab\n', perms);
    // Inside b.lab (reached through a.lab): the JS line and the path out of the lesson folder.
    expect(problems).toEqual([
      expect.objectContaining({ number: 2, kind: 'js', file: 'b.lab' }),
      expect.objectContaining({ number: 3, kind: 'permission', file: 'b.lab' }),
    ]);
  });

  it('a nested .replay of a file that is not a script, or a cycle, or too deep a chain, is refused', () => {
    const { dir, perms } = lesson();
    writeFileSync(join(dir, 'bin.lab'), Buffer.from([0x2e, 0x6c, 0x00, 0xff]));
    writeFileSync(join(dir, 'loop.lab'), '.replay loop.lab\n');
    for (let i = 0; i <= MAX_REPLAY_DEPTH + 1; i++) writeFileSync(join(dir, `d${i}.lab`), `.replay d${i + 1}.lab\n`);
    writeFileSync(join(dir, `d${MAX_REPLAY_DEPTH + 2}.lab`), '.listen 0\n');
    expect(problemsOf('.replay bin.lab', perms)[0]?.message).toBe('bin.lab is not a socklab script: it holds NUL bytes (a binary file)');
    expect(problemsOf('.replay loop.lab', perms)[0]?.message).toMatch(/replays itself/);
    expect(problemsOf('.replay d0.lab', perms)[0]?.message).toMatch(new RegExp(`nested deeper than ${MAX_REPLAY_DEPTH}`));
    expect(problemsOf('.replay /dev/zero', { ...perms, read: true })[0]?.message).toMatch(/is a device, not a script/);
  });
});
