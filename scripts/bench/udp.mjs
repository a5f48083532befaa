// Row 10: datagrams per second through a UDP echo, socklab `.udp 0 --reply
// echo` (every event through the human renderer) against a bare dgram echo.
import dgram from 'node:dgram';
import { interleave, withServer } from './pairs.mjs';
import { row } from './table.mjs';

const DATAGRAMS = 50_000;
const SIZE = 64;
/** Datagrams in flight: enough to keep both sides busy, few enough that loopback drops none. */
const WINDOW = 32;

/**
 * Send `total` datagrams of SIZE bytes to 127.0.0.1:port, keeping WINDOW in
 * flight (one more for every answer). UDP may drop: when no answer came for
 * `refillMs` (50 ms here; scripts/callgrind.mjs, whose server runs ~50 times
 * slower under valgrind, waits longer), the lost ones are sent again so the
 * window stays full. Resolves to { rate } in answered datagrams per second.
 */
export function udpEcho(port, total, deadlineMs, refillMs = 50) {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const payload = Buffer.alloc(SIZE, 0x61);
    let sent = 0;
    let answered = 0;
    let lastAnswer = performance.now();
    const start = performance.now();
    const send = () => {
      if (sent >= total) return;
      sent++;
      socket.send(payload, port, '127.0.0.1');
    };
    const done = (err) => {
      clearInterval(refill);
      clearTimeout(deadline);
      socket.close();
      if (err) reject(err);
      else resolve({ rate: answered / ((performance.now() - start) / 1000) });
    };
    socket.on('message', () => {
      answered++;
      lastAnswer = performance.now();
      if (answered >= total) return done();
      send();
    });
    socket.on('error', done);
    const refill = setInterval(() => {
      if (performance.now() - lastAnswer < refillMs) return;
      // Lost datagrams: count them as sent again.
      const missing = Math.min(WINDOW, sent - answered);
      sent -= missing;
      for (let i = 0; i < missing; i++) send();
    }, refillMs);
    const deadline = setTimeout(() => done(new Error(`udp echo: ${answered}/${total} answered in ${deadlineMs} ms`)), deadlineMs);
    socket.bind(0, '127.0.0.1', () => {
      for (let i = 0; i < WINDOW; i++) send();
    });
  });
}

export async function udpRows(rounds, log) {
  log(`udp: ${DATAGRAMS} datagrams of ${SIZE} B through an echo, ${WINDOW} in flight`);
  const run = (kind) => () => withServer(kind, (port) => udpEcho(port, DATAGRAMS, 60_000).then((r) => r.rate));
  const r = await interleave(rounds, { node: run('node-udp-echo'), socklab: run('socklab-udp-echo') }, log);
  return [row(`11. UDP echo ${SIZE} B × 50k, ${WINDOW} in flight`, 'dgram/s', r.node.median, r.socklab.median, 'higher', 0.8)];
}
