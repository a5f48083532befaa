import { lstatSync } from 'node:fs';
import type net from 'node:net';
import { formatHostPort } from '../session/endpoint.js';
import { SocketState, type ConnectOptions, type SocketEndpoint } from './tcp-types.js';
import type { Registry } from '../session/manager.js';
import type { CloseEvent, ErrorContext, SendEvent } from '../session/events.js';
import { createReplier, echoesInput, parseReply, type ReplySpec, type ReplyTarget } from '../behaviours/reply.js';
import { endHttpInput } from '../behaviours/http-connection.js';
import { probeRead } from './probe-read.js';
import { OWN_BUFFER_FROM, readIntoOwnBuffer } from './tcp-read-buffer.js';

type WriteCallback = (error?: Error | null) => void;
type WritevChunk = { chunk: Buffer | string; encoding: BufferEncoding };

/**
 * What the shared listeners of one wired socket read: they are the same
 * functions for every socket (`this` is the socket, its wiring hangs on it),
 * so accepting a connection makes one object here, not six closures and two
 * write wrappers.
 */
interface Wiring {
  readonly reg: Registry;
  readonly ep: SocketEndpoint;
  /** `--reply discard`: data is counted, no data event. */
  readonly discard: boolean;
  /** An 'error' came before the close (a TLS socket closes without Node's hadError flag). */
  errored: boolean;
  /** It reads into a buffer of its own (a bulk stream, tcp-read-buffer.ts). */
  ownBuffer: boolean;
  /** The socket's own `_write` and `_writev`, which the counting ones call. */
  readonly write: (chunk: Buffer | string, encoding: BufferEncoding, cb: WriteCallback) => void;
  readonly writev: (chunks: WritevChunk[], cb: WriteCallback) => void;
}

const WIRING = Symbol('socklab.wiring');

type WiredSocket = net.Socket & {
  [WIRING]: Wiring;
  _write(chunk: Buffer | string, encoding: BufferEncoding, cb: WriteCallback): void;
  _writev(chunks: WritevChunk[], cb: WriteCallback): void;
};

/**
 * Attach a socket's Node events to the session's event stream. This is the
 * data path: per chunk it counts bytes, hands the Buffer on and nothing more.
 */
export function wireSocket(reg: Registry, ep: SocketEndpoint, options: { discard: boolean }): void {
  const socket = ep.socket as WiredSocket;
  socket[WIRING] = { reg, ep, discard: options.discard, errored: false, ownBuffer: false, write: socket._write, writev: socket._writev };
  // Every byte written, by any API, passes through _write/_writev exactly once;
  // wrapping them (not write()) also catches end(data) and writes queued while
  // connecting.
  socket._write = countedWrite;
  socket._writev = countedWritev;
  socket.on('data', onData);
  socket.on('end', onEnd);
  // 'finish': our FIN went out, whoever called end() (a command, a reply, JS).
  socket.on('finish', onFinish);
  socket.on('error', onError);
  // Every idle timeout, socklab's own (`--timeout`, `--idle`) or one set from JavaScript
  // (`c1.setTimeout(500)`), comes through this one listener: one event per timeout.
  socket.on('timeout', onTimeout);
  socket.on('close', onClose);
}

function onData(this: WiredSocket, data: Buffer): void {
  const wiring = this[WIRING];
  const { reg, ep, discard } = wiring;
  // A bulk stream reads into a buffer of its own from now on (when one of the few slots is free):
  // one comparison per chunk for the rest.
  if (data.length >= OWN_BUFFER_FROM && !wiring.ownBuffer) wiring.ownBuffer = readIntoOwnBuffer(this, (chunk) => onData.call(this, chunk), () => lendable(wiring));
  ep.bytesIn += data.length;
  ep.chunksIn++;
  // One clock read per chunk: the event's time is when it arrived.
  const t = (ep.lastDataAt = reg.now());
  if (ep.frame) {
    if (!discard) reg.emit({ type: 'data', t, id: ep.id, data, framed: true });
    ep.frame.push(data);
    return;
  }
  if (!discard) reg.emit({ type: 'data', t, id: ep.id, data });
  if (ep.reply === undefined) return;
  // The answer's send event follows the data event at once (see noteSent).
  replying = ep;
  try {
    ep.reply(data);
  } finally {
    replying = undefined;
  }
}

/**
 * May a chunk read into the socket's own buffer be lent (a view, read into
 * again after its events): no subscriber of data or send events keeps bytes
 * (socklab's own copy what they keep), no framing (the decoder keeps a
 * partial message), and no reply but an echo (its write is checked after).
 */
function lendable({ reg, ep }: Wiring): boolean {
  return !reg.dataBytesKept && ep.frame === undefined && (ep.reply === undefined || echoing.has(ep));
}

/** Sockets whose reply is the chunk as received (`echo`, `{data}`): it writes the chunk itself, keeping nothing else. */
const echoing = new WeakSet<SocketEndpoint>();

function onEnd(this: WiredSocket): void {
  const { reg, ep } = this[WIRING];
  const reset = resetBehindEof(this);
  if (reset) {
    // Not a FIN: the peer reset. Ending the socket with the error makes Node do what it does
    // for a reset it sees (error, then close with hadError), instead of a clean close.
    this.destroy(reset);
    return;
  }
  ep.state = ep.state === SocketState.LOCAL_FIN ? SocketState.CLOSING : SocketState.REMOTE_FIN;
  reg.emit({ type: 'end', t: reg.now(), id: ep.id });
}

function onFinish(this: WiredSocket): void {
  const { reg, ep } = this[WIRING];
  if (ep.state === SocketState.OPEN) ep.state = SocketState.LOCAL_FIN;
  else if (ep.state === SocketState.REMOTE_FIN) ep.state = SocketState.CLOSING;
  reg.emit({ type: 'shutdown', t: reg.now(), id: ep.id });
}

function onError(this: WiredSocket, err: NodeJS.ErrnoException): void {
  const wiring = this[WIRING];
  const { reg, ep } = wiring;
  wiring.errored = true;
  const code = errorCode(err);
  // A TLS error may say its situation itself (watchTls: `--ca` given, or our own close).
  const context = (err as { context?: ErrorContext }).context ?? (ep.connectedAt === undefined ? connectContext(ep, code) : undefined);
  const path = (ep.options as ConnectOptions).path ?? '';
  const message = context === 'socket-path-not-socket' ? `${path} exists and is not a socket: pick another path` : errorMessage(err);
  reg.emit({ type: 'error', t: reg.now(), id: ep.id, code, message, ...(context && { context }) });
}

function onTimeout(this: WiredSocket): void {
  const { reg, ep } = this[WIRING];
  const destroyed = ep.idleDestroy === true && isLiveSocket(ep);
  reg.emit({ type: 'timeout', t: reg.now(), id: ep.id, ms: this.timeout ?? 0, destroyed });
  if (destroyed) {
    ep.state = SocketState.DESTROYED;
    this.destroy();
  }
}

function onClose(this: WiredSocket, hadError: boolean): void {
  const { reg, ep, errored } = this[WIRING];
  socketClosed(reg, ep, hadError || errored);
}

function countedWrite(this: WiredSocket, chunk: Buffer | string, encoding: BufferEncoding, cb: WriteCallback): void {
  const { reg, ep, write } = this[WIRING];
  noteSent(reg, ep, chunk, encoding);
  write.call(this, chunk, encoding, cb);
}

function countedWritev(this: WiredSocket, chunks: WritevChunk[], cb: WriteCallback): void {
  const { reg, ep, writev } = this[WIRING];
  for (const c of chunks) noteSent(reg, ep, c.chunk, c.encoding);
  writev.call(this, chunks, cb);
}

/** The socket is gone: its state, its server's set, the `close` event, and the registry keeps only its record. */
function socketClosed(reg: Registry, ep: SocketEndpoint, hadError: boolean): void {
  const aborted = ep.state === SocketState.DESTROYED;
  ep.state = aborted ? SocketState.DESTROYED : SocketState.CLOSED;
  const t = (ep.closedAt = reg.now());
  ep.server?.connections.delete(ep);
  // The optional fields are added in the order the spreads gave them (JSON keeps it), without an object per spread.
  const ev: CloseEvent = { type: 'close', t, id: ep.id, hadError, aborted };
  if (ep.reset) ev.reset = true;
  if (ep.stillSending === true) ev.stillSending = true;
  if (ep.discarded !== undefined && ep.discarded > 0) ev.discarded = ep.discarded;
  reg.emit(ev);
  reg.retire(ep);
}

/** True when what is at `path` is not a socket (lstat: a symlink is not followed). */
function notSocket(path: string): boolean {
  try {
    return !lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

/** What a failed connect's code means here (see ErrorContext). */
function connectContext(ep: SocketEndpoint, code: string): ErrorContext | undefined {
  const options = ep.options as ConnectOptions;
  if (options.localPort !== undefined && (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL')) return 'local-port';
  if (options.path !== undefined && code === 'ECONNREFUSED') return notSocket(options.path) ? 'socket-path-not-socket' : 'socket-file-stale';
  return undefined;
}

/**
 * Whether an end-of-stream Node reported was really a reset (RST). libuv turns
 * a hang-up (POLLHUP) that comes after a short read into end-of-stream without
 * reading again, so an RST that arrives behind bytes not yet read reaches
 * Node as 'end', and Node's automatic end() then meets ENOTCONN, which it
 * ignores. The kernel still holds the answer: the socket is CLOSE (not
 * CLOSE_WAIT) with ECONNRESET pending, and one read(2) returns it; after a real
 * FIN the same read returns 0. The fd is non-blocking (libuv), so this never
 * waits. Returns the error to end the socket with, or undefined for a FIN.
 */
export function resetBehindEof(socket: net.Socket): NodeJS.ErrnoException | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
  if (fd === undefined || fd < 0) return undefined; // Windows, or already closed: trust Node
  // EAGAIN: nothing pending, the FIN stands.
  if (probeRead(fd) !== 'ECONNRESET') return undefined;
  return Object.assign(new Error('read ECONNRESET'), {
    code: 'ECONNRESET',
    syscall: 'read',
  });
}

function isLiveSocket(ep: SocketEndpoint): boolean {
  return ep.state !== SocketState.CLOSED && ep.state !== SocketState.DESTROYED;
}

/**
 * A Unix socket end that has no name: a client socket is not bound to a path
 * (Node cannot bind one), so the server's side of it has no peer name either.
 */
export const UNNAMED = '(unnamed)';

/** Record the socket's addresses once it is connected. */
export function noteConnected(reg: Registry, ep: SocketEndpoint, knownLocal?: string): void {
  const s = ep.socket;
  if (s.remotePort === undefined && s.localPort === undefined) {
    // A Unix socket: the path is the server's name; the client's end is unnamed.
    const path = ep.server?.address ?? (ep.options as ConnectOptions).path ?? '?';
    ep.local = ep.server ? path : UNNAMED;
    ep.remote = ep.server ? UNNAMED : path;
  } else {
    ep.local = knownLocal ?? formatHostPort(s.localAddress, s.localPort);
    ep.remote = formatHostPort(s.remoteAddress, s.remotePort);
  }
  ep.connectedAt = reg.now();
  ep.state = SocketState.OPEN;
}

/** Give the socket its reply behaviour (echo, template, HTTP). */
export function attachReply(
  reg: Registry,
  ep: SocketEndpoint,
  spec: ReplySpec,
  options: { closeAfterReply?: boolean; http?: boolean },
): void {
  // No reply (`none`, `discard`): nothing to build per connection.
  if (options.http !== true && (spec.kind === 'none' || spec.kind === 'discard')) {
    ep.reply = undefined;
    return;
  }
  const socket = ep.socket;
  ep.reply = createReplier(spec, new SocketReplyTarget(reg, ep), options);
  if (options.http !== true && echoesInput(spec)) echoing.add(ep);
  else echoing.delete(ep);
  if (options.http) {
    // A request left incomplete is said after the FIN line, or before the close line.
    socket.on('end', () => endHttpInput(ep.reply, 'fin'));
    socket.prependListener('close', () => endHttpInput(ep.reply, 'close'));
  }
}

/**
 * A replier's view of its socket. A class, not an object literal with a
 * getter and four closures: one small object per connection (an accessor
 * literal is built by the runtime, slowly, on every accept).
 */
class SocketReplyTarget implements ReplyTarget {
  constructor(
    private readonly reg: Registry,
    private readonly ep: SocketEndpoint,
  ) {}

  get id(): string {
    return this.ep.id;
  }

  get remote(): string {
    return this.ep.remote;
  }

  write(data: Buffer): boolean {
    const { ep } = this;
    // On a framed socket a reply is one message: framed, or not sent (a note says why).
    const out = ep.frame ? ep.frame.encodeReply(data) : data;
    return out === undefined || !ep.socket.writable ? true : ep.socket.write(out);
  }

  holdUntilDrain(): void {
    const { ep } = this;
    // Backpressure as pipe() does it: stop reading until the peer has read our answer.
    ep.socket.pause();
    ep.socket.once('drain', () => {
      if (!ep.userPaused) ep.socket.resume();
    });
  }

  end(): void {
    this.ep.socket.end();
  }

  note(message: string, isError?: boolean): void {
    const { reg, ep } = this;
    if (isError) reg.emit({ type: 'error', t: reg.now(), id: ep.id, code: 'EHTTP', message });
    else reg.emit({ type: 'note', t: reg.now(), id: ep.id, message });
  }
}

export { parseReply };

function noteSent(reg: Registry, ep: SocketEndpoint, chunk: Buffer | string, encoding: BufferEncoding): void {
  const data = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
  ep.bytesOut += data.length;
  ep.chunksOut++;
  // A reply written from the data handler is not a call anyone returns from:
  // its send is emitted at once, with the time of the data it answers (the
  // same turn), unless sends from earlier in the turn still wait (order).
  if (replying === ep && pendingSends.length === 0) {
    reg.emit({ type: 'send', t: ep.lastDataAt ?? reg.now(), id: ep.id, data });
    return;
  }
  // Any other write is deferred, so a write() call returns before anyone hears
  // of it; a microtask (not nextTick) keeps it ahead of the awaits that follow
  // the write. One microtask emits every send queued in the same turn. A
  // reaction on a settled promise, not queueMicrotask(): that one builds an
  // AsyncResource per call (~2,000 instructions, and async-hook calls when
  // hooks are on); emitSends never throws (emit catches what a subscriber throws).
  pendingSends.push(reg, { type: 'send', t: reg.now(), id: ep.id, data });
  if (pendingSends.length === 2) void SETTLED.then(emitSends);
}

/** The socket whose reply behaviour is writing now, from its data handler (see noteSent). */
let replying: SocketEndpoint | undefined;

const SETTLED = Promise.resolve();

// Registry, event, registry, event… (several sessions can share a process).
const pendingSends: Array<Registry | SendEvent> = [];

function emitSends(): void {
  // By index: a subscriber may write, which queues more sends here.
  for (let i = 0; i < pendingSends.length; i += 2) (pendingSends[i] as Registry).emit(pendingSends[i + 1] as SendEvent);
  pendingSends.length = 0;
}

/**
 * An error's message. Node's happy-eyeballs AggregateError (a name that
 * resolves to several addresses, none reachable) has an empty one: the
 * attempts' messages say what happened.
 */
export function errorMessage(err: Error & { errors?: unknown[] }): string {
  // A connect that fails before the socket is bound (EMFILE) says "- Local (undefined:undefined)".
  if (err.message !== '' || !Array.isArray(err.errors)) return err.message.replace(/ - Local \(undefined:undefined\)$/, '');
  return err.errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ');
}

/** The OS code of an error; Node's happy-eyeballs AggregateError keeps it on its parts. */
export function errorCode(err: NodeJS.ErrnoException & { errors?: unknown[] }): string {
  if (typeof err.code === 'string') return err.code;
  const first = err.errors?.[0] as NodeJS.ErrnoException | undefined;
  return first?.code ?? 'ERR';
}
