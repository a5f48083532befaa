import net from 'node:net';

/** Bytes a target socket reads at most per read: Node's own read size (64 KiB), as socat's `-b 65536` in the bench. */
export const RELAY_READ_BUFFER = 64 * 1024;

/**
 * Chunks at least this long are handed on as they were read, and the next
 * read gets a fresh buffer: a copy of 32–64 KiB costs more than the
 * allocation it saves (bulk transfers). Below it a chunk is copied and the
 * buffer read into again. Half the buffer: a chunk kept by reference (the
 * expect window keeps chunks of 4 KiB and more) holds at most twice its size.
 */
export const RELAY_HAND_OVER = RELAY_READ_BUFFER / 2;

/**
 * The read side of a relay link socket: Node's `onread` option, so a read
 * lands in a buffer the socket keeps instead of a fresh 64 KiB buffer pushed
 * through the socket's Readable (which also schedules a `maybeReadMore` tick
 * per read). A short chunk is copied out at its own length (from Node's
 * shared pool) before it is handed on, since it outlives the read (the
 * receiver's write queue, the `relay` event, `.expect`'s window keep it) and
 * the buffer is read into again at once; a long one is handed on whole
 * (RELAY_HAND_OVER). Pausing is the socket's own `pause()`/`resume()` (for
 * an `onread` socket Node stops and starts the handle's reading at once), so
 * backpressure and `.pause` work as with 'data'. TLS sockets read as Node's
 * TLS does. Measured in docs/performance.md ("Round 2, session 4: relay").
 */
export class OwnBufferReader {
  /** Where each chunk goes (set by `wireRelaySocket`); a chunk the callee may keep. */
  deliver: (chunk: Buffer) => void = () => {};
  private buffer = Buffer.allocUnsafe(RELAY_READ_BUFFER);

  /** The `onread` option to give `net.connect` or `new net.Socket`. */
  readonly onread: net.OnReadOpts = {
    // Asked for again after each chunk: the same buffer, or a fresh one once the last was handed on.
    buffer: () => this.buffer,
    callback: (n: number, buf: Uint8Array): boolean => {
      if (n >= RELAY_HAND_OVER) {
        this.buffer = Buffer.allocUnsafe(RELAY_READ_BUFFER);
        this.deliver(Buffer.from(buf.buffer, buf.byteOffset, n));
      } else this.deliver(Buffer.from(buf.subarray(0, n)));
      // Go on reading: a pause is the socket's own pause() (backpressure, `.pause`), which stops the handle at once.
      return true;
    },
  };
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
