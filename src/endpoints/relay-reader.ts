import net from 'node:net';

/** Bytes a target socket reads at most per read: Node's own read size (64 KiB), as socat's `-b 65536` in the bench. */
export const RELAY_READ_BUFFER = 64 * 1024;

/**
 * When a chunk cannot be lent (see OwnBufferReader), chunks at least this
 * long are handed on as they were read and the next read gets a fresh
 * buffer: a copy of 32–64 KiB costs more than the allocation it saves. Below
 * it a chunk is copied and the buffer read into again.
 */
export const RELAY_HAND_OVER = RELAY_READ_BUFFER / 2;

/**
 * The read side of a relay link socket: Node's `onread` option, so a read
 * lands in a buffer the socket keeps instead of a fresh 64 KiB buffer pushed
 * through the socket's Readable (which also schedules a `maybeReadMore` tick
 * per read).
 *
 * A chunk is **lent** when `lend()` says that nothing downstream keeps it
 * past the turn: it is handed on as a view of the buffer, and the next read
 * goes into the same memory unless `free()` then says something still holds
 * it (the receiving socket could not write it at once: Node keeps a chunk by
 * reference until it is written), in which case the next read gets a fresh
 * buffer. Reading into one warm buffer is what lets a relay move bulk data at
 * socat's speed: a fresh 64 KiB per read costs page faults and cold cache
 * lines (docs/performance.md, "Round 2, session 5: relay"). Otherwise a short
 * chunk is copied out at its own length (from Node's shared pool) and a long
 * one handed on whole with a fresh buffer for the next read
 * (RELAY_HAND_OVER).
 *
 * Pausing is the socket's own `pause()`/`resume()` (for an `onread` socket
 * Node stops and starts the handle's reading at once), so backpressure and
 * `.pause` work as with 'data'. TLS sockets read as Node's TLS does.
 */
export class OwnBufferReader {
  /** Where each chunk goes (set by `wireRelaySocket`). */
  deliver: (chunk: Buffer) => void = () => {};
  /** Before a chunk is delivered: may it be a view of the buffer (no holder keeps it past `deliver` unless `free` says so)? */
  lend: () => boolean = () => false;
  /** After a lent chunk was delivered: is the buffer free to read into again? */
  free: () => boolean = () => false;
  /** Chunks handed on as views of the buffer (lent); read by tests and when profiling. */
  lent = 0;
  /** Read buffers taken after the first (something kept the last one); read by tests and when profiling. */
  fresh = 0;
  private buffer = Buffer.allocUnsafe(RELAY_READ_BUFFER);

  /** The `onread` option to give `net.connect` or `new net.Socket`. */
  readonly onread: net.OnReadOpts = {
    // Asked for again after each chunk: the same buffer, or a fresh one once the last was handed on.
    buffer: () => this.buffer,
    callback: (n: number, buf: Uint8Array): boolean => {
      if (this.lend()) {
        this.lent++;
        this.deliver(Buffer.from(buf.buffer, buf.byteOffset, n));
        if (!this.free()) this.renew();
      } else if (n >= RELAY_HAND_OVER) {
        this.renew();
        this.deliver(Buffer.from(buf.buffer, buf.byteOffset, n));
      } else this.deliver(Buffer.from(buf.subarray(0, n)));
      // Go on reading: a pause is the socket's own pause() (backpressure, `.pause`), which stops the handle at once.
      return true;
    },
  };

  /** Read into a fresh buffer from now on: something keeps the last one. */
  private renew(): void {
    this.buffer = Buffer.allocUnsafe(RELAY_READ_BUFFER);
    this.fresh++;
  }
}

/**
 * An accepted client socket made to read into `reader`'s buffer: net.Server
 * has no `onread` option, so its handle (not reading yet: the relay listens
 * with `pauseOnConnect`) moves to a new net.Socket made with one, and paused
 * in the same turn (no read can happen before the link opens). The socket
 * the server made keeps the server's count of connections (`--max`, and
 * `close` waiting for the last one): it is destroyed, without a handle, once
 * the new one closes. Plain TCP and Unix sockets only (a TLS one wraps the
 * accepted socket instead).
 */
export function adoptWithOwnBuffer(accepted: net.Socket, reader: OwnBufferReader): net.Socket {
  // `_handle` is Node's own field (tcp-wiring.ts reads its fd too): the one way to hand an accepted handle on.
  const holder = accepted as unknown as { _handle: unknown };
  const socket = new net.Socket({ handle: holder._handle, allowHalfOpen: true, onread: reader.onread } as net.SocketConstructorOpts);
  socket.pause();
  holder._handle = null;
  socket.once('close', () => accepted.destroy());
  return socket;
}
