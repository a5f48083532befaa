// Load generators: they run in the bench process against a server child.
// Every one is bounded by a deadline and destroys what it opened.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fdCount, withTimeout } from './procs.mjs';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
const CHUNK = 64 * 1024;
/** Connections opened at once by openIdle: under the default backlog of 511. */
const BATCH = 500;
/** Printable text with newlines, as a playground mostly carries. */
const PAYLOAD = Buffer.alloc(CHUNK, 'socklab bench payload 0123456789\n');

const now = () => Number(process.hrtime.bigint()) / 1e6;

function connect(port, { noDelay = false } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Write `total` bytes in 64 KiB chunks, respecting write() backpressure. */
function pump(socket, total) {
  let sent = 0;
  const more = () => {
    while (sent < total) {
      const n = Math.min(CHUNK, total - sent);
      sent += n;
      if (!socket.write(n === CHUNK ? PAYLOAD : PAYLOAD.subarray(0, n))) return void socket.once('drain', more);
    }
  };
  more();
}

/**
 * Echo throughput: write `total` bytes and read the echo back, at once.
 * Time from the first write to the last echoed byte; MiB/s. `open(port)`
 * makes the client socket (plain TCP unless given, e.g. TLS).
 */
export async function echoThroughput(port, total, deadlineMs, open = connect) {
  const socket = await open(port);
  try {
    const done = new Promise((resolve, reject) => {
      let received = 0;
      socket.on('data', (d) => {
        received += d.length;
        if (received >= total) resolve();
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`closed after ${received} of ${total} B echoed`)));
    });
    const t0 = now();
    pump(socket, total);
    await withTimeout(done, deadlineMs, `echo of ${total / MiB} MiB`);
    const ms = now() - t0;
    return { ms, mibs: total / MiB / (ms / 1000) };
  } finally {
    socket.destroy();
  }
}

/**
 * Echo with at most `window` bytes in flight (written, not yet echoed). For
 * relays that cannot take an unbounded stream: ncat --exec deadlocks on a
 * bulk echo (it blocks writing to cat's stdin while cat blocks writing to
 * ncat), and no window larger than the two pipes (128 KiB) avoids that.
 */
export async function windowedEcho(port, total, window, deadlineMs) {
  const socket = await connect(port);
  try {
    let sent = 0;
    let received = 0;
    const more = () => {
      while (sent < total && sent - received + CHUNK <= window) {
        const n = Math.min(CHUNK, total - sent);
        sent += n;
        socket.write(n === CHUNK ? PAYLOAD : PAYLOAD.subarray(0, n));
      }
    };
    const done = new Promise((resolve, reject) => {
      socket.on('data', (d) => {
        received += d.length;
        if (received >= total) resolve();
        else more();
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`closed after ${received} of ${total} B echoed`)));
    });
    const t0 = now();
    more();
    await withTimeout(done, deadlineMs, () => `windowed echo of ${total / MiB} MiB (${received} B echoed)`);
    const ms = now() - t0;
    return { ms, mibs: total / MiB / (ms / 1000) };
  } finally {
    socket.destroy();
  }
}

/**
 * One-way throughput into a server: write `total` bytes, send FIN, and stop
 * the clock at the server's FIN (a Node server auto-ends once it has read
 * everything and our FIN). MiB/s.
 */
export async function pushThroughput(port, total, deadlineMs) {
  const socket = await connect(port);
  try {
    const done = new Promise((resolve, reject) => {
      socket.once('end', resolve);
      socket.once('error', reject);
    });
    socket.resume();
    const t0 = now();
    let sent = 0;
    await new Promise((resolve) => {
      const more = () => {
        while (sent < total) {
          const n = Math.min(CHUNK, total - sent);
          sent += n;
          if (!socket.write(n === CHUNK ? PAYLOAD : PAYLOAD.subarray(0, n))) return void socket.once('drain', more);
        }
        socket.end();
        resolve();
      };
      more();
    });
    await withTimeout(done, deadlineMs, `push of ${total / MiB} MiB`);
    const ms = now() - t0;
    return { ms, mibs: total / MiB / (ms / 1000) };
  } finally {
    socket.destroy();
  }
}

/** Ping-pong: `rounds` × (write `size` bytes, wait for `size` bytes back), Nagle off. Round trips/s. */
export async function pingPong(port, rounds, size, deadlineMs, msg = Buffer.alloc(size, 'p')) {
  const socket = await connect(port, { noDelay: true });
  try {
    const done = new Promise((resolve, reject) => {
      let got = 0;
      let left = rounds;
      socket.on('data', (d) => {
        got += d.length;
        while (got >= size) {
          got -= size;
          if (--left === 0) return resolve();
          socket.write(msg);
        }
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`closed with ${left} round trips to go`)));
    });
    const t0 = now();
    socket.write(msg);
    await withTimeout(done, deadlineMs, `${rounds} round trips`);
    const ms = now() - t0;
    return { ms, rate: rounds / (ms / 1000) };
  } finally {
    socket.destroy();
  }
}

/** Accept rate: `n` sequential cycles of connect, end, wait for the server's FIN and close. Cycles/s. */
export async function acceptCycles(port, n, deadlineMs) {
  const run = async () => {
    for (let i = 0; i < n; i++) {
      await new Promise((resolve, reject) => {
        const socket = net.connect({ port, host: '127.0.0.1' });
        socket.once('connect', () => socket.end());
        socket.resume();
        socket.once('close', resolve);
        socket.once('error', reject);
      });
    }
  };
  const t0 = now();
  await withTimeout(run(), deadlineMs, `${n} connect/close cycles`);
  const ms = now() - t0;
  return { ms, rate: n / (ms / 1000) };
}

/**
 * Open `n` idle connections (BATCH at a time, under the default backlog of
 * 511) and wait until the server child holds them all (its fd count).
 * Returns the sockets; the caller destroys them.
 */
export async function openIdle(port, n, serverPid, deadlineMs) {
  const sockets = [];
  const baseFds = fdCount(serverPid);
  const run = async () => {
    for (let i = 0; i < n; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, n - i) }, () => connect(port));
      sockets.push(...(await Promise.all(batch)));
    }
    while (fdCount(serverPid) < baseFds + n) await sleep(20);
  };
  try {
    await withTimeout(run(), deadlineMs, `opening ${n} idle connections`);
  } catch (err) {
    for (const s of sockets) s.destroy();
    throw err;
  }
  return sockets;
}
