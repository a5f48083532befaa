import type net from 'node:net';
import type { FramedStream } from '../behaviours/framed.js';
import type { Replier } from '../behaviours/reply.js';
import type { EndpointBase } from '../session/endpoint.js';
import type { TlsClientConfig, TlsServerConfig, TlsServerSetup } from './tls.js';

/**
 * The TCP kinds' shapes (Unix domain sockets too): a server (`s1`) and a
 * socket (`c1`), opened by `.connect` or accepted by a server.
 */

/** States of a socket, as `.ls` shows them. */
export const SocketState = {
  CONNECTING: 'connecting',
  OPEN: 'open',
  /** We sent FIN; we still read. */
  LOCAL_FIN: 'half-closed (we sent FIN)',
  /** The peer sent FIN; we may still write (with allowHalfOpen). */
  REMOTE_FIN: 'half-closed (peer sent FIN)',
  /** Both sides sent FIN; the close is on its way. */
  CLOSING: 'closing',
  CLOSED: 'closed',
  DESTROYED: 'destroyed',
} as const;
export type SocketState = (typeof SocketState)[keyof typeof SocketState];

/** States of a server. */
export const ServerState = {
  STARTING: 'starting',
  LISTENING: 'listening',
  /** No longer accepting; some of its connections are still open. */
  STOPPED: 'stopped',
  CLOSED: 'closed',
} as const;
export type ServerState = (typeof ServerState)[keyof typeof ServerState];

/** Options of `.listen` once parsed. */
export interface ListenOptions {
  host?: string;
  port?: number;
  path?: string;
  alias?: string;
  reply?: string;
  greet?: Buffer;
  /** Idle timeout for accepted sockets, ms: the socket is destroyed. */
  idleTimeout?: number;
  max?: number;
  backlog?: number;
  halfOpen?: boolean;
  pauseOnConnect?: boolean;
  closeAfterReply?: boolean;
  http?: boolean;
  /** `--frame SPEC` (SPEC 12): data is shown, answered and sent per message. */
  frame?: string;
  /** `--max-message`, bytes: the largest framed message (default 1 MiB). */
  maxMessage?: number;
  /** Speak TLS on every connection (`--tls`): the certificate is loaded (or made) before it listens. */
  tls?: TlsServerConfig;
}

/** Options of `.connect` once parsed (one socket). */
export interface ConnectOptions {
  host?: string;
  port?: number;
  path?: string;
  alias?: string;
  /** Connect timeout, ms (default 10 s). */
  timeout?: number;
  /** Idle timeout once connected, ms: a `timeout` event when nothing moved this long. */
  idle?: number;
  /** With `idle`: also destroy the socket when it fires. */
  idleDestroy?: boolean;
  noDelay?: boolean;
  keepAlive?: number;
  localPort?: number;
  family?: 4 | 6;
  reply?: string;
  halfOpen?: boolean;
  /** `--frame SPEC` (SPEC 12): data is shown, answered and sent per message. */
  frame?: string;
  /** `--max-message`, bytes: the largest framed message (default 1 MiB). */
  maxMessage?: number;
  /** Speak TLS once connected (`--tls`). */
  tls?: TlsClientConfig;
}

export interface ServerEndpoint extends EndpointBase {
  readonly kind: 'server';
  readonly server: net.Server;
  state: ServerState;
  readonly options: ListenOptions;
  /** `host:port` or the socket path, once listening. */
  address: string;
  /** Connections accepted by this server that are not closed yet. */
  readonly connections: Set<SocketEndpoint>;
  accepted: number;
  /** With `--tls`, once its certificate is ready. */
  tls?: TlsServerSetup;
}

export interface SocketEndpoint extends EndpointBase {
  readonly kind: 'socket';
  readonly socket: net.Socket;
  state: SocketState;
  /** The server that accepted it, for accepted sockets. */
  readonly server: ServerEndpoint | undefined;
  local: string;
  remote: string;
  bytesIn: number;
  bytesOut: number;
  chunksIn: number;
  chunksOut: number;
  connectedAt: number | undefined;
  /** True while the user paused reading (`.pause`); replies must not resume it. */
  userPaused: boolean;
  /** True once we aborted it with an RST (`.destroy`); a plain destroy() ends with a FIN. */
  reset: boolean;
  /** Bytes still queued (not yet written to the kernel) when we destroyed it: they never went out. */
  discarded?: number;
  /** When the last bytes arrived (ms, the session's clock): tells a peer still sending at the end of a grace. */
  lastDataAt?: number;
  /** True when the shutdown grace ended with the peer still sending: we reset it (see `abortSocket`). */
  stillSending?: boolean;
  reply: Replier | undefined;
  /** The framing of what it receives and sends (`--frame`), if any. */
  frame?: FramedStream;
  /** True when an idle timeout destroys it (`.listen --timeout`, `.connect --idle-destroy`). */
  idleDestroy?: boolean;
  /** The options it was opened with (connect options, or the server's). */
  readonly options: ConnectOptions | ListenOptions;
}

/** True while bytes can still be written to the socket. */
export function canWrite(ep: SocketEndpoint): boolean {
  return ep.state === SocketState.OPEN || ep.state === SocketState.REMOTE_FIN;
}


declare module '../session/endpoint.js' {
  interface EndpointKinds {
    server: ServerEndpoint;
    socket: SocketEndpoint;
  }
}
