import net from 'node:net';
import { SocklabError } from '../errors.js';
import {
  ServerState,
  SocketState,
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
import { openServer } from './open-server.js';
import { openSocket } from './open-socket.js';

export { sendTo, resolveTargets, type SendOptions, type SendResult } from './send.js';
export { isLoopback } from './open-server.js';

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
    // While output holds reading, a socket that still delivers data (one that
    // connected since, or that a reply or `.resume` restarted) is stopped too.
    this.subscribe((ev) => {
      if (!this.readingHeld || ev.type !== 'data') return;
      const ep = this.find(ev.id);
      if (ep?.kind === 'socket' && isLive(ep)) stopReading(ep.socket);
    });
  }

  private readingHeld = false;

  /**
   * Output backpressure (see OutputGate): `true` stops reading on every
   * socket, as `.pause` does, until `false`; sockets the user paused, or
   * whose reply waits for 'drain', stay paused then.
   */
  holdReading(held: boolean): void {
    if (held === this.readingHeld) return;
    this.readingHeld = held;
    for (const ep of this.list()) {
      if (ep.kind !== 'socket' || !isLive(ep)) continue;
      if (held) stopReading(ep.socket);
      else if (!ep.userPaused && !ep.socket.writableNeedDrain) {
        setReading(ep.socket, true);
        ep.socket.resume();
      }
    }
  }

  // A closed endpoint's queues stay until the registry forgets it, so
  // `.wait c1 close` or `.expect c1 …` after the close still see what happened.
  protected override forgotten(id: string): void {
    this.events.forget(id);
    this.expects.forget(id);
  }

  /** Start a server. The endpoint exists at once; `ready` settles when it listens or fails. */
  listen(options: ListenOptions): ServerEndpoint {
    return openServer(this, options);
  }

  /** Open a client socket. The endpoint exists at once; `ready` settles when connected or failed. */
  connect(options: ConnectOptions): SocketEndpoint {
    return openSocket(this, options);
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

function stopReading(socket: net.Socket): void {
  socket.pause();
  setReading(socket, false);
}

function stateError(ep: ServerEndpoint | SocketEndpoint, what: string): SocklabError {
  return new SocklabError('E_STATE', `cannot ${what} ${ep.id}: it is ${ep.state}`);
}


/** A new session with its defaults (8 MiB send cap, 10 s connect timeout). */
export function createSession(options?: SessionOptions): Session {
  return new Session(options);
}
