/**
 * Shared pieces of the hostile-peer tests: reading a child's memory and file
 * descriptors from /proc, finding bytes that must never reach a terminal,
 * starting the built CLI under a lower fd limit or as an unprivileged user,
 * and a bare peer that connects, sends and ends.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { BIN, spawnProcess, type RunningProcess, type SpawnOptions } from '../helpers/cli.js';
import { patience } from '../helpers/patience.js';

/** Resident memory of a process now and at its peak, in KiB (VmRSS, VmHWM of /proc/PID/status). */
export function memoryOf(pid: number): { rssKiB: number; peakKiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKiB: field('VmRSS'), peakKiB: field('VmHWM') };
}

/** Open file descriptors of a process (this one by default). */
export function openFds(pid: number | 'self' = 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * A measured number worth a look (docs/reliability.md quotes them): printed
 * only with SOCKLAB_MEASURE=1, so `npm test` stays quiet. Never asserted.
 */
export function report(...parts: unknown[]): void {
  if (process.env.SOCKLAB_MEASURE) console.info(...parts);
}

export const MiB = 1024 * 1024;

/**
 * Start of a line of the interactive CLI on a pipe: readline writes the prompt
 * without a newline, so an event can follow `socklab> ` on the same line.
 */
export const LINE = '^(?:socklab> )*';

/** A multiline RegExp for a whole line of output, after any prompts. */
export const line = (source: string): RegExp => new RegExp(`${LINE}${source}\n`, 'm');

// What a terminal may act on: C0 (but \n) and C1 controls, DEL, format characters
// (bidi overrides, zero-width), private use, lone surrogates, line/paragraph
// separators, and U+FFFD (a sign that invalid UTF-8 was written raw).
const FORBIDDEN = /(?!\n)[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029\ufffd]/gu;

/**
 * Every character of `out` a terminal could act on, with some context; empty
 * when the output is clean. The output must also be valid UTF-8.
 */
export function rawControls(out: Buffer): string[] {
  const text = out.toString('utf8');
  const found: string[] = [];
  if (!Buffer.from(text, 'utf8').equals(out)) found.push('the output is not valid UTF-8');
  for (const m of text.matchAll(FORBIDDEN)) {
    const at = m.index;
    const cp = m[0].codePointAt(0)!.toString(16).padStart(4, '0');
    found.push(`U+${cp} at ${at}: ${JSON.stringify(text.slice(Math.max(0, at - 30), at + 10))}`);
  }
  return found;
}

/** The port a socklab child printed for `listening on 127.0.0.1:PORT` (the n-th such line, from 1). */
export async function listeningPort(lab: RunningProcess, nth = 1): Promise<number> {
  const pattern = new RegExp(`(?:listening on 127\\.0\\.0\\.1:\\d+[^]*?){${nth - 1}}listening on 127\\.0\\.0\\.1:(\\d+)`);
  const m = await lab.waitForStdout(pattern, 10_000);
  return Number(m[1]);
}

/** The soft and hard fd limits the shell reports (`unlimited` as Infinity). */
export function fdLimits(): { soft: number; hard: number } {
  const read = (flag: string): number => {
    const text = spawnSync('bash', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout.trim();
    return text === 'unlimited' ? Infinity : Number(text);
  };
  return { soft: read('-Sn'), hard: read('-Hn') };
}

/**
 * `node bin/socklab.js ...args` with the soft fd limit set by the shell first:
 * a number, or `hard` to raise it to the hard limit (what Node itself cannot do).
 */
export function runCliWithFdLimit(limit: number | 'hard', args: string[], options: SpawnOptions = {}): RunningProcess {
  const ulimit = limit === 'hard' ? 'ulimit -Sn "$(ulimit -Hn)"' : `ulimit -n ${limit}`;
  return spawnProcess('bash', ['-c', `${ulimit} && exec "$0" "$@"`, process.execPath, BIN, ...args], {
    ...options,
    env: { NO_COLOR: '1', SOCKLAB_HISTORY: '', ...options.env },
  });
}

/** True when this process runs as root (whose privileges hide EACCES). */
export const isRoot = (): boolean => process.getuid?.() === 0;

/** True when `setpriv` can run a command as nobody (for root). */
export function canDropPrivileges(): boolean {
  return spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']).status === 0;
}

/** `node bin/socklab.js ...args` as an unprivileged user: as is, or as nobody when we are root. */
export function runCliUnprivileged(args: string[]): RunningProcess {
  const env = { NO_COLOR: '1', SOCKLAB_HISTORY: '' };
  if (!isRoot()) return spawnProcess(process.execPath, [BIN, ...args], { env });
  return spawnProcess('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args], { env });
}

/** A number from /proc/sys (undefined where it does not exist). */
export function sysctl(path: string): number | undefined {
  try {
    return Number(readFileSync(`/proc/sys/${path}`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** Connect to 127.0.0.1:port, write `data`, send FIN; resolves when the socket has closed. */
export async function sendAndEnd(port: number, data: Buffer | string): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.resume(); // read whatever comes back, so the close is never held up
  await once(socket, 'connect');
  socket.end(data);
  await once(socket, 'close');
}

/**
 * Resolve with the first match of `pattern` in what the child printed on
 * stdout after offset `from`; on timeout or exit, throw with that output.
 */
export function waitForStdoutAfter(lab: RunningProcess, from: number, pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const stdout = lab.child.stdout!;
    const finish = (fn: () => void): void => {
      clearTimeout(timer);
      stdout.off('data', check);
      fn();
    };
    const fail = (why: string): void => {
      const seen = lab.stdout().slice(from);
      finish(() => reject(new Error(`${why} waiting for ${String(pattern)} on stdout; after offset ${from} it printed:\n${seen.slice(-4000) || '(nothing)'}\n--- stderr ---\n${lab.stderr()}`)));
    };
    // Registered after the harness's own listener, so stdout() already holds the chunk.
    function check(): void {
      const m = pattern.exec(lab.stdout().slice(from));
      if (m) finish(() => resolve(m));
    }
    const timer = setTimeout(() => fail(`timed out after ${patience(ms)} ms`), patience(ms));
    stdout.on('data', check);
    void lab.exit.then(() => setImmediate(() => fail('the process exited')));
    check();
  });
}

/** Type a line and resolve with the ms until stdout (from now on) matches `answer`. */
export async function timeToAnswer(lab: RunningProcess, line: string, answer: RegExp, ms = 10_000): Promise<number> {
  const from = lab.stdout().length;
  const started = performance.now();
  lab.write(`${line}\n`);
  await waitForStdoutAfter(lab, from, answer, ms);
  return performance.now() - started;
}
