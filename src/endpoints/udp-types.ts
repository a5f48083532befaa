import type dgram from 'node:dgram';
import type { Replier } from '../behaviours/reply.js';
import type { EndpointBase } from '../session/endpoint.js';

/** States of a UDP socket. UDP has no connection: `connected` only fixes a default peer. */
export const UdpState = {
  BINDING: 'binding',
  OPEN: 'open',
  /** `--connect`: a default destination; datagrams from anyone else are dropped by the kernel. */
  CONNECTED: 'connected',
  CLOSING: 'closing',
  CLOSED: 'closed',
} as const;
export type UdpState = (typeof UdpState)[keyof typeof UdpState];

/** A UDP host and port (`--connect`, `--to`, a peer). */
export interface UdpPeer {
  host: string;
  port: number;
}

/** Options of `.udp` once parsed. */
export interface UdpOptions {
  /** Default 127.0.0.1; an IPv6 host makes it a udp6 socket. */
  host?: string;
  /** 0 = any free port. */
  port?: number;
  alias?: string;
  /** `echo` or a template: each datagram is answered to its sender. */
  reply?: string;
  /** A default destination, as connected UDP. */
  connect?: UdpPeer;
  broadcast?: boolean;
  /** A multicast group to join. */
  multicast?: string;
  /** TTL of unicast and multicast datagrams sent (1–255). */
  ttl?: number;
}

/** A UDP socket (`u1`). */
export interface UdpEndpoint extends EndpointBase {
  readonly kind: 'udp';
  readonly socket: dgram.Socket;
  state: UdpState;
  readonly options: UdpOptions;
  /** `host:port` once bound. */
  local: string;
  /** The `--connect` peer, `host:port`. */
  connected: string | undefined;
  /** The last peer that sent to it: the destination of a `.send` without `--to`. */
  lastPeer: UdpPeer | undefined;
  datagramsIn: number;
  datagramsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Datagrams handed to Node and not yet to the kernel. */
  sending: number;
  reply: Replier | undefined;
}

declare module '../session/endpoint.js' {
  interface EndpointKinds {
    udp: UdpEndpoint;
  }
}

/** The largest UDP payload over IPv4: 65,535 − 8 (UDP header) − 20 (IPv4 header). */
export const MAX_UDP_PAYLOAD_V4 = 65_507;
/** Over IPv6 (without jumbograms): 65,535 − 8; the 40-byte IPv6 header is not counted in its payload length. */
export const MAX_UDP_PAYLOAD_V6 = 65_527;
