/**
 * `socklab test` through the built CLI (SPEC section 13): files and folders,
 * one line per file and a summary, exit codes, TAP read by tap-parser, JUnit
 * read by expat (python3), --jobs giving the results of a sequential run,
 * per-file --timeout, --bail, and the run's --var and permissions in every file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser, type FinalResults } from 'tap-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, runCli } from '../helpers/cli.js';
import { closeAll, tempDir } from '../helpers/loopback.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

const PASS = '.listen 0 --reply echo as srv\n.connect srv as c\n.sendln c hello\n.expect c "hello"\n';
const FAIL = '.listen 0 --reply echo as srv\n.connect srv as c\n.sendln c hello\n.expect c "PONG" --timeout 300ms\n';

/** A suite folder: name → text. */
function suite(files: Record<string, string>): string {
  const dir = join(tempDir(), 'suite');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function run(args: string[], cwd?: string, env?: Record<string, string | undefined>): Promise<{ code: number | null; out: string; err: string }> {
  const p = runCli(cwd === undefined ? ['test', ...args] : ['test', ...args.map((a) => (a.startsWith('-') || a.includes('=') ? a : join(cwd, a)))], { env });
  const exit = await p.waitForExit(30_000);
  return { code: exit.code, out: p.stdout(), err: p.stderr() };
}

function tap(text: string): Promise<FinalResults> {
  return new Promise((resolve) => new Parser(resolve).end(text));
}

describe('socklab test', () => {
  it('a folder, searched recursively and sorted: one line per file, the first failure as FILE:LINE, a summary; exit 1', async () => {
    const dir = suite({ 'b/two.lab': FAIL, 'a.lab': PASS, 'b/one.lab': PASS, 'notes.txt': '.connect 1\n' });
    const r = await run(['--no-time', dir]);
    expect(r.code, r.out + r.err).toBe(1);
    const lines = r.out.split('\n').filter((l) => /^(PASS|FAIL) /.test(l));
    expect(lines.map((l) => l.split(' ')[1]?.replace(/.*suite\//, ''))).toEqual(['a.lab', 'b/one.lab', 'b/two.lab']);
    expect(lines.find((l) => l.startsWith('FAIL'))).toMatch(/two\.lab \(\d+ m?s\)\s+\S*two\.lab:4: expect c1 "PONG" timed out after 300 ms; received "hello\\n"/);
    expect(r.out).toMatch(/2 passed, 1 failed; 3 files in /);
    // The failing file's log follows, kept apart from the others.
    expect(r.out).toMatch(/--- \S*two\.lab ---\n {4}s1 +listening/);
  });

  it('exit codes: 0 all passed, 2 for usage errors (no path, a missing path, a bad option, a refused file)', async () => {
    const dir = suite({ 'ok.lab': PASS, 'js.lab': 'const x = 1\n' });
    expect((await run([join(dir, 'ok.lab')])).code).toBe(0);
    expect((await run([])).code).toBe(2);
    const missing = await run([join(dir, 'nope')]);
    expect([missing.code, missing.err]).toEqual([2, expect.stringMatching(/nope: no such file or folder/)]);
    expect((await run(['--jobs', 'zero', dir])).code).toBe(2);
    const refused = await run([dir]);
    expect(refused.code).toBe(2);
    expect(refused.out).toMatch(/FAIL \S*js\.lab .*js\.lab:1: JavaScript line refused.*\[refused before it ran\]/);
    // --allow-js applies to every file.
    expect((await run(['--allow-js', dir])).code).toBe(0);
  });

  it('--reporter tap is read by tap-parser: counts, names and the failure message', async () => {
    const dir = suite({ 'a.lab': PASS, 'b.lab': FAIL, 'c#d.lab': PASS });
    const r = await run(['--reporter', 'tap', dir]);
    expect(r.code).toBe(1);
    const result = await tap(r.out);
    expect([result.count, result.pass, result.fail, result.plan.end]).toEqual([3, 2, 1, 3]);
    expect(result.failures[0]?.name).toMatch(/b\.lab$/);
    expect((result.failures[0]?.diag as { message: string }).message).toMatch(/b\.lab:4: expect c1 "PONG"/);
  });

  it('--report-junit FILE: valid XML (expat), one testcase per file, the failure with FILE:LINE, the log in system-out', async () => {
    const dir = suite({ 'a.lab': PASS, 'b.lab': FAIL });
    const report = join(dir, '..', 'report.xml');
    const r = await run(['--report-junit', report, dir]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/1 passed, 1 failed/);
    const py = `
import sys, json, xml.dom.minidom as m
d = m.parse(sys.argv[1])
t = lambda e: ''.join(n.data for n in e.childNodes if n.nodeType == 3)
print(json.dumps([[c.getAttribute('name'), [f.getAttribute('message') for f in c.getElementsByTagName('failure')], t(c.getElementsByTagName('system-out')[0])] for c in d.getElementsByTagName('testcase')]))
`;
    const cases = JSON.parse(execFileSync('python3', ['-c', py, report]).toString()) as Array<[string, string[], string]>;
    expect(cases.map((c) => c[0].replace(/.*\//, ''))).toEqual(['a.lab', 'b.lab']);
    expect(cases[1]?.[1][0]).toMatch(/b\.lab:4: expect c1 "PONG" timed out/);
    expect(cases[1]?.[2]).toMatch(/s1 +listening on 127\.0\.0\.1:\d+ as srv/);
    // --reporter junit writes the same document on stdout.
    const onStdout = await run(['--reporter', 'junit', dir]);
    expect(onStdout.out).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="socklab test" tests="2" failures="1"/);
    expect(readFileSync(report, 'utf8')).toContain('<testcase name=');
  });

  it('--jobs 2 gives the results of a sequential run: same files, statuses and failures; ids and ports not shared', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 6; i++) files[`f${i}.lab`] = i % 3 === 2 ? FAIL : PASS;
    // Every file's ids start at s1/c1, whatever runs beside it.
    files['ids.lab'] = '.listen 0 as srv\n.connect s1 as c\n.wait s1 accept as peer\n.sendln c1 x\n.expect c2 "x"\n';
    const dir = suite(files);
    const shape = (out: string) => out.split('\n').filter((l) => /^(PASS|FAIL) /.test(l)).map((l) => l.replace(/ \(\d+ m?s\)/, '')).sort();
    const sequential = await run(['--no-time', dir]);
    const parallel = await run(['--no-time', '--jobs', '2', dir]);
    expect(parallel.code).toBe(sequential.code);
    expect(shape(parallel.out)).toEqual(shape(sequential.out));
    expect(shape(parallel.out).filter((l) => l.startsWith('FAIL'))).toHaveLength(2);
  });

  it('--timeout fails a file still running (its blocking line cancelled); --bail starts no more files', async () => {
    const dir = suite({ '1-slow.lab': '.listen 0 as srv\n.sleep 1h\n', '2-ok.lab': PASS, '3-ok.lab': PASS });
    const timed = await run(['--timeout', '500ms', dir]);
    expect(timed.code).toBe(1);
    expect(timed.out).toMatch(/FAIL \S*1-slow\.lab .*timed out after 500 ms/);
    expect(timed.out).toMatch(/2 passed, 1 failed; 3 files/);
    const bailed = await run(['--timeout', '500ms', '--bail', dir]);
    expect(bailed.code).toBe(1);
    expect(bailed.out).toMatch(/0 passed, 1 failed, 2 not run \(--bail\); 3 files/);
    expect(bailed.out).not.toMatch(/2-ok\.lab/);
  });

  it('--var and the environment reach every file; an unset one refuses that file (exit 2)', async () => {
    const dir = suite({ 'v.lab': '.listen 0 --reply echo as srv\n.connect srv as c\n.sendln c ${WORD}\n.expect c "${WORD:-x}"\n' });
    expect((await run(['--var', 'WORD=hi', dir])).code).toBe(0);
    const unset = await run([dir], undefined, { WORD: undefined });
    expect(unset.code).toBe(2);
    expect(unset.out).toMatch(/v\.lab:3: variable WORD is not set/);
  });
});
