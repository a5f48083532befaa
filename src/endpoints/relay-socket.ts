import type net from 'node:net';
import { formatHostPort, registerKind, type EndpointKind } from '../session/endpoint.js';
import type { Registry } from '../session/manager.js';
import { formatBytes } from '../render/units.js';
import { SocketState } from './tcp-types.js';
import { errorCode, errorMessage, resetBehindEof } from './tcp-wiring.js';
import { resetSocket } from './relay-link.js';
import type { RelayEndpoint, RelayRole, RelaySocketEndpoint } from './relay-types.js';
import { tlsDetails } from './tls.js';

/** A link socket's endpoint (`c3`), registered under the TCP sockets' `c` counter. */
export function newRelaySocket(reg: Registry, relay: RelayEndpoint, socket: net.Socket, role: RelayRole): RelaySocketEndpoint {
  const ep = {
    kind: 'relay-socket',
    id: reg.nextId('c'),
    alias: undefined,
    createdAt: reg.now(),
    closedAt: undefined,
    ready: Promise.resolve(),
    socket,
    state: role === 'client' ? SocketState.OPEN : SocketState.CONNECTING,
    relay,
    role,
    local: '?',
    remote: '?',
    bytesIn: 0,
    bytesOut: 0,
    chunksIn: 0,
    connectedAt: role === 'client' ? reg.now() : undefined,
    userPaused: false,
    outputHeld: relay.held,
    reset: false,
    options: relay.options,
  } as unknown as RelaySocketEndpoint; // `link` is set by the caller in the same turn
  reg.add(ep);
  return ep;
}

/** Record a link socket's addresses (a Unix socket's client end has no name). */
export function noteAddresses(ep: RelaySocketEndpoint): void {
  const s = ep.socket;
  if (s.remotePort === undefined && s.localPort === undefined) {
    const path = ep.role === 'client' ? ep.relay.address : ep.relay.target;
    ep.local = ep.role === 'client' ? path : '(unnamed)';
    ep.remote = ep.role === 'client' ? '(unnamed)' : path;
  } else {
    ep.local = formatHostPort(s.localAddress, s.localPort);
    ep.remote = formatHostPort(s.remoteAddress, s.remotePort);
  }
}

/**
 * The data path and lifecycle of a link socket: what it reads ('data', or its
 * own-buffer reader's chunks) goes into its direction's pipe; its FIN is passed on; its own lifecycle events (FIN,
 * shutdown, error, close) are emitted under its id, so a lesson shows which
 * side closed first. A reset on one side is passed on as a reset.
 */
export function wireRelaySocket(reg: Registry, ep: RelaySocketEndpoint, closed: () => void): void {
  const { socket, id } = ep;
  const pipe = ep.link.from(ep);
  const received = (chunk: Buffer): void => {
    ep.bytesIn += chunk.length;
    ep.chunksIn++;
    pipe.push(chunk);
    ep.frame?.push(chunk);
  };
  if (ep.reader) {
    // An `onread` socket emits no 'data' itself: a listener JavaScript added
    // (`c3.on('data', …)`, SPEC 2) still hears each chunk, after the relay.
    ep.reader.deliver = (chunk) => {
      received(chunk);
      if (socket.listenerCount('data') > 0) socket.emit('data', chunk);
    };
    const out = pipe.receiver.socket;
    // A chunk may be a view of the read buffer only if every holder past this
    // turn copies it: no fault stage (they hold chunks), no framing (the
    // decoder keeps a partial message), no JavaScript 'data' listener or
    // subscriber that may keep it, a plain receiver (a reader of its own
    // means no TLS: TLS may hold cleartext until it can encrypt) with nothing
    // queued, so at most one read buffer waits in its queue at a time.
    ep.reader.lend = () =>
      pipe.stages.length === 0 && ep.frame === undefined && pipe.receiver.reader !== undefined && out.writableLength === 0 && socket.listenerCount('data') === 0 && !reg.relayBytesKept;
    // Written at once: the socket keeps no reference to the chunk.
    ep.reader.free = () => out.writableLength === 0;
  } else socket.on('data', received);
  socket.on('end', () => {
    const reset = resetBehindEof(socket);
    if (reset) return void socket.destroy(reset);
    ep.state = ep.state === SocketState.LOCAL_FIN ? SocketState.CLOSING : SocketState.REMOTE_FIN;
    reg.emit({ type: 'end', t: reg.now(), id });
    pipe.end();
  });
  socket.on('finish', () => {
    if (ep.state === SocketState.OPEN) ep.state = SocketState.LOCAL_FIN;
    else if (ep.state === SocketState.REMOTE_FIN) ep.state = SocketState.CLOSING;
    reg.emit({ type: 'shutdown', t: reg.now(), id });
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    reg.emit({ type: 'error', t: reg.now(), id, code: errorCode(err), message: errorMessage(err) });
  });
  socket.on('close', (hadError: boolean) => {
    const aborted = ep.state === SocketState.DESTROYED;
    ep.state = aborted ? SocketState.DESTROYED : SocketState.CLOSED;
    ep.closedAt = reg.now();
    reg.emit({
      type: 'close',
      t: ep.closedAt,
      id,
      hadError,
      aborted,
      ...(ep.reset && { reset: true }),
      ...(ep.discarded !== undefined && ep.discarded > 0 && { discarded: ep.discarded }),
    });
    const other = ep.link.other(ep);
    if (isLiveRelaySocket(other)) {
      if (ep.role === 'target' && ep.connectedAt === undefined) {
        // The target could not be reached: the client has nothing to talk to.
        reg.emit({ type: 'note', t: reg.now(), id: ep.relay.id, message: `${id} could not connect to ${ep.relay.target}: closing ${other.id}` });
        other.state = SocketState.DESTROYED;
        other.socket.destroy();
      } else if (hadError || aborted) {
        // An RST (or an error that ended it) on one side is passed on as an RST.
        reg.emit({ type: 'note', t: reg.now(), id: ep.relay.id, message: `${id} ${ep.reset ? 'was reset by us' : hadError ? 'ended with an error' : 'was destroyed'}: resetting ${other.id}` });
        resetSocket(other);
      }
    }
    if (!isLiveRelaySocket(other)) ep.link.dispose();
    closed();
    reg.retire(ep);
  });
}

/** True until its close event is due. */
export function isLiveRelaySocket(ep: RelaySocketEndpoint): boolean {
  return ep.state !== SocketState.CLOSED && ep.state !== SocketState.DESTROYED;
}

/** `, faults: latency, slicer` — the faults on the direction this socket reads, for `.ls`. */
function faultsOf(ep: RelaySocketEndpoint): string {
  const names = ep.link.from(ep).stages.map((s) => s.name);
  return names.length === 0 ? '' : `, faults: ${names.join(', ')}`;
}

function gone(ep: RelaySocketEndpoint): string {
  return ep.closedAt === undefined ? `${ep.state} (its close line follows)` : ep.state;
}

/** A socket of a relay link (`c3` from the client, `c4` to the target). */
export const RELAY_SOCKET: EndpointKind<RelaySocketEndpoint> = {
  name: 'relay-socket',
  prefix: 'c',
  noun: 'relay socket',
  handle: (ep) => ep.socket,
  isLive: isLiveRelaySocket,
  receives: true,
  mayReceive: (ep) => isLiveRelaySocket(ep) && !ep.socket.readableEnded,
  row: (ep) => ({
    // The client's row names the link; its in/out are the bytes up (⇒) and down (⇐).
    label: ep.role === 'client' ? `${ep.relay.id} link ${ep.id} ⇄ ${ep.link.target.id}` : `${ep.relay.id} link → target`,
    local: ep.local,
    remote: ep.remote,
    state: ep.state + (ep.userPaused ? ', paused' : '') + faultsOf(ep),
    bytesIn: ep.bytesIn,
    bytesOut: ep.bytesOut,
    queued: ep.socket.writableLength,
  }),
  details(ep) {
    const other = ep.link.other(ep);
    const pipe = ep.link.from(ep);
    return [
      ['kind', `${ep.role === 'client' ? 'client accepted by' : 'connection to the target of'} ${ep.relay.id}; relayed to ${other.id}`],
      ['local', ep.local],
      ['remote', ep.remote],
      ['received', `${formatBytes(ep.bytesIn)} in ${ep.chunksIn} chunks (relayed to ${other.id})`],
      ['sent', formatBytes(ep.bytesOut)],
      ['queued', formatBytes(ep.socket.writableLength)],
      ['reading', ep.userPaused ? 'paused (.resume)' : pipe.blocked ? `held: ${other.id} is not reading fast enough` : ep.outputHeld ? 'held (output backpressure)' : 'yes'],
      ['faults', pipe.stages.map((s) => s.name).join(', ') || '-'],
      ...tlsDetails(ep.socket),
      ...(ep.frame ? ([['framing', ep.frame.describe()]] as Array<[string, unknown]>) : []),
    ];
  },
  close(session, ep, { force }) {
    if (!isLiveRelaySocket(ep)) return session.note(ep.id, `already ${gone(ep)}: nothing to close`);
    if (force) return resetSocket(ep);
    if (!ep.socket.writableEnded) ep.socket.end();
    ep.userPaused = false;
    ep.link.resumeIfFree(ep);
  },
  shutdown(_session, ep) {
    if (ep.socket.connecting) return void ep.socket.destroy();
    if (!ep.socket.writableEnded) ep.socket.end();
    ep.userPaused = false;
    ep.link.resumeIfFree(ep);
  },
  abort(_session, ep) {
    if (!isLiveRelaySocket(ep)) return;
    ep.state = SocketState.DESTROYED;
    ep.socket.destroy();
  },
  destroy(session, ep) {
    if (!isLiveRelaySocket(ep)) return session.note(ep.id, `already ${gone(ep)}: nothing to destroy`);
    resetSocket(ep);
  },
  end(session, ep) {
    if (!isLiveRelaySocket(ep)) return session.note(ep.id, `already ${gone(ep)}: nothing to end`);
    if (ep.socket.writableEnded) return session.note(ep.id, `already sent FIN: nothing to do; .destroy ${ep.id} aborts it`);
    ep.socket.end();
  },
  pause(_session, ep, paused) {
    ep.userPaused = paused;
    if (paused) ep.socket.pause();
    else ep.link.resumeIfFree(ep);
  },
  holdReading(_session, ep, held) {
    ep.outputHeld = held;
    if (held) ep.socket.pause();
    else ep.link.resumeIfFree(ep);
  },
  cannot: {
    send: 'its bytes come from the other side of the link; send to the client or the server instead',
  },
};
registerKind(RELAY_SOCKET);
