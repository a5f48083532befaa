// Row 12: TLS through socklab `.listen 0 --tls --reply echo` against a bare
// node:tls echo server (node-peer.mjs tls-echo), both serving the same RSA
// 2048 certificate: (a) echo throughput of the plaintext, (b) full
// handshakes per second. The client side (here) costs both the same.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { echoThroughput } from './load.mjs';
import { interleave } from './pairs.mjs';
import { start, stop, waitFor, withTimeout } from './procs.mjs';
import { NODE_PEER, startSocklab } from './servers.mjs';
import { row } from './table.mjs';

const MiB = 1024 * 1024;
const BULK = 256 * MiB;
const HANDSHAKES = 400;
/** Handshakes in flight at once: enough to keep a server busy on 2 cores. */
const PARALLEL = 8;
const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;
const now = () => Number(process.hrtime.bigint()) / 1e6;

/** A certificate and key for localhost (openssl), in a temp dir removed at the end. */
export function certificate() {
  const dir = mkdtempSync(join(tmpdir(), 'socklab-bench-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key, dir };
}

async function withTlsServer(kind, files, fn) {
  const proc = kind === 'node'
    ? start(process.execPath, [NODE_PEER, 'tls-echo', files.cert, files.key])
    : startSocklab([`.listen 0 --tls --cert ${files.cert} --key ${files.key} --reply echo`]);
  try {
    const port = Number((await waitFor(proc, LISTENING, 20_000, 'listening line'))[1]);
    return await fn(port);
  } finally {
    await stop(proc);
  }
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Write BULK bytes and read the echo back at once, over TLS; MiB/s from the first write to the last byte. */
async function echo(port) {
  return (await echoThroughput(port, BULK, 120_000, connect)).mibs;
}

/** HANDSHAKES full handshakes (no session reuse), PARALLEL at a time, each closed once secure; per second. */
async function handshakes(port) {
  let next = 0;
  const worker = async () => {
    while (next++ < HANDSHAKES) {
      const socket = await connect(port);
      await new Promise((resolve) => {
        socket.once('close', resolve);
        socket.end();
        socket.resume();
      });
    }
  };
  const t0 = now();
  await withTimeout(Promise.all(Array.from({ length: PARALLEL }, worker)), 120_000, `${HANDSHAKES} TLS handshakes`);
  return HANDSHAKES / ((now() - t0) / 1000);
}

export async function tlsRows(rounds, log) {
  const files = certificate();
  try {
    log(`tls: echo ${BULK / MiB} MiB, then ${HANDSHAKES} handshakes (${PARALLEL} at a time), node:tls echo vs socklab --tls`);
    const run = (kind, fn) => () => withTlsServer(kind, files, fn);
    const e = await interleave(rounds, { node: run('node', echo), socklab: run('socklab', echo) }, log);
    const h = await interleave(rounds, { node: run('node', handshakes), socklab: run('socklab', handshakes) }, log);
    return [
      row(`13a. TLS echo ${BULK / MiB} MiB (human, non-TTY)`, 'MiB/s', e.node.median, e.socklab.median, 'higher', 0.9),
      row(`13b. TLS handshakes, ${PARALLEL} in parallel`, 'per s', h.node.median, h.socklab.median, 'higher', 0.8),
    ];
  } finally {
    rmSync(files.dir, { recursive: true, force: true });
  }
}
