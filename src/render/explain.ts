import { tlsFailure } from '../protocols/tls-failures.js';
import type { SecureEvent, SessionEvent } from '../session/events.js';

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
  EMSGSIZE:
    'A datagram travels whole or not at all: UDP carries at most 65,507 B of payload over IPv4 (65,527 over IPv6), and a path that may not fragment carries only its MTU. Send less per datagram.',
  E_LIMIT:
    'The peer sent more than --max-message allows in one message (a length prefix that big, or that many bytes with no delimiter). socklab allocates nothing for it and closes the connection: a peer must not make us hold what it likes. A peer speaking another protocol, or a wrong --frame, looks like this.',
  EMFILE: 'This process ran out of file descriptors (every socket uses one). Close sockets, or raise the limit with ulimit -n.',
  ENOENT: 'No Unix socket file exists at that path: nothing listens there.',
};

/** The same codes where they mean something else (the error event's context). */
const ERRORS_IN_CONTEXT: Record<string, string> = {
  'EADDRINUSE/socket-file-stale':
    'A Unix socket path is a file; bind() refuses a path that exists, even when no process listens on it any more (a server that was killed leaves its file behind). Remove the file, then listen again.',
  'EADDRINUSE/socket-file-live': 'A Unix socket path is a file, and a server listens on this one: two servers cannot share a path.',
  'EADDRINUSE/socket-path-not-socket':
    'A Unix socket path names a new file: bind() refuses a path where anything exists (a regular file, a directory, a symlink). That file is not a socket, so it is not in the way of another server: pick another path.',
  'ECONNREFUSED/socket-path-not-socket': 'Connecting to a Unix socket path needs a socket file there; this path holds something else (a regular file, a directory, a symlink to one).',
  'ENOENT/socket-dir': "A Unix socket file is created in an existing directory; this one's directory does not exist.",
  'EACCES/socket-dir': "A Unix socket file is created in an existing directory; this one's directory does not exist.",
  'EACCES/socket-dir-denied': 'Creating a Unix socket file needs write permission on its directory.',
  'ECONNREFUSED/socket-file-stale':
    'The socket file exists but no process listens on it: a stale file a server left behind (Unix sockets refuse like a closed TCP port).',
  'ECONNREFUSED/udp':
    'A datagram we sent reached a host where no socket is bound to that port; it answered with ICMP port unreachable, which the kernel reports as ECONNREFUSED only on a connected UDP socket (--connect). No connection was refused: UDP has none, and an unconnected socket would never know.',
  'EADDRINUSE/local-port':
    'Our end of the connection asked for a local port that is in use: one address:port can be bound once (unless both sides set SO_REUSEADDR/SO_REUSEPORT). Leave --local-port out and the kernel picks a free one.',
  'EADDRNOTAVAIL/local-port':
    'connect() found the connection (our address:port, their address:port) already in use, often by an earlier one in TIME_WAIT. Pick another --local-port, or leave it out.',
};

/** Unix socket addresses are paths (TCP ones never hold a slash). */
const isPath = (address: string): boolean => address.includes('/');

const EXPLAIN: Table = {
  listening: (ev) =>
    ev.kind === 'udp'
      ? 'The UDP socket is bound: no connection and no handshake. Anyone may send it datagrams, and it may send to any address; nothing guarantees delivery.'
      : ev.kind === 'relay'
        ? `The relay listens like a server; for each client it accepts it opens a second connection, to ${ev.target ?? 'its target'}, and copies bytes between the two: two TCP connections, not one, each with its own handshake, FIN and close.`
        : 'The kernel now queues incoming connections for this server (backlog) and Node hands each one over as a new socket.',
  accept: (ev) =>
    isPath(ev.local)
      ? `A client connected to the Unix socket file (no TCP handshake: the kernel joins the two ends); the server's 'connection' event gave us ${ev.id}, a socket of its own, separate from ${ev.server}.`
      : `The TCP three-way handshake finished; the server's 'connection' event gave us ${ev.id}, a socket of its own, separate from ${ev.server}.`,
  connect: (ev) =>
    isPath(ev.remote)
      ? "We connected to a Unix socket file: no handshake packets, no ports; the kernel joined us to the server's socket ('connect' event). Our end has no name."
      : "Our SYN was answered with SYN-ACK and we acknowledged it: the connection is open both ways ('connect' event).",
  data: () =>
    "Bytes arrived ('data' event). TCP is a byte stream: one write by the peer can arrive as several chunks, and several writes as one.",
  relay: (ev) =>
    `The relay read these bytes from ${ev.from} and wrote them to ${ev.to} (${ev.dir === 'up' ? 'client → target' : 'target → client'}). ` +
    'TCP keeps no boundaries across the relay either: the chunks the far side reads need not match these. If the receiver reads slowly, the relay stops reading from the sender (backpressure).',
  message: () =>
    'A whole message arrived: socklab cut it out of the TCP byte stream by the --frame rule (a length prefix says how many bytes follow, or a delimiter ends it). ' +
    'Chunks that ended inside a message showed nothing; one chunk holding several messages shows each. This is how a protocol survives "sticky packets".',
  datagram: () =>
    "One datagram arrived ('message' event). UDP keeps boundaries: one send is one datagram, received whole or not at all. No connection, no delivery guarantee: datagrams may be lost, duplicated or reordered, and nobody is told.",
  send: (ev) =>
    ev.to !== undefined
      ? 'One datagram handed to the kernel, sent at once with no handshake and no acknowledgement: if it is lost, neither side is told.'
      : "Handed to the socket; if the kernel's send buffer is full, Node queues them and write() returns false until 'drain'.",
  end: () =>
    "The peer sent FIN: it will send nothing more ('end'). We can still write; unless allowHalfOpen (--half-open) is set, Node ends our side too.",
  shutdown: () => 'We sent FIN (socket.end()): we will write nothing more, but keep reading until the peer ends its side too.',
  stop: () => "server.close() stops new connections only; the open ones carry on, and the server's 'close' comes after the last of them.",
  close: (ev) =>
    ev.id.startsWith('u')
      ? 'The UDP socket is closed and its port released. There was no connection, so no peer is told.'
      : ev.id.startsWith('s')
      ? ev.hadError
        ? 'This server never started listening (the error above): it held no address, and whoever holds that address still does.'
        : 'The server has stopped listening and its last connection has closed: it no longer holds its address.'
      : ev.stillSending
        ? 'The peer kept sending after our FIN until the shutdown grace ended. A socket closed with bytes unread, or receiving more, is answered by the kernel with an RST, so the peer sees ECONNRESET, not a clean end; a peer that stops sending and reads sees our FIN.'
      : ev.aborted && ev.reset
        ? `We aborted it: no FIN handshake; the connection is reset (RST) and the peer sees ECONNRESET${ev.discarded ? ', and the bytes still queued were thrown away' : ''}.`
        : ev.aborted
          ? 'We destroyed it (socket.destroy()): with nothing left unread the kernel ends the connection with a FIN; .destroy would send an RST.'
          : ev.hadError
            ? "Closed because of the error above ('close' with hadError true); the file descriptor is released."
            : "Both sides are done and the file descriptor is released ('close'). Every socket ends with exactly one close.",
  error: (ev) => (ev.context === undefined ? undefined : ERRORS_IN_CONTEXT[`${ev.code}/${ev.context}`]) ?? ERRORS[ev.code] ?? tlsFailure(ev.code)?.explain,
  secure: explainSecure,
  rule: (ev) =>
    `Rule ${ev.rule} matched an event of ${ev.id} and runs its command as if typed, right after the event: a server answering by rule, like Node code in a 'data' handler. A rule that fires more than 1,000 times a second is suspended; .on lists the rules with their counts, .off ${ev.rule} removes it.`,
  timeout: (ev) =>
    "No bytes moved for the idle time ('timeout'). Node only reports it; the connection stays open unless the handler ends it" +
    (ev.destroyed ? ' — here socklab destroyed it.' : ' — here nothing ends it (--idle-destroy would).'),
};

/** The TLS handshake, SNI, ALPN and the verification result of one `secure` event. */
function explainSecure(ev: SecureEvent): string {
  const hello =
    ev.role === 'client'
      ? 'Over the open TCP connection we sent a ClientHello (versions, cipher suites, a key share'
      : 'Over the accepted TCP connection the client sent a ClientHello (versions, cipher suites, a key share';
  const sni = ev.servername === null ? ', no SNI name (none is sent for an IP address)' : `, the SNI name ${ev.servername} that tells a server with many names which certificate to send`;
  const alpn = ev.alpn === null ? '' : ` and the ALPN list, of which ${ev.alpn} was agreed (the protocol spoken inside)`;
  const verify =
    ev.role === 'client'
      ? ev.authorized
        ? ' We verified the server certificate: a CA we trust signed it, it is in date, and it names the host (or --servername).'
        : ` We did not verify the server: ${ev.authorizationError ?? 'the check was off'}${ev.authorizationError ? ' — --insecure let it through; without it the connection would have failed' : ''}.`
      : ev.peerCertificate === null
        ? ev.certRequested ? ' We asked for a client certificate (--client-cert) and got none.' : ''
        : ` The client sent a certificate (--client-cert asked for it); verified: ${ev.authorized ? 'yes' : `no (${ev.authorizationError ?? 'unknown'})`}.`;
  return `${hello}${sni}${alpn}); the answer picked ${ev.protocol} and ${ev.cipher}, keys were agreed (ECDHE) and both sides proved it with Finished messages. From here every byte is encrypted; socklab shows the plaintext.${verify}`;
}

/** One sentence that explains an event to a learner, or undefined when there is nothing to teach. */
export function explainEvent(ev: SessionEvent): string | undefined {
  const fn = EXPLAIN[ev.type] as Explain<SessionEvent> | undefined;
  return fn?.(ev);
}
