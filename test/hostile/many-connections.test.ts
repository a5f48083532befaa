/**
 * Issue #5.3: many connections in one socklab process (the built CLI). Node
 * cannot raise its own fd limit, so the shell raises the soft limit to the
 * hard one first (`ulimit -Sn "$(ulimit -Hn)"`), as docs/reliability.md tells
 * users to. Then 10,000 sockets: 5,000 clients and the 5,000 connections a
 * server of the same process accepted. And with a tiny limit, EMFILE is an
 * event with a hint, not a crash.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, type RunningProcess } from '../helpers/cli.js';
import { fdLimits, line, memoryOf, openFds, runCliWithFdLimit, timeToAnswer, waitForStdoutAfter, report } from './helpers.js';

afterEach(cleanupProcesses);

/** Sockets per side: 5,000, or what the hard fd limit allows (with room for Node's own descriptors). */
const PER_SIDE = Math.min(5000, Math.floor((fdLimits().hard - 300) / 2));

/** The lines `.ls …` printed: from the header to its last row or summary line. */
async function table(lab: RunningProcess, command: string): Promise<{ rows: string[]; ms: number }> {
  const from = lab.stdout().length;
  const ms = await timeToAnswer(lab, command, /^… [\d,]+ more \([^)]*\): .*\n/m, 20_000);
  const text = lab.stdout().slice(from);
  const start = text.search(/^(?:socklab> )*id +name +kind/m);
  const end = text.search(/^… [\d,]+ more/m);
  return { rows: text.slice(start, text.indexOf('\n', end)).split('\n'), ms };
}

describe(`${(PER_SIDE * 2).toLocaleString('en-US')} concurrent sockets in one process`, () => {
  it('all open at once; .ls stays a screenful, summarised and filterable by server; .exit closes them all', async () => {
    const started = performance.now();
    const lab = runCliWithFdLimit('hard', ['--no-time', '-e', '.listen 0 --backlog 4096', '-e', '.listen 0'], { keepStdin: true });
    await lab.waitForStdout(line('s2 +listening on .*'), 10_000);
    // In halves, so that no burst overflows the accept queue (SYNs past it wait a second to be retried).
    const half = Math.floor(PER_SIDE / 2);
    for (const count of [half, PER_SIDE - half]) {
      await timeToAnswer(lab, `.connect s1 --count ${count}`, /^(?:socklab> )*c\d+ +connected/m);
    }
    // Wait until s1 has accepted every one: `.ls s1` shows it in s1's row.
    const want = `${PER_SIDE} open / ${PER_SIDE} accepted`;
    let s1Row = '';
    for (let i = 0; i < 500 && !s1Row.includes(want); i++) {
      const from = lab.stdout().length;
      lab.write('.ls s1\n');
      s1Row = (await waitForStdoutAfter(lab, from, /^s1 +server .*\n/m, 20_000))[0];
    }
    expect(s1Row).toContain(want);
    const connectedMs = performance.now() - started;
    const pid = lab.child.pid!;
    expect(openFds(pid)).toBeGreaterThanOrEqual(PER_SIDE * 2);
    const mem = memoryOf(pid);

    // .ls: the header, 40 rows, one summary line that counts the rest by state.
    const all = await table(lab, '.ls');
    expect(all.rows).toHaveLength(42);
    const rest = (PER_SIDE * 2 + 2 - 40).toLocaleString('en-US');
    expect(all.rows.at(-1)).toBe(`… ${rest} more (${rest} open): .ls sN for one server, .ls --open, .ls --all for every row`);
    // .ls s1: s1 and its connections only; s2 and the clients are left out.
    const byServer = await table(lab, '.ls s1');
    expect(byServer.rows).toHaveLength(42);
    expect(byServer.rows.slice(2, -1).every((r) => / conn of s1 /.test(r))).toBe(true);
    expect(byServer.rows.at(-1)).toMatch(new RegExp(`^… ${(PER_SIDE - 39).toLocaleString('en-US')} more \\(${(PER_SIDE - 39).toLocaleString('en-US')} open\\)`));

    const exitStarted = performance.now();
    const from = lab.stdout().length;
    lab.write('.exit\n');
    const exit = await lab.waitForExit(20_000);
    const exitMs = performance.now() - exitStarted;
    expect(exit.code).toBe(0);
    // The final report comes after tens of thousands of close lines: all of it reached the pipe.
    await waitForStdoutAfter(lab, from, line(`closed 2 servers and ${PER_SIDE * 2} sockets; bye`));
    report(
      `${PER_SIDE * 2} sockets: open and accepted in ${Math.round(connectedMs)} ms, RSS peak ${Math.round(mem.peakKiB / 1024)} MB, ` +
        `.ls answered in ${Math.round(all.ms)} ms (${all.rows.length} lines), .ls s1 in ${Math.round(byServer.ms)} ms, .exit took ${Math.round(exitMs)} ms`,
    );
  });
});

describe('EMFILE', () => {
  it('with `ulimit -n 64`, sockets past the limit get an error event with a hint; the process lives on', async () => {
    const lab = runCliWithFdLimit(64, ['--no-time', '-e', '.listen 0'], { keepStdin: true });
    await lab.waitForStdout(line('s1 +listening on .*'), 10_000);
    lab.write('.connect s1 --count 80\n');
    const m = await lab.waitForStdout(line('(c\\d+) +error EMFILE (.*)'), 10_000);
    expect(m[0]).toContain('(too many open files: close some sockets or raise `ulimit -n`)');
    expect(m[0]).not.toContain('undefined');
    await lab.waitForStdout(line(`${m[1]} +closed after an error`));
    // Still answering: the table, then closing everything, then a clean exit.
    await timeToAnswer(lab, '.ls', /^… [\d,]+ more|^s1 +server/m);
    lab.write('.close all\n');
    lab.write('.exit\n');
    expect((await lab.waitForExit(10_000)).code).toBe(0);
    // `.close all` may have closed s1 already by the time `.exit` counts what is left.
    expect(lab.stdout()).toMatch(line('closed [01] servers? and \\d+ sockets?; bye'));
    expect(lab.stderr()).toBe('');
  });
});
