import { kindOf, isLive, type Endpoint } from './endpoint.js';
import { Registry, type SessionOptions } from './manager.js';
import type { SessionEvent } from './events.js';
import { EventQueue, QUEUED_TYPES } from '../observers/event-queue.js';
import { ExpectBuffers } from '../observers/expect.js';
import { History } from '../observers/history.js';
import '../endpoints/kinds.js';
import type { ConnectOptions, ListenOptions, ServerEndpoint, SocketEndpoint } from '../endpoints/tcp-types.js';
import { closeServer, openServer } from '../endpoints/tcp-server.js';
import { destroySocket, endSocket, openSocket, pauseSocket } from '../endpoints/tcp-socket.js';

export { sendTo, resolveTargets, type SendOptions, type SendResult } from '../endpoints/tcp-send.js';
export { isLoopback } from '../endpoints/tcp-server.js';

/**
 * A socklab session: any number of endpoints of any kind, one event stream.
 * It knows nothing of terminals, colours or node:repl, and nothing of a kind
 * beyond the endpoint interface (src/session/endpoint.ts); `listen`,
 * `connect`, `end`, `destroy`, `closeServer` and `pause` are conveniences
 * for the TCP kinds (used from JavaScript and tests), delegating to them.
 */
export class Session extends Registry {
  /** Per-endpoint event counts for `.wait`. */
  readonly events = new EventQueue();
  /** Per-endpoint received bytes for `.expect`. */
  readonly expects = new ExpectBuffers();
  /** The last steps of the session, for `.timeline`. */
  readonly history = new History();

  constructor(options?: SessionOptions) {
    super(options);
    // Each declares the kinds it reads: a data event reaches only those that need it.
    this.subscribe(this.events.record, { types: QUEUED_TYPES, keepsBytes: false });
    this.subscribe(this.expects.record, { types: ExpectBuffers.TYPES, keepsBytes: false });
    this.subscribe(this.history.record, { types: History.TYPES, keepsBytes: false });
  }

  private readingHeld = false;
  /** Subscribed only while reading is held, so the data path does not call it per chunk otherwise. */
  private unsubscribeHeld: (() => void) | undefined;

  // While output holds reading, an endpoint that still delivers data (one that
  // connected since, or that a reply or `.resume` restarted) is stopped too.
  private readonly holdLateReader = (ev: SessionEvent): void => {
    if (!this.readingHeld || ev.type !== 'data') return;
    const ep = this.find(ev.id);
    if (ep && isLive(ep)) kindOf(ep).holdReading?.(this, ep, true);
  };

  /**
   * Output backpressure (see OutputGate): `true` stops reading on every
   * endpoint, as `.pause` does, until `false`; what the user paused, or
   * whose reply waits for 'drain', stays paused then.
   */
  holdReading(held: boolean): void {
    if (held === this.readingHeld) return;
    this.readingHeld = held;
    if (held) this.unsubscribeHeld = this.subscribe(this.holdLateReader, { types: ['data'], keepsBytes: false });
    else {
      this.unsubscribeHeld?.();
      this.unsubscribeHeld = undefined;
    }
    for (const ep of this.list()) if (isLive(ep)) kindOf(ep).holdReading?.(this, ep, held);
  }

  // A closed endpoint's queues stay until the registry forgets it, so
  // `.wait c1 close` or `.expect c1 …` after the close still see what happened.
  protected override forgotten(id: string): void {
    this.events.forget(id);
    this.expects.forget(id);
  }

  /** Start a TCP server. The endpoint exists at once; `ready` settles when it listens or fails. */
  listen(options: ListenOptions): ServerEndpoint {
    return openServer(this, options);
  }

  /** Open a TCP client socket. The endpoint exists at once; `ready` settles when connected or failed. */
  connect(options: ConnectOptions): SocketEndpoint {
    return openSocket(this, options);
  }

  /** Half-close a TCP socket (see endSocket). */
  end(ep: SocketEndpoint): void {
    endSocket(this, ep);
  }

  /** Abort a TCP socket with an RST (see destroySocket). */
  destroy(ep: SocketEndpoint): void {
    destroySocket(ep);
  }

  /** Stop a server accepting (see closeServer). Returns how many connections stay open. */
  closeServer(ep: ServerEndpoint, force = false): number {
    return closeServer(this, ep, force);
  }

  /** Stop or restart reading a TCP socket (see pauseSocket). */
  pause(ep: SocketEndpoint, paused: boolean): void {
    pauseSocket(ep, paused);
  }

  /** A note for the person watching, after the call returns (events never come synchronously). */
  note(id: string, message: string): void {
    process.nextTick(() => this.emit({ type: 'note', t: this.now(), id, message }));
  }

  /**
   * Close everything: each endpoint begins a graceful close (its kind's
   * `shutdown`); what has not closed within `graceMs` is ended at once (its
   * kind's `abort`). Resolves when every endpoint has emitted its close.
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
      }, { types: ['close'] });
    });
    for (const ep of this.list().filter(isLive)) kindOf(ep).shutdown(this, ep);
    const timer = setTimeout(() => {
      for (const ep of this.list().filter(isLive)) kindOf<Endpoint>(ep).abort(this, ep);
    }, graceMs);
    await closed;
    clearTimeout(timer);
  }
}

/** A new session with its defaults (8 MiB send cap, 10 s connect timeout). */
export function createSession(options?: SessionOptions): Session {
  return new Session(options);
}
