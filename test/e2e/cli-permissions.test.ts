/**
 * Script permissions through the built CLI (SPEC section 6): a script holds
 * no more than the flags of the run; every refusal happens before anything
 * runs (exit 2, no socket opened, no file written). The attacks are the
 * issue's own examples and their relatives.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, runCli } from '../helpers/cli.js';
import { closeAll, tempDir, track } from '../helpers/loopback.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

/** A folder with the given files; returns the path of each. */
function folder(files: Record<string, string>): Record<string, string> & { dir: string } {
  const dir = join(tempDir(), 'handout');
  mkdirSync(dir);
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) writeFileSync((paths[name] = join(dir, name)), text);
  return Object.assign(paths, { dir });
}

/** A real peer that counts the connections it accepts and keeps what they send. */
async function peer(): Promise<{ port: number; accepted: () => number; received: () => string }> {
  let accepted = 0;
  let received = '';
  const server = net.createServer((s) => {
    accepted++;
    s.on('data', (d) => (received += d.toString('latin1')));
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  track(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as net.AddressInfo).port, accepted: () => accepted, received: () => received };
}

async function refusedRun(args: string[]): Promise<string> {
  const p = runCli(['--no-time', ...args]);
  const exit = await p.waitForExit(10_000);
  expect(exit.code, p.stdout() + p.stderr()).toBe(2);
  return p.stdout() + p.stderr();
}

describe('a script never holds more permission than the run', () => {
  it('the issue: `.replay --allow-js helper.lab` inside a script without --allow-js is refused, the JS never runs', async () => {
    const f = folder({ 'helper.lab': "Buffer.constructor('return process')().exit(42)\n", 'main.lab': '.listen 0\n.replay --allow-js helper.lab\n' });
    const out = await refusedRun([f['main.lab']!]);
    expect(out).toMatch(/main\.lab:2: \.replay --allow-js inside a script run without --allow-js/);
    expect(out).not.toMatch(/listening/);
  });

  it('a plain `.replay helper.lab` inherits: its JavaScript is refused too, named by file and line', async () => {
    const f = folder({ 'helper.lab': '# helper\nBuffer.constructor("return process")().exit(42)\n', 'main.lab': '.replay helper.lab\n' });
    const out = await refusedRun([f['main.lab']!]);
    expect(out).toMatch(/main\.lab → helper\.lab:2: JavaScript line refused/);
  });

  it('with --allow-js on the command line, the nested script runs its JavaScript (the run holds it)', async () => {
    const f = folder({ 'helper.lab': "Buffer.constructor('return process')().exitCode = 0\n", 'main.lab': '.replay helper.lab\n' });
    const p = runCli(['--allow-js', f['main.lab']!]);
    expect((await p.waitForExit(10_000)).code, p.stdout()).toBe(0);
  });

  it('the issue: `.record fakehome/.bashrc` then a shell line is refused without --allow-write; nothing is written', async () => {
    const f = folder({ 'main.lab': '.listen 0 --reply echo\n.connect s1\n.record fakehome/.bashrc\n.sendln c1 hi;touch /tmp/x;#\n' });
    mkdirSync(join(f.dir, 'fakehome'));
    const out = await refusedRun([f['main.lab']!]);
    expect(out).toMatch(/main\.lab:3: \.record fakehome\/\.bashrc would write a file: a script does that only when run with --allow-write/);
    expect(existsSync(join(f.dir, 'fakehome', '.bashrc'))).toBe(false);
  });

  it('with --allow-write, .record writes (inside the script folder) and refuses a file that exists', async () => {
    const f = folder({ 'main.lab': '.record out.lab\n.listen 0\n.record stop\n', 'again.lab': '.record main.lab\n' });
    const p = runCli(['--allow-write', f['main.lab']!]);
    expect((await p.waitForExit(10_000)).code, p.stdout()).toBe(0);
    expect(readFileSync(join(f.dir, 'out.lab'), 'utf8')).toBe('.listen 0\n');
    const q = runCli(['--allow-write', f['again.lab']!]);
    expect((await q.waitForExit(10_000)).code).toBe(1);
    expect(q.stdout()).toMatch(/cannot record to main\.lab: it exists/);
    expect(readFileSync(f['main.lab']!, 'utf8')).toBe('.record out.lab\n.listen 0\n.record stop\n');
  });

  it.each([
    ['.send', (port: number) => `.connect 127.0.0.1:${port}\n.send c1 file:/etc/passwd\n`],
    ['.sendln with ..', (port: number) => `.connect 127.0.0.1:${port}\n.sendln c1 file:../../../../../../etc/passwd\n`],
    ['--greet', (port: number) => `.connect 127.0.0.1:${port}\n.listen 0 --greet file:/etc/passwd\n`],
    ['--reply', (port: number) => `.connect 127.0.0.1:${port} --reply file:/etc/passwd\n`],
    ['.expect', (port: number) => `.connect 127.0.0.1:${port}\n.expect c1 file:/etc/passwd\n`],
  ])('a handout cannot read a file outside its folder (%s): refused at check time, the peer sees no connection', async (_name, text) => {
    const target = await peer();
    const f = folder({ 'main.lab': text(target.port) });
    await refusedRun([f['main.lab']!]);
    expect(target.accepted()).toBe(0);
  });

  it('a symlink in the folder that points out of it is refused; --allow-read lets the run read it', async () => {
    const target = await peer();
    const f = folder({ 'main.lab': `.connect 127.0.0.1:${target.port}\n.send c1 file:notes.txt\n.close c1\n` });
    symlinkSync('/etc/hostname', join(f.dir, 'notes.txt'));
    const out = await refusedRun([f['main.lab']!]);
    expect(out).toMatch(/payload file:notes\.txt is a symlink that leads out of the script's folder/);
    expect(target.accepted()).toBe(0);
    const p = runCli(['--allow-read', f['main.lab']!]);
    expect((await p.waitForExit(10_000)).code, p.stdout()).toBe(0);
    expect(target.received()).toBe(readFileSync('/etc/hostname', 'latin1'));
  });

  it('file: paths resolve against the script folder, wherever the run starts', async () => {
    const target = await peer();
    const f = folder({ 'main.lab': `.connect 127.0.0.1:${target.port}\n.send c1 file:data.txt\n.close c1\n`, 'data.txt': 'from the folder' });
    // runCli starts in the repository root, not in the script's folder.
    const p = runCli([f['main.lab']!]);
    expect((await p.waitForExit(10_000)).code, p.stdout()).toBe(0);
    expect(target.received()).toBe('from the folder');
  });
});
