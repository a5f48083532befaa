// Row 12: a server that answers by rule (`.on`, SPEC 12): 64-byte lines,
// each answered with the line it captured (`.sendln $id $1`), against a bare
// Node server that splits lines and writes each back, in the same run.
import net from 'node:net';
import { interleave, withServer } from './pairs.mjs';
import { withTimeout } from './procs.mjs';
import { row } from './table.mjs';

const ROUND_TRIPS = 5_000;
const SIZE = 64;

/** One line of SIZE bytes out, wait for SIZE bytes back, `rounds` times. Round trips per second. */
async function linePingPong(port, rounds, deadlineMs) {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  try {
    const line = Buffer.from(`${'p'.repeat(SIZE - 1)}\n`);
    const done = new Promise((resolve, reject) => {
      let got = 0;
      let left = rounds;
      socket.on('data', (d) => {
        got += d.length;
        while (got >= SIZE) {
          got -= SIZE;
          if (--left === 0) return resolve();
          socket.write(line);
        }
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`closed with ${left} round trips to go`)));
    });
    const t0 = performance.now();
    socket.write(line);
    await withTimeout(done, deadlineMs, `${rounds} round trips`);
    return rounds / ((performance.now() - t0) / 1000);
  } finally {
    socket.destroy();
  }
}

export async function ruleRows(rounds, log) {
  log(`rules: ${ROUND_TRIPS} lines of ${SIZE} B, each answered by a rule (.sendln $id $1) vs a Node line echo`);
  const run = (kind) => () => withServer(kind, (port) => linePingPong(port, ROUND_TRIPS, 300_000));
  const r = await interleave(rounds, { node: run('node-line-echo'), socklab: run('socklab-rule-echo') }, log);
  return [row(`12. rule ping-pong ${SIZE} B lines × 5k`, 'rt/s', r.node.median, r.socklab.median, 'higher', 0.8)];
}
