import { FramedStream } from '../behaviours/framed.js';
import type { Framing } from '../protocols/framing.js';
import type { Registry } from '../session/manager.js';
import { SocketState, type SocketEndpoint } from './tcp-types.js';

/**
 * Frame what the socket receives (`--frame`): `message` events, one reply per
 * message, and past `--max-message` an `E_LIMIT` error and the connection
 * destroyed. Call before any data can arrive. `discard`: no message events.
 */
export function attachFraming(reg: Registry, ep: SocketEndpoint, framing: Framing, discard: boolean): void {
  const { socket, id } = ep;
  ep.frame = new FramedStream(framing, {
    message(data) {
      if (!discard) reg.emit({ type: 'message', t: reg.now(), id, data });
      ep.reply?.(data);
    },
    overLimit(err) {
      reg.emit({ type: 'error', t: reg.now(), id, code: err.code, message: err.message });
      ep.state = SocketState.DESTROYED;
      socket.destroy();
    },
    note: (message) => reg.emit({ type: 'note', t: reg.now(), id, message }),
  });
  let said = false;
  const unfinished = (when: string): void => {
    if (said) return;
    said = true;
    const message = ep.frame?.unfinished(when);
    if (message !== undefined) reg.emit({ type: 'note', t: reg.now(), id, message });
  };
  // Said once: after the peer's FIN line (not for a reset Node reported as end-of-stream,
  // which wireSocket turned into a destroy), else just before the close line.
  socket.on('end', () => {
    if (!socket.destroyed) unfinished('the peer ended its side');
  });
  socket.prependListener('close', () => unfinished('closed'));
}
