import type net from 'node:net';
import { SocketState, formatHostPort, type SocketEndpoint } from './endpoint.js';
import type { Registry } from './manager.js';
import type { SendEvent } from './events.js';
import { createReplier, parseReply, type ReplySpec } from './reply.js';

type WriteCallback = (error?: Error | null) => void;
type WritevChunk = { chunk: Buffer | string; encoding: BufferEncoding };

/**
 * Attach a socket's Node events to the session's event stream. This is the
 * data path: per chunk it counts bytes, hands the Buffer on and nothing more.
 */
export function wireSocket(reg: Registry, ep: SocketEndpoint, options: { discard: boolean }): void {
  const { socket, id } = ep;
  countWrites(reg, ep);

  const discard = options.discard;
  socket.on('data', (data: Buffer) => {
    ep.bytesIn += data.length;
    ep.chunksIn++;
    if (!discard) reg.emit({ type: 'data', t: reg.now(), id, data });
    ep.reply?.(data);
  });
  socket.on('end', () => {
    ep.state = ep.state === SocketState.LOCAL_FIN ? SocketState.CLOSING : SocketState.REMOTE_FIN;
    reg.emit({ type: 'end', t: reg.now(), id });
  });
  // 'finish': our FIN went out, whoever called end() (a command, a reply, JS).
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
    ep.server?.connections.delete(ep);
    reg.emit({ type: 'close', t: ep.closedAt, id, hadError, aborted, ...(ep.reset && { reset: true }) });
    reg.retire(ep);
  });
}

/** Record the socket's addresses once it is connected. */
export function noteConnected(reg: Registry, ep: SocketEndpoint, knownLocal?: string): void {
  const s = ep.socket;
  ep.local = knownLocal ?? (s.localPort === undefined ? (s.localAddress ?? pathOf(s)) : formatHostPort(s.localAddress, s.localPort));
  ep.remote = s.remotePort === undefined ? pathOf(s) : formatHostPort(s.remoteAddress, s.remotePort);
  ep.connectedAt = reg.now();
  ep.state = SocketState.OPEN;
}

function pathOf(s: net.Socket): string {
  // Unix sockets have no ports; the path is on the server's address or the connect options.
  const path = (s as unknown as { _pendingPath?: string; server?: net.Server }).server?.address();
  return typeof path === 'string' ? path : 'unix';
}

/** Give the socket its reply behaviour (echo, template, HTTP). */
export function attachReply(
  reg: Registry,
  ep: SocketEndpoint,
  spec: ReplySpec,
  options: { closeAfterReply?: boolean; http?: boolean },
): void {
  const socket = ep.socket;
  ep.reply = createReplier(
    spec,
    {
      id: ep.id,
      get remote() {
        return ep.remote;
      },
      write: (data) => (socket.writable ? socket.write(data) : true),
      holdUntilDrain: () => {
        // Backpressure as pipe() does it: stop reading until the peer has read our answer.
        socket.pause();
        socket.once('drain', () => {
          if (!ep.userPaused) socket.resume();
        });
      },
      end: () => socket.end(),
      note: (message, isError) =>
        isError
          ? reg.emit({ type: 'error', t: reg.now(), id: ep.id, code: 'EHTTP', message })
          : reg.emit({ type: 'note', t: reg.now(), id: ep.id, message }),
    },
    options,
  );
}

export { parseReply };

// Every byte written, by any API, passes through _write/_writev exactly once;
// wrapping them (not write()) also catches end(data) and writes queued while
// connecting.
function countWrites(reg: Registry, ep: SocketEndpoint): void {
  const socket = ep.socket as net.Socket & {
    _write(chunk: Buffer | string, encoding: BufferEncoding, cb: WriteCallback): void;
    _writev(chunks: WritevChunk[], cb: WriteCallback): void;
  };
  const write = socket._write;
  const writev = socket._writev;
  socket._write = function (chunk, encoding, cb) {
    noteSent(reg, ep, chunk, encoding);
    write.call(this, chunk, encoding, cb);
  };
  socket._writev = function (chunks, cb) {
    for (const c of chunks) noteSent(reg, ep, c.chunk, c.encoding);
    writev.call(this, chunks, cb);
  };
}

function noteSent(reg: Registry, ep: SocketEndpoint, chunk: Buffer | string, encoding: BufferEncoding): void {
  const data = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
  ep.bytesOut += data.length;
  ep.chunksOut++;
  // Deferred, so a write() call returns before anyone hears of it; a microtask
  // (not nextTick) keeps it ahead of the awaits that follow the write. One
  // microtask emits every send queued in the same turn.
  pendingSends.push(reg, { type: 'send', t: reg.now(), id: ep.id, data });
  if (pendingSends.length === 2) queueMicrotask(emitSends);
}

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
