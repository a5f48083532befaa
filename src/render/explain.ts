import type { SessionEvent } from '../session/events.js';

type Explain<T> = (ev: T) => string | undefined;
type Table = { [K in SessionEvent['type']]?: Explain<Extract<SessionEvent, { type: K }>> };

/** What an OS error means and what to do, for a learner. Checked against Node's net and errors docs. */
const ERRORS: Record<string, string> = {
  ECONNREFUSED:
    'The other host answered our SYN with RST: no program listens on that port. Start a server there, or check host and port.',
  ECONNRESET:
    'The peer aborted the connection with RST (it called destroy(), crashed, or closed with unread data). Node emits error, then close.',
  EADDRINUSE: 'Another socket is already listening on that address and port; each address:port has one listener. Use another port, or 0.',
  EACCES: 'The system refused: ports below 1024 need root (or CAP_NET_BIND_SERVICE). Use a port of 1024 or more.',
  EPIPE: 'We wrote after the peer closed its side for reading; the kernel refuses the bytes. Nothing more can be sent on this socket.',
  ETIMEDOUT: 'No answer in time: the host may be down, or a firewall drops packets silently instead of refusing them.',
  ENOTFOUND: 'The name did not resolve (dns.lookup found no address). Check the spelling, or use an IP address.',
  EADDRNOTAVAIL: 'The address is not one of this machine\'s: a server can only bind addresses its interfaces have.',
  EMFILE: 'This process ran out of file descriptors (every socket uses one). Close sockets, or raise the limit with ulimit -n.',
  ENOENT: 'No Unix socket file exists at that path: nothing listens there.',
};

const EXPLAIN: Table = {
  listening: () =>
    'The kernel now queues incoming connections for this server (backlog) and Node hands each one over as a new socket.',
  accept: (ev) =>
    `The TCP three-way handshake finished; the server's 'connection' event gave us ${ev.id}, a socket of its own, separate from ${ev.server}.`,
  connect: () => "Our SYN was answered with SYN-ACK and we acknowledged it: the connection is open both ways ('connect' event).",
  data: () =>
    "Bytes arrived ('data' event). TCP is a byte stream: one write by the peer can arrive as several chunks, and several writes as one.",
  send: () =>
    "Handed to the socket; if the kernel's send buffer is full, Node queues them and write() returns false until 'drain'.",
  end: () =>
    "The peer sent FIN: it will send nothing more ('end'). We can still write; unless allowHalfOpen (--half-open) is set, Node ends our side too.",
  shutdown: () => 'We sent FIN (socket.end()): we will write nothing more, but keep reading until the peer ends its side too.',
  stop: () => "server.close() stops new connections only; the open ones carry on, and the server's 'close' comes after the last of them.",
  close: (ev) =>
    ev.id.startsWith('s')
      ? 'The server has stopped listening and its last connection has closed: its port is free again.'
      : ev.aborted && ev.reset
      ? 'We aborted it: no FIN handshake; the connection is reset (RST) and the peer sees ECONNRESET.'
      : ev.aborted
        ? 'We destroyed it (socket.destroy()): with nothing left unread the kernel ends the connection with a FIN; .destroy would send an RST.'
      : ev.hadError
        ? "Closed because of the error above ('close' with hadError true); the file descriptor is released."
        : "Both sides are done and the file descriptor is released ('close'). Every socket ends with exactly one close.",
  error: (ev) => ERRORS[ev.code],
  timeout: () =>
    "No bytes moved for the idle time ('timeout'). Node only reports it; the connection stays open unless the handler ends it — here socklab destroyed it.",
};

/** One sentence that explains an event to a learner, or undefined when there is nothing to teach. */
export function explainEvent(ev: SessionEvent): string | undefined {
  const fn = EXPLAIN[ev.type] as Explain<SessionEvent> | undefined;
  return fn?.(ev);
}
