import net from 'node:net';
import { SocklabError } from '../errors.js';
import { formatHostPort, registerKind, type EndpointKind } from '../session/endpoint.js';
import type { Session } from '../session/session.js';
import { describeHttpConnection } from '../behaviours/http-connection.js';
import { formatBytes } from '../render/units.js';
import { sendTo } from './tcp-send.js';
import { probeRead } from './probe-read.js';
import { SocketState, canWrite, type ConnectOptions, type ListenOptions, type ServerEndpoint, type SocketEndpoint } from './tcp-types.js';
import type { Registry } from '../session/manager.js';
import { parseReply } from '../behaviours/reply.js';
import { attachReply, errorCode, errorMessage, noteConnected, wireSocket } from './tcp-wiring.js';
import { attachFraming } from './tcp-framing.js';
import { framedSends, framingOf } from '../behaviours/framed.js';
import { kernelKeyOf } from '../observers/kernel-view.js';
import { tlsFailure } from '../protocols/tls-failures.js';
import { closingOurselves, connectTls, handshakeOf, rawSocket, tlsDetails, watchTls } from './tls.js';

/** Open a client socket. The endpoint exists at once; `ready` settles when connected or failed. */
export function openSocket(reg: Registry, options: ConnectOptions): SocketEndpoint {
  reg.checkAlias(options.alias);
  const reply = parseReply(options.reply ?? 'none');
  const framing = framingOf(options);
  const target = options.path ?? formatHostPort(options.host ?? '127.0.0.1', options.port);
  const connectOptions: net.NetConnectOpts = options.path
    ? { path: options.path, allowHalfOpen: options.halfOpen === true }
    : {
        host: options.host ?? '127.0.0.1',
        port: options.port ?? 0,
        allowHalfOpen: options.halfOpen === true,
        ...(options.localPort !== undefined && { localPort: options.localPort }),
        ...(options.family !== undefined && { family: options.family }),
        ...(reg.lookup !== undefined && { lookup: reg.lookup }),
      };
  const socket = options.tls ? connectTls(connectOptions, options.tls) : net.connect(connectOptions);
  if (options.noDelay) socket.setNoDelay(true);
  if (options.keepAlive !== undefined) socket.setKeepAlive(true, options.keepAlive);
  const ep = newSocket(reg, socket, undefined, options);
  ep.remote = target;
  if (options.alias !== undefined) ep.alias = options.alias;
  reg.add(ep);
  wireSocket(reg, ep, { discard: reply.kind === 'discard' });
  watchTls(reg, ep);
  attachReply(reg, ep, reply, {});
  if (framing) attachFraming(reg, ep, framing, reply.kind === 'discard');

  const ms = options.timeout ?? reg.connectTimeout;
  // With --tls the line completes on `secure` (SPEC 6, 11): --timeout covers TCP connect and handshake.
  const timer = setTimeout(() => {
    const what = ep.connectedAt === undefined ? `connect ETIMEDOUT ${target}` : `TLS handshake with ${target} not complete`;
    const err = Object.assign(new Error(`${what} after ${ms} ms`), { code: 'ETIMEDOUT' });
    socket.destroy(err);
  }, ms);
  timer.unref();
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      if (!options.tls) clearTimeout(timer);
      // Armed once connected, so it never races the connect timeout (`--timeout`).
      if (options.idle !== undefined) {
        ep.idleDestroy = options.idleDestroy === true;
        socket.setTimeout(options.idle);
      }
      noteConnected(reg, ep);
      reg.emit({ type: 'connect', t: reg.now(), id: ep.id, alias: ep.alias, local: ep.local, remote: ep.remote });
      if (!options.tls) resolve();
    });
    if (options.tls) {
      // `watchTls` (added first) has emitted the `secure` line by now.
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
    }
    socket.once('close', () => {
      clearTimeout(timer);
      const why = ep.connectedAt === undefined ? `could not connect to ${target}` : `closed before the TLS handshake with ${target} completed`;
      reject(new SocklabError('E_NET', `${ep.id}: ${why}`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (ep.connectedAt === undefined || (options.tls && handshakeOf(socket) === undefined)) {
        const tlsPart = ep.connectedAt !== undefined && tlsFailure(errorCode(err)) !== undefined ? 'TLS: ' : '';
        reject(new SocklabError('E_NET', `${ep.id}: ${tlsPart}${errorMessage(err)}`, { cause: err, osCode: errorCode(err) }));
      }
    });
  });
  ready.catch(() => {});
  (ep as { ready: Promise<void> }).ready = ready;
  return ep;
}

// An accepted socket is connected already: one settled promise serves them all (openSocket replaces it).
const CONNECTED = Promise.resolve();

export function newSocket(reg: Registry, socket: net.Socket, server: ServerEndpoint | undefined, options: ListenOptions | ConnectOptions): SocketEndpoint {
  const ep: SocketEndpoint = {
    kind: 'socket',
    id: reg.nextId('c'),
    alias: undefined,
    createdAt: reg.now(),
    closedAt: undefined,
    ready: CONNECTED,
    socket,
    state: SocketState.CONNECTING,
    server,
    local: '?',
    remote: '?',
    bytesIn: 0,
    bytesOut: 0,
    chunksIn: 0,
    chunksOut: 0,
    connectedAt: undefined,
    userPaused: false,
    reset: false,
    reply: undefined,
    options,
  };
  if (server) reg.add(ep);
  return ep;
}

/**
 * Half-close: send FIN, keep reading. Idempotent (SPEC 3): on a socket that
 * already sent FIN, or is closed, it does nothing and says so in a note.
 */
export function endSocket(session: Session, ep: SocketEndpoint): void {
  if (!isLiveSocket(ep)) return session.note(ep.id, `already ${goneState(ep)}: nothing to end`);
  if (ep.socket.writableEnded) {
    // Without --half-open, Node ends our side itself once the peer's FIN arrives.
    const auto = !ep.socket.allowHalfOpen && ep.socket.readableEnded;
    const why = auto ? " (Node ended our side when the peer's FIN came; --half-open keeps it open)" : '';
    // Until 'finish' the FIN has not gone out: its `→ FIN` line comes after this note.
    const fin = ep.socket.writableFinished ? 'already sent FIN' : 'our FIN is already on its way';
    return session.note(ep.id, `${fin}${why}: nothing to do; .destroy ${ep.id} aborts it`);
  }
  closingOurselves(ep.socket);
  ep.socket.end();
}

/**
 * Abort at once with an RST: Node's queued bytes and the kernel's send queue
 * are discarded (SO_LINGER 0); the close event says how many Node still held.
 * Bytes already in the peer's receive queue still reach a reader there, then
 * its read fails with ECONNRESET (checked with a Python peer).
 */
export function destroySocket(ep: SocketEndpoint): void {
  if (!isLiveSocket(ep)) throw stateError(ep, 'destroy');
  ep.state = SocketState.DESTROYED;
  const s = ep.socket;
  closingOurselves(s);
  ep.discarded = s.writableLength;
  // libuv refuses a reset (EINVAL, and Node then never closes the socket) only while its
  // shutdown(2) is pending: after Node called _final, before 'finish'. An end() still
  // queued behind writes is not there yet, and resetAndDestroy() does send the RST then.
  // In that short window our FIN is going out anyway: close plainly (the peer sees a FIN).
  const finSending = (s as unknown as { _writableState: { finalCalled: boolean } })._writableState.finalCalled && !s.writableFinished;
  if (s.connecting || s.destroyed || finSending) s.destroy();
  else {
    ep.reset = true;
    // Under TLS the RST goes out on the TCP socket beneath (a TLSSocket's handle cannot reset).
    const raw = rawSocket(s);
    raw.resetAndDestroy();
    if (raw !== s) s.destroy();
  }
}

/**
 * End a socket the shutdown grace could not close. Closing a socket with bytes
 * unread, or one that goes on receiving, makes Linux answer with an RST
 * (RFC 9293 3.6.1, RFC 2525 2.17): a peer still sending after our FIN is reset
 * whatever we do (checked with a Python peer: its send fails with
 * ECONNRESET). So when bytes came in its last `STILL_SENDING_MS`, or wait
 * unread, we reset it ourselves and the close says so; otherwise a plain close
 * (the peer has our FIN, or gets it with what is still queued in the kernel).
 * `now` is the session's clock (ms).
 */
export function abortSocket(ep: SocketEndpoint, now: number): void {
  if (!isLiveSocket(ep)) return;
  const recent = ep.lastDataAt !== undefined && now - ep.lastDataAt < STILL_SENDING_MS;
  if (!ep.socket.readableEnded && (recent || bytesWaiting(ep.socket))) {
    ep.stillSending = true;
    return destroySocket(ep);
  }
  closingOurselves(ep.socket);
  ep.socket.destroy();
}

// Reading goes on through the grace, so the kernel's queue is often empty at its end even
// while the peer floods: bytes this recent mean it is still sending.
const STILL_SENDING_MS = 100;

/** Whether the kernel holds bytes we have not read (one non-blocking read; they are dropped anyway). */
function bytesWaiting(socket: net.Socket): boolean {
  const fd = (socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
  if (fd === undefined || fd < 0) return false;
  return probeRead(fd) === 1; // EAGAIN: nothing waiting
}

/** Stop or restart reading (flow control: the peer's writes back up). */
export function pauseSocket(ep: SocketEndpoint, paused: boolean): void {
  if (!isLiveSocket(ep)) throw stateError(ep, paused ? 'pause' : 'resume');
  ep.userPaused = paused;
  if (paused) {
    ep.socket.pause();
    setReading(ep.socket, false);
  } else {
    setReading(ep.socket, true);
    ep.socket.resume();
  }
}

/**
 * pause() alone only stops 'data' events: Node goes on reading from the kernel
 * into its own buffer (16 KiB). `.pause` stops the handle too, so the bytes
 * stay in the kernel, its window fills and the peer's writes back up, as a
 * paused reader should show; `.resume` starts it again. (`reading` is the flag
 * net itself keeps on the handle for the same purpose.)
 */
function setReading(socket: net.Socket, on: boolean): void {
  type Handle = { reading?: boolean; readStop?(): number; readStart?(): number };
  const handle = (socket as unknown as { _handle?: Handle | null })._handle;
  if (!handle?.readStop || !handle.readStart || socket.connecting || handle.reading === on) return;
  handle.reading = on;
  if (on) handle.readStart();
  else handle.readStop();
}

function stateError(ep: SocketEndpoint, what: string): SocklabError {
  return new SocklabError('E_STATE', `cannot ${what} ${ep.id}: it is ${ep.state}`);
}

/** `closed`, or `destroyed` — with "its close line follows" while that event is still to come. */
function goneState(ep: SocketEndpoint): string {
  return ep.closedAt === undefined ? `${ep.state} (its close line follows)` : ep.state;
}

function isLiveSocket(ep: SocketEndpoint): boolean {
  return ep.state !== SocketState.CLOSED && ep.state !== SocketState.DESTROYED;
}

/** The TCP socket kind (`c1`): a connection, opened by `.connect` or accepted by a server; Unix paths too. */
export const TCP_SOCKET: EndpointKind<SocketEndpoint> = {
  name: 'socket',
  prefix: 'c',
  noun: 'socket',
  handle: (ep) => ep.socket,
  isLive: isLiveSocket,
  receives: true,
  mayReceive: (ep) => isLiveSocket(ep) && !ep.socket.readableEnded,
  row: (ep) => ({
    label: ep.server ? `conn of ${ep.server.id}` : 'client',
    local: ep.local,
    remote: ep.remote,
    state: ep.state + (ep.userPaused ? ', paused' : ''),
    bytesIn: ep.bytesIn,
    bytesOut: ep.bytesOut,
    queued: ep.socket.writableLength,
  }),
  details(ep) {
    const s = ep.socket;
    const lines: Array<[string, unknown]> = [
      ['kind', ep.server ? `accepted by ${ep.server.id}` : 'client'],
      ['local', ep.local],
      ['remote', ep.remote],
      ['received', `${formatBytes(ep.bytesIn)} in ${ep.chunksIn} chunks`],
      ['sent', `${formatBytes(ep.bytesOut)} in ${ep.chunksOut} writes`],
      ['queued', formatBytes(s.writableLength)],
      ['reading', ep.userPaused ? 'paused (.resume)' : s.isPaused() ? 'held (backpressure)' : 'yes'],
      ['connect time', ep.connectedAt === undefined ? '-' : `${ep.connectedAt - ep.createdAt}ms`],
    ];
    const http = describeHttpConnection(ep.reply);
    if (http !== undefined) lines.push(['http', http]);
    if (ep.frame) lines.push(['framing', ep.frame.describe()]);
    lines.push(...tlsDetails(s));
    return lines;
  },
  kernelKey(ep) {
    if (ep.connectedAt === undefined) return 'not connected';
    return kernelKeyOf(ep.local, ep.remote) ?? 'a Unix socket: no TCP state';
  },
  close(session, ep, { force, all }) {
    if (!isLiveSocket(ep)) return session.note(ep.id, `already ${goneState(ep)}: nothing to close`);
    if (force) return destroySocket(ep);
    if (!all || !ep.socket.writableEnded) endSocket(session, ep);
    // A paused socket never reads the peer's FIN, so it would never close: read again.
    if (ep.socket.isPaused()) pauseSocket(ep, false);
  },
  shutdown(_session, ep) {
    closingOurselves(ep.socket);
    if (ep.socket.connecting) return void ep.socket.destroy();
    if (!ep.socket.writableEnded) ep.socket.end();
    // A paused socket would never read the peer's FIN: it would wait out the grace and be reset.
    if (ep.socket.isPaused()) pauseSocket(ep, false);
  },
  abort: (session, ep) => abortSocket(ep, session.now()),
  destroy: (_session, ep) => destroySocket(ep),
  end: endSocket,
  pause: (_session, ep, paused) => pauseSocket(ep, paused),
  holdReading(_session, ep, held) {
    if (held) {
      ep.socket.pause();
      setReading(ep.socket, false);
    } else if (!ep.userPaused && !ep.socket.writableNeedDrain) {
      setReading(ep.socket, true);
      ep.socket.resume();
    }
  },
  async send(session, eps, data, options) {
    // A socket still connecting (a `.connect` pasted just before) is waited for, not refused.
    // Awaited only then: the usual send starts writing in the same turn, before a line typed after it.
    // A TLS client is waited for until its handshake is done: before it, nothing has been sent.
    const connecting = eps.filter((ep) => ep.connectedAt === undefined || (ep.server === undefined && (ep.options as ConnectOptions).tls !== undefined && handshakeOf(ep.socket) === undefined));
    if (connecting.length > 0) await Promise.all(connecting.map((ep) => ep.ready));
    // A framed socket gets one framed message (`--raw`: the bytes as they are).
    const sends = framedSends(eps, data, options.raw === true, options.eol);
    if (sends.length === 1) return sendTo(session, eps, sends[0]![1], options);
    const results = await Promise.all(sends.map(([group, bytes]) => sendTo(session, group, bytes, options)));
    return { bytes: results.reduce((n, r) => n + r.bytes, 0), buffered: Object.assign({}, ...results.map((r) => r.buffered)) as Record<string, number> };
  },
  inSendAll: canWrite,
  cannot: {},
};
registerKind(TCP_SOCKET);
