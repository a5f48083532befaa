/**
 * The one event union of a session. Every subscriber (human renderer, JSON
 * renderer, recorder, `.wait`, `.expect`) sees the same objects, in order.
 *
 * Lifecycle contract: every endpoint emits exactly one `close`, last; an
 * endpoint that fails emits one `error` before that `close`. No event is
 * emitted synchronously from a call into the session: calls return first.
 */

/** Milliseconds since the epoch. */
type Time = { t: number };

/** A server is listening (`port` for TCP, `path` for a Unix socket). */
export interface ListeningEvent extends Time {
  type: 'listening';
  id: string;
  alias?: string;
  address: string;
  port?: number;
  path?: string;
  /** The reply spec in force, as typed (`echo`, a template). */
  reply?: string;
  /** True when bound to a wildcard or non-loopback address. */
  exposed: boolean;
  /** `udp` for a UDP socket (`u1`), `relay` for a relay (`p1`); absent for a TCP or Unix server. */
  kind?: 'udp' | 'relay';
  /** A relay's target, as it connects to it (`host:port` or a path). */
  target?: string;
}

/** A socket we opened is connected. */
export interface ConnectEvent extends Time {
  type: 'connect';
  id: string;
  alias?: string;
  local: string;
  remote: string;
}

/** A server accepted a connection; `id` is the new socket's id. */
export interface AcceptEvent extends Time {
  type: 'accept';
  id: string;
  alias?: string;
  server: string;
  local: string;
  remote: string;
}

/** Bytes handed to a socket for writing (from a command, a reply or JS); on UDP, one datagram. */
export interface SendEvent extends Time {
  type: 'send';
  id: string;
  data: Buffer;
  /** UDP: the datagram's destination, `host:port`. */
  to?: string;
}

/** One UDP datagram received: its boundaries are kept (SPEC 9). */
export interface DatagramEvent extends Time {
  type: 'datagram';
  id: string;
  /** The sender, `host:port`. */
  from: string;
  data: Buffer;
}

/** Bytes received. The Buffer is Node's own chunk: subscribers must not keep it mutated. */
export interface DataEvent extends Time {
  type: 'data';
  id: string;
  data: Buffer;
  /**
   * True on a framed socket (`--frame`, SPEC 12): its messages follow as
   * `message` events and the renderers show those instead of the chunk;
   * `.expect`, `.wait … data` and the timeline still see the bytes.
   */
  framed?: true;
}

/**
 * One message of a framed socket (`--frame`, SPEC 12), complete: the payload
 * without its length prefix or delimiter. Emitted after the `data` event of
 * the chunk that completed it; a chunk that ends inside a message emits none.
 */
export interface MessageEvent extends Time {
  type: 'message';
  id: string;
  data: Buffer;
}

/**
 * A chunk a relay (`p1`) passed on: `from` received it, `to` was given it.
 * `dir` is `up` (client → target) or `down` (target → client). `fault`
 * names the fault(s) that changed it (SPEC 10).
 */
export interface RelayEvent extends Time {
  type: 'relay';
  /** The relay. */
  id: string;
  /** The link socket that received the bytes. */
  from: string;
  /** The link socket they were written to. */
  to: string;
  dir: 'up' | 'down';
  data: Buffer;
  fault?: string;
  /**
   * True on a relay with `--frame`: the human view shows the `message`
   * events of the link socket that received these bytes instead; JSON keeps
   * every relay event (the record of what was relayed, faults included).
   */
  framed?: true;
}

/**
 * The summary of a peer's X.509 certificate. Every string comes from the peer
 * (a certificate can say anything): renderers escape them.
 */
export interface CertificateSummary {
  /** `CN=localhost, O=…`, as the certificate's subject lists them. */
  subject: string;
  issuer: string;
  /** Validity, as OpenSSL prints dates (`Nov 30 12:00:00 2026 GMT`). */
  validFrom: string;
  validTo: string;
  /** Subject alternative names (`DNS:localhost`, `IP Address:127.0.0.1`). */
  san: string[];
  /** SHA-256 of the DER certificate, `AB:CD:…`. */
  fingerprint: string;
  /** Issuer and subject are the same: nobody else vouches for it. */
  selfSigned: boolean;
}

/** A TLS handshake completed (SPEC 11); `id` is the socket, either end. */
export interface SecureEvent extends Time {
  type: 'secure';
  id: string;
  /** Which end we are: a `.connect --tls` client, or a socket a `--tls` server accepted. */
  role: 'client' | 'server';
  /** `TLSv1.3`, `TLSv1.2`. */
  protocol: string;
  /** The cipher suite's standard name (`TLS_AES_256_GCM_SHA384`). */
  cipher: string;
  /** The ALPN protocol agreed (`h2`), or null when none was. */
  alpn: string | null;
  /** The SNI name the client asked for, or null (none is sent for an IP address). */
  servername: string | null;
  /** The peer's certificate was verified against the trusted CAs (and, by a client, the name). */
  authorized: boolean;
  /** Why it was not (an OpenSSL verify code like `DEPTH_ZERO_SELF_SIGNED_CERT`). */
  authorizationError?: string;
  /** The peer's certificate; null when it sent none (a client asked for none). */
  peerCertificate: CertificateSummary | null;
  /** The server asked for a client certificate (`.listen --tls --client-cert`). */
  certRequested?: boolean;
  /** The session was resumed (a ticket), not a full handshake. */
  reused: boolean;
}

/** The peer sent FIN: it will send no more. */
export interface EndEvent extends Time {
  type: 'end';
  id: string;
}

/** We sent FIN (`.end`, `.close`, `--close-after-reply`); we can still read. */
export interface ShutdownEvent extends Time {
  type: 'shutdown';
  id: string;
}

/** A server stopped accepting; its open connections stay. */
export interface StopEvent extends Time {
  type: 'stop';
  id: string;
  /** Connections of this server still open. */
  open: number;
  /** Connections `.close --force` destroyed with it (absent for a graceful stop). */
  destroyed?: number;
}

/** The endpoint is gone. Always the last event of an endpoint. */
export interface CloseEvent extends Time {
  type: 'close';
  id: string;
  hadError: boolean;
  /** True when we destroyed it (`.destroy`, `--force`, an idle timeout). */
  aborted?: boolean;
  /** True when that destroy sent an RST (`.destroy`); otherwise the peer saw a FIN. */
  reset?: boolean;
  /** Bytes of ours still queued when we destroyed it: discarded, the peer never gets them. */
  discarded?: number;
  /**
   * True when a graceful shutdown (`.exit`, a signal) ran out of grace with the
   * peer still sending after our FIN: closing with its bytes unread makes the
   * kernel send an RST (RFC 9293 3.6.1, RFC 2525 2.17), so we reset it ourselves.
   */
  stillSending?: boolean;
}

/** An error on an endpoint (or a session-level one when `id` is absent). */
export interface ErrorEvent extends Time {
  type: 'error';
  id?: string;
  code: string;
  message: string;
  /**
   * What the code means here, when the same OS code means different things
   * (EADDRINUSE on a port, on a socket file, on `--local-port`): see ERROR_HINTS.
   */
  context?: ErrorContext;
}

/**
 * `socket-file-stale`: listen on a path whose file exists and nothing answers
 * on it; `socket-file-live`: a server answers on it; `socket-dir`: the
 * directory of the path is missing; `socket-dir-denied`: we may not create a
 * file in it; `socket-path-not-socket`: the path exists and is no socket (a
 * regular file, a directory, a symlink); `local-port`: a connect whose `--local-port`
 * is taken; `udp`: on a UDP socket (ECONNREFUSED is an ICMP port unreachable there).
 */
export type ErrorContext = 'socket-file-stale' | 'socket-file-live' | 'socket-dir' | 'socket-dir-denied' | 'socket-path-not-socket' | 'local-port' | 'udp';

/** The socket was idle for `ms`; `destroyed` says whether we ended it. */
export interface TimeoutEvent extends Time {
  type: 'timeout';
  id: string;
  ms: number;
  destroyed: boolean;
}

/** A command line started. */
export interface CommandEvent extends Time {
  type: 'command';
  line: string;
}

/** A command line failed. */
export interface CommandErrorEvent extends Time {
  type: 'command-error';
  line: string;
  code: string;
  message: string;
  /** Where the line came from in a script (`demo.lab:12`). */
  source?: string;
}

/** An `.expect` matched or gave up; `received` is what arrived since the last match. */
interface ExpectBase extends Time {
  id: string;
  line: string;
  received: Buffer;
}
export interface ExpectOkEvent extends ExpectBase {
  type: 'expect-ok';
}
export interface ExpectFailEvent extends ExpectBase {
  type: 'expect-fail';
}

/** A note about an endpoint for the person watching (not from the peer). */
export interface NoteEvent extends Time {
  type: 'note';
  id?: string;
  message: string;
}

/**
 * A trigger rule fired (`.on`, SPEC 12): `rule` is its id (`r1`), `id` the
 * endpoint whose event fired it, `command` the line it runs, substitutions
 * made (peer bytes as an escaped payload literal).
 */
export interface RuleEvent extends Time {
  type: 'rule';
  rule: string;
  id: string;
  command: string;
}

export type SessionEvent =
  | ListeningEvent
  | ConnectEvent
  | AcceptEvent
  | SendEvent
  | DataEvent
  | MessageEvent
  | DatagramEvent
  | RelayEvent
  | SecureEvent
  | EndEvent
  | ShutdownEvent
  | StopEvent
  | CloseEvent
  | ErrorEvent
  | TimeoutEvent
  | CommandEvent
  | CommandErrorEvent
  | ExpectOkEvent
  | ExpectFailEvent
  | NoteEvent
  | RuleEvent;

export type SessionEventType = SessionEvent['type'];

/** The event of a given type. */
export type EventOf<T extends SessionEventType> = Extract<SessionEvent, { type: T }>;

export type Subscriber = (event: SessionEvent) => void;
