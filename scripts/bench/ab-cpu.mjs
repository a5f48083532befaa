// A/B of two or more builds by the server's CPU time and page faults, which a
// loaded machine moves far less than throughput. Usage:
//   node scripts/bench/ab-cpu.mjs [--mode relay|echo|serve] [--rounds N] [--mib N] [--node-args '--cpu-prof …'] ROOT[@ENV=VALUE,…] …
// Each ROOT is a checkout with `npm run build` done (a git worktree of another
// commit, say). relay: 256 MiB echoed through `socklab -e '.proxy 0 PORT'` in
// front of a bare Node echo target in this process; echo: through
// `.listen 0 --reply echo`; serve: the same echo with `.serve 0` and 10 page
// viewers reading its event stream (bench row 16; compare with echo). A ROOT
// with @AB_MODE=echo (or relay, serve) runs in that mode instead, so one run
// interleaves the page and no page: `ROOT ROOT@AB_MODE=echo --mode serve`.
// Builds alternate round by round; per run it prints
// the socklab process's CPU (utime + stime, /proc/PID/stat, ms) and minor page
// faults over the transfer, then the median of each build. The ROOT `node`
// (echo mode) runs the bare-Node baseline instead: node-peer.mjs `echo`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const [value] = args.splice(i, 2).slice(1);
  return value;
};
const defaultMode = opt('--mode', 'relay');
const rounds = Number(opt('--rounds', '3'));
const total = Number(opt('--mib', '256')) * 1024 * 1024;
const nodeArgs = opt('--node-args', '').split(' ').filter(Boolean);
if (args.length === 0 || !['relay', 'echo', 'serve'].includes(defaultMode)) {
  process.stderr.write("usage: node scripts/bench/ab-cpu.mjs [--mode relay|echo|serve] [--rounds N] [--mib N] [--node-args '--cpu-prof …'] ROOT[@ENV=VALUE,…] …\n");
  process.exit(2);
}
const TICK_MS = 10; // USER_HZ = 100 on Linux

function stat(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { cpu: (Number(f[11]) + Number(f[12])) * TICK_MS, user: Number(f[11]) * TICK_MS, sys: Number(f[12]) * TICK_MS, minflt: Number(f[7]) };
}

const target = net.createServer((s) => s.pipe(s)).listen(0, '127.0.0.1');
await new Promise((r) => target.once('listening', r));

/** `n` readers of the page's event stream at `port` (what EventSource does). */
function viewers(port, n) {
  return Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
    const req = http.get(`http://127.0.0.1:${port}/events`, (res) => {
      res.resume();
      res.on('error', () => {});
      resolve(req);
    });
    req.on('error', reject);
  })));
}

async function one(root, env) {
  const mode = env.AB_MODE ?? defaultMode;
  const line = mode === 'relay' ? `.proxy 0 ${target.address().port}` : '.listen 0 --reply echo';
  const lines = mode === 'serve' ? ['-e', '.serve 0', '-e', line] : ['-e', line];
  const argv = root === 'node' && mode === 'echo' ? [new URL('./node-peer.mjs', import.meta.url).pathname, 'echo'] : [`${root}/bin/socklab.js`, '--no-color', ...lines];
  const p = spawn(process.execPath, [...nodeArgs, ...argv], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  let text = '';
  const found = (re) => new Promise((resolve) => {
    const check = () => {
      const m = re.exec(text);
      if (m) { p.stdout.off('data', check); resolve(Number(m[1])); }
    };
    p.stdout.on('data', check);
    check();
  });
  p.stdout.on('data', (d) => (text = (text + d).slice(-4096)));
  const page = mode === 'serve' ? await found(/serving the page at http:\/\/127\.0\.0\.1:(\d+)\//) : undefined;
  const port = await found(/(?:p1|s1|^)\s*listening on 127\.0\.0\.1:(\d+)/m);
  const readers = page === undefined ? [] : await viewers(page, 10);
  const before = stat(p.pid);
  const c = net.connect(port, '127.0.0.1');
  await new Promise((r) => c.once('connect', r));
  const chunk = Buffer.alloc(65536, 'socklab bench payload 0123456789\n');
  let got = 0;
  let sent = 0;
  const t0 = Date.now();
  await new Promise((resolve) => {
    c.on('data', (d) => {
      got += d.length;
      if (got >= total) resolve();
    });
    const more = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!c.write(chunk)) return void c.once('drain', more);
      }
    };
    more();
  });
  const after = stat(p.pid);
  for (const r of readers) r.destroy();
  c.destroy();
  if (root === 'node') p.kill('SIGTERM');
  else p.stdin.end('.exit\n');
  await new Promise((r) => p.once('exit', r));
  return { ms: Date.now() - t0, cpu: after.cpu - before.cpu, user: after.user - before.user, sys: after.sys - before.sys, minflt: after.minflt - before.minflt };
}

const results = new Map();
for (let round = 0; round < rounds; round++) {
  for (const spec of args) {
    const [root, envs] = spec.split('@');
    const env = envs ? Object.fromEntries(envs.split(',').map((kv) => kv.split('='))) : {};
    const r = await one(root, env);
    results.set(spec, [...(results.get(spec) ?? []), r]);
    console.log(`${spec}  cpu ${r.cpu} ms (user ${r.user}, sys ${r.sys})  faults ${r.minflt}  wall ${r.ms} ms`);
  }
}
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
for (const [spec, rs] of results) console.log(`median ${spec}  cpu ${median(rs.map((r) => r.cpu))} ms (user ${median(rs.map((r) => r.user))}, sys ${median(rs.map((r) => r.sys))})  faults ${median(rs.map((r) => r.minflt))}  wall ${median(rs.map((r) => r.ms))} ms`);
target.close();
