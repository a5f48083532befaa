import type net from 'node:net';
import type { EndpointBase } from '../session/endpoint.js';
import type { SocketState } from './tcp-types.js';
import type { RelayLink } from './relay-link.js';
import type { TlsClientConfig, TlsServerConfig, TlsServerSetup } from './tls.js';
import type { FramedStream } from '../behaviours/framed.js';
import type { OwnBufferReader } from './relay-reader.js';

/**
 * The relay kinds' shapes: a relay (`p1`, `.proxy`) that listens, and the two
 * sockets of each of its links (`c3` accepted from a client, `c4` opened to
 * the target), which share the TCP sockets' `c` counter (SPEC 2, 10).
 */

/** States of a relay, as `.ls` shows them (a server's). */
export const RelayState = {
  STARTING: 'starting',
  LISTENING: 'listening',
  /** No longer accepting; some of its links are still open. */
  STOPPED: 'stopped',
  CLOSED: 'closed',
} as const;
export type RelayState = (typeof RelayState)[keyof typeof RelayState];

/** Where a relay connects each link: `host:port` or a Unix socket path. */
export type RelayTarget = { host: string; port: number; path?: undefined } | { path: string; host?: undefined; port?: undefined };

/** Options of `.proxy` once parsed. */
export interface RelayOptions {
  host?: string;
  port?: number;
  path?: string;
  alias?: string;
  target: RelayTarget;
  /** Links at once; clients past it are refused (closed by Node). */
  max?: number;
  /** `--tls`: clients speak TLS to the relay (it terminates it and relays plaintext). */
  tls?: TlsServerConfig;
  /** `--tls-upstream`: the relay speaks TLS to the target. */
  tlsUpstream?: TlsClientConfig;
  /** `--frame SPEC`: what each link socket receives is also cut into messages (shown as `message` events). */
  frame?: string;
  /** `--max-message N` (bytes), with `frame`. */
  maxMessage?: number;
}

/** The options of a relay as `.show` prints them. */
export type RelayShownOptions = Omit<RelayOptions, 'target'> & { target: string };

/** A relay (`p1`). */
export interface RelayEndpoint extends EndpointBase {
  readonly kind: 'relay';
  readonly server: net.Server;
  state: RelayState;
  /** As `.show` prints them: the target as text. */
  readonly options: RelayShownOptions;
  /** Where each link connects. */
  readonly targetAddress: RelayTarget;
  /** `host:port` or the socket path, once listening. */
  address: string;
  /** The target as `host:port` or a path. */
  readonly target: string;
  /** Links not closed yet, oldest first. */
  readonly links: Set<RelayLink>;
  /** Clients accepted so far. */
  accepted: number;
  /** With `--tls`: the certificate and context clients see (ready before it listens). */
  tls?: TlsServerSetup;
  /** True while output backpressure holds reading: new links start held. */
  held: boolean;
  /** Hear of each new link (a fault added to p1 applies to links made later); returns the unsubscribe function. */
  onLink(fn: (link: RelayLink) => void): () => void;
}

/** Which end of a link a socket is. */
export type RelayRole = 'client' | 'target';

/** One socket of a relay link (`c3`, `c4`). */
export interface RelaySocketEndpoint extends EndpointBase {
  readonly kind: 'relay-socket';
  readonly socket: net.Socket;
  state: SocketState;
  readonly relay: RelayEndpoint;
  readonly role: RelayRole;
  /** Set once the link exists (at once, in the same turn as the socket). */
  link: RelayLink;
  local: string;
  remote: string;
  bytesIn: number;
  bytesOut: number;
  chunksIn: number;
  connectedAt: number | undefined;
  /** True while the user paused reading (`.pause`). */
  userPaused: boolean;
  /** True while output backpressure holds reading. */
  outputHeld: boolean;
  /** True once we aborted it with an RST. */
  reset: boolean;
  /** With the relay's `--frame`: the messages this socket receives. */
  frame?: FramedStream;
  /** Bytes still queued when we reset it: they never went out. */
  discarded?: number;
  /** A plain target socket reads into a buffer of its own (`onread`) instead of emitting 'data': this hands its chunks on. */
  reader?: OwnBufferReader;
  readonly options: RelayShownOptions;
}

declare module '../session/endpoint.js' {
  interface EndpointKinds {
    relay: RelayEndpoint;
    'relay-socket': RelaySocketEndpoint;
  }
}
