/**
 * The built CLI runs its bundle from the V8 code cache the build makes
 * (bin/socklab.js, scripts/bundle.mjs). V8 checks a cache only against the
 * source's length, so these tests change the bundle's text without changing
 * its length and check that a cache made for other text is never used.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A copy of the built package (bin/, the bundle and its cache, package.json) in a temp folder. */
function packageCopy(): { root: string; bundle: string; cache: string } {
  const root = mkdtempSync(join(tmpdir(), 'socklab-cache-'));
  dirs.push(root);
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'dist'));
  for (const f of ['bin/socklab.js', 'bin/package.json', 'package.json', 'dist/socklab.cjs', 'dist/socklab.cache']) copyFileSync(join(ROOT, f), join(root, f));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  return { root, bundle: join(root, 'dist', 'socklab.cjs'), cache: join(root, 'dist', 'socklab.cache') };
}

/** What `compileBundle()` of the copy at `root` says: "false" (cache used), "true" (rejected by V8), "undefined" (none given). */
function cacheVerdict(root: string): string {
  const code = `process.stdout.write(String(require(${JSON.stringify(join(root, 'bin', 'socklab.js'))}).compileBundle().script.cachedDataRejected))`;
  return execFileSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 60_000 });
}

/** The banner and goodbye of one start of the copy's CLI (`.exit` typed). */
function startOnce(root: string): string {
  return execFileSync(process.execPath, [join(root, 'bin', 'socklab.js'), '--no-color', '-e', '.set time on'], {
    input: '.exit\n',
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', SOCKLAB_HISTORY: '' },
    timeout: 60_000,
  });
}

const OLD = 'TCP playground';
const NEW = 'TCP PLAYGROUND';

/** The bundle's text with the banner's words changed, same length (so V8 alone would take the old cache). */
function editBanner(bundle: string, stamp?: (line: string) => string): void {
  const text = readFileSync(bundle, 'latin1');
  const nl = text.indexOf('\n');
  const first = text.slice(0, nl);
  const edited = (stamp ? stamp(first) : first) + text.slice(nl).replaceAll(OLD, NEW);
  expect(edited.length).toBe(text.length);
  writeFileSync(bundle, edited, 'latin1');
}

describe('the code cache of the built bundle', () => {
  it('is used by the bundle it was made for', () => {
    expect(cacheVerdict(ROOT)).toBe('false');
    expect(startOnce(ROOT)).toContain(OLD);
  });

  it('is not used once the bundle is newer than it (the bundle was edited)', () => {
    const copy = packageCopy();
    editBanner(copy.bundle);
    const past = new Date(Date.now() - 60_000);
    utimesSync(copy.cache, past, past);
    expect(cacheVerdict(copy.root)).toBe('undefined');
    expect(startOnce(copy.root)).toContain(NEW);
  });

  it('is used when a copier wrote it a moment before the bundle (npm unpacks the cache first; review 3 #2)', () => {
    const copy = packageCopy();
    const now = Date.now() / 1000;
    utimesSync(copy.cache, now - 0.004, now - 0.004);
    utimesSync(copy.bundle, now, now);
    expect(cacheVerdict(copy.root)).toBe('false');
  });

  it('is not used with a bundle of another build, even when newer', () => {
    const copy = packageCopy();
    // Another build: another hash on the first line, same length.
    editBanner(copy.bundle, (line) => line.slice(0, -1) + (line.endsWith('0') ? '1' : '0'));
    const future = new Date(Date.now() + 60_000);
    utimesSync(copy.cache, future, future);
    expect(cacheVerdict(copy.root)).toBe('undefined');
    expect(startOnce(copy.root)).toContain(NEW);
  });

  it('is not needed: without it the bundle compiles and runs as usual', () => {
    const copy = packageCopy();
    rmSync(copy.cache);
    expect(cacheVerdict(copy.root)).toBe('undefined');
    expect(startOnce(copy.root)).toContain(`${OLD}. .help lists the commands`);
  });
});
