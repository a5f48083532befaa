/**
 * Harnesses for end-to-end tests of the BUILT CLI (`node bin/socklab.js`, which
 * loads dist/; `npm test` builds first). Everything here waits on output, never
 * on a fixed delay, and every process or tmux server it starts is remembered so
 * `cleanupProcesses()` / `cleanupTmux()` in `afterEach` can end the leftovers.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { patience } from './patience.js';

/** The repository root: every process runs here. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The built CLI's launcher. */
export const BIN = join(ROOT, 'bin', 'socklab.js');

/** Environment overrides; `undefined` removes a variable. */
export type EnvPatch = Record<string, string | undefined>;

export interface SpawnOptions {
  /** Merged over the base environment (for socklab: NO_COLOR=1, SOCKLAB_HISTORY=''). */
  env?: EnvPatch;
  /** Written to stdin, which is then closed (a pipe, so stdin is not a TTY). */
  input?: string | Buffer;
  /** Keep stdin open for `write()`; by default it is closed at once (or after `input`). */
  keepStdin?: boolean;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running child process with everything it printed so far. */
export interface RunningProcess {
  readonly child: ChildProcess;
  /** What the command was, for error messages. */
  readonly label: string;
  stdout(): string;
  stderr(): string;
  /** stdout as raw bytes (to look for control bytes, or binary data from nc). */
  stdoutBytes(): Buffer;
  /** Resolves with the match once stdout contains `match`; on timeout or exit, throws with everything received. */
  waitForStdout(match: string | RegExp, ms?: number): Promise<RegExpMatchArray>;
  waitForStderr(match: string | RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited (never rejects). */
  readonly exit: Promise<Exit>;
  /** Like `exit`, but throws with the output so far if it takes longer than `ms`. */
  waitForExit(ms?: number): Promise<Exit>;
  write(data: string | Buffer): void;
  /** Close stdin (end of input). */
  end(): void;
}

const running = new Set<RunningProcess>();

function baseEnv(patch: EnvPatch | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The runner may set these; a test decides about colour on its own.
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  for (const [key, value] of Object.entries(patch ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

function show(text: string): string {
  return text === '' ? '(nothing)' : JSON.stringify(text);
}

/** Spawn any program (nc, socat, node) with output collection and cleanup. */
export function spawnProcess(command: string, args: string[], options: SpawnOptions = {}): RunningProcess {
  const child = spawn(command, args, { cwd: ROOT, env: baseEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  const label = [command, ...args].map((a) => (/^[\w./:=-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outText = '';
  let errText = '';
  let exited: Exit | undefined;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    out.push(chunk);
    outText = Buffer.concat(out).toString('utf8');
    notify();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err.push(chunk);
    errText = Buffer.concat(err).toString('utf8');
    notify();
  });
  // A peer that exits early must not crash the test with EPIPE.
  child.stdin!.on('error', () => {});
  const exit = new Promise<Exit>((resolve) => {
    child.once('error', (e) => {
      errText += `\n[spawn error] ${e.message}`;
      exited = { code: null, signal: null };
      resolve(exited);
      notify();
    });
    // 'close' comes after the stdio streams are drained, so all output is in.
    child.once('close', (code, signal) => {
      exited = { code, signal };
      running.delete(proc);
      resolve(exited);
      notify();
    });
  });

  const describe = () =>
    `${label}\n--- stdout ---\n${show(outText)}\n--- stderr ---\n${show(errText)}` +
    (exited ? `\n--- exited: code ${exited.code} signal ${exited.signal} ---` : '');

  const waitFor = (stream: 'stdout' | 'stderr', match: string | RegExp, ms: number): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const test = (): RegExpMatchArray | null => {
        const text = stream === 'stdout' ? outText : errText;
        if (typeof match !== 'string') return text.match(match);
        const at = text.indexOf(match);
        if (at === -1) return null;
        const m = [match] as RegExpMatchArray;
        m.index = at;
        return m;
      };
      const done = (fn: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        fn();
      };
      const check = () => {
        const m = test();
        if (m) done(() => resolve(m));
        else if (exited) done(() => reject(new Error(`process exited before ${stream} showed ${String(match)}\n${describe()}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`timed out after ${patience(ms)} ms waiting for ${stream} to show ${String(match)}\n${describe()}`))),
        patience(ms),
      );
      waiters.add(check);
      check();
    });

  const proc: RunningProcess = {
    child,
    label,
    stdout: () => outText,
    stderr: () => errText,
    stdoutBytes: () => Buffer.concat(out),
    waitForStdout: (match, ms = 5000) => waitFor('stdout', match, ms),
    waitForStderr: (match, ms = 5000) => waitFor('stderr', match, ms),
    exit,
    waitForExit: (ms = 5000) =>
      new Promise<Exit>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out after ${patience(ms)} ms waiting for exit\n${describe()}`)), patience(ms));
        void exit.then((e) => {
          clearTimeout(timer);
          resolve(e);
        });
      }),
    write: (data) => void child.stdin!.write(data),
    end: () => void child.stdin!.end(),
  };
  running.add(proc);
  if (options.input !== undefined) child.stdin!.write(options.input);
  if (!options.keepStdin) child.stdin!.end();
  return proc;
}

/** Spawn `node bin/socklab.js ...args` with NO_COLOR=1 and no history file. */
export function runCli(args: string[], options: SpawnOptions = {}): RunningProcess {
  return spawnProcess(process.execPath, [BIN, ...args], {
    ...options,
    env: { NO_COLOR: '1', SOCKLAB_HISTORY: '', ...options.env },
  });
}

/** For `afterEach`: end every process still running (SIGTERM, then SIGKILL) and wait for it. */
export async function cleanupProcesses(): Promise<void> {
  const left = [...running];
  running.clear();
  await Promise.all(
    left.map(async (p) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 2000);
      await p.exit;
      clearTimeout(timer);
    }),
  );
}

/**
 * The objects of the NDJSON event stream in `text` (`{"t":…}` lines). Lenient
 * about a prefix before the object: the interactive REPL on a non-TTY stdin
 * also prints its banner and `socklab> ` prompts on stdout.
 */
export function jsonEvents(text: string): Array<Record<string, unknown> & { t: number; event: string }> {
  const events: Array<Record<string, unknown> & { t: number; event: string }> = [];
  for (const line of text.split('\n')) {
    const at = line.indexOf('{"t":');
    if (at !== -1) events.push(JSON.parse(line.slice(at)) as { t: number; event: string });
  }
  return events;
}

/** True when `name` is on PATH. */
export function hasCommand(name: string): boolean {
  return spawnSync('which', [name], { stdio: 'ignore' }).status === 0;
}

/** A port that was free a moment ago (for tools that cannot listen on port 0). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Bytes 0x00..0xff, once each. */
export function allBytes(): Buffer {
  return Buffer.from(Array.from({ length: 256 }, (_, i) => i));
}

// ---------------------------------------------------------------------------
// tmux: the built CLI in a real terminal.

export interface TmuxOptions {
  width?: number;
  height?: number;
  env?: EnvPatch;
}

/** One detached tmux session on its own server socket (`tmux -L socklab-test-<pid>-<n>`). */
export interface TmuxSession {
  readonly socket: string;
  /** Send tmux key names (`Enter`, `Left`, `C-c`). */
  sendKeys(...keys: string[]): Promise<void>;
  /** Type text literally (no key-name lookup). */
  type(text: string): Promise<void>;
  /** The visible screen, one string per row, trailing blanks trimmed (capture-pane -p). */
  capture(): Promise<string>;
  /** Cursor column and row (0-based). */
  cursor(): Promise<{ x: number; y: number }>;
  /** Poll the screen every ~50 ms until `predicate` holds; on timeout throws with the last screen. */
  waitForScreen(predicate: (screen: string) => boolean, ms?: number, what?: string): Promise<string>;
  /** Poll until the cursor sits at (x, y). */
  waitForCursor(x: number, y: number, ms?: number): Promise<void>;
  kill(): Promise<void>;
}

const sessions = new Set<TmuxSession>();
let tmuxCount = 0;

function tmux(socket: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tmux', ['-L', socket, '-f', '/dev/null', ...args], { timeout: patience(5000) }, (error, stdout, stderr) => {
      if (error) reject(new Error(`tmux ${args.join(' ')}: ${error.message}${stderr ? `\n${stderr}` : ''}`));
      else resolve(stdout);
    });
  });
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Start `node bin/socklab.js ...args` in a detached tmux session (default 60×20). */
export async function startTmux(args: string[] = [], options: TmuxOptions = {}): Promise<TmuxSession> {
  const socket = `socklab-test-${process.pid}-${++tmuxCount}`;
  const env = { NO_COLOR: '1', SOCKLAB_HISTORY: '', ...options.env };
  const assignments = Object.entries(env).map(([k, v]) => (v === undefined ? `-u ${k}` : `${k}=${shellQuote(v)}`));
  const command = ['env', ...assignments, shellQuote(process.execPath), shellQuote(BIN), ...args.map(shellQuote)].join(' ');
  const width = String(options.width ?? 60);
  const height = String(options.height ?? 20);
  await tmux(socket, ['new-session', '-d', '-x', width, '-y', height, '-c', ROOT, command]);

  let lastScreen = '';
  const session: TmuxSession = {
    socket,
    sendKeys: async (...keys) => void (await tmux(socket, ['send-keys', ...keys])),
    type: async (text) => void (await tmux(socket, ['send-keys', '-l', text])),
    capture: async () => {
      const text = await tmux(socket, ['capture-pane', '-p']);
      lastScreen = text
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n')
        .replace(/\n+$/, '');
      return lastScreen;
    },
    cursor: async () => {
      const [x = 'NaN', y = 'NaN'] = (await tmux(socket, ['display-message', '-p', '#{cursor_x},#{cursor_y}'])).trim().split(',');
      return { x: Number(x), y: Number(y) };
    },
    waitForScreen: async (predicate, ms = 5000, what = 'the screen') => {
      ms = patience(ms);
      const deadline = Date.now() + ms;
      for (;;) {
        const screen = await session.capture();
        if (predicate(screen)) return screen;
        if (Date.now() > deadline) {
          throw new Error(`timed out after ${ms} ms waiting for ${what}; the screen:\n${frame(lastScreen)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    waitForCursor: async (x, y, ms = 5000) => {
      ms = patience(ms);
      const deadline = Date.now() + ms;
      let at = await session.cursor();
      while (at.x !== x || at.y !== y) {
        if (Date.now() > deadline) {
          throw new Error(`timed out after ${ms} ms waiting for the cursor at ${x},${y}; it is at ${at.x},${at.y}; the screen:\n${frame(await session.capture())}`);
        }
        await new Promise((r) => setTimeout(r, 50));
        at = await session.cursor();
      }
    },
    kill: async () => {
      sessions.delete(session);
      await tmux(socket, ['kill-server']).catch(() => {});
      // The server removes its socket on exit; make sure, so /tmp does not fill up.
      const uid = process.getuid?.() ?? 0;
      rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${uid}`, socket), { force: true });
    },
  };
  sessions.add(session);
  return session;
}

/** The screen with a border, so trailing spaces and empty rows show in a failure message. */
export function frame(screen: string): string {
  return screen
    .split('\n')
    .map((l) => `|${l}`)
    .join('\n');
}

/** For `afterEach`: kill every tmux server started by `startTmux`. */
export async function cleanupTmux(): Promise<void> {
  await Promise.all([...sessions].map((s) => s.kill()));
}
