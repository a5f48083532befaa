import net from 'node:net';
import { SocklabError } from '../errors.js';
import { SocketState, formatHostPort, type ConnectOptions, type ListenOptions, type ServerEndpoint, type SocketEndpoint } from '../session/endpoint.js';
import type { Registry } from '../session/manager.js';
import { parseReply } from '../behaviours/reply.js';
import { attachReply, errorCode, errorMessage, noteConnected, wireSocket } from './tcp-wiring.js';

/** Open a client socket. The endpoint exists at once; `ready` settles when connected or failed. */
export function openSocket(reg: Registry, options: ConnectOptions): SocketEndpoint {
  reg.checkAlias(options.alias);
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
        ...(reg.lookup !== undefined && { lookup: reg.lookup }),
      };
  const socket = net.connect(connectOptions);
  if (options.noDelay) socket.setNoDelay(true);
  if (options.keepAlive !== undefined) socket.setKeepAlive(true, options.keepAlive);
  const ep = newSocket(reg, socket, undefined, options);
  ep.remote = target;
  if (options.alias !== undefined) ep.alias = options.alias;
  reg.add(ep);
  wireSocket(reg, ep, { discard: reply.kind === 'discard' });
  attachReply(reg, ep, reply, {});

  const ms = options.timeout ?? reg.connectTimeout;
  const timer = setTimeout(() => {
    const err = Object.assign(new Error(`connect ETIMEDOUT ${target} after ${ms} ms`), { code: 'ETIMEDOUT' });
    socket.destroy(err);
  }, ms);
  timer.unref();
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      clearTimeout(timer);
      // Armed once connected, so it never races the connect timeout (`--timeout`).
      if (options.idle !== undefined) {
        ep.idleDestroy = options.idleDestroy === true;
        socket.setTimeout(options.idle);
      }
      noteConnected(reg, ep);
      reg.emit({ type: 'connect', t: reg.now(), id: ep.id, alias: ep.alias, local: ep.local, remote: ep.remote });
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

export function newSocket(reg: Registry, socket: net.Socket, server: ServerEndpoint | undefined, options: ListenOptions | ConnectOptions): SocketEndpoint {
  const ep: SocketEndpoint = {
    kind: 'socket',
    id: reg.nextSocketId(),
    alias: undefined,
    createdAt: reg.now(),
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
  if (server) reg.add(ep);
  return ep;
}
