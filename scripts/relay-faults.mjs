#!/usr/bin/env node
// Minor page faults and CPU (user + system, from /proc) of one relay process
// while MIB MiB (default 128) are echoed through it, 64 KiB writes, in front
// of node-peer.mjs's echo. Usage: node scripts/relay-faults.mjs KIND [MIB]
//   KIND: socklab (this build's `.proxy`), socat (`-b 65536`), or a node-peer
//   relay mode: relay (pipe both ways), relay-onread, relay-reuse (probes).
// CPU moves with the machine's load; the fault counts do not.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { NODE_PEER as PEER, SOCKLAB } from './bench/servers.mjs';
import { freePort } from './bench/procs.mjs';
const [kind, mibArg] = process.argv.slice(2);
const MIB = Number(mibArg ?? 128);
const waitLine = (proc, re) => new Promise((resolve) => { let t = ''; proc.stdout.on('data', (d) => { t += d; const m = re.exec(t); if (m) resolve(Number(m[1])); }); });
const target = spawn(process.execPath, [PEER, 'echo'], { stdio: ['ignore', 'pipe', 'inherit'] });
const tport = await waitLine(target, /listening on 127\.0\.0\.1:(\d+)/);
let relay, port;
if (kind.startsWith('relay')) {
  relay = spawn(process.execPath, [PEER, kind, String(tport)], { stdio: ['ignore', 'pipe', 'inherit'] });
  port = await waitLine(relay, /listening on 127\.0\.0\.1:(\d+)/);
} else if (kind === 'socat') {
  port = await freePort();
  relay = spawn('socat', ['-b', '65536', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `TCP:127.0.0.1:${tport}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  // Asked of ss: a probe connection would be the one connection socat serves.
  while (execFileSync('ss', ['-Hltn', `sport = :${port}`]).toString().trim() === '') await new Promise((r) => setTimeout(r, 100));
} else {
  relay = spawn(process.execPath, [SOCKLAB, '--no-color', '-e', `.proxy 0 ${tport}`], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, SOCKLAB_HISTORY: '' } });
  port = await waitLine(relay, /p1\s+listening on 127\.0\.0\.1:(\d+)/);
  relay.stdout.resume();
}
const stat = () => { const f = readFileSync(`/proc/${relay.pid}/stat`, 'utf8').split(') ')[1].split(' '); return { minflt: Number(f[7]), cpu: (Number(f[11]) + Number(f[12])) * 10 }; };
const sock = net.connect(port, '127.0.0.1');
await new Promise((r) => sock.once('connect', r));
const s0 = stat();
const total = MIB * 1024 * 1024;
const chunk = Buffer.alloc(65536, 97);
await new Promise((resolve) => {
  let got = 0, sent = 0;
  sock.on('data', (d) => { got += d.length; if (got >= total) resolve(); });
  const more = () => { while (sent < total) { sent += chunk.length; if (!sock.write(chunk)) return void sock.once('drain', more); } };
  more();
});
const s1 = stat();
console.log(`${kind}: ${((s1.minflt - s0.minflt) / MIB).toFixed(1)} minor faults per MiB echoed, CPU ${((s1.cpu - s0.cpu) / MIB * 1024 / 1000).toFixed(2)} s per GiB`);
sock.destroy(); relay.kill('SIGTERM'); target.kill('SIGTERM');
process.exit(0);
