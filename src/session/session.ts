import net from 'node:net';
import { SocklabError } from '../errors.js';
import {
  ServerState,
  SocketState,
  formatHostPort,
  isLive,
  type ConnectOptions,
  type ListenOptions,
  type ServerEndpoint,
  type SocketEndpoint,
} from './endpoint.js';
import { Registry, type SessionOptions } from './manager.js';
import { EventQueue } from './event-queue.js';
import { ExpectBuffers } from './expect.js';
import { History } from './history.js';
import { checkReplyOptions, parseReply } from './reply.js';
import { attachReply, errorCode, errorMessage, noteConnected, wireSocket } from './socket-wiring.js';

export { sendTo, resolveTargets, type SendOptions, type SendResult } from './send.js';

/**
 * A socklab session: any number of servers and sockets, one event stream.
 * It knows nothing of terminals, colours or node:repl.
 */
export class Session extends Registry {
  /** Per-endpoint event counts for `.wait`. */
  readonly events = new EventQueue();
  /** Per-socket received bytes for `.expect`. */
  readonly expects = new ExpectBuffers();
  /** The last steps of the session, for `.timeline`. */
  readonly history = new History();

  constructor(options?: SessionOptions) {
    super(options);
    this.subscribe(this.events.record);
    this.subscribe(this.expects.record);
    this.subscribe(this.history.record);
  }

  // A closed endpoint's queues stay until the registry forgets it, so
  // `.wait c1 close` or `.expect c1 …` after the close still see what happened.
  protected override forgotten(id: string): void {
    this.events.forget(id);
    this.expects.forget(id);
  }

  /** Start a server. The endpoint exists at once; `ready` settles when it listens or fails. */
  listen(options: ListenOptions): ServerEndpoint {
    this.checkAlias(options.alias);
    const reply = parseReply(options.reply ?? 'none');
    checkReplyOptions(reply, options.http === true);
    const server = net.createServer({
      allowHalfOpen: options.halfOpen === true,
      pauseOnConnect: options.pauseOnConnect === true,
    });
    let settle!: { resolve: () => void; reject: (err: unknown) => void };
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    ready.catch(() => {}); // the failure is an event; callers that care await `ready`
    const ep: ServerEndpoint = {
      kind: 'server',
      id: this.nextServerId(),
      alias: options.alias,
      createdAt: this.now(),
      closedAt: undefined,
      ready,
      server,
      state: ServerState.STARTING,
      options,
      address: options.path ?? formatHostPort(options.host, options.port),
      connections: new Set(),
      accepted: 0,
    };
    this.add(ep);
    if (options.max !== undefined) server.maxConnections = options.max;

    server.on('listening', () => {
      ep.state = ServerState.LISTENING;
      const addr = server.address();
      const base = { type: 'listening', t: this.now(), id: ep.id, alias: ep.alias, reply: options.reply } as const;
      if (typeof addr === 'string' || addr === null) {
        ep.address = addr ?? options.path ?? '?';
        this.emit({ ...base, address: ep.address, path: ep.address, exposed: false });
      } else {
        ep.address = formatHostPort(addr.address, addr.port);
        this.emit({ ...base, address: addr.address, port: addr.port, exposed: !isLoopback(addr.address) });
      }
      settle.resolve();
    });
    server.on('error', (err: NodeJS.ErrnoException) => {
      this.emit({ type: 'error', t: this.now(), id: ep.id, code: errorCode(err), message: err.message });
      if (ep.state === ServerState.STARTING) {
        // net.Server emits no 'close' after a failed listen; the contract wants one.
        ep.state = ServerState.CLOSED;
        ep.closedAt = this.now();
        this.emit({ type: 'close', t: ep.closedAt, id: ep.id, hadError: true });
        settle.reject(new SocklabError('E_NET', `${ep.id}: ${err.message}`, { cause: err, osCode: errorCode(err) }));
        this.retire(ep);
      }
    });
    server.on('close', () => {
      if (ep.state === ServerState.CLOSED) return;
      // Closed before it listened (`.close` right after `.listen`): no 'listening' will come.
      settle.reject(new SocklabError('E_STATE', `${ep.id} was closed before it was listening`));
      // Node emits the server's 'close' as soon as its last connection is destroyed,
      // before that socket's own 'close': report the server after its connections.
      const left = [...ep.connections].map((c) => new Promise((resolve) => c.socket.once('close', resolve)));
      void Promise.all(left).then(() => {
        ep.state = ServerState.CLOSED;
        ep.closedAt = this.now();
        this.emit({ type: 'close', t: ep.closedAt, id: ep.id, hadError: false });
        this.retire(ep);
      });
    });
    server.on('connection', (socket) => this.accept(ep, socket, reply));
    // Past --max, Node closes the new connection itself and says so only with 'drop'.
    server.on('drop', (data?: net.DropArgument) => {
      const from = data ? ` from ${formatHostPort(data.remoteAddress, data.remotePort)}` : '';
      this.emit({ type: 'note', t: this.now(), id: ep.id, message: `refused a connection${from}: --max ${options.max} reached` });
    });

    const listenOptions: net.ListenOptions = options.path
      ? { path: options.path }
      : { host: options.host ?? '127.0.0.1', port: options.port ?? 0 };
    if (options.backlog !== undefined) listenOptions.backlog = options.backlog;
    server.listen(listenOptions);
    return ep;
  }

  private accept(server: ServerEndpoint, socket: net.Socket, reply: ReturnType<typeof parseReply>): void {
    const opts = server.options;
    const ep = this.newSocket(socket, server, opts);
    noteConnected(this, ep);
    server.connections.add(ep);
    server.accepted++;
    // Paused on purpose, as after `.pause`: .ls/.show say so, and a reply's drain must not resume it.
    ep.userPaused = opts.pauseOnConnect === true;
    wireSocket(this, ep, { discard: reply.kind === 'discard' });
    attachReply(this, ep, reply, { closeAfterReply: opts.closeAfterReply, http: opts.http });
    if (opts.idleTimeout !== undefined) {
      const ms = opts.idleTimeout;
      socket.setTimeout(ms, () => {
        this.emit({ type: 'timeout', t: this.now(), id: ep.id, ms, destroyed: true });
        ep.state = SocketState.DESTROYED;
        socket.destroy();
      });
    }
    this.emit({ type: 'accept', t: this.now(), id: ep.id, server: server.id, local: ep.local, remote: ep.remote });
    if (opts.greet !== undefined && opts.greet.length > 0) socket.write(opts.greet);
  }

  /** Open a client socket. The endpoint exists at once; `ready` settles when connected or failed. */
  connect(options: ConnectOptions): SocketEndpoint {
    this.checkAlias(options.alias);
    const reply = parseReply(options.reply ?? 'none');
    const target = options.path ?? formatHostPort(options.host ?? '127.0.0.1', options.port);
    const connectOptions: net.NetConnectOpts = options.path
      ? { path: options.path, allowHalfOpen: options.halfOpen === true }
      : {
          host: options.host ?? '127.0.0.1',
          port: options.port ?? 0,
          allowHalfOpen: options.halfOpen === true,
          ...(options.localPort !== undefined && { localPort: options.localPort }),
          ...(options.family !== undefined && { family: options.family }),
          ...(this.lookup !== undefined && { lookup: this.lookup }),
        };
    const socket = net.connect(connectOptions);
    if (options.noDelay) socket.setNoDelay(true);
    if (options.keepAlive !== undefined) socket.setKeepAlive(true, options.keepAlive);
    const ep = this.newSocket(socket, undefined, options);
    ep.remote = target;
    if (options.alias !== undefined) ep.alias = options.alias;
    this.add(ep);
    wireSocket(this, ep, { discard: reply.kind === 'discard' });
    attachReply(this, ep, reply, {});

    const ms = options.timeout ?? this.connectTimeout;
    const timer = setTimeout(() => {
      const err = Object.assign(new Error(`connect ETIMEDOUT ${target} (no answer within ${ms} ms)`), { code: 'ETIMEDOUT' });
      socket.destroy(err);
    }, ms);
    timer.unref();
    const ready = new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        clearTimeout(timer);
        noteConnected(this, ep);
        this.emit({ type: 'connect', t: this.now(), id: ep.id, alias: ep.alias, local: ep.local, remote: ep.remote });
        resolve();
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new SocklabError('E_NET', `${ep.id}: could not connect to ${target}`));
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        if (ep.connectedAt === undefined) {
          reject(new SocklabError('E_NET', `${ep.id}: ${errorMessage(err)}`, { cause: err, osCode: errorCode(err) }));
        }
      });
    });
    ready.catch(() => {});
    (ep as { ready: Promise<void> }).ready = ready;
    return ep;
  }

  private newSocket(socket: net.Socket, server: ServerEndpoint | undefined, options: ListenOptions | ConnectOptions): SocketEndpoint {
    const ep: SocketEndpoint = {
      kind: 'socket',
      id: this.nextSocketId(),
      alias: undefined,
      createdAt: this.now(),
      closedAt: undefined,
      ready: Promise.resolve(),
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
    if (server) this.add(ep);
    return ep;
  }

  /** Half-close: send FIN, keep reading. */
  end(ep: SocketEndpoint): void {
    if (!isLive(ep)) throw stateError(ep, 'end');
    if (ep.socket.writableEnded) throw new SocklabError('E_STATE', `${ep.id} already sent FIN (${ep.state}); .destroy ${ep.id} aborts it`);
    ep.socket.end();
  }

  /** Abort at once, with RST where the platform allows. */
  destroy(ep: SocketEndpoint): void {
    if (!isLive(ep)) throw stateError(ep, 'destroy');
    ep.state = SocketState.DESTROYED;
    const s = ep.socket;
    // libuv refuses a reset while our FIN is on its way (`.end` then `.destroy` in one
    // go): Node then reports EINVAL and never closes the socket. Close it plainly instead.
    const finSending = s.writableEnded && !s.writableFinished;
    if (s.connecting || s.destroyed || finSending) s.destroy();
    else {
      ep.reset = true;
      s.resetAndDestroy();
    }
  }

  /** Stop accepting; existing connections stay (or end at once with `force`). Returns how many stay open. */
  closeServer(ep: ServerEndpoint, force = false): number {
    if (ep.state === ServerState.CLOSED) throw stateError(ep, 'close');
    const open = force ? 0 : ep.connections.size;
    // Queued before server.close(), whose own 'close' (no connections left) also comes on nextTick:
    // the stop must come first, since close is an endpoint's last event.
    process.nextTick(() => this.emit({ type: 'stop', t: this.now(), id: ep.id, open }));
    if (ep.state !== ServerState.STOPPED) {
      ep.state = ServerState.STOPPED;
      ep.server.close();
    }
    if (force) for (const c of ep.connections) if (isLive(c)) this.destroy(c);
    return open;
  }

  /** Stop or restart reading (flow control: the peer's writes back up). */
  pause(ep: SocketEndpoint, paused: boolean): void {
    if (!isLive(ep)) throw stateError(ep, paused ? 'pause' : 'resume');
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
   * Close everything: servers stop, sockets send FIN; what has not closed
   * within `graceMs` is destroyed. Resolves when every endpoint has closed.
   */
  async shutdown(graceMs = 1000): Promise<void> {
    // Wait for our own close events, not Node's: a server whose listen failed
    // never emits 'close', and a destroyed socket is no longer live but not closed yet.
    const open = new Set(this.list().filter((ep) => ep.closedAt === undefined).map((ep) => ep.id));
    const closed = new Promise<void>((resolve) => {
      if (open.size === 0) return resolve();
      const unsubscribe = this.subscribe((ev) => {
        if (ev.type !== 'close' || !open.delete(ev.id) || open.size > 0) return;
        unsubscribe();
        resolve();
      });
    });
    for (const ep of this.list().filter(isLive)) {
      if (ep.kind === 'server') {
        // A server still starting is closed once its listen settles (a failed one closes itself).
        if (ep.state === ServerState.STARTING) ep.ready.then(() => ep.server.close(), () => {});
        else if (ep.state === ServerState.LISTENING) ep.server.close();
      } else if (ep.socket.connecting) ep.socket.destroy();
      else {
        if (!ep.socket.writableEnded) ep.socket.end();
        // A paused socket would never read the peer's FIN: it would wait out the grace and be reset.
        if (ep.socket.isPaused()) this.pause(ep, false);
      }
    }
    const timer = setTimeout(() => {
      for (const ep of this.list().filter(isLive)) if (ep.kind === 'socket') ep.socket.destroy();
    }, graceMs);
    await closed;
    clearTimeout(timer);
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

function stateError(ep: ServerEndpoint | SocketEndpoint, what: string): SocklabError {
  return new SocklabError('E_STATE', `cannot ${what} ${ep.id}: it is ${ep.state}`);
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/** A new session with its defaults (8 MiB send cap, 10 s connect timeout). */
export function createSession(options?: SessionOptions): Session {
  return new Session(options);
}
