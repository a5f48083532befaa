import type net from 'node:net';
import type { Replier } from '../behaviours/reply.js';

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
}

interface EndpointBase {
  readonly id: string;
  alias: string | undefined;
  readonly createdAt: number;
  closedAt: number | undefined;
  /** Settles when the endpoint is listening / connected; rejects with its error. */
  readonly ready: Promise<void>;
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
  reply: Replier | undefined;
  /** True when an idle timeout destroys it (`.listen --timeout`, `.connect --idle-destroy`). */
  idleDestroy?: boolean;
  /** The options it was opened with (connect options, or the server's). */
  readonly options: ConnectOptions | ListenOptions;
}

export type Endpoint = ServerEndpoint | SocketEndpoint;

/** True while bytes can still be written to the socket. */
export function canWrite(ep: SocketEndpoint): boolean {
  return ep.state === SocketState.OPEN || ep.state === SocketState.REMOTE_FIN;
}

/** True until the socket's close event. */
export function isLive(ep: Endpoint): boolean {
  return ep.kind === 'server'
    ? ep.state !== ServerState.CLOSED
    : ep.state !== SocketState.CLOSED && ep.state !== SocketState.DESTROYED;
}

/** `host:port` of an address pair; IPv6 hosts in brackets. */
export function formatHostPort(host: string | undefined, port: number | undefined): string {
  if (host === undefined || port === undefined) return '?';
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Aliases: JS identifiers that do not look like ids and are not reserved words of socklab. */
export const ALIAS_PATTERN = /^[A-Za-z_$][\w$]{0,63}$/;
// socklab's own words, and JavaScript's reserved words (a name is bound in the JS context).
export const RESERVED_NAMES = new Set([
  ...['all', 'session', 'as'],
  ...'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await arguments eval undefined NaN Infinity'.split(' '),
]);
export const ID_PATTERN = /^[sc][1-9]\d*$/;
