// Row 12: a server that answers by rule (`.on`, SPEC 12): 64-byte lines,
// each answered with the line it captured (`.sendln $id $1`), against a bare
// Node server that splits lines and writes each back, in the same run.
//
// A rule that fires more than 1,000 times a second is suspended (SPEC 12: no
// injection loops), so an unpaced ping-pong would stop socklab at the guard
// while bare Node runs on: the client is paced at PACE round trips a second,
// well under the guard, and the row compares the server's CPU time per
// 1,000 answers (lower is better).
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { interleave, withServer } from './pairs.mjs';
import { cpuMs, withTimeout } from './procs.mjs';
import { row } from './table.mjs';

const ROUND_TRIPS = 3_000;
const PACE = 600;
const SIZE = 64;

/** `rounds` round trips of one SIZE-byte line, at most PACE a second; the server's CPU ms per 1,000. */
async function pacedLines(port, pid, rounds, deadlineMs) {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  try {
    const line = Buffer.from(`${'p'.repeat(SIZE - 1)}\n`);
    const cpu0 = cpuMs(pid);
    const t0 = performance.now();
    const done = new Promise((resolve, reject) => {
      let got = 0;
      let answered = 0;
      let sent = performance.now();
      socket.on('data', async (d) => {
        got += d.length;
        while (got >= SIZE) {
          got -= SIZE;
          if (++answered === rounds) return resolve();
          // Paced from the last send, never catching up in a burst (a burst could pass the guard).
          const due = sent + 1000 / PACE - performance.now();
          if (due > 0) await sleep(due);
          sent = performance.now();
          socket.write(line);
        }
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`closed after ${answered} of ${rounds} round trips`)));
    });
    socket.write(line);
    await withTimeout(done, deadlineMs, `${rounds} paced round trips`);
    const seconds = (performance.now() - t0) / 1000;
    return { value: ((cpuMs(pid) - cpu0) * 1000) / rounds, note: `${(rounds / seconds).toFixed(0)} rt/s` };
  } finally {
    socket.destroy();
  }
}

export async function ruleRows(rounds, log) {
  log(`rules: ${ROUND_TRIPS} lines of ${SIZE} B at ≤ ${PACE}/s, each answered by a rule (.sendln $id $1) vs a Node line echo`);
  const run = (kind) => () => withServer(kind, (port, proc) => pacedLines(port, proc.pid, ROUND_TRIPS, 300_000));
  const r = await interleave(rounds, { node: run('node-line-echo'), socklab: run('socklab-rule-echo') }, log);
  return [row(`15. rule ping-pong ${SIZE} B lines, ${PACE}/s: server CPU per 1k`, 'ms', r.node.median, r.socklab.median, 'lower', 3)];
}
