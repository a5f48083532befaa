// The servers under test, each in a child process: socklab's CLI, the bare
// Node baselines (node-peer.mjs), socat and ncat. Every start resolves to
// { proc, port } once the server listens.
import { fileURLToPath } from 'node:url';
import { freePort, start, waitFor, waitListening } from './procs.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SOCKLAB = fileURLToPath(new URL('../../bin/socklab.js', import.meta.url));
export const NODE_PEER = fileURLToPath(new URL('./node-peer.mjs', import.meta.url));

const READY_MS = 10_000;
const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;

/** Extra node flags for the socklab child (profiling: BENCH_SOCKLAB_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p"). */
export function socklabNodeArgs() {
  const extra = process.env.BENCH_SOCKLAB_NODE_ARGS;
  return extra ? extra.split(/\s+/).filter(Boolean) : [];
}

/** socklab's CLI with `-e` lines and stdin a pipe kept open: the lines run, then a REPL on a non-TTY. */
export function startSocklab(lines, { json = false } = {}) {
  const args = [...socklabNodeArgs(), SOCKLAB, '--no-color', ...(json ? ['--json'] : [])];
  for (const line of lines) args.push('-e', line);
  // SOCKLAB_HISTORY="" so the bench never touches ~/.socklab_history.
  return start(process.execPath, args, { cwd: ROOT, env: { ...process.env, SOCKLAB_HISTORY: '' } });
}

async function listeningPort(proc, regex) {
  const m = await waitFor(proc, regex, READY_MS, 'listening line');
  return Number(m[1]);
}

const KINDS = {
  /** Bare Node: net.createServer((s) => s.pipe(s)). */
  'node-echo': async () => {
    const proc = start(process.execPath, [NODE_PEER, 'echo']);
    return { proc, port: await listeningPort(proc, LISTENING) };
  },
  /** Bare Node doing len16 framing by hand: each message answered as one len16 message. */
  'node-len16-echo': async () => {
    const proc = start(process.execPath, [NODE_PEER, 'len16-echo']);
    return { proc, port: await listeningPort(proc, LISTENING) };
  },
  /** socklab `--frame len16 --reply '{data}'`: every message shown (folded in a flood) and answered framed. */
  'socklab-len16-echo': async () => {
    const proc = startSocklab([".listen 0 --frame len16 --reply '{data}'"]);
    return { proc, port: await listeningPort(proc, LISTENING) };
  },
  /** Bare Node: read and drop. */
  'node-sink': async () => {
    const proc = start(process.execPath, [NODE_PEER, 'sink']);
    return { proc, port: await listeningPort(proc, LISTENING) };
  },
  /** socklab `--reply echo`, human rendering of every event (data shown, folded in a flood). */
  'socklab-echo': async () => {
    const proc = startSocklab(['.listen 0 --reply echo']);
    return { proc, port: await listeningPort(proc, LISTENING) };
  },
  /** Bare Node: a dgram socket that answers each datagram to its sender. */
  'node-udp-echo': async () => {
    const proc = start(process.execPath, [NODE_PEER, 'udp-echo']);
    return { proc, port: await listeningPort(proc, LISTENING) };
  },
  /** socklab `.udp 0 --reply echo`, human rendering of every event (folded in a flood). */
  'socklab-udp-echo': async () => {
    const proc = startSocklab(['.udp 0 --reply echo']);
    return { proc, port: await listeningPort(proc, LISTENING) };
  },
  /** Bare Node: split lines, write each back (the baseline of the rule row). */
  'node-line-echo': async () => {
    const proc = start(process.execPath, [NODE_PEER, 'line-echo']);
    return { proc, port: await listeningPort(proc, LISTENING) };
  },
  /** socklab answering each line by a trigger rule, every event through the human renderer. */
  'socklab-rule-echo': async () => {
    const proc = startSocklab(['.listen 0', '.on s1 data /([^\\n]*)\\n/ .sendln $id $1']);
    return { proc, port: await listeningPort(proc, LISTENING) };
  },
  /** socklab's default reply (none): the data is only shown. */
  'socklab-sink': async () => {
    const proc = startSocklab(['.listen 0']);
    return { proc, port: await listeningPort(proc, LISTENING) };
  },
  /**
   * socat as an echo: EXEC:cat (socat relays to a cat over a socketpair).
   * -b 65536 gives socat 64 KiB reads like Node's (its default is 8 KiB).
   * The in-process PIPE address deadlocks on a bulk echo (socat blocks
   * writing to the pipe only it reads) unless -b 4096, which is slower.
   * One connection per process: a fresh socat per run.
   */
  'socat-echo': async () => {
    const port = await freePort();
    const proc = start('socat', ['-b', '65536', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, 'EXEC:cat']);
    await waitListening(port, READY_MS);
    return { proc, port };
  },
  /** ncat has no built-in echo: --exec /bin/cat (one connection per process, no -k). Needs windowedEcho. */
  'ncat-echo': async () => {
    const port = await freePort();
    const proc = start('ncat', ['-l', '127.0.0.1', String(port), '--exec', '/bin/cat']);
    await waitListening(port, READY_MS);
    return { proc, port };
  },
};

/** Start a server of the given kind; resolves to { proc, port }. */
export function startServer(kind) {
  const make = KINDS[kind];
  if (!make) throw new Error(`unknown server kind ${kind}`);
  return make();
}
