import net from 'node:net';
import { SocklabError } from '../errors.js';
import { formatHostPort, registerKind, type EndpointKind } from '../session/endpoint.js';
import type { Registry } from '../session/manager.js';
import type { Session } from '../session/session.js';
import { SocketState } from './tcp-types.js';
import { errorCode } from './tcp-wiring.js';
import { RelayLink, resetSocket } from './relay-link.js';
import { isLiveRelaySocket, newRelaySocket, noteAddresses, wireRelaySocket } from './relay-socket.js';
import { RelayState, type RelayEndpoint, type RelayOptions, type RelaySocketEndpoint } from './relay-types.js';
import { relayLoop } from './relay-loop.js';
import { OwnBufferReader, adoptWithOwnBuffer } from './relay-reader.js';
import { formatCount } from '../render/units.js';
import { FramedStream, framingOf } from '../behaviours/framed.js';
import { acceptTls, certificateNote, connectTls, serverSetup, tlsServerDetails, watchTls } from './tls.js';

/**
 * Start a relay (`.proxy`): listen, and for each client accepted open a
 * connection to the target and relay both ways (SPEC 10). The endpoint
 * exists at once; `ready` settles when it listens or fails (E_NET).
 */
export function openRelay(reg: Registry, options: RelayOptions): RelayEndpoint {
  reg.checkAlias(options.alias);
  // Half-open both ways: a FIN is passed on, not answered; clients wait unread until their target connects.
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  let settle!: { resolve: () => void; reject: (err: unknown) => void };
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  ready.catch(() => {}); // the failure is an event; callers that care await `ready`
  const listeners = new Set<(link: RelayLink) => void>();
  const target = options.target.path ?? formatHostPort(options.target.host, options.target.port);
  const ep: RelayEndpoint = {
    kind: 'relay',
    id: reg.nextId('p'),
    alias: options.alias,
    createdAt: reg.now(),
    closedAt: undefined,
    ready,
    server,
    state: RelayState.STARTING,
    options: { ...options, target },
    targetAddress: options.target,
    address: options.path ?? formatHostPort(options.host ?? '127.0.0.1', options.port ?? 0),
    target,
    links: new Set(),
    accepted: 0,
    held: false,
    onLink(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  reg.add(ep);
  if (options.max !== undefined) server.maxConnections = options.max;

  server.on('listening', () => {
    const loop = relayLoop(reg, ep);
    if (loop !== undefined) {
      // Refused before a client can come: each link would open another to itself, without end.
      ep.state = RelayState.CLOSED;
      ep.closedAt = reg.now();
      server.close();
      reg.emit({ type: 'close', t: ep.closedAt, id: ep.id, hadError: true });
      settle.reject(new SocklabError('E_USAGE', `${ep.id} would relay to itself: ${loop.join(', ')}; each link would open another without end: give a target that is not this relay`));
      reg.retire(ep);
      return;
    }
    ep.state = RelayState.LISTENING;
    const addr = server.address();
    const base = { type: 'listening', t: reg.now(), id: ep.id, kind: 'relay', target, ...(ep.alias !== undefined && { alias: ep.alias }) } as const;
    if (typeof addr === 'string' || addr === null) {
      ep.address = addr ?? options.path ?? '?';
      reg.emit({ ...base, address: ep.address, path: ep.address, exposed: false });
    } else {
      ep.address = formatHostPort(addr.address, addr.port);
      reg.emit({ ...base, address: addr.address, port: addr.port, exposed: !(addr.address.startsWith('127.') || addr.address === '::1') });
    }
    if (ep.tls) reg.emit({ type: 'note', t: reg.now(), id: ep.id, message: certificateNote(ep.tls) });
    settle.resolve();
  });
  const failed = (err: NodeJS.ErrnoException): void => {
    reg.emit({ type: 'error', t: reg.now(), id: ep.id, code: errorCode(err), message: err.message });
    if (ep.state !== RelayState.STARTING) return;
    // net.Server emits no 'close' after a failed listen; the contract wants one.
    ep.state = RelayState.CLOSED;
    ep.closedAt = reg.now();
    reg.emit({ type: 'close', t: ep.closedAt, id: ep.id, hadError: true });
    settle.reject(new SocklabError(err instanceof SocklabError ? err.code : 'E_NET', `${ep.id}: ${err.message}`, { cause: err, osCode: errorCode(err) }));
    reg.retire(ep);
  };
  server.on('error', failed);
  server.on('close', () => {
    if (ep.state === RelayState.CLOSED) return;
    settle.reject(new SocklabError('E_STATE', `${ep.id} was closed before it was listening`));
    ep.state = RelayState.STOPPED;
    closeWhenEmpty(reg, ep);
  });
  const window = { start: 0, count: 0 };
  server.on('connection', (socket) => {
    const now = reg.now();
    if (now - window.start >= reg.relayLinkRate.perMs) Object.assign(window, { start: now, count: 0 });
    if (++window.count > reg.relayLinkRate.links) return tooFast(reg, ep, socket);
    accept(reg, ep, socket, (link) => listeners.forEach((fn) => fn(link)));
  });
  server.on('drop', (data?: net.DropArgument) => {
    const from = data ? ` from ${formatHostPort(data.remoteAddress, data.remotePort)}` : '';
    reg.emit({ type: 'note', t: reg.now(), id: ep.id, message: `refused a client${from}: --max ${options.max} reached` });
  });
  const listen = (): void => void server.listen(options.path ? { path: options.path } : { host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  if (options.tls === undefined) listen();
  else {
    // The certificate first (made in memory, or read), as a `.listen --tls` server does.
    serverSetup(options.tls).then(
      (setup) => {
        ep.tls = setup;
        if (ep.state === RelayState.STARTING) listen();
      },
      (err: NodeJS.ErrnoException) => {
        if (ep.state === RelayState.STARTING) failed(err);
      },
    );
  }
  return ep;
}

/**
 * Too many new links at once (a loop through something this session cannot
 * see, such as another process): refuse this client, stop accepting, say so
 * once. The links open stay, as after `.close p1`.
 */
function tooFast(reg: Registry, ep: RelayEndpoint, socket: net.Socket): void {
  socket.resetAndDestroy();
  if (ep.state !== RelayState.LISTENING) return;
  ep.state = RelayState.STOPPED;
  ep.server.close();
  const { links, perMs } = reg.relayLinkRate;
  const per = perMs === 1000 ? 'a second' : `${formatCount(perMs)} ms`;
  reg.emit({ type: 'note', t: reg.now(), id: ep.id, message: `more than ${formatCount(links)} new links in ${per} (a loop? its target leads back to it): stopped accepting; .close ${ep.id} --force resets the ${ep.links.size} open` });
  reg.emit({ type: 'stop', t: reg.now(), id: ep.id, open: ep.links.size });
}

/** The relay's close event comes after its server closed and its last link's sockets closed. */
function closeWhenEmpty(reg: Registry, ep: RelayEndpoint): void {
  if (ep.state !== RelayState.STOPPED || ep.links.size > 0 || ep.server.listening) return;
  ep.state = RelayState.CLOSED;
  ep.closedAt = reg.now();
  reg.emit({ type: 'close', t: ep.closedAt, id: ep.id, hadError: false });
  reg.retire(ep);
}

function accept(reg: Registry, relay: RelayEndpoint, raw: net.Socket, announce: (link: RelayLink) => void): void {
  relay.accepted++;
  // Nagle off on both sides: a relay passes each chunk on at once (Go's net, toxiproxy's, does the same);
  // the sender's own Nagle, if it has one, still decides how its bytes are cut.
  raw.setNoDelay(true);
  // A plain client socket reads into a buffer of its own (relay-reader.ts); a TLS one reads as Node's TLS does.
  let clientReader: OwnBufferReader | undefined;
  let socket: net.Socket;
  if (relay.tls) socket = acceptTls(raw, relay.tls);
  else socket = adoptWithOwnBuffer(raw, (clientReader = new OwnBufferReader()));
  const client = newRelaySocket(reg, relay, socket, 'client');
  client.reader = clientReader;
  noteAddresses(client);
  const t = relay.targetAddress;
  const to: net.NetConnectOpts = t.path !== undefined ? { path: t.path, allowHalfOpen: true } : { host: t.host, port: t.port, allowHalfOpen: true, noDelay: true, ...(reg.lookup && { lookup: reg.lookup }) };
  const tlsUpstream = relay.options.tlsUpstream;
  // A plain target socket reads into a buffer of its own (relay-reader.ts); a TLS one reads as Node's TLS does.
  const targetReader = tlsUpstream ? undefined : new OwnBufferReader();
  const upstream = tlsUpstream ? connectTls(to, tlsUpstream) : net.connect({ ...to, onread: targetReader?.onread });
  const target = newRelaySocket(reg, relay, upstream, 'target');
  target.reader = targetReader;
  target.remote = relay.target;
  const link = new RelayLink(reg, relay, client, target);
  client.link = link;
  target.link = link;
  relay.links.add(link);
  let open = 2;
  const closed = (): void => {
    if (--open > 0) return;
    relay.links.delete(link);
    closeWhenEmpty(reg, relay);
  };
  wireRelaySocket(reg, client, closed);
  wireRelaySocket(reg, target, closed);
  if (relay.options.frame !== undefined) for (const ep of [client, target]) frameLinkSocket(reg, ep, relay.options.frame, relay.options.maxMessage);
  // Each TLS side shows its handshake as a `secure` event (or one error line), as a TLS socket does.
  watchTls(reg, client);
  watchTls(reg, target);
  reg.emit({ type: 'accept', t: reg.now(), id: client.id, server: relay.id, local: client.local, remote: client.remote });
  const timer = setTimeout(() => {
    const what = target.connectedAt === undefined ? `connect ETIMEDOUT ${relay.target}` : `TLS handshake with ${relay.target} not complete`;
    upstream.destroy(Object.assign(new Error(`${what} after ${reg.connectTimeout} ms`), { code: 'ETIMEDOUT' }));
  }, reg.connectTimeout);
  timer.unref();
  upstream.once('close', () => clearTimeout(timer));
  // With --tls-upstream the link opens on the target's `secure`: no byte is shown as relayed
  // to a target whose certificate then fails (the client is reset instead).
  const openLink = (): void => {
    clearTimeout(timer);
    link.open = true;
    link.resumeIfFree(client);
    link.resumeIfFree(target);
  };
  upstream.once('connect', () => {
    noteAddresses(target);
    target.connectedAt = reg.now();
    target.state = SocketState.OPEN;
    reg.emit({ type: 'connect', t: reg.now(), id: target.id, local: target.local, remote: target.remote });
    if (!tlsUpstream) openLink();
  });
  if (tlsUpstream) upstream.once('secureConnect', openLink);
  announce(link);
}

/**
 * `--frame` on a relay: each link socket's input is also cut into messages,
 * one `message` event each (under the socket that received it); the bytes
 * are relayed as they come, whatever the framing. A peer past
 * `--max-message` gets an error and its link is reset.
 */
function frameLinkSocket(reg: Registry, ep: RelaySocketEndpoint, spec: string, maxMessage: number | undefined): void {
  const framing = framingOf({ frame: spec, maxMessage });
  if (framing === undefined) return;
  ep.frame = new FramedStream(framing, {
    message: (data) => reg.emit({ type: 'message', t: reg.now(), id: ep.id, data }),
    overLimit(err) {
      reg.emit({ type: 'error', t: reg.now(), id: ep.id, code: err.code, message: err.message });
      resetSocket(ep);
    },
    note: (message) => reg.emit({ type: 'note', t: reg.now(), id: ep.id, message }),
  });
}

/**
 * Stop accepting; links stay open (`force`: they are reset). Idempotent:
 * a relay already stopped or closed gets a note.
 */
export function closeRelay(session: Session, ep: RelayEndpoint, force: boolean): void {
  const live = [...ep.links];
  if (ep.state === RelayState.CLOSED) return session.note(ep.id, 'already closed: nothing to do');
  if (ep.state === RelayState.STOPPED && !force) {
    const n = live.length;
    return session.note(ep.id, `already stopped accepting; ${n} link${n === 1 ? '' : 's'} still open (.close ${ep.id} --force resets them)`);
  }
  if (ep.state !== RelayState.STOPPED) {
    const open = force ? 0 : live.length;
    process.nextTick(() => session.emit({ type: 'stop', t: session.now(), id: ep.id, open, ...(force && { destroyed: live.length }) }));
    ep.state = RelayState.STOPPED;
    ep.server.close();
  }
  if (force) for (const link of live) for (const s of [link.client, link.target]) if (isLiveRelaySocket(s)) resetSocket(s);
}

const NEEDS_LINK_SOCKET = 'this needs a socket of one of its links (.ls {id} lists them)';

/** The relay kind (`p1`, `.proxy`). */
export const RELAY: EndpointKind<RelayEndpoint> = {
  name: 'relay',
  prefix: 'p',
  noun: 'relay',
  handle: (ep) => ep.server,
  isLive: (ep) => ep.state !== RelayState.CLOSED,
  receives: false,
  mayReceive: () => false,
  row: (ep) => ({ label: `relay → ${ep.target}`, local: ep.address, remote: `${ep.links.size} link${ep.links.size === 1 ? '' : 's'} / ${ep.accepted} accepted`, state: ep.state }),
  details: (ep) => [
    ['address', ep.address],
    ['target', ep.target],
    ['links', [...ep.links].map((l) => `${l.client.id} ⇄ ${l.target.id}`).join(', ') || '-'],
    ['accepted', ep.accepted],
    ['max', ep.options.max ?? '-'],
    ...tlsServerDetails(ep.tls),
    ...(ep.options.tlsUpstream ? [['tls upstream', ep.options.tlsUpstream.toString()] as [string, unknown]] : []),
  ],
  owns: (ep, other) => other.kind === 'relay-socket' && other.relay === ep,
  close: (session, ep, { force }) => closeRelay(session, ep, force),
  shutdown(_session, ep) {
    if (ep.state === RelayState.STARTING) ep.ready.then(() => ep.server.close(), () => {});
    else if (ep.state === RelayState.LISTENING) ep.server.close();
  },
  // Nothing to force: its close comes once its links (aborted as sockets) are gone.
  abort: () => {},
  destroy: (session, ep) => closeRelay(session, ep, true),
  holdReading(_session, ep, held) {
    ep.held = held;
  },
  cannot: { end: NEEDS_LINK_SOCKET, expect: NEEDS_LINK_SOCKET, view: NEEDS_LINK_SOCKET, send: NEEDS_LINK_SOCKET, pause: NEEDS_LINK_SOCKET },
};
registerKind(RELAY);
