// Rows 3, 5 and 6: small messages, accept rate, idle connections' memory.
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { acceptCycles, openIdle, pingPong } from './load.mjs';
import { interleave, median, withServer } from './pairs.mjs';
import { onOneCore, rssOf } from './procs.mjs';
import { row } from './table.mjs';

const ROUND_TRIPS = 50_000;
const MESSAGE = 64;
const CYCLES = 5_000;
const IDLE = 10_000;

/**
 * Row 3 two ways (issue 17 item 1): client and server on one CPU, and
 * "the other way": both CPUs free. Either way the server is a child process
 * whose human output goes to a pipe this process reads, as a terminal or
 * `| tee` would.
 */
export async function pingPongRows(rounds, log) {
  const run = (kind) => () => withServer(kind, (port) => pingPong(port, ROUND_TRIPS, MESSAGE, 60_000).then((r) => r.rate));
  const one = await onOneCore(async (pinned) => {
    log(`ping-pong: ${ROUND_TRIPS} × ${MESSAGE} B, Nagle off, ${pinned ? 'client and server on one CPU' : 'unpinned (no taskset)'}`);
    const r = await interleave(rounds, { node: run('node-echo'), socklab: run('socklab-echo') }, log);
    const label = `3. ping-pong 64 B × 50k${pinned ? ', one CPU' : ''}`;
    return row(label, 'rt/s', r.node.median, r.socklab.median, 'higher', 0.9);
  });
  log('ping-pong, the other way: both CPUs free, the server\'s output read from a pipe by this process');
  const both = await interleave(rounds, { node: run('node-echo'), socklab: run('socklab-echo') }, log);
  return [one, row('3b. ping-pong 64 B × 50k, two CPUs', 'rt/s', both.node.median, both.socklab.median, 'higher', 0.9)];
}

export async function acceptRows(rounds, log) {
  log(`accept: ${CYCLES} sequential connect/close cycles`);
  const run = (kind) => () => withServer(kind, (port) => acceptCycles(port, CYCLES, 60_000).then((r) => r.rate));
  const r = await interleave(rounds, { node: run('node-echo'), socklab: run('socklab-echo') }, log);
  return [row('5. accept 5k connect/close', 'conn/s', r.node.median, r.socklab.median, 'higher', 0.8)];
}

/** Connections that fit: each side holds one fd per connection, under the soft limit `ulimit -n`. */
function idleCount() {
  const limit = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
  return Number.isFinite(limit) ? Math.min(IDLE, limit - 1000) : IDLE;
}

/** RSS once it has settled: the median of a few samples after a short pause (it is flat by then). */
async function settledRss(pid) {
  await sleep(300);
  const samples = [];
  for (let i = 0; i < 3; i++) {
    samples.push(rssOf(pid));
    await sleep(100);
  }
  return median(samples);
}

export async function memoryRows(rounds, log) {
  const n = idleCount();
  log(`memory: ${n} idle connections`);
  const run = (kind) => () =>
    withServer(kind, async (port, proc) => {
      const before = await settledRss(proc.pid);
      const sockets = await openIdle(port, n, proc.pid, 60_000);
      try {
        const after = await settledRss(proc.pid);
        return (after - before) / n;
      } finally {
        for (const s of sockets) s.destroy();
      }
    });
  const r = await interleave(rounds, { node: run('node-echo'), socklab: run('socklab-echo') }, log);
  const label = n === IDLE ? '6. memory, 10k idle connections' : `6. memory, ${n} idle connections (ulimit -n)`;
  return [row(label, 'B/conn', r.node.median, r.socklab.median, 'lower', 1.5)];
}
