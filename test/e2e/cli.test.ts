/**
 * The built `socklab` command as a user runs it: flags, exit codes, colour and
 * time switches, stdin scripts, the --allow-js guard, the NDJSON stream, and
 * that nothing a peer sends reaches stdout as a raw control byte.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, jsonEvents, ROOT, runCli, type RunningProcess } from '../helpers/cli.js';
import { patience } from '../helpers/patience.js';

const dirs: string[] = [];
const clients = new Set<net.Socket>();

afterEach(async () => {
  for (const c of clients) c.destroy();
  clients.clear();
  await cleanupProcesses();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const TIMESTAMP = /\b\d\d:\d\d:\d\d\.\d{3}\b/;
/** A session that makes every common kind of event: listening, accept, connect, send, data, expect, FIN, close. */
const EXCHANGE = ['-e', '.listen 0', '-e', '.connect s1', '-e', '.send c1 hi', '-e', '.expect c2 hi'];

async function finished(p: RunningProcess, ms = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { code } = await p.waitForExit(ms);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

function script(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'socklab-e2e-'));
  dirs.push(dir);
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('--help and --version', () => {
  it('--help prints the usage and exits 0', async () => {
    const r = await finished(runCli(['--help']));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage:/m);
    for (const flag of ['--json', '--no-color', '--no-time', '--allow-js', '--exit', '--version']) expect(r.stdout).toContain(flag);
    expect(r.stderr).toBe('');
  });

  it('--version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await finished(runCli(['--version']));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`socklab ${version}\n`);
  });
});

describe('usage errors', () => {
  it('an unknown flag exits 2 with one line on stderr naming it', async () => {
    const r = await finished(runCli(['--bogus-flag']));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--bogus-flag');
  });
});

describe('-e lines with --exit', () => {
  it('exits 0 when every line passes', async () => {
    const r = await finished(runCli(['--no-time', ...EXCHANGE, '--exit']));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^s1 +listening on 127\.0\.0\.1:\d+/m);
    expect(r.stdout).toMatch(/^c2 +← 2 B  "hi"$/m);
  });

  it('exits 1 at the first failing line, prints its message and runs nothing after it', async () => {
    const r = await finished(runCli(['--no-time', '-e', '.listen 0', '-e', '.send c9 hi', '-e', '.listen 0', '--exit']));
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/c9/);
    expect(out).not.toMatch(/^s2 /m);
  });

  it('exits 1 when an expectation is not met, and says what did arrive', async () => {
    const r = await finished(runCli(['--no-time', '-e', '.listen 0', '-e', '.connect s1', '-e', '.send c1 PING', '-e', '.expect c2 PONG --timeout 300ms', '--exit']));
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('PING');
  });
});

describe('--no-time, NO_COLOR, FORCE_COLOR', () => {
  it('event lines carry HH:MM:SS.mmm by default and none with --no-time', async () => {
    const timed = await finished(runCli([...EXCHANGE, '--exit']));
    expect(timed.code).toBe(0);
    expect(timed.stdout).toMatch(new RegExp(`^${TIMESTAMP.source} +s1 +listening`, 'm'));
    const plain = await finished(runCli(['--no-time', ...EXCHANGE, '--exit']));
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^s1 +listening/m);
    expect(plain.stdout).not.toMatch(TIMESTAMP);
  });

  it('NO_COLOR=1 writes no ESC byte; FORCE_COLOR=1 colours; --no-color beats FORCE_COLOR', async () => {
    const none = runCli([...EXCHANGE, '--exit'], { env: { NO_COLOR: '1' } });
    expect((await none.waitForExit(10_000)).code).toBe(0);
    expect(none.stdoutBytes().includes(0x1b)).toBe(false);
    expect(none.stderr()).not.toContain('\x1b');

    const forced = runCli([...EXCHANGE, '--exit'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    expect((await forced.waitForExit(10_000)).code).toBe(0);
    expect(forced.stdout()).toMatch(/\x1b\[\d+m/);

    const flag = runCli(['--no-color', ...EXCHANGE, '--exit'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    expect((await flag.waitForExit(10_000)).code).toBe(0);
    expect(flag.stdoutBytes().includes(0x1b)).toBe(false);
  });
});

describe('scripts', () => {
  it('stdin that is not a TTY runs as a script (echo .listen 0 | socklab)', async () => {
    const r = await finished(runCli(['--no-time'], { input: '.listen 0\n' }));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^s1 +listening on 127\.0\.0\.1:\d+/m);
    expect(r.stdout).toMatch(/^s1 +closed$/m);
    // A script, not a REPL: no banner, no prompt.
    expect(r.stdout).not.toContain('socklab>');
    expect(r.stdout).not.toContain('TCP playground');
  });

  it('a script with a JavaScript line is refused (exit 2, nothing runs) unless --allow-js', async () => {
    const file = script('js.lab', '# a handout\n.listen 0\nconsole.log("js ran " + (1 + 1))\n');
    const refused = await finished(runCli(['--no-time', file]));
    expect(refused.code).toBe(2);
    const said = refused.stdout + refused.stderr;
    expect(said).toContain('js.lab:3');
    expect(said).toContain('--allow-js');
    expect(said).not.toContain('listening');
    expect(said).not.toContain('js ran 2');

    const allowed = await finished(runCli(['--no-time', '--allow-js', 'run', file]));
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('js ran 2');
    expect(allowed.stdout).toMatch(/^s1 +listening on 127\.0\.0\.1:\d+/m);
  });
});

describe('--json', () => {
  it('every stdout line is a JSON object with a numeric t and an event', async () => {
    const r = await finished(runCli(['--json', ...EXCHANGE, '--exit']));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.pop()).toBe('');
    const events = lines.map((line) => {
      const ev = JSON.parse(line) as { t: unknown; event: unknown; id?: unknown };
      expect(typeof ev.t, line).toBe('number');
      expect(Math.abs((ev.t as number) - Date.now()), line).toBeLessThan(60_000);
      expect(typeof ev.event, line).toBe('string');
      return ev;
    });
    const kinds = new Set(events.map((e) => e.event));
    for (const kind of ['command', 'listening', 'accept', 'connect', 'send', 'data', 'expect-ok', 'end', 'close']) expect(kinds, kind).toContain(kind);
    for (const e of events.filter((e) => ['listening', 'accept', 'connect', 'send', 'data', 'end', 'close'].includes(e.event as string))) {
      expect(e.id, JSON.stringify(e)).toMatch(/^[sc]\d+$/);
    }
  });

  it('a failing line is a command-error event with its message', async () => {
    const r = await finished(runCli(['--json', '-e', '.send c9 hi', '--exit']));
    expect(r.code).toBe(1);
    const errors = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; message?: string })
      .filter((e) => e.event === 'command-error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('c9');
  });
});

describe('peer bytes never reach stdout raw', () => {
  // OSC "set title", BEL, CSI "clear screen", a raw C1 CSI byte and U+009B (C1 CSI) in UTF-8.
  const HOSTILE = Buffer.concat([Buffer.from('\x1b]0;pwned\x07\x1b[2J', 'latin1'), Buffer.from([0x9b]), Buffer.from('\u009b', 'utf8')]);
  const RAW = [0x1b, 0x07, 0x9b];

  /** A socklab server (interactive, reading a pipe); a node client sends HOSTILE and ends; resolves once socklab showed the close. */
  async function hostilePeer(args: string[]): Promise<RunningProcess> {
    const lab = runCli(args, { keepStdin: true });
    const m = await lab.waitForStdout(/listening on 127\.0\.0\.1:(\d+)|"port":(\d+)/, 10_000);
    const client = net.connect(Number(m[1] ?? m[2]), '127.0.0.1');
    clients.add(client);
    client.on('error', () => {});
    client.end(HOSTILE);
    await lab.waitForStdout(/c1 +closed|"event":"close","id":"c1"/);
    return lab;
  }

  function rawControls(out: Buffer): number[] {
    return [...out].filter((b) => RAW.includes(b));
  }

  it('text view: escaped, no ESC, BEL or 0x9b byte on stdout', async () => {
    const lab = await hostilePeer(['--no-time', '-e', '.listen 0']);
    expect(lab.stdout()).toContain(`c1   ← 17 B  "\\x1b]0;pwned\\x07\\x1b[2J\\x9b\\u{009b}"`);
    expect(rawControls(lab.stdoutBytes()), lab.stdout()).toEqual([]);
    lab.end();
    expect((await lab.waitForExit()).code).toBe(0);
  });

  it('hex view: the ASCII column shows dots, no ESC, BEL or 0x9b byte on stdout', async () => {
    const lab = await hostilePeer(['--no-time', '-e', '.listen 0', '-e', '.view both']);
    expect(lab.stdout()).toContain('1b 5d 30 3b 70 77 6e 65  64 07 1b 5b 32 4a 9b c2  |.]0;pwned..[2J..|');
    expect(rawControls(lab.stdoutBytes()), lab.stdout()).toEqual([]);
  });

  // JSON.stringify alone escapes C0 controls but not U+0080..U+009F: a peer's
  // UTF-8 "\xc2\x9b" (C1 CSI) would reach stdout raw in the data event's `text`.
  it('--json: no raw C1 control in the data event text', async () => {
    const lab = await hostilePeer(['--json', '-e', '.listen 0']);
    const data = jsonEvents(lab.stdout()).filter((e) => e.event === 'data');
    expect(Buffer.concat(data.map((e) => Buffer.from(String(e.base64), 'base64'))).equals(HOSTILE)).toBe(true);
    expect(rawControls(lab.stdoutBytes())).toEqual([]);
  });
});

describe('a reader that goes away', () => {
  it('socklab … | head -1: ends with one line on stderr, no EPIPE stack trace', async () => {
    const { execFile } = await import('node:child_process');
    // Output written in many turns, so socklab is still writing after head has left.
    const steps = Array.from({ length: 20 }, () => "-e '.sendln c1 hi' -e '.expect c1 hi'").join(' ');
    const script = `node bin/socklab.js --no-time -e '.listen 0 --reply echo' -e '.connect s1' ${steps} --exit | head -1`;
    const result = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile('bash', ['-c', `set -o pipefail; ${script}; echo "socklab exit $?" >&2`], { cwd: ROOT, timeout: patience(15_000), env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) =>
        err ? reject(err) : resolve({ stdout, stderr }),
      ),
    );
    expect(result.stdout).toMatch(/^s1 {3}listening on 127\.0\.0\.1:\d+  \(reply: echo\)\n$/);
    // SPEC section 7: a closed pipe ends the run with a one-line message (exit 1), or, when
    // everything fit in the pipe before head left, with nothing to say (exit 0).
    expect(result.stderr).toMatch(/^(socklab: cannot write to stdout \(its reader has gone\); stopping\nsocklab exit 1|socklab exit 0)\n$/);
  });
});
