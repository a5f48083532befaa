// Rows 1, 2 and 9 (row 4, --json, is in json.mjs): bytes per second through socklab vs bare Node, socat, ncat.
import { spawnSync } from 'node:child_process';
import { GiB, MiB, echoThroughput, pushThroughput, windowedEcho } from './load.mjs';
import { interleave, withServer } from './pairs.mjs';
import { cpuMs, onOneCore, start, stop, waitFor } from './procs.mjs';
import { NODE_PEER, startSocklab } from './servers.mjs';
import { info, row, skipped } from './table.mjs';

/** Bytes per throughput run (the 1 GiB). */
const BULK = 1 * GiB;
/** ncat needs a bounded window (see windowedEcho); 128 KiB is the largest that cannot deadlock it. */
const NCAT_BYTES = 256 * MiB;
const NCAT_WINDOW = 128 * 1024;
/** Deadline of one run: generous for 1 GiB, short enough to keep a stall from eating the bench. */
const deadline = (bytes) => Math.max(10_000, (bytes / MiB) * 40);

/** MiB/s, with the server process's CPU time per GiB in the log (steadier than MiB/s on a noisy VM). */
const measured = (kind, bytes, load) => () =>
  withServer(kind, async (port, proc) => {
    const c0 = cpuMs(proc.pid);
    const r = await load(port, bytes, deadline(bytes));
    const cpu = ((cpuMs(proc.pid) - c0) / 1000) * (GiB / bytes);
    return { value: r.mibs, cpu, note: `${(r.ms / 1000).toFixed(2)} s; server process CPU ${cpu.toFixed(2)} s/GiB` };
  });
const echo = (kind, bytes) => measured(kind, bytes, echoThroughput);
const push = (kind, bytes) => measured(kind, bytes, pushThroughput);

/**
 * One-way into a client: a bare-Node sender child writes `bytes` to whoever
 * connects and ends; the client under test (a child too) reads until the
 * FIN and then ends its side. The sender times from its accept to the
 * client's FIN, so the client's start-up is not in the number.
 */
const receive = (client, bytes) => async () => {
  const sender = start(process.execPath, [NODE_PEER, 'sender', String(bytes)]);
  let reader;
  try {
    const port = Number((await waitFor(sender, /listening on 127\.0\.0\.1:(\d+)/, 10_000, 'sender listening'))[1]);
    reader = client === 'node' ? start(process.execPath, [NODE_PEER, 'reader', String(port)]) : startSocklab([`.connect ${port}`]);
    // CPU from the connect on, so the client's start-up is left out (both print a "connected" line).
    await waitFor(reader, /connected/, 10_000, 'connected line');
    const c0 = cpuMs(reader.pid);
    const m = await waitFor(sender, /result (\{[^\n]*\})/, deadline(bytes), 'sender result');
    const cpu = ((cpuMs(reader.pid) - c0) / 1000) * (GiB / bytes);
    const { ms } = JSON.parse(m[1]);
    return { value: bytes / MiB / (ms / 1000), cpu, note: `${(ms / 1000).toFixed(2)} s; client process CPU ${cpu.toFixed(2)} s/GiB` };
  } finally {
    if (reader) await stop(reader);
    await stop(sender);
  }
};

export async function echoRows(rounds, log) {
  log(`echo: ${BULK / MiB} MiB, node-echo vs socklab-echo`);
  const r = await interleave(rounds, { node: echo('node-echo', BULK), socklab: echo('socklab-echo', BULK) }, log);
  return [
    row('1. echo 1 GiB (human, non-TTY)', 'MiB/s', r.node.median, r.socklab.median, 'higher', 0.95),
    info('1′. echo: server CPU per GiB', 's', r.node.cpu, r.socklab.cpu),
  ];
}

export async function oneWayRows(rounds, log) {
  log(`one-way into a server: ${BULK / MiB} MiB`);
  const srv = await interleave(rounds, { node: push('node-sink', BULK), socklab: push('socklab-sink', BULK) }, log);
  log(`one-way into a client: ${BULK / MiB} MiB`);
  const cli = await interleave(rounds, { node: receive('node', BULK), socklab: receive('socklab', BULK) }, log);
  return [
    row('2a. one-way into server (data shown)', 'MiB/s', srv.node.median, srv.socklab.median, 'higher', 0.95),
    info('2a′. into server: server CPU per GiB', 's', srv.node.cpu, srv.socklab.cpu),
    row('2b. one-way into client (data shown)', 'MiB/s', cli.node.median, cli.socklab.median, 'higher', 0.95),
    info('2b′. into client: client CPU per GiB', 's', cli.node.cpu, cli.socklab.cpu),
  ];
}

function installed(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

export async function toolRows(rounds, log) {
  const rows = [];
  if (installed('socat')) {
    log(`socat echo: ${BULK / MiB} MiB (socat -b 65536 TCP-LISTEN EXEC:cat)`);
    const r = await interleave(rounds, { socat: echo('socat-echo', BULK), socklab: echo('socklab-echo', BULK) }, log);
    rows.push(row('9a. echo 1 GiB vs socat (level)', 'MiB/s', r.socat.median, r.socklab.median, 'higher', 0.95, 'socat'));
    // socat's CPU leaves out its cat: what the user runs is both, so no CPU row here.
  } else rows.push(skipped('9a. echo vs socat', 'socat not installed'));
  if (installed('ncat')) {
    // A windowed echo is latency-bound like a ping-pong: on two vCPUs it swings
    // 3× between runs, so client and servers share one CPU (see onOneCore).
    rows.push(
      await onOneCore(async (pinned) => {
        const where = pinned ? ', one CPU' : '';
        log(`ncat echo: ${NCAT_BYTES / MiB} MiB, ${NCAT_WINDOW / 1024} KiB window${where} (ncat -l --exec /bin/cat)`);
        const windowed = (kind) => measured(kind, NCAT_BYTES, (port, bytes, ms) => windowedEcho(port, bytes, NCAT_WINDOW, ms));
        const safe = (fn) => () => fn().catch((err) => (log(`  ${err.message.split('\n')[0]}`), NaN));
        const r = await interleave(rounds, { ncat: safe(windowed('ncat-echo')), socklab: windowed('socklab-echo') }, log);
        const label = `9b. echo ${NCAT_BYTES / MiB} MiB, 128 KiB window${where} vs ncat (ahead)`;
        return row(label, 'MiB/s', r.ncat.median, r.socklab.median, 'higher', 1.0, 'ncat', true);
      }),
    );
  } else rows.push(skipped('9b. echo vs ncat', 'ncat not installed'));
  return rows;
}
