// Row 12: a relay in the middle. socklab `.proxy 0 PORT` (every relay event
// through the human renderer, folded in a flood) against socat relaying the
// same bytes (`socat -b 65536 TCP-LISTEN:… TCP:…`), both in front of the same
// bare-Node echo target: bulk echo through the relay (both directions), and
// 64-byte ping-pong through it.
import { MiB, echoThroughput, pingPong } from './load.mjs';
import { interleave } from './pairs.mjs';
import { cpuMs, freePort, onOneCore, start, stop, waitFor, waitListening } from './procs.mjs';
import { NODE_PEER, startSocklab } from './servers.mjs';
import { info, row, skipped } from './table.mjs';
import { spawnSync } from 'node:child_process';

/** Bytes echoed per bulk run: each crosses the relay twice (up, then down). */
const BULK = 512 * MiB;
const ROUND_TRIPS = 20_000;
const MESSAGE = 64;
const READY_MS = 10_000;

const installed = (cmd) => spawnSync('which', [cmd], { stdio: 'ignore' }).status === 0;

/** A relay of `kind` in front of `target`, run `fn(port, proc)`, always stopped. */
async function withRelay(kind, target, fn) {
  let proc;
  let port;
  if (kind === 'socat') {
    port = await freePort();
    proc = start('socat', ['-b', '65536', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `TCP:127.0.0.1:${target}`]);
    await waitListening(port, READY_MS);
  } else {
    proc = startSocklab([`.proxy 0 ${target}`]);
    port = Number((await waitFor(proc, /p1\s+listening on 127\.0\.0\.1:(\d+)/, READY_MS, 'relay listening'))[1]);
  }
  try {
    return await fn(port, proc);
  } finally {
    await stop(proc);
  }
}

/** A bare-Node echo target for the whole section. */
async function withTarget(fn) {
  const proc = start(process.execPath, [NODE_PEER, 'echo']);
  try {
    const port = Number((await waitFor(proc, /listening on 127\.0\.0\.1:(\d+)/, READY_MS, 'echo target'))[1]);
    return await fn(port);
  } finally {
    await stop(proc);
  }
}

export async function relayRows(rounds, log) {
  if (!installed('socat')) return [skipped('12. relay vs socat', 'socat not installed')];
  return withTarget(async (target) => {
    log(`relay bulk: ${BULK / MiB} MiB echoed through the relay (socat -b 65536 vs .proxy, human view)`);
    const bulk = (kind) => () =>
      withRelay(kind, target, async (port, proc) => {
        const c0 = cpuMs(proc.pid);
        const r = await echoThroughput(port, BULK, 60_000);
        const cpu = ((cpuMs(proc.pid) - c0) / 1000) * ((1024 * MiB) / BULK);
        return { value: r.mibs, cpu, note: `${(r.ms / 1000).toFixed(2)} s; relay process CPU ${cpu.toFixed(2)} s/GiB` };
      });
    const b = await interleave(rounds, { socat: bulk('socat'), socklab: bulk('socklab') }, log);
    const rows = [
      row(`12a. echo ${BULK / MiB} MiB through a relay`, 'MiB/s', b.socat.median, b.socklab.median, 'higher', 0.9, 'socat'),
      info('12a′. relay: CPU per GiB echoed', 's', b.socat.cpu, b.socklab.cpu, 'socat'),
    ];
    const pp = await onOneCore(async (pinned) => {
      log(`relay ping-pong: ${ROUND_TRIPS} × ${MESSAGE} B, ${pinned ? 'all on one CPU' : 'unpinned (no taskset)'}`);
      const run = (kind) => () => withRelay(kind, target, (port) => pingPong(port, ROUND_TRIPS, MESSAGE, 60_000).then((r) => r.rate));
      const r = await interleave(rounds, { socat: run('socat'), socklab: run('socklab') }, log);
      return row(`12b. ping-pong 64 B × ${ROUND_TRIPS / 1000}k through a relay${pinned ? ', one CPU' : ''}`, 'rt/s', r.socat.median, r.socklab.median, 'higher', 0.9, 'socat');
    });
    return [...rows, pp];
  });
}
