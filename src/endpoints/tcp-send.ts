import { setTimeout as delay } from 'node:timers/promises';
import { SocklabError } from '../errors.js';
import { isLive, type SendOptions, type SendResult } from '../session/endpoint.js';
import { canWrite, type SocketEndpoint } from './tcp-types.js';
import type { Registry } from '../session/manager.js';
import { rawSocket } from './tls.js';

export type { SendOptions, SendResult } from '../session/endpoint.js';

// Large payloads go out in pieces so that backpressure can act between them.
const PIECE = 64 * 1024;

/** The sockets a `.send` target names: a socket, every open connection of a server, or `all`. */
export function resolveTargets(reg: Registry, ref: string): SocketEndpoint[] {
  if (ref === 'all') {
    const all = reg.list().filter((ep): ep is SocketEndpoint => ep.kind === 'socket' && canWrite(ep));
    if (all.length === 0) throw new SocklabError('E_STATE', 'no open socket to send to: .connect or wait for a client first');
    return all;
  }
  const ep = reg.get(ref);
  if (ep.kind === 'socket') return [ep];
  // Other kinds are not TCP's to write to: `.send` reaches them through their own EndpointKind.
  if (ep.kind !== 'server') throw new SocklabError('E_USAGE', `${ep.id} is not a TCP endpoint: this needs a socket (c1) or a server (s1)`);
  const open = [...ep.connections].filter(canWrite);
  if (open.length === 0) throw new SocklabError('E_STATE', `${ep.id} has no open connection to send to (it is ${ep.state})`);
  return open;
}

/**
 * Write `data` to every target. Completes when the bytes are handed to the
 * kernel: after `drain` whenever Node's buffer is full, so a peer that never
 * reads holds this send, not our memory. A socket already holding
 * `maxQueuedBytes` refuses further sends.
 */
export async function sendTo(reg: Registry, targets: SocketEndpoint[], data: Buffer, options: SendOptions = {}): Promise<SendResult> {
  const repeat = options.repeat ?? 1;
  if (options.noDrain) checkWriteCount(reg, data.length, repeat, options.chunk);
  for (const ep of targets) checkWritable(reg, ep, Math.min(data.length * repeat, PIECE));
  const results = await Promise.all(targets.map((ep) => sendOne(reg, ep, pieces(data, repeat, options.chunk, options.delay !== undefined), options)));
  const buffered: Record<string, number> = {};
  // Under TLS, what the kernel has not taken waits in the TCP socket beneath; the TLS socket's
  // own count holds every write until its encryption completes, a moment later.
  for (const ep of targets) buffered[ep.id] = rawSocket(ep.socket).writableLength;
  return { bytes: results.reduce((a, b) => a + b, 0), buffered };
}

/** One write of a send; `pause`: the send's `delay` goes before it. */
export interface Piece {
  data: Buffer;
  pause: boolean;
}

/**
 * The writes of a send. The payload is repeated `repeat` times and joined
 * into one stream of bytes; with `chunk`, that stream is cut into writes of
 * `chunk` bytes (a write can span two repetitions: `--repeat 2 --chunk 3 abcd`
 * writes `abc`, `dab`, `cd`), with the delay between every two writes. Without
 * `chunk`, `spaced` (a delay was given) makes each repetition its own write,
 * the delay between repetitions; otherwise repetitions are joined into writes
 * of up to 64 KiB, built once and reused, so `--repeat 1000000` costs a few
 * hundred writes and one block of memory.
 */
export function* pieces(data: Buffer, repeat: number, chunk?: number, spaced = false): Generator<Piece> {
  if (data.length === 0) return;
  if (chunk !== undefined) {
    const size = Math.min(chunk, PIECE);
    let rep = 0;
    let at = 0;
    let first = true;
    while (rep < repeat) {
      const parts: Buffer[] = [];
      for (let need = size; need > 0 && rep < repeat; ) {
        const take = Math.min(need, data.length - at);
        parts.push(data.subarray(at, at + take));
        need -= take;
        at += take;
        if (at === data.length) {
          at = 0;
          rep++;
        }
      }
      yield { data: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), pause: !first };
      first = false;
    }
    return;
  }
  if (spaced || data.length >= PIECE) {
    for (let r = 0; r < repeat; r++) {
      for (let at = 0; at < data.length; at += PIECE) yield { data: data.subarray(at, at + PIECE), pause: spaced && r > 0 && at === 0 };
    }
    return;
  }
  const perBlock = Math.floor(PIECE / data.length);
  const block = Buffer.concat(Array<Buffer>(Math.min(perBlock, repeat)).fill(data));
  for (let left = repeat; left > 0; left -= perBlock) {
    yield { data: left >= perBlock ? block : block.subarray(0, left * data.length), pause: false };
  }
}

/**
 * What one write queued in Node costs besides its bytes (the request object
 * and the Buffer view), counted against the cap: a million one-byte writes
 * are not 1 MB of memory but several hundred.
 */
export const WRITE_OVERHEAD = 128;
/** Writes gathered into one writev() (and one turn of the event loop) while a `--no-drain` send runs without pauses. */
const CORK_BATCH = 1024;

async function sendOne(reg: Registry, ep: SocketEndpoint, writes: Iterable<Piece>, options: SendOptions): Promise<number> {
  let sent = 0;
  // Writes handed to Node and not yet to the kernel (their callback has not run).
  const queue = { writes: 0 };
  const written = (): void => void queue.writes--;
  // Back to back without waiting: many small writes go to the kernel as one writev() per batch.
  const batch = options.noDrain === true && !options.delay;
  let corked = 0;
  try {
    for (const { data: part, pause } of writes) {
      if (pause && options.delay) await delay(options.delay);
      checkWritable(reg, ep, part.length, queue.writes);
      sent += part.length;
      if (batch && corked++ === 0) ep.socket.cork();
      queue.writes++;
      const ok = ep.socket.write(part, written);
      if (batch && corked === CORK_BATCH) {
        corked = 0;
        ep.socket.uncork();
        // A turn of the event loop per batch: write callbacks run (so `queue` counts only what
        // the kernel did not take), and the prompt and other sockets stay live meanwhile.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (!ok && !options.noDrain) await drained(ep);
    }
  } finally {
    if (corked > 0) ep.socket.uncork();
  }
  return sent;
}

/**
 * A `--no-drain` send of more writes than the cap can hold the bookkeeping
 * of (`--chunk 1 --repeat 8000000`) is refused before the first write:
 * whatever the peer does, Node would hold them all.
 */
function checkWriteCount(reg: Registry, size: number, repeat: number, chunk: number | undefined): void {
  const writes = chunk !== undefined || size >= PIECE ? repeat * Math.ceil(size / Math.min(chunk ?? PIECE, PIECE)) : Math.ceil((size * repeat) / PIECE);
  if (writes * WRITE_OVERHEAD <= reg.maxQueuedBytes) return;
  throw new SocklabError(
    'E_BUFFER_FULL',
    `--no-drain would queue ${writes} writes of ${size * repeat} B in all, about ${writes * WRITE_OVERHEAD} B with Node's ${WRITE_OVERHEAD} B per write: ` +
      `more than the cap of ${reg.maxQueuedBytes} B; use a larger --chunk, or leave out --no-drain so the send waits for the peer`,
  );
}

function checkWritable(reg: Registry, ep: SocketEndpoint, next: number, queuedWrites = 0): void {
  if (!canWrite(ep) || ep.socket.writableEnded) {
    const why = isLive(ep) ? `it is ${ep.state}` : 'it is closed';
    throw new SocklabError('E_STATE', `cannot send to ${ep.id}: ${why}`);
  }
  const queued = ep.socket.writableLength;
  const bookkeeping = queuedWrites * WRITE_OVERHEAD;
  if (queued + next + bookkeeping <= reg.maxQueuedBytes) return;
  if (bookkeeping > queued) {
    throw new SocklabError(
      'E_BUFFER_FULL',
      `${ep.id} has ${queuedWrites} writes (${queued} B) queued that the peer has not read, about ${queued + bookkeeping} B with Node's ` +
        `${WRITE_OVERHEAD} B per write; the cap is ${reg.maxQueuedBytes} B: use a larger --chunk, wait, or .destroy ${ep.id}`,
    );
  }
  throw new SocklabError(
    'E_BUFFER_FULL',
    `${ep.id} already has ${queued} B queued that the peer has not read; the cap is ${reg.maxQueuedBytes} B: wait, or .destroy ${ep.id}`,
  );
}

function drained(ep: SocketEndpoint): Promise<void> {
  const socket = ep.socket;
  return new Promise((resolve, reject) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      // Name the OS error (EPIPE, ECONNRESET) that ended it, if one did: the error event said why.
      const code = (socket.errored as NodeJS.ErrnoException | null)?.code;
      const why = code === undefined ? '' : ` (${code})`;
      if (socket.destroyed) reject(new SocklabError('E_STATE', `${ep.id} closed${why} before the peer read everything we sent`));
      else resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
