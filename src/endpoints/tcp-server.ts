import { existsSync, lstatSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import { SocklabError } from '../errors.js';
import { ServerState, canWrite, type ListenOptions, type ServerEndpoint } from './tcp-types.js';
import type { ErrorContext } from '../session/events.js';
import type { Registry } from '../session/manager.js';
import { TCP_SOCKET, destroySocket, newSocket, pauseSocket } from './tcp-socket.js';
import { formatHostPort, registerKind, type EndpointKind } from '../session/endpoint.js';
import type { Session } from '../session/session.js';
import { checkReplyOptions, parseReply } from '../behaviours/reply.js';
import { attachReply, errorCode, noteConnected, wireSocket } from './tcp-wiring.js';
import { attachFraming } from './tcp-framing.js';
import { checkFrameOptions, framingOf } from '../behaviours/framed.js';
import { encodeMessage, type Framing } from '../protocols/framing.js';
import { acceptTls, certificateNote, serverSetup, tlsServerDetails, watchTls } from './tls.js';

/** Start a server. The endpoint exists at once; `ready` settles when it listens or fails. */
export function openServer(reg: Registry, options: ListenOptions): ServerEndpoint {
  reg.checkAlias(options.alias);
  const reply = parseReply(options.reply ?? 'none');
  checkReplyOptions(reply, options.http === true);
  const framing = framingOf(options);
  checkFrameOptions(options);
  // On a framed server the greeting is one message (refused here when it cannot be framed).
  const greet = options.greet !== undefined && options.greet.length > 0 ? (framing ? encodeMessage(framing.codec, options.greet) : options.greet) : undefined;
  const server = net.createServer({
    allowHalfOpen: options.halfOpen === true,
    pauseOnConnect: options.pauseOnConnect === true,
  });
  let settle!: { resolve: () => void; reject: (err: unknown) => void };
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  ready.catch(() => {}); // the failure is an event; callers that care await `ready`
  const ep: ServerEndpoint = {
    kind: 'server',
    id: reg.nextId('s'),
    alias: options.alias,
    createdAt: reg.now(),
    closedAt: undefined,
    ready,
    server,
    state: ServerState.STARTING,
    options,
    address: options.path ?? formatHostPort(options.host, options.port),
    connections: new Set(),
    accepted: 0,
  };
  reg.add(ep);
  if (options.max !== undefined) server.maxConnections = options.max;

  server.on('listening', () => {
    ep.state = ServerState.LISTENING;
    const addr = server.address();
    const base = { type: 'listening', t: reg.now(), id: ep.id, alias: ep.alias, reply: options.reply } as const;
    if (typeof addr === 'string' || addr === null) {
      ep.address = addr ?? options.path ?? '?';
      reg.emit({ ...base, address: ep.address, path: ep.address, exposed: false });
    } else {
      ep.address = formatHostPort(addr.address, addr.port);
      reg.emit({ ...base, address: addr.address, port: addr.port, exposed: !isLoopback(addr.address) });
    }
    if (ep.tls) reg.emit({ type: 'note', t: reg.now(), id: ep.id, message: certificateNote(ep.tls) });
    settle.resolve();
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    const code = errorCode(err);
    if (ep.state === ServerState.STARTING && options.path !== undefined) {
      // Said only once we know whether the file is stale: its error, then its close.
      void socketFileContext(options.path, code).then((context) => failed(err, context));
    } else failed(err, undefined);
  });
  const failed = (err: NodeJS.ErrnoException, context: ErrorContext | undefined): void => {
    // Not a socket (a regular file, a directory, a symlink): never to be removed, so the message says to pick another path.
    const message = context === 'socket-path-not-socket' ? notSocketMessage(options.path ?? '') : err.message;
    reg.emit({ type: 'error', t: reg.now(), id: ep.id, code: errorCode(err), message, ...(context && { context }) });
    if (ep.state === ServerState.STARTING) {
      // net.Server emits no 'close' after a failed listen; the contract wants one.
      ep.state = ServerState.CLOSED;
      ep.closedAt = reg.now();
      reg.emit({ type: 'close', t: ep.closedAt, id: ep.id, hadError: true });
      settle.reject(new SocklabError('E_NET', `${ep.id}: ${err.message}`, { cause: err, osCode: errorCode(err) }));
      reg.retire(ep);
    }
  };
  server.on('close', () => {
    if (ep.state === ServerState.CLOSED) return;
    // Closed before it listened (`.close` right after `.listen`): no 'listening' will come.
    settle.reject(new SocklabError('E_STATE', `${ep.id} was closed before it was listening`));
    // Node emits the server's 'close' as soon as its last connection is destroyed,
    // before that socket's own 'close': report the server after its connections.
    const left = [...ep.connections].map((c) => new Promise((resolve) => c.socket.once('close', resolve)));
    void Promise.all(left).then(() => {
      ep.state = ServerState.CLOSED;
      ep.closedAt = reg.now();
      reg.emit({ type: 'close', t: ep.closedAt, id: ep.id, hadError: false });
      reg.retire(ep);
    });
  });
  server.on('connection', (socket) => accept(reg, ep, ep.tls ? acceptTls(socket, ep.tls) : socket, reply, framing, greet));
  // Past --max, Node closes the new connection itself and says so only with 'drop'.
  server.on('drop', (data?: net.DropArgument) => {
    const from = data ? ` from ${formatHostPort(data.remoteAddress, data.remotePort)}` : '';
    reg.emit({ type: 'note', t: reg.now(), id: ep.id, message: `refused a connection${from}: --max ${options.max} reached` });
  });

  const listenOptions: net.ListenOptions = options.path
    ? { path: options.path }
    : { host: options.host ?? '127.0.0.1', port: options.port ?? 0 };
  if (options.backlog !== undefined) listenOptions.backlog = options.backlog;
  if (options.tls === undefined) server.listen(listenOptions);
  else {
    // The certificate first (made in memory, or read): the endpoint exists meanwhile, as while it binds.
    serverSetup(options.tls).then(
      (setup) => {
        ep.tls = setup;
        if (ep.state === ServerState.STARTING) server.listen(listenOptions);
      },
      (err: NodeJS.ErrnoException) => {
        if (ep.state === ServerState.STARTING) failed(err, undefined);
      },
    );
  }
  return ep;
}

function accept(
  reg: Registry,
  server: ServerEndpoint,
  socket: net.Socket,
  reply: ReturnType<typeof parseReply>,
  framing: Framing | undefined,
  greet: Buffer | undefined,
): void {
  const opts = server.options;
  const ep = newSocket(reg, socket, server, opts);
  noteConnected(reg, ep, knownLocal(server));
  server.connections.add(ep);
  server.accepted++;
  // Paused on purpose, as after `.pause`: .ls/.show say so, and a reply's drain must not resume it.
  ep.userPaused = opts.pauseOnConnect === true;
  wireSocket(reg, ep, { discard: reply.kind === 'discard' });
  watchTls(reg, ep);
  attachReply(reg, ep, reply, { closeAfterReply: opts.closeAfterReply, http: opts.http });
  if (framing) attachFraming(reg, ep, framing, reply.kind === 'discard');
  if (opts.idleTimeout !== undefined) {
    // The 'timeout' listener of wireSocket reports it and destroys the socket.
    ep.idleDestroy = true;
    socket.setTimeout(opts.idleTimeout);
  }
  reg.emit({ type: 'accept', t: reg.now(), id: ep.id, server: server.id, local: ep.local, remote: ep.remote });
  if (greet !== undefined) socket.write(greet);
}

/**
 * The local end of every connection a server accepts, when its address says
 * it (one address, not a wildcard, not a path): no getsockname() per connection.
 */
function knownLocal(server: ServerEndpoint): string | undefined {
  const address = server.address;
  if (server.options.path !== undefined || address.startsWith('0.0.0.0:') || address.startsWith('[::]:')) return undefined;
  return address;
}

/**
 * What a failed listen on a Unix socket path means: EADDRINUSE is a file that
 * exists (it answers, or it is stale: connecting is refused); ENOENT and
 * EACCES are about its directory.
 */
function socketFileContext(path: string, code: string): Promise<ErrorContext | undefined> {
  // libuv reports a missing directory as EACCES as well as ENOENT: look.
  if (code === 'ENOENT' || code === 'EACCES') return Promise.resolve(existsSync(dirname(path)) ? 'socket-dir-denied' : 'socket-dir');
  if (code !== 'EADDRINUSE') return Promise.resolve(undefined);
  if (isNotSocket(path)) return Promise.resolve('socket-path-not-socket');
  return new Promise((resolve) => {
    const probe = net.connect({ path });
    const done = (context: ErrorContext): void => {
      probe.destroy();
      resolve(context);
    };
    probe.once('connect', () => done('socket-file-live'));
    probe.once('error', () => done('socket-file-stale'));
  });
}

/**
 * True when something that is not a socket is at `path` (a regular file, a
 * directory, a FIFO, a symlink, even one to a socket: bind() does not follow
 * it). Looked at with lstat, so a symlink is never followed.
 */
export function isNotSocket(path: string): boolean {
  try {
    return !lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

/** The error of a Unix socket path where something else exists: pick another path (never remove it). */
export function notSocketMessage(path: string): string {
  return `${path} exists and is not a socket: pick another path`;
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/**
 * Stop accepting; existing connections stay (or end at once with `force`).
 * Idempotent (SPEC 3): a server already stopped or closed gets a note, and
 * only the call that stops it emits `stop`. Returns how many stay open.
 */
export function closeServer(session: Session, ep: ServerEndpoint, force = false): number {
  if (ep.state === ServerState.CLOSED) {
    session.note(ep.id, 'already closed: nothing to do');
    return 0;
  }
  const live = [...ep.connections].filter((c) => TCP_SOCKET.isLive(c));
  if (ep.state === ServerState.STOPPED) {
    if (!force) {
      const n = live.length;
      session.note(ep.id, `already stopped accepting; ${n} connection${n === 1 ? '' : 's'} still open (.close ${ep.id} --force destroys them)`);
      return n;
    }
  } else {
    const open = force ? 0 : ep.connections.size;
    const destroyed = force ? live.length : undefined;
    // Queued before server.close(), whose own 'close' (no connections left) also comes on nextTick:
    // the stop must come first, since close is an endpoint's last event.
    process.nextTick(() => session.emit({ type: 'stop', t: session.now(), id: ep.id, open, ...(destroyed !== undefined && { destroyed }) }));
    ep.state = ServerState.STOPPED;
    ep.server.close();
  }
  if (force) for (const c of live) destroySocket(c);
  return force ? 0 : ep.connections.size;
}

const NEEDS_SOCKET = 'this needs a socket (c1, c2, …)';

/** The TCP server kind (`s1`); a PATH makes it a Unix domain socket server. */
export const TCP_SERVER: EndpointKind<ServerEndpoint> = {
  name: 'server',
  prefix: 's',
  noun: 'server',
  handle: (ep) => ep.server,
  isLive: (ep) => ep.state !== ServerState.CLOSED,
  receives: false,
  mayReceive: () => false,
  row: (ep) => ({ label: 'server', local: ep.address, remote: `${ep.connections.size} open / ${ep.accepted} accepted`, state: ep.state }),
  details: (ep) => [
    ['address', ep.address],
    ['open connections', [...ep.connections].map((c) => c.id).join(' ') || '-'],
    ['accepted', ep.accepted],
    ...tlsServerDetails(ep.tls),
  ],
  owns: (ep, other) => other.kind === 'socket' && other.server === ep,
  close: (session, ep, { force }) => void closeServer(session, ep, force),
  shutdown(_session, ep) {
    // A server still starting is closed once its listen settles (a failed one closes itself).
    if (ep.state === ServerState.STARTING) ep.ready.then(() => ep.server.close(), () => {});
    else if (ep.state === ServerState.LISTENING) ep.server.close();
  },
  // Nothing to force: its close comes once its connections (aborted as sockets) are gone.
  abort: () => {},
  destroy: (session, ep) => void closeServer(session, ep, true),
  pause(_session, ep, paused) {
    for (const c of ep.connections) pauseSocket(c, paused);
  },
  async send(session, eps, data, options) {
    const targets = eps.flatMap((ep) => {
      const open = [...ep.connections].filter(canWrite);
      if (open.length === 0) throw new SocklabError('E_STATE', `${ep.id} has no open connection to send to (it is ${ep.state})`);
      return open;
    });
    return TCP_SOCKET.send!(session, targets, data, options);
  },
  cannot: { end: NEEDS_SOCKET, expect: NEEDS_SOCKET, view: NEEDS_SOCKET },
};
registerKind(TCP_SERVER);
