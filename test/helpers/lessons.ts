/**
 * Helpers for the lesson tests (test/examples/): read an examples/*.lab lesson,
 * move its servers off the tutorials' fixed ports (to port 0, or to a port the
 * test chose), run it through the BUILT CLI, and drive real peers (nc, curl,
 * Node clients) against a long-lived socklab server.
 *
 * Everything waits on output, never on time; a wait that times out throws with
 * everything received so far. Every process, socket, server and temp dir made
 * here is tracked, and `cleanupLessons()` in `afterEach` ends them all.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { patience } from './patience.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'socklab.js');
export const EXAMPLES = join(ROOT, 'examples');

const cleanups: Array<() => void | Promise<void>> = [];

/** For `afterEach`: kill every child still running, destroy sockets, close servers, remove temp dirs. */
export async function cleanupLessons(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()?.();
}

// ---------------------------------------------------------------------------
// Lesson sources

/** The lesson names (file names without `.lab`) in examples/. */
export function lessonNames(): string[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.lab'))
    .map((f) => f.slice(0, -'.lab'.length))
    .sort();
}

export function lessonSource(name: string): string {
  return readFileSync(join(EXAMPLES, `${name}.lab`), 'utf8');
}

// `.listen [HOST:]PORT` (`.udp`, `.proxy` too) at the start of a line; HOST may be `[v6]`. Unix paths are left alone.
const LISTEN = /^([ \t]*\.(?:listen|udp|proxy)[ \t]+)((?:\[[^\]\s]*\]|[^\s:[\]]+):)?(\d+)(?=[ \t]|$)/gm;

/** The lesson with every `.listen [HOST:]PORT` moved to `port` (0 = ephemeral); nothing else changes. */
export function withListenPort(source: string, port: number): string {
  return source.replace(LISTEN, (_all, head: string, host: string | undefined) => `${head}${host ?? ''}${port}`);
}

/** The ports the lesson's `.listen` lines name, in order. */
export function listenPorts(source: string): number[] {
  return [...source.matchAll(LISTEN)].map((m) => Number(m[3]));
}

/** 1-based line numbers of the `.listen` lines. */
export function listenLineNumbers(source: string): number[] {
  return source.split('\n').flatMap((line, i) => (/^[ \t]*\.(?:listen|udp|proxy)\b/.test(line) ? [i + 1] : []));
}

/** The lesson's server: its first `.listen` line, moved to port 0. */
export function serverLine(name: string): string {
  const line = withListenPort(lessonSource(name), 0)
    .split('\n')
    .find((l) => /^[ \t]*\.listen\b/.test(l));
  if (line === undefined) throw new Error(`${name}.lab has no .listen line`);
  return line.trim();
}

// ---------------------------------------------------------------------------
// Child processes

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One NDJSON event from `socklab --json`. */
export type JsonEvent = Record<string, unknown> & { t: number; event: string; id?: string };

/** A running child with everything it printed so far. */
export interface Child {
  readonly label: string;
  readonly process: ChildProcess;
  stdout(): string;
  stdoutBytes(): Buffer;
  stderr(): string;
  /** The `--json` events on stdout so far (lenient about a `socklab> ` prompt before an object). */
  events(): JsonEvent[];
  /** Resolve with the first non-undefined `probe()` result, re-checked on every output; throw with the output on timeout. */
  waitFor<T>(what: string, probe: () => T | undefined | null | false, ms?: number): Promise<T>;
  /** stdout (or stderr) shows `match`. */
  waitForText(match: string | RegExp, ms?: number, stream?: 'stdout' | 'stderr'): Promise<void>;
  /** The first JSON event (past or future) that matches. */
  waitForEvent(what: string, predicate: (ev: JsonEvent) => boolean, ms?: number): Promise<JsonEvent>;
  /** Resolves when the process has exited and its output is drained. */
  readonly exited: Promise<Exit>;
  /** `exited`, or a throw with the output so far after `ms`. */
  waitForExit(ms?: number): Promise<Exit>;
  write(data: string | Buffer): void;
  /** Close stdin. */
  end(): void;
  /** The command line and everything it printed, for failure messages. */
  describe(): string;
}

export interface StartOptions {
  /** 'pipe' keeps stdin open for `write()`/`end()`; 'ignore' is /dev/null; a string or Buffer is written, then stdin is closed. */
  stdin?: 'pipe' | 'ignore' | string | Buffer;
  env?: Record<string, string>;
}

/** Spawn any program in the repository root, tracked for cleanup. */
export function start(command: string, args: string[], options: StartOptions = {}): Child {
  const stdinMode = options.stdin ?? 'ignore';
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.FORCE_COLOR;
  const proc = spawn(command, args, { cwd: ROOT, env, stdio: [stdinMode === 'ignore' ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  const label = [command === process.execPath ? 'node' : command, ...args].map((a) => (/^[\w./:=@-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  const outChunks: Buffer[] = [];
  const outDecoder = new StringDecoder('utf8');
  const errDecoder = new StringDecoder('utf8');
  let out = '';
  let err = '';
  let partial = '';
  const events: JsonEvent[] = [];
  let exit: Exit | undefined;
  const watchers = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...watchers]) w();
  };

  proc.stdout!.on('data', (chunk: Buffer) => {
    outChunks.push(chunk);
    const text = outDecoder.write(chunk);
    out += text;
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const at = line.indexOf('{"t":');
      if (at !== -1) events.push(JSON.parse(line.slice(at)) as JsonEvent);
    }
    notify();
  });
  proc.stderr!.on('data', (chunk: Buffer) => {
    err += errDecoder.write(chunk);
    notify();
  });
  proc.stdin?.on('error', () => {}); // a peer that exits early must not fail the test with EPIPE
  const exited = new Promise<Exit>((resolve) => {
    proc.once('error', (e) => {
      err += `\n[spawn error] ${e.message}`;
      exit = { code: null, signal: null };
      resolve(exit);
      notify();
    });
    proc.once('close', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
      notify();
    });
  });

  const show = (s: string): string => (s === '' ? '(nothing)' : s.length > 6000 ? `${s.slice(0, 3000)}\n… (${s.length - 6000} chars cut) …\n${s.slice(-3000)}` : s);
  const describe = (): string =>
    `$ ${label}\n--- stdout ---\n${show(out)}\n--- stderr ---\n${show(err)}` + (exit ? `\n--- exited: code ${exit.code}, signal ${exit.signal} ---` : '\n--- still running ---');

  const waitFor = <T>(what: string, probe: () => T | undefined | null | false, ms = 5000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const finish = (fn: () => void): void => {
        clearTimeout(timer);
        watchers.delete(check);
        fn();
      };
      const check = (): void => {
        let found: T | undefined | null | false;
        try {
          found = probe();
        } catch (e) {
          finish(() => reject(e as Error));
          return;
        }
        if (found !== undefined && found !== null && found !== false) finish(() => resolve(found as T));
        else if (exit) finish(() => reject(new Error(`${what}: the process exited first\n${describe()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${what}: not seen within ${patience(ms)} ms\n${describe()}`))), patience(ms));
      watchers.add(check);
      check();
    });

  const child: Child = {
    label,
    process: proc,
    stdout: () => out,
    stdoutBytes: () => Buffer.concat(outChunks),
    stderr: () => err,
    events: () => events,
    waitFor,
    waitForText: async (match, ms = 5000, stream = 'stdout') => {
      await waitFor(`${stream} showing ${String(match)}`, () => {
        const text = stream === 'stdout' ? out : err;
        return typeof match === 'string' ? text.includes(match) : match.test(text);
      }, ms);
    },
    waitForEvent: (what, predicate, ms = 5000) => waitFor(`JSON event ${what}`, () => events.find(predicate), ms),
    exited,
    waitForExit: (ms = 5000) =>
      new Promise<Exit>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no exit within ${patience(ms)} ms\n${describe()}`)), patience(ms));
        void exited.then((e) => {
          clearTimeout(timer);
          resolve(e);
        });
      }),
    write: (data) => void proc.stdin?.write(data),
    end: () => void proc.stdin?.end(),
    describe,
  };

  if (typeof stdinMode !== 'string' || (stdinMode !== 'pipe' && stdinMode !== 'ignore')) {
    proc.stdin!.end(stdinMode);
  }
  cleanups.push(async () => {
    if (exit) return;
    proc.kill('SIGTERM');
    const hard = setTimeout(() => proc.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(hard);
  });
  return child;
}

/** `node bin/socklab.js ...args`, without colours or a history file. */
export function socklab(args: string[], options: StartOptions = {}): Child {
  return start(process.execPath, [BIN, ...args], { ...options, env: { NO_COLOR: '1', SOCKLAB_HISTORY: '', ...options.env } });
}

/**
 * Run a (rewritten) lesson headless from a temp file named like the lesson, so
 * failures read `eaddrinuse.lab:11: …`. Resolves once it exited.
 */
export async function runLesson(name: string, source: string, ms = 10_000): Promise<{ exit: Exit; proc: Child; file: string }> {
  const file = join(tempDir(), `${name}.lab`);
  writeFileSync(file, source);
  const proc = socklab(['--no-time', '--no-color', file]);
  const exit = await proc.waitForExit(ms);
  return { exit, proc, file };
}

/** A lesson's server, run by socklab as a long-lived process (`--json -e LINE`, stdin an open pipe). */
export interface LessonServer {
  proc: Child;
  /** The `.listen` line it ran. */
  line: string;
  /** Server id (`s1`). */
  id: string;
  address: string;
  port: number;
  /** `127.0.0.1:PORT` (or `[::1]:PORT`), for URLs. */
  hostPort: string;
  /** Close socklab's stdin (end of the REPL's input) and wait for it to exit. */
  stop(ms?: number): Promise<Exit>;
}

export async function serveLesson(name: string): Promise<LessonServer> {
  const line = serverLine(name);
  const proc = socklab(['--json', '-e', line], { stdin: 'pipe' });
  const ev = await proc.waitForEvent('listening', (e) => e.event === 'listening');
  const address = String(ev.address);
  if (address !== '127.0.0.1' && address !== '::1') throw new Error(`${name}: server not on loopback: ${address}\n${proc.describe()}`);
  return {
    proc,
    line,
    id: String(ev.id),
    address,
    port: Number(ev.port),
    hostPort: `${address.includes(':') ? `[${address}]` : address}:${Number(ev.port)}`,
    stop: (ms = 5000) => {
      proc.end();
      return proc.waitForExit(ms);
    },
  };
}

/** JSON events of one kind (and endpoint id). */
export function eventsOf(proc: Child, event: string, id?: string): JsonEvent[] {
  return proc.events().filter((e) => e.event === event && (id === undefined || e.id === id));
}

/** Bytes of the `data` (or `send`) events of one socket, concatenated. */
export function bytesOf(proc: Child, event: 'data' | 'send', id: string): Buffer {
  return Buffer.concat(eventsOf(proc, event, id).map((e) => Buffer.from(String(e.base64), 'base64')));
}

// ---------------------------------------------------------------------------
// Tools, ports, sockets

/** True when `name` is on PATH. */
export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** True when `nc` is netcat-openbsd (the `-N` / `-d` flags used here are its own). */
export function hasOpenbsdNc(): boolean {
  if (!hasTool('nc')) return false;
  const help = spawnSync('nc', ['-h'], { encoding: 'utf8' });
  return `${help.stdout}${help.stderr}`.includes('OpenBSD netcat');
}

/** A port on 127.0.0.1 that was free a moment ago (for tools that cannot listen on port 0). */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A real other program, `nc -l -v -n 127.0.0.1 PORT`, holding a port that was
 * free a moment ago (nc cannot listen on port 0). Resolves once nc says it
 * listens; tries another port if one was taken in between.
 */
export async function ncHoldsPort(): Promise<{ nc: Child; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const nc = start('nc', ['-l', '-v', '-n', '127.0.0.1', String(port)], { stdin: 'pipe' });
    try {
      await nc.waitForText(`Listening on 127.0.0.1 ${port}`, 5000, 'stderr');
      return { nc, port };
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

/** A Node server on 127.0.0.1:0 that just holds its port; closed on cleanup. */
export async function holdPort(): Promise<number> {
  const server = net.createServer((s) => s.destroy()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

/** A fresh temp dir, removed on cleanup. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'socklab-lesson-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A Node `net` client with everything it received. */
export interface Client {
  socket: net.Socket;
  received(): Buffer;
  /** Resolve once at least `bytes` bytes have arrived; throw with what did on timeout or close. */
  waitForBytes(bytes: number, ms?: number): Promise<Buffer>;
  /** Resolves on 'close'. */
  closed: Promise<void>;
}

/** Connect a client (tracked; destroyed on cleanup); `onConnect` runs inside the 'connect' event, as a tutorial client writes. */
export async function connectClient(host: string, port: number, onConnect?: (socket: net.Socket) => void): Promise<Client> {
  const socket = net.connect({ host, port });
  cleanups.push(() => void socket.destroy());
  const chunks: Buffer[] = [];
  let total = 0;
  let isClosed = false;
  const watchers = new Set<() => void>();
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    total += c.length;
    for (const w of [...watchers]) w();
  });
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      for (const w of [...watchers]) w();
      resolve();
    }),
  );
  let connectError: Error | undefined;
  socket.on('error', (e) => (connectError ??= e));
  if (onConnect) socket.once('connect', () => onConnect(socket));
  await Promise.race([once(socket, 'connect'), closed.then(() => Promise.reject(connectError ?? new Error(`closed before connecting to ${host}:${port}`)))]);
  const received = (): Buffer => Buffer.concat(chunks);
  return {
    socket,
    received,
    closed,
    waitForBytes: (bytes, ms = 5000) =>
      new Promise<Buffer>((resolve, reject) => {
        const finish = (fn: () => void): void => {
          clearTimeout(timer);
          watchers.delete(check);
          fn();
        };
        const check = (): void => {
          if (total >= bytes) finish(() => resolve(received()));
          else if (isClosed) finish(() => reject(new Error(`socket closed after ${total} of ${bytes} B: ${JSON.stringify(received().toString('utf8'))}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${total} of ${bytes} B within ${patience(ms)} ms: ${JSON.stringify(received().toString('utf8').slice(0, 500))}`))),
          patience(ms),
        );
        watchers.add(check);
        check();
      }),
  };
}
