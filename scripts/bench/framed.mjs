// Row 12: framed ping-pong. A client sends one 64-byte message with a len16
// prefix (66 B on the wire), waits for the answer, sends the next: socklab
// `.listen 0 --frame len16 --reply '{data}'` (cut into messages, each shown,
// folded in a flood, and answered as one framed message) against a bare Node
// server doing the same framing by hand (node-peer.mjs len16-echo).
import { pingPong } from './load.mjs';
import { interleave, withServer } from './pairs.mjs';
import { onOneCore } from './procs.mjs';
import { row } from './table.mjs';

const ROUND_TRIPS = 50_000;
const PAYLOAD = 64;

export async function framedRows(rounds, log) {
  return onOneCore(async (pinned) => {
    log(`framed: ${ROUND_TRIPS} × ${PAYLOAD} B len16 messages, Nagle off, ${pinned ? 'client and server on one CPU' : 'unpinned (no taskset)'}`);
    const message = Buffer.alloc(2 + PAYLOAD, 'p');
    message.writeUInt16BE(PAYLOAD, 0);
    const run = (kind) => () => withServer(kind, (port) => pingPong(port, ROUND_TRIPS, message.length, 60_000, message).then((r) => r.rate));
    const r = await interleave(rounds, { node: run('node-len16-echo'), socklab: run('socklab-len16-echo') }, log);
    const label = `14. framed ping-pong len16 ${PAYLOAD} B × 50k${pinned ? ', one CPU' : ''}`;
    return [row(label, 'rt/s', r.node.median, r.socklab.median, 'higher', 0.8)];
  });
}
