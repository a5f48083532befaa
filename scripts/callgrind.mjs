#!/usr/bin/env node
// Instruction counts (valgrind --tool=callgrind) of one process for a fixed
// workload: steady under any machine load, unlike wall clock. Usage:
//   node scripts/callgrind.mjs [startup|startup-node|pingpong|pingpong-node|accept|accept-node|udp|udp-node|framed|framed-node] …
// Each prints "WORKLOAD  N instructions". Needs `npm run build` and valgrind.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { ROOT, SOCKLAB, NODE_PEER } from './bench/servers.mjs';

const PINGS = Number(process.env.CG_PINGS ?? 20_000);
const ACCEPTS = Number(process.env.CG_ACCEPTS ?? 5_000);
const DATAGRAMS = Number(process.env.CG_DATAGRAMS ?? 10_000);

function underCallgrind(args, env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cg-'));
  const out = join(dir, 'cg.out');
  const proc = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, '--dump-instr=no', process.execPath, ...args], {
    cwd: ROOT,
    env: { ...process.env, SOCKLAB_HISTORY: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let text = '';
  proc.stdout.on('data', (d) => {
    text += d.toString('latin1');
    if (text.length > 65536) text = text.slice(-32768);
  });
  proc.stderr.resume();
  const done = new Promise((resolve) => proc.on('exit', () => {
    const body = readFileSync(out, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    const m = /^(?:summary|totals): (\d+)/m.exec(body);
    resolve(Number(m?.[1]));
  }));
  const wait = (re) => new Promise((resolve) => {
    const check = () => {
      const m = re.exec(text);
      if (m) { proc.stdout.off('data', check); resolve(m); }
    };
    proc.stdout.on('data', check);
    check();
  });
  return { proc, done, wait };
}

const socklab = (lines) => {
  const args = [SOCKLAB, '--no-color'];
  for (const l of lines) args.push('-e', l);
  return args;
};

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

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;
const PROMPT = /socklab> /;

const WORKLOADS = {
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
  pingpong: async () => serve(socklab(['.listen 0 --reply echo']), pingpong),
  'pingpong-node': async () => serve([NODE_PEER, 'echo'], pingpong),
  accept: async () => serve(socklab(['.listen 0']), accepts),
  'accept-node': async () => serve([NODE_PEER, 'echo'], accepts),
  udp: async () => serve(socklab(['.udp 0 --reply echo']), udp),
  'udp-node': async () => serve([NODE_PEER, 'udp-echo'], udp),
  framed: async () => serve(socklab([".listen 0 --frame len16 --reply '{data}'"]), (port) => pingpong(port, LEN16_MESSAGE)),
  'framed-node': async () => serve([NODE_PEER, 'len16-echo'], (port) => pingpong(port, LEN16_MESSAGE)),
};

async function serve(args, drive) {
  const c = underCallgrind(args);
  const port = Number((await c.wait(LISTENING))[1]);
  await drive(port);
  c.proc.stdin.end('.exit\n');
  setTimeout(() => c.proc.kill('SIGTERM'), 5000).unref();
  return c.done;
}

for (const name of process.argv.slice(2)) {
  const run = WORKLOADS[name];
  if (!run) throw new Error(`unknown workload ${name}: one of ${Object.keys(WORKLOADS).join(', ')}`);
  const n = await run();
  console.log(`${name.padEnd(14)} ${n.toLocaleString('en')} instructions`);
}
