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
import { EventQueue } from '../observers/event-queue.js';
import { ExpectBuffers } from '../observers/expect.js';
import { History } from '../observers/history.js';
import { openServer } from '../endpoints/tcp-server.js';
import { openSocket } from '../endpoints/tcp-socket.js';

export { sendTo, resolveTargets, type SendOptions, type SendResult } from '../endpoints/tcp-send.js';
export { isLoopback } from '../endpoints/tcp-server.js';

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

  /**
   * Half-close: send FIN, keep reading. Idempotent (SPEC 3): on a socket that
   * already sent FIN, or is closed, it does nothing and says so in a note.
   */
  end(ep: SocketEndpoint): void {
    if (!isLive(ep)) return this.note(ep.id, `already ${ep.state}: nothing to end`);
    if (ep.socket.writableEnded) {
      // Without --half-open, Node ends our side itself once the peer's FIN arrives.
      const auto = !ep.socket.allowHalfOpen && ep.socket.readableEnded;
      const why = auto ? " (Node ended our side when the peer's FIN came; --half-open keeps it open)" : '';
      return this.note(ep.id, `already sent FIN${why}: nothing to do; .destroy ${ep.id} aborts it`);
    }
    ep.socket.end();
  }

  /**
   * Abort at once with an RST: Node's queued bytes and the kernel's send queue
   * are discarded (SO_LINGER 0); the close event says how many Node still held.
   * Bytes already in the peer's receive queue still reach a reader there, then
   * its read fails with ECONNRESET (checked with a Python peer).
   */
  destroy(ep: SocketEndpoint): void {
    if (!isLive(ep)) throw stateError(ep, 'destroy');
    ep.state = SocketState.DESTROYED;
    const s = ep.socket;
    ep.discarded = s.writableLength;
    // libuv refuses a reset (EINVAL, and Node then never closes the socket) only while its
    // shutdown(2) is pending: after Node called _final, before 'finish'. An end() still
    // queued behind writes is not there yet, and resetAndDestroy() does send the RST then.
    // In that short window our FIN is going out anyway: close plainly (the peer sees a FIN).
    const finSending = (s as unknown as { _writableState: { finalCalled: boolean } })._writableState.finalCalled && !s.writableFinished;
    if (s.connecting || s.destroyed || finSending) s.destroy();
    else {
      ep.reset = true;
      s.resetAndDestroy();
    }
  }

  /**
   * Stop accepting; existing connections stay (or end at once with `force`).
   * Idempotent (SPEC 3): a server already stopped or closed gets a note, and
   * only the call that stops it emits `stop`. Returns how many stay open.
   */
  closeServer(ep: ServerEndpoint, force = false): number {
    if (ep.state === ServerState.CLOSED) {
      this.note(ep.id, 'already closed: nothing to do');
      return 0;
    }
    const live = [...ep.connections].filter(isLive);
    if (ep.state === ServerState.STOPPED) {
      if (!force) {
        const n = live.length;
        this.note(ep.id, `already stopped accepting; ${plural(n, 'connection')} still open (.close ${ep.id} --force destroys them)`);
        return n;
      }
    } else {
      const open = force ? 0 : ep.connections.size;
      // Queued before server.close(), whose own 'close' (no connections left) also comes on nextTick:
      // the stop must come first, since close is an endpoint's last event.
      process.nextTick(() => this.emit({ type: 'stop', t: this.now(), id: ep.id, open }));
      ep.state = ServerState.STOPPED;
      ep.server.close();
    }
    if (force) for (const c of live) this.destroy(c);
    return force ? 0 : ep.connections.size;
  }

  /** A note for the person watching, after the call returns (events never come synchronously). */
  note(id: string, message: string): void {
    process.nextTick(() => this.emit({ type: 'note', t: this.now(), id, message }));
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

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
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
