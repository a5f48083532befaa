/**
 * Issue 9, round 2: strings that are not peer bytes still reach the terminal —
 * Unix socket paths, `.record` and `.replay` file names, unknown command names,
 * error messages that quote input. The built CLI runs a session whose every
 * such string holds `ESC ] 0 ; title BEL` (which retitled a tmux window) or
 * another control; every byte it writes, human and --json, is checked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupProcesses, runCli, type RunningProcess } from '../helpers/cli.js';
import { patience } from '../helpers/patience.js';
import { rawControls, waitForStdoutAfter } from './helpers.js';

const OSC = '\x1b]0;pwned\x07';
const SHOWN = '\\x1b]0;pwned\\x07';
let dir: string;

/** The hostile lines, each with what its answer must show (escaped), in the order typed. */
function session(): Array<[string, RegExp]> {
  const sock = join(dir, `s${OSC}.sock`);
  const escSock = esc(join(dir, `s${SHOWN}.sock`));
  return [
    [`.listen ${sock}`, new RegExp(`s1 +listening on ${escSock}`)],
    [`.connect ${sock}`, /c2 +accepted by s1/],
    ['.send c1 hi', /c2 +← 2 B/],
    ['.timeline', /\[closed\]|connect|─/],
    [`.record ${join(dir, `r${OSC}\u202e.lab`)}`, new RegExp(`recording to ${esc(join(dir, `r${SHOWN}\\u{202e}.lab`))}`)],
    ['.record stop', /recording stopped/],
    ['.ls', /s1 +server /],
    [`.connect ${join(dir, `gone${OSC}.sock`)}`, new RegExp(`error ENOENT .*gone${esc(SHOWN)}\\.sock`)],
    [`.replay ${join(dir, `none${OSC}.lab`)}`, new RegExp(`none${esc(SHOWN)}\\.lab`)],
    [`.lis\x1b[2Jten 0`, /unknown command \.lis\\x1b\[2Jten/],
    [`.close c1\u202e`, /c1\\u\{202e\}/],
  ];
}
const esc = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sl-'));
});
afterAll(async () => {
  await cleanupProcesses();
  rmSync(dir, { recursive: true, force: true });
});

async function drive(lab: RunningProcess, read: () => string): Promise<void> {
  for (const [line, answer] of session()) {
    const from = read().length;
    lab.write(`${line}\n`);
    await waitFor(lab, read, from, answer);
  }
}

/** Wait until `read()` after `from` matches (stdout, or stderr under --json). */
function waitFor(lab: RunningProcess, read: () => string, from: number, pattern: RegExp): Promise<unknown> {
  if (read === lab.stdout) return waitForStdoutAfter(lab, from, pattern);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`no ${String(pattern)} on stderr; after ${from}:\n${read().slice(from)}`));
    }, patience(10_000));
    // stderr has no waiter in the helpers; a short poll on what was received (not a sleep for an event).
    const poll = setInterval(() => {
      if (!pattern.test(read().slice(from))) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve(undefined);
    }, 5);
  });
}

describe('paths, names and quoted input reach the terminal escaped', () => {
  it('human view: every answer shows the OSC escaped, and no byte of stdout is a raw control', async () => {
    // `-e` keeps it interactive (a prompt on a pipe), as a user at a terminal.
    const lab = runCli(['--no-time', '-e', '.view text'], { keepStdin: true });
    await drive(lab, lab.stdout);
    lab.write('.exit\n');
    expect((await lab.waitForExit(5000)).code).toBe(0);
    expect(lab.stdout()).toContain(SHOWN);
    expect(rawControls(lab.stdoutBytes())).toEqual([]);
    expect(rawControls(Buffer.from(lab.stderr()))).toEqual([]);
  });

  it('--json: the NDJSON on stdout and the command output on stderr have no raw control', async () => {
    const lab = runCli(['--json', '-e', '.view text'], { keepStdin: true });
    const sock = join(dir, `j${OSC}.sock`);
    const from = lab.stdout().length;
    lab.write(`.listen ${sock}\n.connect ${sock}\n.record ${join(dir, `j${OSC}.lab`)}\n.record stop\n.ls\n.lis\x1b[2Jten\n.exit\n`);
    expect((await lab.waitForExit(10_000)).code).toBe(0);
    await waitForStdoutAfter(lab, from, /"event":"accept"/);
    const events = lab.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.find((e) => e.event === 'listening')?.path).toBe(sock);
    expect(lab.stdout()).toContain('\\u001b]0;pwned\\u0007');
    expect(lab.stderr()).toContain(`recording to ${join(dir, `j${SHOWN}.lab`)}`);
    expect(rawControls(lab.stdoutBytes())).toEqual([]);
    expect(rawControls(Buffer.from(lab.stderr()))).toEqual([]);
  });

  it('argv: a bad option and an unreadable script name are escaped on stderr', async () => {
    const bad = runCli([`--no${OSC}`]);
    await bad.waitForExit(5000);
    expect(bad.stderr()).toContain(SHOWN);
    const missing = runCli([join(dir, `missing${OSC}.lab`)]);
    await missing.waitForExit(5000);
    expect(missing.stderr()).toContain(SHOWN);
    for (const p of [bad, missing]) expect(rawControls(Buffer.from(p.stdout() + p.stderr()))).toEqual([]);
  });
});
