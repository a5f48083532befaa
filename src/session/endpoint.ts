import { SocklabError } from '../errors.js';
import type { Session } from './session.js';
import type { KernelKey } from '../observers/kernel-view.js';

/**
 * The endpoint interface: what the core and the commands know of an endpoint
 * of any kind. Each kind (a TCP server, a TCP socket, a UDP socket, …) lives in
 * one module of `src/endpoints/`, declares its shape by adding itself to
 * {@link EndpointKinds}, and registers one {@link EndpointKind} object with
 * {@link registerKind}. Commands ask that object (`kindOf(ep)`) and never
 * switch on `ep.kind`.
 *
 * Lifecycle contract (docs/architecture.md): every endpoint emits exactly one
 * `close` event, its last; `close()` is idempotent (a second call is a note);
 * no event is emitted synchronously from a call.
 */
export interface EndpointBase {
  readonly id: string;
  alias: string | undefined;
  /** The kind's name, a key of EndpointKinds. */
  readonly kind: string;
  readonly createdAt: number;
  closedAt: number | undefined;
  /** Settles when the endpoint is listening / connected / bound; rejects with its error. */
  readonly ready: Promise<void>;
  /** As `.ls` shows it; each kind has its own named states. */
  state: string;
  /** The options it was opened with, shown by `.show`. */
  readonly options: object;
}

/**
 * Kind name → endpoint shape. Empty here: each kind's module adds its row
 * with `declare module '../session/endpoint.js'`, so a new kind is an addition.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface EndpointKinds {}

/** An endpoint of any kind. */
export type Endpoint = EndpointKinds[keyof EndpointKinds];

export interface SendOptions {
  /** Send the payload this many times (default 1). */
  repeat?: number;
  /** Split into writes of at most this many bytes. */
  chunk?: number;
  /** Wait this long, ms: between `chunk` writes, or without `chunk` between repetitions. */
  delay?: number;
  /**
   * Do not wait for the peer to read: write everything now and let Node queue
   * what the kernel will not take (the per-socket cap still applies).
   */
  noDrain?: boolean;
}

export interface SendResult {
  /** Bytes handed to the kernel, over all targets. */
  bytes: number;
  /** Bytes still queued in user space when the send completed, per target id. */
  buffered: Record<string, number>;
}

/** One row of `.ls` besides id, name and age. Byte counts are bytes; undefined shows empty. */
export interface LsRow {
  /** What it is: `server`, `client`, `conn of s1`, `udp`. */
  label: string;
  local: string;
  /** The peer, or for a server its connections (`2 open / 5 accepted`). */
  remote: string;
  state: string;
  bytesIn?: number;
  bytesOut?: number;
  /** Bytes Node holds that the kernel has not taken yet. */
  queued?: number;
}

/** Options of `.send` any kind may be given; a kind says which extra ones it takes. */
export interface KindSendOptions extends SendOptions {
  /** UDP: the destination (`HOST:PORT` or an endpoint id). */
  to?: string;
  /** A framed socket (`--frame`): send the bytes as they are, no prefix or delimiter added. */
  raw?: boolean;
  /**
   * `.sendln`: the end-of-line (bytes) the command appended to the payload. On a
   * `line`/`crlf` framed socket it is the framing itself: the kind sends the
   * payload without it as one message (same bytes as `.send`).
   */
  eol?: Buffer;
}

/**
 * What a kind does for the commands and the core. Optional members are
 * capabilities: a command asks for one with `capability()`, and a kind
 * without it gets one clear line (with the kind's own hint from `cannot`).
 */
export interface EndpointKind<E extends EndpointBase = Endpoint> {
  /** The kind's name (`server`, `socket`, `udp`). */
  readonly name: E['kind'];
  /** Id prefix: one counter per prefix, ids never reused (SPEC 2). */
  readonly prefix: string;
  /** What a person calls it in messages: `server`, `socket`, `UDP socket`. */
  readonly noun: string;
  /** The live Node object bound in the JS context (net.Server, net.Socket, dgram.Socket). */
  handle(ep: E): unknown;
  /** True until its close event is due (a destroyed socket is no longer live). */
  isLive(ep: E): boolean;
  /** True when peers' bytes arrive on it (`.expect`, `.view ID`); a server only accepts. */
  readonly receives: boolean;
  /** True when what arrives keeps its boundaries (UDP datagrams): `.expect` matches inside one. */
  readonly boundaries?: boolean;
  /** True while data can still arrive (`.expect` gives up early otherwise). */
  mayReceive(ep: E): boolean;
  row(ep: E): LsRow;
  /** Lines of `.show` between the common ones and `options`. */
  details(ep: E): Array<[string, unknown]>;
  /**
   * The TCP connection's 4-tuple, for the kernel's view (`ss`: `.show`,
   * `.ls --tcp`, `.tcp`), or one line saying why it has none (a Unix socket,
   * not connected yet). Kinds that are never TCP connections leave it out.
   */
  kernelKey?(ep: E): KernelKey | string;
  /** True when `other` belongs to it (a server's connections, closed ones too): `.ls s1`. */
  owns?(ep: E, other: Endpoint): boolean;
  /**
   * `.close` (graceful) or `.close --force`. Idempotent: on something already
   * closing or closed it emits a note. `all`: part of `.close all`.
   */
  close(session: Session, ep: E, options: { force: boolean; all: boolean }): void;
  /** Session shutdown, first step: begin a graceful close. */
  shutdown(session: Session, ep: E): void;
  /** Session shutdown after the grace: end what is still open at once. */
  abort(session: Session, ep: E): void;
  /** `.destroy`: abort at once. */
  destroy?(session: Session, ep: E): void;
  /** `.end`: half-close. */
  end?(session: Session, ep: E): void;
  /** `.pause` / `.resume`. */
  pause?(session: Session, ep: E, paused: boolean): void;
  /** Output backpressure: stop (true) or restart reading; what the user paused stays paused. */
  holdReading?(session: Session, ep: E, held: boolean): void;
  /**
   * `.send`: write `data` to these endpoints of this kind (one call per kind,
   * so a send to several is checked for all before any is written).
   */
  send?(session: Session, eps: E[], data: Buffer, options: KindSendOptions): Promise<SendResult>;
  /** True when `.send all` includes it now. */
  inSendAll?(ep: E): boolean;
  /** The `.send` options this kind takes; undefined = every option but `to`. */
  readonly sendOptions?: readonly string[];
  /** Why a command (or `--option` of `.send`) makes no sense here and what to use instead; `{id}` is the endpoint's id. */
  readonly cannot?: Readonly<Record<string, string>>;
}

const KINDS = new Map<string, EndpointKind<EndpointBase>>();

/** Make a kind known to the core (each endpoint module calls it once, at load). */
export function registerKind<E extends EndpointBase>(kind: EndpointKind<E>): void {
  KINDS.set(kind.name, kind as unknown as EndpointKind<EndpointBase>);
}

/** The kind object of an endpoint. */
export function kindOf<E extends Endpoint>(ep: E): EndpointKind<E> {
  const kind = KINDS.get(ep.kind);
  if (kind === undefined) throw new Error(`endpoint kind "${ep.kind}" is not registered`);
  return kind as unknown as EndpointKind<E>;
}

/** Id prefixes of every registered kind (`s`, `c`, `u`). */
export function kindPrefixes(): string[] {
  return [...new Set([...KINDS.values()].map((k) => k.prefix))];
}

type Capability = 'destroy' | 'end' | 'pause' | 'send';

/**
 * The capability `name` of the endpoint's kind, bound to it; a clear E_USAGE
 * line when the kind has none (`.end u1`: UDP has no connection to end).
 */
export function capability<C extends Capability>(ep: Endpoint, name: C, command = name as string): NonNullable<EndpointKind[C]> {
  const kind = kindOf(ep);
  const fn = kind[name];
  if (fn === undefined) throw refusal(ep, command);
  return fn.bind(kind) as NonNullable<EndpointKind[C]>;
}

/** The one clear line for a command this endpoint's kind cannot do (`s1 is a server: this needs a socket …`). */
export function refusal(ep: Endpoint, command: string): SocklabError {
  const kind = kindOf(ep);
  const why = (kind.cannot?.[command] ?? `.${command} does not apply to it`).replaceAll('{id}', ep.id);
  return new SocklabError('E_USAGE', `${ep.id} is a ${kind.noun}: ${why}`);
}

/** True until the endpoint's close event is due. */
export function isLive(ep: Endpoint): boolean {
  return kindOf(ep).isLive(ep);
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
/** Ids of every kind, present and coming (SPEC 2): s servers, c sockets, u UDP, p relays, r rules. */
export const ID_PATTERN = /^[scupr][1-9]\d*$/;

/**
 * Why `alias` cannot name an endpoint, or undefined when it can: the static
 * part of the name check, run when a line is parsed (a script's checker
 * refuses a bad `as NAME` before anything runs, exit 2). Whether the name is
 * taken is known only when the line runs (`Registry.checkAlias`).
 */
export function aliasProblem(alias: string): string | undefined {
  if (ALIAS_PATTERN.test(alias) && !ID_PATTERN.test(alias) && !RESERVED_NAMES.has(alias)) return undefined;
  return `bad name "${alias}": use a name like alice or srv (letters, digits, _; not s1/c1, all, session or a JavaScript keyword)`;
}
