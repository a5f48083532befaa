#!/usr/bin/env node
// Instruction counts (valgrind --tool=callgrind) of one process for a fixed
// workload: steady under any machine load, unlike wall clock. Usage:
//   node scripts/callgrind.mjs [startup|startup-node|startup-prompt|startup-prompt-node|tls-listen|
//     startup-snapshot|startup-prompt-snapshot|repl-file|repl-file-global|
//     pingpong|pingpong-node|accept|accept-node|echo-bulk|echo-bulk-node|udp|udp-node|udp-window|udp-window-node|json|json-node
//     |framed|framed-node|rules|rules-node|serve-echo|serve-echo-none|relay-bulk|relay-bulk-socat|relay-pingpong|relay-pingpong-socat|relay-pingpong-node|relay-pingpong-node-domain|relay-pingpong-node-in-domain|relay-bulk-node|tls-echo|tls-echo-node] …
// Each prints "WORKLOAD  N instructions". CG_THREADS=1 counts each thread
// apart and adds the main thread's share (the JavaScript; V8's helper threads
// compile and collect garbage, mostly on another CPU). Needs `npm run build` and valgrind
// (the relay workloads socat, the TLS ones openssl). Relay workloads count the
// relay process only (socklab's `.proxy` or socat); the echo target behind it
// is a bare Node process outside valgrind.
// CG_KEEP=FILE keeps the callgrind output file (callgrind_annotate FILE).
// NODE_EXTRA_CA_CERTS is unset: with it every node process parses that file of
// CAs first (~415 M instructions here, three times `node -i`'s own start-up).
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, copyFileSync, openSync, readFileSync, readdirSync, rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import dgram from 'node:dgram';
import tls from 'node:tls';
import http from 'node:http';
import { join } from 'node:path';
import { ROOT, SOCKLAB, NODE_PEER } from './bench/servers.mjs';
import { freePort, waitListening } from './bench/procs.mjs';
import { udpEcho } from './bench/udp.mjs';
import { certificate } from './bench/tls.mjs';

const PINGS = Number(process.env.CG_PINGS ?? 20_000);
const ACCEPTS = Number(process.env.CG_ACCEPTS ?? 5_000);
const DATAGRAMS = Number(process.env.CG_DATAGRAMS ?? 10_000);
const JSON_MIB = Number(process.env.CG_JSON_MIB ?? 16);
/** Bytes echoed by the bulk workloads (relay-bulk, tls-echo). */
const BULK = Number(process.env.CG_BULK_MIB ?? 32) * 1024 * 1024;
const THREADS = process.env.CG_THREADS === '1';
/** Page viewers (event-stream readers, outside valgrind) of the serve-echo workload, as bench row 16 has. */
const VIEWERS = Number(process.env.CG_VIEWERS ?? 10);
/** The main thread's instructions of the last run (CG_THREADS=1 only). */
let lastMain;

/** `stdout`: 'pipe' (read here for the listening line) or an fd (a file, for the --json log); `cmd` the program (socat for its baseline). */
function underCallgrind(args, env = {}, stdout = 'pipe', cmd = process.execPath) {
  const dir = mkdtempSync(join(tmpdir(), 'cg-'));
  const out = join(dir, 'cg.out');
  const threads = THREADS ? ['--separate-threads=yes'] : [];
  const proc = spawn('valgrind', ['--tool=callgrind', ...threads, `--callgrind-out-file=${out}`, '--dump-instr=no', cmd, ...args], {
    cwd: ROOT,
    env: { ...withoutExtraCa(process.env), SOCKLAB_HISTORY: '', ...env },
    stdio: ['pipe', stdout, 'pipe'],
  });
  let text = '';
  proc.stdout?.on('data', (d) => {
    text += d.toString('latin1');
    if (text.length > 65536) text = text.slice(-32768);
  });
  proc.stderr.resume();
  const done = new Promise((resolve) => proc.on('exit', () => {
    // CG_KEEP=FILE keeps the callgrind output there (for callgrind_annotate); with CG_THREADS, the main thread's.
    // With --separate-threads one file per thread: cg.out-01 (the main thread), cg.out-02, …
    const files = THREADS ? readdirSync(dir).filter((f) => /^cg\.out-\d+$/.test(f)).sort() : ['cg.out'];
    if (process.env.CG_KEEP) copyFileSync(join(dir, files[0]), process.env.CG_KEEP);
    const counts = files.map((f) => Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'))?.[1]));
    rmSync(dir, { recursive: true, force: true });
    lastMain = THREADS ? counts[0] : undefined;
    resolve(counts.reduce((a, b) => a + b, 0));
  }));
  const wait = (re) => new Promise((resolve) => {
    const check = () => {
      const m = re.exec(text);
      if (m) { proc.stdout?.off('data', check); resolve(m); }
    };
    proc.stdout?.on('data', check);
    check();
  });
  return { proc, done, wait };
}

function withoutExtraCa(env) {
  const copy = { ...env };
  delete copy.NODE_EXTRA_CA_CERTS;
  return copy;
}

/** Up to the first prompt only: SIGUSR2 (no handler in either process) ends it there; callgrind still writes its counts. */
async function toPrompt(args, prompt) {
  const c = underCallgrind(args);
  await c.wait(prompt);
  c.proc.kill('SIGUSR2');
  return c.done;
}

/** A throwaway self-signed certificate and key (openssl), so the workload makes no RSA key (random in cost). */
function certFiles() {
  const dir = mkdtempSync(join(tmpdir(), 'cg-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1'], { stdio: 'ignore' });
  return { dir, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

const socklab = (lines) => {
  const args = [SOCKLAB, '--no-color'];
  for (const l of lines) args.push('-e', l);
  return args;
};

// A 64-byte line (bench row 15's), answered by a rule or a bare Node line echo.
const LINE = Buffer.from(`${'p'.repeat(63)}\n`);
// The rule of bench row 15 (scripts/bench/servers.mjs, socklab-rule-echo).
const RULE_ECHO = ['.listen 0', '.on s1 data /([^\\n]*)\\n/ .sendln $id $1'];

// A 64-byte payload with a len16 prefix (66 B on the wire), as bench row 14 sends.
const LEN16_MESSAGE = Buffer.alloc(66, 112);
LEN16_MESSAGE.writeUInt16BE(64, 0);

async function pingpong(port, msg = Buffer.alloc(64, 97)) {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise((r) => sock.once('connect', r));
  let n = 0;
  let got = 0;
  await new Promise((resolve) => {
    sock.on('data', (d) => {
      got += d.length;
      while (got >= msg.length) {
        got -= msg.length;
        if (++n === PINGS) return resolve();
        sock.write(msg);
      }
    });
    sock.write(msg);
  });
  sock.destroy();
}

async function accepts(port) {
  for (let i = 0; i < ACCEPTS; i++) {
    await new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.end());
      s.on('error', reject);
      s.on('close', resolve);
      s.resume();
    });
  }
}

async function udp(port) {
  const s = dgram.createSocket('udp4');
  const msg = Buffer.alloc(64, 97);
  let n = 0;
  await new Promise((resolve) => {
    s.on('message', () => {
      if (++n === DATAGRAMS) return resolve();
      s.send(msg, port, '127.0.0.1');
    });
    s.send(msg, port, '127.0.0.1');
  });
  s.close();
}

/**
 * Bench row 11's loop (scripts/bench/udp.mjs): DATAGRAMS of 64 B, 32 in
 * flight, so the server reads several datagrams per turn of its event loop.
 * Lost ones (none on an idle loopback) are sent again after 1 s without an answer.
 */
const udpWindow = (port) => udpEcho(port, DATAGRAMS, 3_600_000, 1000);

/** Echo JSON_MIB MiB of printable text with newlines (the bench's payload), 64 KiB writes, drain respected. */
async function bulkEcho(port) {
  const total = JSON_MIB * 1024 * 1024;
  const payload = Buffer.alloc(64 * 1024, 'socklab bench payload 0123456789\n');
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let sent = 0;
  let got = 0;
  await new Promise((resolve) => {
    const more = () => {
      while (sent < total) {
        sent += payload.length;
        if (!sock.write(payload)) return void sock.once('drain', more);
      }
    };
    sock.on('data', (d) => {
      got += d.length;
      if (got >= total) resolve();
    });
    more();
  });
  sock.destroy();
}

/** A server on a port chosen here, its stdout into a temporary file (the --json log); `args(port)` is its command line. */
async function serveToFile(args, drive) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cg-log-'));
  const fd = openSync(join(dir, 'log'), 'w');
  const c = underCallgrind(args(port), {}, fd);
  closeSync(fd);
  try {
    await waitListening(port, 120_000);
    await drive(port);
    c.proc.stdin.end('.exit\n');
    setTimeout(() => c.proc.kill('SIGTERM'), 5000).unref();
    return await c.done;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Write BULK bytes in 64 KiB writes and read the echo back at the same time. */
async function bulk(socket) {
  const chunk = Buffer.alloc(64 * 1024, 97);
  await new Promise((resolve, reject) => {
    let got = 0;
    socket.on('data', (d) => {
      got += d.length;
      if (got >= BULK) resolve();
    });
    socket.once('error', reject);
    let sent = 0;
    const more = () => {
      while (sent < BULK) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', more);
      }
    };
    more();
  });
  socket.destroy();
}

async function tcpBulk(port) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  await bulk(sock);
}

async function tlsBulk(port) {
  const sock = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  await new Promise((r) => sock.once('secureConnect', r));
  await bulk(sock);
}

/** `n` readers of the page's event stream at `port` (what EventSource does); each `destroy()`s. */
function pageViewers(port, n) {
  return Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
    const req = http.get(`http://127.0.0.1:${port}/events`, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`viewer got ${res.statusCode}`));
      res.resume();
      res.on('error', () => {});
      resolve(req);
    });
    req.on('error', reject);
  })));
}

/**
 * Bench row 16 under callgrind: socklab echoes CG_BULK_MIB MiB with `.serve 0`
 * and CG_VIEWERS page viewers reading (`serve-echo`), or with no page
 * (`serve-echo-none`). The page's snapshots are timed (every 500 ms), so
 * valgrind's slowness makes them weigh more per byte here than in the bench.
 */
async function serveEcho(page) {
  const c = underCallgrind(socklab(page ? ['.serve 0', '.listen 0 --reply echo'] : ['.listen 0 --reply echo']));
  const port = Number((await c.wait(LISTENING))[1]);
  const viewers = page ? await pageViewers(Number((await c.wait(/serving the page at http:\/\/127\.0\.0\.1:(\d+)\//))[1]), VIEWERS) : [];
  await tcpBulk(port);
  for (const v of viewers) v.destroy();
  c.proc.stdin.end('.exit\n');
  setTimeout(() => c.proc.kill('SIGTERM'), 5000).unref();
  return c.done;
}

/** A bare Node echo target outside valgrind, for the relay workloads; its port. */
async function echoTarget() {
  const proc = spawn(process.execPath, [NODE_PEER, 'echo'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  const port = await new Promise((resolve) => proc.stdout.on('data', (d) => {
    text += d;
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
    if (m) resolve(Number(m[1]));
  }));
  return { port, stop: () => proc.kill('SIGTERM') };
}

/** The relay process under callgrind in front of a bare echo target: socklab's `.proxy` or socat. */
async function relay(kind, drive) {
  const target = await echoTarget();
  try {
    if (kind === 'socklab') return await serve(socklab([`.proxy 0 ${target.port}`]), drive, /p1\s+listening on 127\.0\.0\.1:(\d+)/);
    if (kind !== 'socat') return await serve([NODE_PEER, kind, String(target.port)], drive);
    const port = await freePort();
    const c = underCallgrind(['-b', '65536', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `TCP:127.0.0.1:${target.port}`], {}, 'pipe', 'socat');
    await waitAccepting(port);
    await drive(port);
    // socat ends once its one connection closed.
    setTimeout(() => c.proc.kill('SIGTERM'), 5000).unref();
    return c.done;
  } finally {
    target.stop();
  }
}

/** Wait until socat listens on `port`, asked of ss: a probe connection would be the one connection socat serves before it exits. */
async function waitAccepting(port) {
  for (;;) {
    const out = execFileSync('ss', ['-Hltn', `sport = :${port}`]).toString();
    if (out.trim() !== '') return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function tlsServer(kind) {
  const files = certificate();
  try {
    const args = kind === 'node' ? [NODE_PEER, 'tls-echo', files.cert, files.key] : socklab([`.listen 0 --tls --cert ${files.cert} --key ${files.key} --reply echo`]);
    return await serve(args, tlsBulk);
  } finally {
    rmSync(files.dir, { recursive: true, force: true });
  }
}

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;
const PROMPT = /socklab> /;

/** Path of a startup snapshot of the bundle (scripts/startup-snapshot-probe.cjs), built once per run in a temp dir. */
let snapshotBlob;
function snapshot() {
  if (snapshotBlob) return snapshotBlob;
  const dir = mkdtempSync(join(tmpdir(), 'cg-snap-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  snapshotBlob = join(dir, 'socklab.blob');
  execFileSync(process.execPath, ['--snapshot-blob', snapshotBlob, '--build-snapshot', join(ROOT, 'scripts/startup-snapshot-probe.cjs')], {
    env: withoutExtraCa(process.env), stdio: 'ignore' });
  return snapshotBlob;
}
const fromSnapshot = (lines) => ['--snapshot-blob', snapshot(), '--', ...socklab(lines).slice(1)];

/** A file that only starts node:repl (the floor for any script that does, as socklab does). */
function replFile(options) {
  const dir = mkdtempSync(join(tmpdir(), 'cg-repl-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'repl.cjs');
  writeFileSync(file, `require('node:repl').start(${JSON.stringify(options)});\n`);
  return file;
}

async function promptThenExit(args, prompt) {
  const c = underCallgrind(args);
  await c.wait(prompt);
  c.proc.stdin.end('.exit\n');
  return c.done;
}

const WORKLOADS = {
  // Start-up from a snapshot of the bundle (an experiment: socklab does not start so).
  'startup-snapshot': async () => promptThenExit(fromSnapshot(['.set time on']), PROMPT),
  'startup-prompt-snapshot': async () => toPrompt(fromSnapshot(['.set time on']), PROMPT),
  // node:repl started from a file, with socklab's useGlobal: false and with true.
  'repl-file': async () => promptThenExit([replFile({ useGlobal: false })], /(^|\n)> /),
  'repl-file-global': async () => promptThenExit([replFile({ useGlobal: true })], /(^|\n)> /),
  startup: async () => {
    const c = underCallgrind(socklab(['.set time on']));
    await c.wait(PROMPT);
    c.proc.stdin.end('.exit\n');
    return c.done;
  },
  'startup-node': async () => {
    const c = underCallgrind(['-i']);
    await c.wait(/(^|\n)> /);
    c.proc.stdin.end('.exit\n');
    return c.done;
  },
  'startup-prompt': async () => toPrompt(socklab(['.set time on']), PROMPT),
  'startup-prompt-node': async () => toPrompt(['-i'], /(^|\n)> /),
  // The first use of TLS: what start-up no longer loads is loaded here.
  'tls-listen': async () => {
    const files = certFiles();
    try {
      const c = underCallgrind(socklab([`.listen 0 --tls --cert ${files.cert} --key ${files.key}`]));
      await c.wait(LISTENING);
      await c.wait(PROMPT);
      c.proc.stdin.end('.exit\n');
      return await c.done;
    } finally {
      rmSync(files.dir, { recursive: true, force: true });
    }
  },
  pingpong: async () => serve(socklab(['.listen 0 --reply echo']), pingpong),
  'pingpong-node': async () => serve([NODE_PEER, 'echo'], pingpong),
  accept: async () => serve(socklab(['.listen 0']), accepts),
  'accept-node': async () => serve([NODE_PEER, 'echo'], accepts),
  udp: async () => serve(socklab(['.udp 0 --reply echo']), udp),
  'udp-node': async () => serve([NODE_PEER, 'udp-echo'], udp),
  'udp-window': async () => serve(socklab(['.udp 0 --reply echo']), udpWindow),
  'udp-window-node': async () => serve([NODE_PEER, 'udp-echo'], udpWindow),
  // Row 1's echo in small: CG_JSON_MIB MiB of the bench's payload echoed, events shown (human, folded).
  'echo-bulk': async () => serve(socklab(['.listen 0 --reply echo']), bulkEcho),
  'echo-bulk-node': async () => serve([NODE_PEER, 'echo'], bulkEcho),
  json: async () => serveToFile((port) => [SOCKLAB, '--no-color', '--json', '-e', `.listen ${port} --reply echo`], bulkEcho),
  'json-node': async () => serve([NODE_PEER, 'echo'], bulkEcho),
  'relay-bulk': async () => relay('socklab', tcpBulk),
  'relay-bulk-socat': async () => relay('socat', tcpBulk),
  'relay-pingpong': async () => relay('socklab', pingpong),
  'relay-pingpong-socat': async () => relay('socat', pingpong),
  // A bare Node relay (pipe both ways), and the same with one domain created (node:repl's async hooks).
  'relay-pingpong-node': async () => relay('relay', pingpong),
  'relay-pingpong-node-domain': async () => relay('relay-domain', pingpong),
  'relay-pingpong-node-in-domain': async () => relay('relay-in-domain', pingpong),
  'relay-bulk-node': async () => relay('relay', tcpBulk),
  'relay-pingpong-node-onread': async () => relay('relay-onread', pingpong),
  'serve-echo': async () => serveEcho(true),
  'serve-echo-none': async () => serveEcho(false),
  'tls-echo': async () => tlsServer('socklab'),
  'tls-echo-node': async () => tlsServer('node'),
  framed: async () => serve(socklab([".listen 0 --frame len16 --reply '{data}'"]), (port) => pingpong(port, LEN16_MESSAGE)),
  // Row 15 unpaced: under valgrind the server answers far below the rule guard (1,000 firings a second).
  rules: async () => serve(socklab(RULE_ECHO), (port) => pingpong(port, LINE)),
  'rules-node': async () => serve([NODE_PEER, 'line-echo'], (port) => pingpong(port, LINE)),
  'framed-node': async () => serve([NODE_PEER, 'len16-echo'], (port) => pingpong(port, LEN16_MESSAGE)),
};

async function serve(args, drive, listening = LISTENING) {
  const c = underCallgrind(args);
  const port = Number((await c.wait(listening))[1]);
  await drive(port);
  c.proc.stdin.end('.exit\n');
  setTimeout(() => c.proc.kill('SIGTERM'), 5000).unref();
  return c.done;
}

for (const name of process.argv.slice(2)) {
  const run = WORKLOADS[name];
  if (!run) throw new Error(`unknown workload ${name}: one of ${Object.keys(WORKLOADS).join(', ')}`);
  const n = await run();
  const main = lastMain === undefined ? '' : ` (main thread ${lastMain.toLocaleString('en')})`;
  console.log(`${name.padEnd(14)} ${n.toLocaleString('en')} instructions${main}`);
}
