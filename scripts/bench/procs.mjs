// Child processes of the bench: spawn, wait for output, stop; every child is
// tracked so that it is killed at the end, also when a measurement fails.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const live = new Set();
/** Text kept per child for parsing and for error messages. */
const KEEP = 64 * 1024;

/**
 * Spawn a child with stdin a pipe kept open and stdout drained by us (a
 * non-TTY sink). Draining only counts bytes and keeps the last chunks; `text`
 * decodes them on demand (a --json child writes gigabytes).
 */
export function start(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  const tail = [];
  let tailBytes = 0;
  const proc = {
    child,
    pid: child.pid,
    command: [command, ...args].join(' '),
    stdoutBytes: 0,
    exited: false,
    listeners: new Set(),
    note: '',
    /** The last KEEP bytes of stdout and stderr, as latin1 text. */
    get text() {
      return Buffer.concat(tail).toString('latin1') + this.note;
    },
  };
  live.add(proc);
  const notify = () => {
    for (const fn of proc.listeners) fn();
  };
  const take = (chunk) => {
    tail.push(chunk);
    tailBytes += chunk.length;
    while (tail.length > 1 && tailBytes - tail[0].length >= KEEP) tailBytes -= tail.shift().length;
    if (proc.listeners.size > 0) notify();
  };
  // A child whose stdout or stderr goes elsewhere (a file, another process: options.stdio) has no stream here.
  child.stdout?.on('data', (chunk) => {
    proc.stdoutBytes += chunk.length;
    take(chunk);
  });
  child.stderr?.on('data', take);
  child.stdin?.on('error', () => {});
  proc.exit = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      proc.exited = true;
      live.delete(proc);
      notify();
      resolve({ code, signal });
    });
    child.on('error', (err) => {
      proc.exited = true;
      proc.note += `\n[spawn error: ${err.message}]`;
      live.delete(proc);
      notify();
      resolve({ code: -1, signal: null });
    });
  });
  return proc;
}

/** Resolve with the match once the child's output matches `regex`; reject after `ms` or if it exits. */
export function waitFor(proc, regex, ms, what = String(regex)) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = regex.exec(proc.text);
      if (m) return done(null, m);
      if (proc.exited) done(new Error(`${proc.command} exited before ${what}; output:\n${proc.text.slice(-2000)}`));
    };
    const timer = setTimeout(() => done(new Error(`${proc.command}: no ${what} within ${ms} ms; output:\n${proc.text.slice(-2000)}`)), ms);
    const done = (err, m) => {
      clearTimeout(timer);
      proc.listeners.delete(check);
      if (err) reject(err);
      else resolve(m);
    };
    proc.listeners.add(check);
    check();
  });
}

/** Stop a child: SIGTERM (so socklab exits cleanly, e.g. to write a --cpu-prof), SIGKILL after `graceMs`. */
export async function stop(proc, graceMs = 3000) {
  if (proc.exited) return;
  proc.child.stdin?.end();
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exit;
  clearTimeout(timer);
}

/** Kill every child still running (the bench's last act, also on failure). */
export function killAll() {
  for (const proc of live) proc.child.kill('SIGKILL');
  live.clear();
}

/** A free loopback port, for tools that need one given (socat, ncat). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Wait until something listens on 127.0.0.1:port, read from /proc/net/tcp (connecting would use up a single-connection listener). */
export async function waitListening(port, ms) {
  const needle = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const lines = readFileSync('/proc/net/tcp', 'utf8').split('\n');
    if (lines.some((l) => l.trim().split(/\s+/)[1] === needle && l.trim().split(/\s+/)[3] === '0A')) return;
    await sleep(10);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
}

/** Peak resident set size of a process so far, bytes (VmHWM); NaN once it is gone. */
export function peakRssOf(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Resident set size of a process, bytes (VmRSS). */
export function rssOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) a process has used so far, ms; NaN once it is gone. */
export function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Open file descriptors of a process. */
export function fdCount(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Bound a promise by a deadline; rejects after `ms`, naming `what` (a string, or a function called then). */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${typeof what === 'function' ? what() : what} took longer than ${ms} ms`)), ms);
    }),
  ]);
}

/**
 * Run `fn` with this process (every thread) and the children it starts
 * meanwhile on one CPU, then restore the affinity. For latency-bound loads
 * (ping-pong) on a VM: across two vCPUs every wake-up costs a hypervisor
 * round trip and the rate swings 6× between runs; on one CPU it measures
 * the CPU cost of a round trip, client and server alike. Without taskset,
 * `fn` runs unpinned and `pinned` is false.
 */
export async function onOneCore(fn) {
  let saved;
  try {
    saved = /: *([0-9a-f]+)\s*$/.exec(execFileSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' }))?.[1];
    execFileSync('taskset', ['-a', '-p', '1', String(process.pid)], { stdio: 'ignore' });
  } catch {
    return fn(false);
  }
  try {
    return await fn(true);
  } finally {
    if (saved) execFileSync('taskset', ['-a', '-p', saved, String(process.pid)], { stdio: 'ignore' });
  }
}
