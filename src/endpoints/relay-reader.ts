import net from 'node:net';

/** Bytes a target socket reads at most per read: Node's own read size (64 KiB), as socat's `-b 65536` in the bench. */
export const RELAY_READ_BUFFER = 64 * 1024;

/**
 * The read side of a link's target socket (`c4`): Node's `onread` option of
 * `net.connect`, so each read lands in one buffer the socket keeps, not in a
 * fresh 64 KiB buffer pushed through the socket's Readable (which schedules a
 * `maybeReadMore` tick per read). Each chunk is copied out at its own length
 * before it is handed on: it outlives the read (the receiver's write queue,
 * the `relay` event, `.expect`'s window keep it), and the buffer is read into
 * again at once. Pausing is the socket's own `pause()`/`resume()` (Node stops
 * and starts the handle's reading for an `onread` socket), so backpressure
 * and `.pause` work as with 'data'. An accepted client socket cannot take
 * `onread` (net.Server has no such option), nor can a TLS one: those read as
 * before. Measured in docs/performance.md ("Round 2, session 4: relay").
 */
export class OwnBufferReader {
  /** Where each chunk goes (set by `wireRelaySocket`); a copy the caller may keep. */
  deliver: (chunk: Buffer) => void = () => {};

  /** The `onread` option to give `net.connect`. */
  readonly onread: net.OnReadOpts = {
    buffer: Buffer.allocUnsafe(RELAY_READ_BUFFER),
    callback: (n: number, buf: Uint8Array): boolean => {
      // A copy at the chunk's size (small ones come from Node's shared pool): `buf` is read into again next.
      this.deliver(Buffer.from(buf.subarray(0, n)));
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
