import net from 'node:net';
import { markReadIntoAgain } from '../observers/byte-window.js';

/**
 * A chunk at least this long (Node read half its 64 KiB or more at once: a
 * bulk stream) moves its socket to a read buffer of its own. Short messages
 * (a ping-pong, a connect/close loop) never do, so they pay nothing here.
 */
export const OWN_BUFFER_FROM = 32 * 1024;
/** Bytes per read into a socket's own buffer: Node's own read size. */
export const OWN_READ_BUFFER = 64 * 1024;
/**
 * Sockets that read into a buffer of their own at once, over the process.
 * A socket keeps its buffer until it closes (Node cannot be given its own
 * reads back), so 10,000 connections that each once sent a bulk stream and
 * then went idle would hold 640 MB; the cap bounds that at 4 MiB. Past it a
 * socket reads as Node does, and switches when a slot is free again.
 */
export const OWN_BUFFER_SOCKETS = 64;
let owning = 0;

/** How many sockets have a read buffer of their own now (at most OWN_BUFFER_SOCKETS). */
export function ownBufferSocketsInUse(): number {
  return owning;
}

/** Node's fields of a socket made with the `onread` option (net.js `kBuffer`, `kBufferCb`, `kBufferGen`). */
interface OnreadFields {
  buffer: symbol;
  callback: symbol;
  generate: symbol;
}

let fields: OnreadFields | null | undefined;

/**
 * Found once, by their descriptions, on a socket made for the purpose: Node
 * exports no way to give an accepted socket `onread` (net.Server has no such
 * option). null when this Node has none of them (then nothing changes).
 */
function onreadFields(): OnreadFields | null {
  if (fields !== undefined) return fields;
  const probe = new net.Socket();
  const own = Object.getOwnPropertySymbols(probe);
  probe.destroy();
  const find = (name: string): symbol | undefined => own.find((s) => s.description === name);
  const buffer = find('kBuffer');
  const callback = find('kBufferCb');
  const generate = find('kBufferGen');
  fields = buffer && callback && generate ? { buffer, callback, generate } : null;
  return fields;
}

type Handle = { useUserBuffer?: (buffer: Uint8Array) => void };

/** What a socket's own buffer did: chunks lent, and read buffers taken after the first (something kept the last). */
export interface OwnBufferStats {
  lent: number;
  fresh: number;
}

const statsOf = new WeakMap<net.Socket, OwnBufferStats>();

/** The counts of a socket that reads into a buffer of its own; undefined for one that does not. Read by tests and when profiling. */
export function ownBufferStats(socket: net.Socket): OwnBufferStats | undefined {
  return statsOf.get(socket);
}

/**
 * Make a plain TCP or Unix socket that is receiving a bulk stream read into
 * a 64 KiB buffer of its own, as if it had been made with Node's `onread`
 * option (relay-reader.ts does the same for a relay's sockets, from the
 * start). Node otherwise reads each chunk into fresh memory, and the
 * allocator hands back pages it has to fault in again: most of the CPU a
 * bulk echo spent above a bare Node one (docs/performance.md, "Round 2,
 * session 6: bulk echo").
 *
 * Each chunk read is then **lent** to `deliver` (a view of the buffer, read
 * into again next time) when `lendable()` says nobody keeps it past the
 * call, and nothing about the socket's stream is other than plain: only
 * socklab's own 'data' listener, no 'readable' one, flowing, nothing
 * buffered, no encoding, nothing queued to write. If the socket's write then
 * still holds the chunk (Node keeps it by reference until written), the next
 * read gets a fresh buffer. Otherwise the chunk goes through the socket's
 * Readable as Node would push it (every 'data' listener hears it, in order;
 * `read()`, pause and backpressure work as before): a long chunk handed over
 * with a fresh buffer for the next read, a short one copied out.
 *
 * Call it from the 'data' listener: returns false (nothing changed) for a
 * TLS socket, a Node without these fields, or while OWN_BUFFER_SOCKETS
 * sockets have a buffer of their own (then it may be called again later).
 */
export function readIntoOwnBuffer(socket: net.Socket, deliver: (chunk: Buffer) => void, lendable: () => boolean): boolean {
  const f = onreadFields();
  const handle = (socket as unknown as { _handle?: Handle | null })._handle;
  if (f === null || owning >= OWN_BUFFER_SOCKETS || 'encrypted' in socket || typeof handle?.useUserBuffer !== 'function') return false;
  owning++;
  socket.once('close', () => owning--);
  let buffer = Buffer.allocUnsafe(OWN_READ_BUFFER);
  markReadIntoAgain(buffer.buffer);
  const stats: OwnBufferStats = { lent: 0, fresh: 0 };
  statsOf.set(socket, stats);
  const renew = (): void => {
    stats.fresh++;
    markReadIntoAgain(buffer.buffer, false);
    buffer = Buffer.allocUnsafe(OWN_READ_BUFFER);
    markReadIntoAgain(buffer.buffer);
  };
  const onread = socket as unknown as Record<symbol, unknown>;
  onread[f.buffer] = buffer;
  // Asked for after each chunk: the buffer to read into next.
  onread[f.generate] = (): Buffer => buffer;
  onread[f.callback] = (n: number, buf: Uint8Array): boolean => {
    if (plain(socket) && lendable()) {
      stats.lent++;
      deliver(Buffer.from(buf.buffer, buf.byteOffset, n));
      if (socket.writableLength > 0) renew();
      // A pause (backpressure, `.pause`) is the socket's own pause(), which stops reading at once.
      return true;
    }
    let chunk: Buffer;
    if (n >= OWN_BUFFER_FROM) {
      chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
      renew();
    } else chunk = Buffer.from(buf.subarray(0, n));
    return socket.push(chunk);
  };
  handle.useUserBuffer(buffer);
  return true;
}

/** Nothing but socklab's own 'data' listener reads the socket, flowing, with nothing buffered, decoded or queued to write. */
function plain(socket: net.Socket): boolean {
  return (
    socket.readableFlowing === true &&
    socket.readableLength === 0 &&
    socket.writableLength === 0 &&
    socket.readableEncoding === null &&
    socket.listenerCount('data') === 1 &&
    socket.listenerCount('readable') === 0
  );
}
