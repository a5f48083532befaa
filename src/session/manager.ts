import type net from 'node:net';
import { SocklabError } from '../errors.js';
import type { SessionEvent, Subscriber } from './events.js';
import {
  aliasProblem,
  ID_PATTERN,
  isLive,
  kindOf,
  type Endpoint,
} from './endpoint.js';
import type { ServerEndpoint, SocketEndpoint } from '../endpoints/tcp-types.js';
import { RELAY_LINK_RATE, type RelayLinkRate } from '../endpoints/relay-loop.js';

/** What a subscriber asks for (`session.subscribe(fn, { types })`). */
export interface SubscribeOptions {
  /**
   * The event kinds the subscriber reads; it is not called for others, so a
   * data event costs nothing in a view that only draws connections. All kinds
   * when absent.
   */
  types?: ReadonlyArray<SessionEvent['type']>;
  /**
   * False when the subscriber keeps no event's `data` Buffer past its call
   * (it copies what it keeps). While every subscriber of `relay` events says
   * so, a relay may read the next chunk into the memory of the last one
   * (relay-reader.ts), and while every subscriber of `data` and `send`
   * events says so, a bulk TCP stream may too (tcp-read-buffer.ts). Absent
   * means it may keep them: a subscriber added from JavaScript is assumed to.
   */
  keepsBytes?: boolean;
}

/** The options of a subscriber that reads every kind and keeps no event's bytes past its call. */
export const KEEPS_NO_BYTES: SubscribeOptions = { keepsBytes: false };

/** Settings a session is created with; every one has a default. */
export interface SessionOptions {
  /** DNS lookup used by `.connect` (tests inject one so no query leaves the machine). */
  lookup?: net.LookupFunction;
  /** Cap on bytes queued for writing per socket; past it `.send` fails (default 8 MiB). */
  maxQueuedBytes?: number;
  /** Default connect timeout, ms (default 10 s). */
  connectTimeout?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** A relay accepting more new links than this stops accepting (default 1,000 in 1 s; tests lower it). */
  relayLinkRate?: RelayLinkRate;
}

/**
 * The registry half of a session: ids, aliases, subscribers. Endpoint
 * behaviour (listen, connect, send…) lives in `session.ts`, built on this.
 */
export class Registry {
  readonly maxQueuedBytes: number;
  readonly connectTimeout: number;
  readonly lookup: net.LookupFunction | undefined;
  readonly now: () => number;
  readonly relayLinkRate: RelayLinkRate;
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly aliases = new Map<string, Endpoint>();
  /** Every subscriber, in the order subscribed, with the kinds it asked for (undefined: all). */
  private readonly subscribers = new Map<Subscriber, ReadonlySet<string> | undefined>();
  /** Subscribers of `relay` events that may keep an event's `data` past their call (see SubscribeOptions.keepsBytes). */
  private readonly relayKeepers = new Set<Subscriber>();
  /** The same for `data` and `send` events (a socket's own reads, lent by tcp-read-buffer.ts). */
  private readonly dataKeepers = new Set<Subscriber>();
  /** Per event kind, the subscribers that want it, in order: built on first use, cleared on unsubscribe. */
  private readonly byType = new Map<string, Subscriber[]>();
  /** Counts the clears of `byType`, so an emit under way sees that its list was replaced with one number compared. */
  private lists = 0;
  /** One counter per id prefix (s, c, u, …): ids are never reused. */
  private readonly counters = new Map<string, number>();

  constructor(options: SessionOptions = {}) {
    this.maxQueuedBytes = options.maxQueuedBytes ?? 8 * 1024 * 1024;
    this.connectTimeout = options.connectTimeout ?? 10_000;
    this.lookup = options.lookup;
    this.now = options.now ?? Date.now;
    this.relayLinkRate = options.relayLinkRate ?? RELAY_LINK_RATE;
  }

  /**
   * Receive every event from now on (or only the kinds in `options.types`),
   * after the subscribers before; returns the unsubscribe function.
   */
  subscribe(fn: Subscriber, options: SubscribeOptions = {}): () => void {
    const types = options.types === undefined ? undefined : new Set<string>(options.types);
    if (this.subscribers.has(fn)) this.clearLists();
    this.subscribers.set(fn, types);
    if (options.keepsBytes !== false && (types === undefined || types.has('relay'))) this.relayKeepers.add(fn);
    else this.relayKeepers.delete(fn);
    if (options.keepsBytes !== false && (types === undefined || types.has('data') || types.has('send'))) this.dataKeepers.add(fn);
    else this.dataKeepers.delete(fn);
    // Appended to the lists built already, so an emit under way still reaches it, as with a Set.
    for (const [type, list] of this.byType) if (types === undefined || types.has(type)) list.push(fn);
    return () => {
      if (this.subscribers.delete(fn)) this.clearLists();
      this.relayKeepers.delete(fn);
      this.dataKeepers.delete(fn);
    };
  }

  /** True when some subscriber of `relay` events may keep a chunk's Buffer past the emit (a relay must not reuse its memory then). */
  get relayBytesKept(): boolean {
    return this.relayKeepers.size > 0;
  }

  /** True when some subscriber of `data` or `send` events may keep a chunk's Buffer past the emit (a socket must not read into its memory again then). */
  get dataBytesKept(): boolean {
    return this.dataKeepers.size > 0;
  }

  private clearLists(): void {
    this.byType.clear();
    this.lists++;
  }

  private listFor(type: string): Subscriber[] {
    let list = this.byType.get(type);
    if (list === undefined) {
      list = [];
      for (const [fn, types] of this.subscribers) if (types === undefined || types.has(type)) list.push(fn);
      this.byType.set(type, list);
    }
    return list;
  }

  /** Hand an event to every subscriber that wants its kind. A subscriber that throws does not stop the others. */
  emit(event: SessionEvent): void {
    const list = this.listFor(event.type);
    const lists = this.lists;
    // By index: a subscriber added during this emit is reached; one removed is skipped
    // (once the lists were cleared, each is looked up: no map lookup per call otherwise).
    for (let i = 0; i < list.length; i++) {
      const fn = list[i] as Subscriber;
      if (lists !== this.lists && !this.subscribers.has(fn)) continue;
      try {
        fn(event);
      } catch (err) {
        // A broken renderer must not take the data path down with it.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  /** The next id of a kind's prefix: `s1`, `c7`, `u2`. */
  nextId(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}${n}`;
  }

  /** Check an alias before anything is opened under it. */
  checkAlias(alias: string | undefined): void {
    if (alias === undefined) return;
    const problem = aliasProblem(alias);
    if (problem !== undefined) throw new SocklabError('E_USAGE', problem);
    // A closed endpoint gives its name up: a lesson can be replayed in the same session.
    const holder = this.aliases.get(alias);
    if (holder && isLive(holder)) {
      throw new SocklabError('E_USAGE', `name "${alias}" is taken by ${holder.id}, which is ${holder.state}: choose another`);
    }
  }

  add(ep: Endpoint): void {
    this.endpoints.set(ep.id, ep);
    if (ep.alias !== undefined) this.claim(ep.alias, ep);
  }

  private claim(alias: string, ep: Endpoint): void {
    const holder = this.aliases.get(alias);
    if (holder && holder !== ep) holder.alias = undefined;
    this.aliases.set(alias, ep);
  }

  /** Give an existing endpoint a name (`.wait s1 accept as peer`). */
  setAlias(ep: Endpoint, alias: string): void {
    this.checkAlias(alias);
    if (ep.alias !== undefined) this.aliases.delete(ep.alias);
    ep.alias = alias;
    this.claim(alias, ep);
  }

  /** Forget a closed endpoint's live object; its id stays used (ids are never reused). */
  retire(ep: Endpoint): void {
    // Closed endpoints stay listed so `.ls`/`.show` can report how they ended,
    // but only the last few: a connect/close loop must not grow the maps.
    this.closedOrder.push(ep.id);
    // Forgotten in batches, so a connect/close loop does not shift the list per close.
    if (this.closedOrder.length < MAX_CLOSED_KEPT + CLOSED_SLACK) return;
    for (const old of this.closedOrder.splice(0, this.closedOrder.length - MAX_CLOSED_KEPT)) {
      const gone = this.endpoints.get(old);
      if (gone && !isLive(gone)) {
        this.endpoints.delete(gone.id);
        if (gone.alias !== undefined && this.aliases.get(gone.alias) === gone) this.aliases.delete(gone.alias);
        this.forgotten(gone.id);
      }
    }
  }

  /** Called when a closed endpoint is dropped for good; subclasses free what they keep per id. */
  protected forgotten(_id: string): void {}
  private readonly closedOrder: string[] = [];

  /** The endpoint an id or alias names, or undefined. */
  find(ref: string): Endpoint | undefined {
    return this.endpoints.get(ref) ?? this.aliases.get(ref);
  }

  /** The endpoint an id or alias names; a clear error otherwise. */
  get(ref: string): Endpoint {
    const ep = this.find(ref);
    if (ep) return ep;
    const live = this.list().filter(isLive).map((e) => e.alias ?? e.id);
    const hint = live.length > 0 ? `open now: ${live.slice(0, 8).join(', ')}${live.length > 8 ? ', …' : ''}` : 'nothing is open yet';
    const retired = ID_PATTERN.test(ref) ? ' (or it closed long ago)' : '';
    throw new SocklabError('E_UNKNOWN_ID', `no endpoint "${ref}"${retired}: ${hint}; .ls lists them`);
  }

  getSocket(ref: string): SocketEndpoint {
    const ep = this.get(ref);
    if (ep.kind !== 'socket') {
      const noun = kindOf(ep).noun;
      throw new SocklabError('E_USAGE', `${ref} is a ${noun}: this needs a ${noun === 'server' ? '' : 'TCP '}socket (c1, c2, …)`);
    }
    return ep;
  }

  getServer(ref: string): ServerEndpoint {
    const ep = this.get(ref);
    if (ep.kind !== 'server') throw new SocklabError('E_USAGE', `${ref} is a ${kindOf(ep).noun}: this needs a server (s1, s2, …)`);
    return ep;
  }

  /** Every endpoint still known, in order of creation. */
  list(): Endpoint[] {
    return [...this.endpoints.values()];
  }

  /** Every known name (ids and aliases), for completion and JS bindings. */
  names(): Array<[string, Endpoint]> {
    return [...this.endpoints.entries(), ...this.aliases.entries()];
  }
}

/** Closed endpoints kept for `.ls`/`.show`; older ones are forgotten so a long loop stays bounded. */
export const MAX_CLOSED_KEPT = 200;
/** Closed endpoints kept past MAX_CLOSED_KEPT before a batch is forgotten. */
export const CLOSED_SLACK = 50;
