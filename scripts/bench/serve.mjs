// Row 12: the cost of the classroom page. The same socklab echo
// (`.listen 0 --reply echo`, human rendering) with `.serve 0` and 10 browsers'
// worth of event streams connected and reading, against no page at all.
import http from 'node:http';
import { MiB, echoThroughput } from './load.mjs';
import { interleave } from './pairs.mjs';
import { cpuMs, stop, waitFor } from './procs.mjs';
import { startSocklab } from './servers.mjs';
import { row } from './table.mjs';

const BYTES = 256 * MiB;
const VIEWERS = 10;

/** `n` readers of the page's event stream (what EventSource does), each counting what it got. */
function openViewers(port, n) {
  return Promise.all(
    Array.from({ length: n }, () => new Promise((resolve, reject) => {
      const viewer = { bytes: 0, req: undefined };
      viewer.req = http.get(`http://127.0.0.1:${port}/events`, { headers: { Accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`viewer got ${res.statusCode}`));
        res.on('data', (d) => (viewer.bytes += d.length));
        res.on('error', () => {});
        resolve(viewer);
      });
      viewer.req.on('error', reject);
    })),
  );
}

const echo = (serve) => async () => {
  const proc = startSocklab(serve ? ['.serve 0', '.listen 0 --reply echo'] : ['.listen 0 --reply echo']);
  let viewers = [];
  try {
    const port = Number((await waitFor(proc, /listening on 127\.0\.0\.1:(\d+)/, 10_000, 'listening line'))[1]);
    if (serve) {
      const page = Number((await waitFor(proc, /serving the page at http:\/\/127\.0\.0\.1:(\d+)\//, 10_000, 'serving line'))[1]);
      viewers = await openViewers(page, VIEWERS);
    }
    const c0 = cpuMs(proc.pid);
    const r = await echoThroughput(port, BYTES, 60_000);
    const cpu = (cpuMs(proc.pid) - c0) / 1000;
    const got = viewers.reduce((sum, v) => sum + v.bytes, 0);
    return { value: r.mibs, note: `${(r.ms / 1000).toFixed(2)} s; server CPU ${cpu.toFixed(2)} s${serve ? `; ${VIEWERS} viewers got ${got} B of events` : ''}` };
  } finally {
    for (const v of viewers) v.req.destroy();
    await stop(proc);
  }
};

export async function serveRows(rounds, log) {
  log(`serve: echo ${BYTES / MiB} MiB through socklab, with .serve and ${VIEWERS} viewers vs without`);
  const r = await interleave(rounds, { none: echo(false), viewers: echo(true) }, log);
  return [row(`16. echo ${BYTES / MiB} MiB with ${VIEWERS} page viewers`, 'MiB/s', r.none.median, r.viewers.median, 'higher', 0.9, 'no page')];
}
