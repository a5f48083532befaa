// Row 4: `--json` against its real peer, `socat -x` (issue 17 item 4). Both log
// every byte of an echo, both directions: socklab as NDJSON (`data` with base64
// and text, `send` with base64), socat as a hex dump (`>` and `<` blocks). Each
// writes its log into a FILE, then into a SLOW PIPE (a named pipe) read by
// `dd bs=4096 if=FIFO of=FILE`, a reader doing one read(2) of at most 4 KiB
// and one write(2) to a file per block, in its own process. The same reader for both, and both writers block
// when it falls behind (socat's stderr and Node's stdout pipe are blocking
// on Linux), so the pipe measures the same thing on each side: how much log
// each writes per payload byte and how it writes it. After each run the log is
// read back: every payload byte must be in it, both ways (lossless).
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MiB, GiB } from './load.mjs';
import { interleave } from './pairs.mjs';
import { cpuMs, freePort, peakRssOf, start, stop, waitListening, withTimeout } from './procs.mjs';
import { socklabNodeArgs, SOCKLAB, ROOT } from './servers.mjs';
import { info, row } from './table.mjs';

/**
 * Payload per run. socat -x needs ~110 s of CPU per GiB for its hex dump: 32
 * MiB is ~3.5 s of its CPU, and ~30–60 s when a loaded machine (load average
 * 10–16 on 2 cores) gives it a fraction of a core.
 */
const BYTES = 32 * MiB;
const CHUNK = 64 * 1024;
const PAYLOAD = Buffer.alloc(CHUNK, 'socklab bench payload 0123456789\n');
const READY_MS = 10_000;
/** A stall, not a slow run: 4 s per MiB (socat -x at 1 MiB/s when starved of CPU still passes). */
const deadline = (bytes) => Math.max(20_000, (bytes / MiB) * 4000);

/**
 * socat -x, the same echo as row 9a (64 KiB reads, EXEC:cat); its hex dump goes
 * to stderr. Bare `socat -x` writes stderr unbuffered, one write(2) per byte
 * (" 73", strace shows it), ~0.1 MiB/s here: `stdbuf -eL` gives it a line
 * buffer, so it writes once per dumped block, as socklab writes once per event.
 * That is the fastest socat -x that still flushes every event: the fair peer.
 */
const socatArgs = (port) => ['-eL', 'socat', '-b', '65536', '-x', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, 'EXEC:cat'];
/** socklab's echo with --json; the NDJSON goes to stdout, the prompt to stderr. */
const socklabArgs = (port) => [...socklabNodeArgs(), SOCKLAB, '--no-color', '--json', '-e', `.listen ${port} --reply echo`];

/** CPU ms of a process and its children (socat's cat), read from /proc. */
function treeCpuMs(pid) {
  let kids = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {}
  return kids.reduce((sum, k) => sum + cpuMs(k), cpuMs(pid));
}

/** Echo `total` bytes through `port` (64 KiB writes, drain respected); `atEnd()` runs before the socket closes. */
function echo(port, total, atEnd) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let sent = 0;
    let received = 0;
    let t0 = 0;
    const more = () => {
      while (sent < total) {
        const n = Math.min(CHUNK, total - sent);
        sent += n;
        if (!socket.write(n === CHUNK ? PAYLOAD : PAYLOAD.subarray(0, n))) return void socket.once('drain', more);
      }
    };
    socket.once('connect', () => {
      t0 = performance.now();
      more();
    });
    socket.on('data', (d) => {
      received += d.length;
      if (received < total) return;
      const ms = performance.now() - t0;
      const extra = atEnd();
      socket.destroy();
      resolve({ ms, ...extra });
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed after ${received} of ${total} B echoed`)));
  });
}

/** Payload bytes in socklab's NDJSON, per event; every line parsed, every base64 checked against `bytes`. */
async function countJson(file) {
  const seen = { data: 0, send: 0 };
  let first;
  for await (const line of createInterface({ input: createReadStream(file) })) {
    const ev = JSON.parse(line);
    if (ev.event !== 'data' && ev.event !== 'send') continue;
    if (Buffer.byteLength(ev.base64, 'base64') !== ev.bytes) throw new Error(`a ${ev.event} line's base64 does not hold its ${ev.bytes} bytes`);
    first ??= ev.base64;
    seen[ev.event] += ev.bytes;
  }
  if (first !== undefined && !PAYLOAD.subarray(0, 48).equals(Buffer.from(first, 'base64').subarray(0, 48))) throw new Error('the first data line is not the payload');
  return { in: seen.data, out: seen.send };
}

/** Payload bytes in socat's hex dump, per direction: the hex pairs under each `>`/`<` header, checked against its length=. */
async function countHex(file) {
  const seen = { '>': 0, '<': 0 };
  let dir;
  let declared = 0;
  let pairs = 0;
  const close = () => {
    if (dir && pairs !== declared) throw new Error(`a ${dir} block says length=${declared} and holds ${pairs} bytes`);
  };
  for await (const line of createInterface({ input: createReadStream(file) })) {
    const head = /^([<>]) \S+ \S+ +length=(\d+)/.exec(line);
    if (head) {
      close();
      dir = head[1];
      declared = Number(head[2]);
      pairs = 0;
      seen[dir] += declared;
    } else if (line.startsWith(' ')) pairs += line.length / 3;
  }
  close();
  return { in: seen['>'], out: seen['<'] };
}

/**
 * `dd bs=4096 if=FIFO of=FILE`: the slow reader at the other end of the log
 * pipe. A named pipe (mkfifo) so that it is a kernel pipe as in a shell's
 * `|` (the stdio "pipes" of Node's spawn are socketpairs, which wake the
 * writer differently). Resolves to the fd of its writing end.
 */
function slowReader(dir, file) {
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const dd = spawn('dd', ['bs=4096', `if=${fifo}`, `of=${file}`, 'status=none'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((resolve) => dd.once('exit', resolve));
  // Opening a FIFO for writing waits for its reader: dd opens it as it starts.
  const fd = openSync(fifo, 'w');
  return { fd, exited, kill: () => dd.kill('SIGKILL') };
}

/**
 * One run of one side into one sink: the log to `file` directly, or through
 * the slow reader. Resolves to MiB/s with CPU/GiB, peak RSS and log size;
 * throws when the log misses a byte.
 */
const run = (side, sink, bytes) => async () => {
  const dir = mkdtempSync(join(tmpdir(), 'socklab-json-bench-'));
  const file = join(dir, 'log');
  const port = await freePort();
  const reader = sink === 'pipe' ? slowReader(dir, file) : undefined;
  const out = reader ? reader.fd : openSync(file, 'w');
  let outOpen = true;
  let proc;
  try {
    proc =
      side === 'socat'
        ? start('stdbuf', socatArgs(port), { stdio: ['pipe', 'ignore', out] })
        : start(process.execPath, socklabArgs(port), { cwd: ROOT, env: { ...process.env, SOCKLAB_HISTORY: '' }, stdio: ['pipe', out, 'pipe'] });
    // The child has its own copy; ours would keep the pipe open after the server exits.
    closeSync(out);
    outOpen = false;
    await waitListening(port, READY_MS);
    const c0 = treeCpuMs(proc.pid);
    const pid = proc.pid;
    const r = await withTimeout(
      echo(port, bytes, () => ({ cpu: treeCpuMs(pid) - c0, rss: peakRssOf(pid) })),
      deadline(bytes),
      `${side} -> ${sink}: echo of ${bytes / MiB} MiB`,
    );
    await stop(proc);
    if (reader) await withTimeout(reader.exited, READY_MS, 'the slow reader to finish');
    const n = side === 'socat' ? await countHex(file) : await countJson(file);
    if (n.in !== bytes || n.out !== bytes) throw new Error(`${side} -> ${sink} lost bytes: the log holds ${n.in} in and ${n.out} out of ${bytes} each way`);
    const logged = statSync(file).size / bytes;
    const cpu = (r.cpu / 1000) * (GiB / bytes);
    const mibs = bytes / MiB / (r.ms / 1000);
    return { value: mibs, cpu, rss: r.rss, logged, note: `${(r.ms / 1000).toFixed(2)} s; CPU ${cpu.toFixed(2)} s/GiB; peak RSS ${(r.rss / MiB).toFixed(0)} MiB; ${logged.toFixed(2)} B of log per payload B; lossless` };
  } finally {
    if (outOpen) closeSync(out);
    if (proc) await stop(proc);
    reader?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Keeps the extra figures of each run (interleave keeps only value and cpu). */
function recorded(fn, into) {
  return async () => {
    const r = await fn();
    into.push(r);
    return r;
  };
}

const max = (runs, key) => Math.max(...runs.map((r) => r[key]));

export async function jsonRows(rounds, log) {
  log(`--json vs socat -x: echo of ${BYTES / MiB} MiB, every byte logged both ways, into a file`);
  const kept = { socat: [], socklab: [] };
  const file = await interleave(rounds, { socat: recorded(run('socat', 'file', BYTES), kept.socat), socklab: recorded(run('socklab', 'file', BYTES), kept.socklab) }, log);
  log(`--json vs socat -x: the same into a slow pipe (a FIFO read by dd bs=4096 of=FILE)`);
  const pipe = await interleave(rounds, { socat: run('socat', 'pipe', BYTES), socklab: run('socklab', 'pipe', BYTES) }, log);
  const rss = info('4″. --json: peak RSS (file runs, max)', 'MiB', max(kept.socat, 'rss') / MiB, max(kept.socklab, 'rss') / MiB, 'socat -x');
  rss.note = `log per payload byte: socat -x ${max(kept.socat, 'logged').toFixed(2)} B, --json ${max(kept.socklab, 'logged').toFixed(2)} B`;
  return [
    row(`4a. --json echo ${BYTES / MiB} MiB into a file vs socat -x`, 'MiB/s', file.socat.median, file.socklab.median, 'higher', 1.5, 'socat -x'),
    row(`4b. --json echo ${BYTES / MiB} MiB into a slow pipe vs socat -x`, 'MiB/s', pipe.socat.median, pipe.socklab.median, 'higher', 1.5, 'socat -x'),
    info('4′. --json: CPU per GiB (file runs; socat with its cat)', 's', file.socat.cpu, file.socklab.cpu, 'socat -x'),
    rss,
  ];
}
