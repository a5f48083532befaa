/**
 * `.record FILE` (SPEC section 3): FILE must not exist unless --append (onto
 * a socklab script) or --force; regular files only, never blocking in
 * open(); only lines that succeeded are kept, and lines typed while attached
 * are kept as the `.sendln` they were, escaped to replay the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { quotePayload } from '../../src/script/succeeded.js';
import { decodePayload } from '../../src/parse/payload.js';
import { cleanupProcesses, jsonEvents, runCli } from '../helpers/cli.js';
import { closeAll, tempDir } from '../helpers/loopback.js';
import { startHarness } from '../helpers/repl-harness.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

describe('.record FILE: what it may write to', () => {
  it('refuses a file that exists; --force overwrites it; --append adds to a socklab script', async () => {
    const dir = tempDir();
    const file = join(dir, 'lesson.lab');
    writeFileSync(file, '# kept\n.listen 0\n');
    const h = startHarness();
    h.type(`.record ${file}`);
    await h.waitFor(`cannot record to ${file}: it exists. --append adds to it (a socklab script), --force overwrites it`);
    expect(readFileSync(file, 'utf8')).toBe('# kept\n.listen 0\n');
    h.type(`.record --append ${file}`);
    await h.waitFor('(appending)');
    h.type('.listen 0');
    await h.waitFor('listening on');
    h.type('.record stop');
    await h.waitFor('recording stopped');
    expect(readFileSync(file, 'utf8')).toBe('# kept\n.listen 0\n.listen 0\n');
    h.type(`.record --force ${file}`);
    await h.waitFor(`recording to ${file}`);
    expect(readFileSync(file, 'utf8')).toBe('');
    h.type('.record stop');
    await h.waitFor('recording stopped');
    await h.close();
  });

  it.each([
    ['binary', Buffer.from('.listen 0\n\x00\x01'), 'it holds NUL bytes (a binary file)'],
    ['prose', Buffer.from('.listen 0\nDear diary, today I\n'), 'line 2 is neither a command nor JavaScript'],
    ['a bad command', Buffer.from('.listen 0 --bogus\n'), 'line 1 is not a command socklab runs'],
  ])('--append onto a file that is not a socklab script (%s) is refused, naming what is wrong', async (_kind, bytes, why) => {
    const file = join(tempDir(), 'notes.txt');
    writeFileSync(file, bytes);
    const h = startHarness();
    h.type(`.record --append ${file}`);
    await h.waitFor(`cannot append to ${file}: it is not a socklab script (${why}); --force overwrites it`);
    expect(readFileSync(file)).toEqual(bytes);
    await h.close();
  });

  it('--append onto a file that is not there, and --append with --force, are errors', async () => {
    const file = join(tempDir(), 'none.lab');
    const h = startHarness();
    h.type(`.record --append ${file}`);
    await h.waitFor(`cannot append to ${file}: it does not exist`);
    h.type(`.record --append --force ${file}`);
    await h.waitFor('--append or --force, not both');
    expect(existsSync(file)).toBe(false);
    await h.close();
  });

  it('a device, a directory, and a symlink to a FIFO are refused; a symlink to a regular file is followed', async () => {
    const dir = tempDir();
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    symlinkSync(join(dir, 'fifo'), join(dir, 'to-fifo.lab'));
    writeFileSync(join(dir, 'real.lab'), '');
    symlinkSync(join(dir, 'real.lab'), join(dir, 'to-real.lab'));
    const h = startHarness();
    for (const [path, kind] of [
      ['/dev/null', 'a device'],
      [dir, 'a directory'],
      [join(dir, 'to-fifo.lab'), 'a FIFO'],
    ]) {
      h.type(`.record --force ${path}`);
      await h.waitFor(`cannot record to ${path}: it is ${kind}; .record writes regular files only`);
    }
    h.type(`.record --force ${join(dir, 'to-real.lab')}`);
    await h.waitFor('recording to');
    h.type('.listen 0');
    await h.waitFor('listening on');
    h.type('.record stop');
    await h.waitFor('recording stopped');
    expect(readFileSync(join(dir, 'real.lab'), 'utf8')).toBe('.listen 0\n');
    await h.close();
  });

  it('the issue: `.record fifo` answers at once (it used to block forever in open() and ignore SIGTERM)', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // -e keeps it interactive (stdin a pipe, not a terminal): the REPL, where .record is typed.
    const lab = runCli(['--no-time', '-e', `.record ${fifo}`], { keepStdin: true });
    await lab.waitForStdout(`cannot record to ${fifo}: it is a FIFO; .record writes regular files only`);
    lab.write('.listen 0\n');
    await lab.waitForStdout('listening on');
    lab.child.kill('SIGTERM');
    expect((await lab.waitForExit(10_000)).signal).toBeNull();
  });
});

describe('.record keeps what succeeded, as it would replay', () => {
  it('the issue: a failed `.send zz hi` is left out; lines typed while attached are kept as .sendln', async () => {
    const file = join(tempDir(), 'attached.lab');
    const h = startHarness();
    h.type(`.record ${file}`);
    await h.waitFor('recording to');
    h.type('.listen 0 --reply echo');
    await h.waitFor('listening on');
    h.type('.connect s1 as rc');
    await h.waitFor('connected');
    h.type('.send zz hi');
    await h.waitFor('no endpoint "zz"');
    h.type('.attach rc');
    await h.waitFor('rc> ');
    const typed = ['HELO "there"', 'file:/etc/passwd', '  spaced \\x41  ', 'tab\there é 你好', 'hex:41', ''];
    for (const line of typed) {
      h.mark();
      h.type(line);
      await h.waitFor(/c1 {3}→ \d+ B/);
    }
    h.type('.detach');
    await h.waitFor('socklab> ');
    h.type('.record stop');
    await h.waitFor('recording stopped');
    await h.close();
    const recorded = readFileSync(file, 'utf8');
    expect(recorded).toBe(
      [
        '.listen 0 --reply echo',
        '.connect s1 as rc',
        '.sendln rc "HELO \\"there\\""',
        '.sendln rc "file:/etc/passwd"',
        '.sendln rc "  spaced \\\\x41  "',
        '.sendln rc "tab\\there é 你好"',
        '.sendln rc "hex:41"',
        '.sendln rc ""',
        '',
      ].join('\n'),
    );
    // Replayed (no --allow-read needed: nothing reads a file), the server gets the same bytes.
    const p = runCli(['--json', file]);
    expect((await p.waitForExit(10_000)).code, p.stdout()).toBe(0);
    const received = jsonEvents(p.stdout()).filter((ev) => ev.event === 'data' && ev.id === 'c2');
    const bytes = Buffer.concat(received.map((ev) => Buffer.from(String(ev.base64), 'base64')));
    expect(bytes.toString('utf8')).toBe(typed.map((l) => `${l}\n`).join(''));
  });

  it('quotePayload: any text replays to its own UTF-8 bytes, with no invisible character in the file', () => {
    const samples = ['', ' ', '"', '\\', '\\x41', 'file:x', '\x1b]0;t\x07', 'a\u202eb', '\u200b', '\u{e0041}', '\u3164', 'x\ufe0f', '\ud800', 'é', '🙂'];
    for (const text of samples) {
      const quoted = quotePayload(text);
      expect(decodePayload(quoted).equals(Buffer.from(text, 'utf8')), JSON.stringify(text)).toBe(true);
      expect(quoted).not.toMatch(/[\p{C}\u200b\u202e\u3164\ufe0f]/u);
    }
  });
});
