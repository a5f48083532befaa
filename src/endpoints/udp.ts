import net from 'node:net';
import { SocklabError } from '../errors.js';
import { nodeDgram } from '../lazy-builtins.js';
import { createReplier, echoesInput, parseReply } from '../behaviours/reply.js';
import { formatHostPort, registerKind, type EndpointKind } from '../session/endpoint.js';
import type { Session } from '../session/session.js';
import type { SendEvent } from '../session/events.js';
import { formatBytes } from '../render/units.js';
import { UdpState, type UdpEndpoint, type UdpOptions, type UdpPeer } from './udp-types.js';
import { literalLookup, sendDatagrams, sendReply } from './udp-send.js';

/** True for an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast address. */
export function isMulticast(address: string): boolean {
  if (net.isIPv4(address)) {
    const first = Number(address.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  return net.isIPv6(address) && /^ff/i.test(address);
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/**
 * Bind a UDP socket (`.udp`). The endpoint exists at once; `ready` settles
 * when it is bound (and, with `--connect`, connected) or failed. Throws
 * E_BAD_ADDRESS for a `--multicast` group that is not a multicast address.
 */
export function openUdp(session: Session, options: UdpOptions): UdpEndpoint {
  session.checkAlias(options.alias);
  const reply = parseReply(options.reply ?? 'none');
  if (options.multicast !== undefined && !isMulticast(options.multicast)) {
    throw new SocklabError(
      'E_BAD_ADDRESS',
      `--multicast ${options.multicast} is not a multicast group: use an address in 224.0.0.0–239.255.255.255 (IPv4) or ff00::/8 (IPv6), e.g. 239.1.2.3`,
    );
  }
  const host = options.host ?? '127.0.0.1';
  let bound = false;
  const socket = nodeDgram().createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', lookup: literalLookup(() => bound) });
  let settle!: { resolve: () => void; reject: (err: unknown) => void };
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  ready.catch(() => {}); // the failure is an event; callers that care await `ready`
  const ep: UdpEndpoint = {
    kind: 'udp',
    id: session.nextId('u'),
    alias: options.alias,
    createdAt: session.now(),
    closedAt: undefined,
    ready,
    socket,
    state: UdpState.BINDING,
    options,
    local: formatHostPort(host, options.port ?? 0),
    connected: undefined,
    lastPeer: undefined,
    datagramsIn: 0,
    datagramsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    sending: 0,
    reply: undefined,
  };
  session.add(ep);
  // The sender of the datagram being answered: a reply goes back to it.
  let replyTo: UdpPeer | undefined;
  // The last sender's `host:port`, kept while the same peer sends (the data path of a flood).
  let peerText = '';
  // The `send` events of the replies to the datagram being answered, emitted once the replier returned.
  const replies: SendEvent[] = [];
  // One callback for every reply: a reply that failed is an error event (see sendReply).
  const replySent = (err: NodeJS.ErrnoException | null): void => {
    if (err) session.emit({ type: 'error', t: session.now(), id: ep.id, code: err.code ?? 'ERR', message: err.message, context: 'udp' });
  };
  ep.reply = createReplier(reply, {
    id: ep.id,
    get remote() {
      return replyTo ? peerText : '?';
    },
    write: (data) => {
      if (replyTo && isLive(ep)) {
        const sent = sendReply(session, ep, data, replyTo, peerText, replySent);
        if (sent !== undefined) replies.push(sent);
      }
      return true;
    },
    holdUntilDrain: () => {},
    end: () => {},
    note: (message) => session.emit({ type: 'note', t: session.now(), id: ep.id, message }),
  });

  const discard = reply.kind === 'discard';
  // `--reply echo` (and `{data}`) answers with the datagram itself: sent here, without the replier's calls.
  const echo = echoesInput(reply);
  socket.on('message', (data, rinfo) => {
    ep.datagramsIn++;
    ep.bytesIn += data.length;
    let peer = ep.lastPeer;
    if (peer === undefined || peer.port !== rinfo.port || peer.host !== rinfo.address) {
      peer = ep.lastPeer = { host: rinfo.address, port: rinfo.port };
      peerText = formatHostPort(rinfo.address, rinfo.port);
    }
    if (!discard) session.emit({ type: 'datagram', t: session.now(), id: ep.id, from: peerText, data });
    if (echo) {
      // A subscriber of the datagram event (a rule) may have closed the socket.
      const sent = isLive(ep) ? sendReply(session, ep, data, peer, peerText, replySent) : undefined;
      if (sent !== undefined) session.emit(sent);
    } else if (ep.reply) {
      replyTo = ep.lastPeer;
      ep.reply(data);
      replyTo = undefined;
      // At once, as the echo's: the datagram's handler is not a call anyone returns from,
      // and a microtask per datagram cost more than the rest of the reply.
      for (let i = 0; i < replies.length; i++) session.emit(replies[i] as SendEvent);
      replies.length = 0;
    }
  });
  socket.on('listening', () => {
    bound = true;
    const addr = socket.address();
    ep.local = formatHostPort(addr.address, addr.port);
    ep.state = UdpState.OPEN;
    try {
      if (options.broadcast) socket.setBroadcast(true);
      if (options.ttl !== undefined) socket.setTTL(options.ttl);
      if (options.multicast !== undefined) {
        if (options.ttl !== undefined) socket.setMulticastTTL(options.ttl);
        socket.addMembership(options.multicast);
      }
    } catch (err) {
      return failed(err as NodeJS.ErrnoException);
    }
    session.emit({
      type: 'listening',
      t: session.now(),
      id: ep.id,
      kind: 'udp',
      address: addr.address,
      port: addr.port,
      ...(ep.alias !== undefined && { alias: ep.alias }),
      ...(options.reply !== undefined && { reply: options.reply }),
      exposed: !isLoopback(addr.address),
    });
    if (options.connect === undefined) return settle.resolve();
    socket.connect(options.connect.port, options.connect.host);
  });
  socket.on('connect', () => {
    const peer = socket.remoteAddress();
    ep.connected = formatHostPort(peer.address, peer.port);
    ep.state = UdpState.CONNECTED;
    session.emit({
      type: 'note',
      t: session.now(),
      id: ep.id,
      message: `connected to ${ep.connected}: the default destination (nothing was sent; UDP has no handshake), and only its datagrams arrive now`,
    });
    settle.resolve();
  });
  const failed = (err: NodeJS.ErrnoException): void => {
    session.emit({ type: 'error', t: session.now(), id: ep.id, code: err.code ?? 'ERR', message: err.message, context: 'udp' });
    settle.reject(new SocklabError('E_NET', `${ep.id}: ${err.message}`, { cause: err, osCode: err.code }));
    if (ep.state !== UdpState.CLOSING && ep.state !== UdpState.CLOSED) {
      ep.state = UdpState.CLOSING;
      hadError = true;
      socket.close();
    }
  };
  let hadError = false;
  socket.on('error', (err: NodeJS.ErrnoException) => {
    // Before it is bound (EADDRINUSE, EADDRNOTAVAIL) or connected (ENOTFOUND) it cannot work: it closes.
    if (ep.state === UdpState.BINDING || (options.connect !== undefined && ep.state === UdpState.OPEN)) return failed(err);
    // Later ones (ECONNREFUSED from an ICMP port unreachable on a connected socket) leave it open.
    session.emit({ type: 'error', t: session.now(), id: ep.id, code: err.code ?? 'ERR', message: err.message, context: 'udp' });
  });
  socket.on('close', () => {
    ep.state = UdpState.CLOSED;
    ep.closedAt = session.now();
    settle.reject(new SocklabError('E_STATE', `${ep.id} was closed before it was bound`));
    session.emit({ type: 'close', t: ep.closedAt, id: ep.id, hadError });
    session.retire(ep);
  });
  socket.bind({ address: host, port: options.port ?? 0 });
  return ep;
}

function isLive(ep: UdpEndpoint): boolean {
  return ep.state !== UdpState.CLOSING && ep.state !== UdpState.CLOSED;
}

function closeUdp(ep: UdpEndpoint): void {
  ep.state = UdpState.CLOSING;
  ep.socket.close();
}

/** The recvStart/recvStop of Node's UDP handle (dgram has no pause()): held datagrams wait in the kernel, which drops what overflows. */
function setReceiving(ep: UdpEndpoint, on: boolean): void {
  type Handle = { recvStart?(): number; recvStop?(): number };
  const sock = ep.socket as unknown as Record<symbol, { handle?: Handle } | undefined>;
  const key = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
  const handle = key === undefined ? undefined : sock[key]?.handle;
  if (on) handle?.recvStart?.();
  else handle?.recvStop?.();
}

const datagrams = (n: number): string => `${n} datagram${n === 1 ? '' : 's'}`;

const NO_CONNECTION = 'UDP has no connection, so there is no FIN to send: .close {id} closes the socket';

/** The UDP socket kind (`u1`). */
export const UDP: EndpointKind<UdpEndpoint> = {
  name: 'udp',
  prefix: 'u',
  noun: 'UDP socket',
  handle: (ep) => ep.socket,
  isLive,
  receives: true,
  boundaries: true,
  mayReceive: isLive,
  row: (ep) => ({
    label: `udp ${ep.datagramsIn}↓ ${ep.datagramsOut}↑`,
    local: ep.local,
    remote: ep.connected ?? (ep.lastPeer ? `last ${formatHostPort(ep.lastPeer.host, ep.lastPeer.port)}` : '-'),
    state: ep.state,
    bytesIn: ep.bytesIn,
    bytesOut: ep.bytesOut,
  }),
  details: (ep) => [
    ['kind', 'UDP socket (no connection: each datagram stands alone)'],
    ['local', ep.local],
    ['connected to', ep.connected ?? '-'],
    ['last peer', ep.lastPeer ? formatHostPort(ep.lastPeer.host, ep.lastPeer.port) : '-'],
    ['received', `${formatBytes(ep.bytesIn)} in ${datagrams(ep.datagramsIn)}`],
    ['sent', `${formatBytes(ep.bytesOut)} in ${datagrams(ep.datagramsOut)}`],
  ],
  close(session, ep) {
    if (!isLive(ep)) return session.note(ep.id, `already ${ep.state}: nothing to close`);
    closeUdp(ep);
  },
  shutdown: (_session, ep) => closeUdp(ep),
  abort: () => {},
  destroy(session, ep) {
    if (!isLive(ep)) return session.note(ep.id, `already ${ep.state}: nothing to close`);
    closeUdp(ep);
  },
  holdReading: (_session, ep, held) => setReceiving(ep, !held),
  send: sendDatagrams,
  inSendAll: (ep) => isLive(ep) && (ep.connected !== undefined || ep.lastPeer !== undefined),
  sendOptions: ['to', 'repeat', 'delay', 'eol'],
  cannot: {
    end: NO_CONNECTION,
    '--chunk': 'UDP keeps message boundaries: one .send is one datagram, so there is no --chunk; --repeat N sends N datagrams',
    '--no-drain': 'a datagram is handed to the kernel at once or dropped: there is nothing to drain',
    pause: 'UDP has no flow control: a sender is never slowed down; the kernel drops datagrams nobody reads',
    resume: 'UDP has no flow control: there is nothing to resume',
  },
};
registerKind(UDP);
