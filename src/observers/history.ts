import type { SessionEvent } from '../session/events.js';

/** One step of a session's story, as `.timeline` draws it (bytes reduced to a count and a preview). */
export type Step =
  | { t: number; kind: 'connect' | 'accept'; id: string; local: string; remote: string; server?: string }
  | { t: number; kind: 'send' | 'data'; id: string; bytes: number; preview: Buffer; chunks: number; last?: number }
  /** UDP datagrams to or from `peer` (`host:port`): no connection, so each names its peer. */
  | { t: number; kind: 'dgram-out' | 'dgram-in'; id: string; peer: string; bytes: number; preview: Buffer; chunks: number; last?: number }
  /** A UDP socket bound to `local`, so datagrams between two of ours are drawn between them. */
  | { t: number; kind: 'bound'; id: string; local: string }
  /** Bytes a relay (`id`, p1) read from link socket `from` and wrote to `to`. */
  | { t: number; kind: 'relay'; id: string; from: string; to: string; bytes: number; preview: Buffer; chunks: number; last?: number }
  /** A TLS handshake completed: `label` is `TLS 1.3 handshake`. */
  | { t: number; kind: 'secure'; id: string; role: 'client' | 'server'; label: string }
  | { t: number; kind: 'fin-out' | 'fin-in' | 'rst' | 'closed' | 'timeout'; id: string }
  | { t: number; kind: 'error'; id: string; code: string };

/**
 * Kept steps read by index (0: the oldest) without an object per step: what
 * `History#view` gives (the timeline reads an array as one too). A drawing reads every
 * step's kind and id, and makes whole only the steps it needs (the rows it
 * labels, connects, relays), so 5,000 kept steps cost no 5,000 objects.
 */
export interface StepList {
  readonly length: number;
  /** The kind of step `i`. */
  kind(i: number): Step['kind'];
  /** The endpoint id of step `i`. */
  id(i: number): string;
  /** Step `i` as an object, its preview a copy. */
  step(i: number): Step;
}

/** Steps kept; older ones are dropped so a long session stays bounded. */
export const HISTORY_LIMIT = 5000;
/** Steps kept past the limit before a batch is dropped. */
export const HISTORY_SLACK = 500;
/** Bytes of each chunk kept for its label (the timeline shows 16). */
// copyFullPreview copies exactly 24 bytes: change the two together.
const PREVIEW = 24;
const MERGE_MS = 5;
/** Slots in the preview ring: one per step that can be kept at once. */
const SLOTS = HISTORY_LIMIT + HISTORY_SLACK;

/** The steps that carry bytes. */
type ByteStep = Extract<Step, { preview: Buffer }>;

/** Kind codes, in the `kinds` column: the byte steps first (merged in bursts), then the rest. */
const KINDS = ['', 'send', 'data', 'dgram-out', 'dgram-in', 'relay', 'connect', 'accept', 'bound', 'secure', 'fin-out', 'fin-in', 'rst', 'closed', 'timeout', 'error'] as const;
type Kind = (typeof KINDS)[number];
const code = (kind: Kind): number => KINDS.indexOf(kind);
const SEND = code('send');
const DATA = code('data');
const DGRAM_OUT = code('dgram-out');
const DGRAM_IN = code('dgram-in');
const RELAY = code('relay');
const CONNECT = code('connect');
const ACCEPT = code('accept');
const BOUND = code('bound');
const SECURE = code('secure');
const ERROR = code('error');
const FIN_OUT = code('fin-out');
const FIN_IN = code('fin-in');
const RST = code('rst');
const CLOSED = code('closed');
const TIMEOUT = code('timeout');

/**
 * The timeline subscriber: keeps the last HISTORY_LIMIT steps of the session
 * (connects, bytes, FIN, RST, closes) for `.timeline`.
 *
 * It allocates nothing per step (but the label of a TLS handshake and the
 * address of a bound UDP socket, once each). Steps are kept in columns of one ring of
 * SLOTS (typed arrays for kinds, times and counts; the first bytes of each
 * chunk in one SLOTS × PREVIEW buffer; arrays of the strings the events
 * already carry: ids, addresses): an object per step, alive for 5,000 steps,
 * outlived the young generation, so in a ping-pong (two steps per round trip)
 * or a connect/close loop (four per connection) every step was copied twice
 * by the GC and then marked in the old one. `steps` builds the objects when asked; `view` reads the columns in place.
 */
export class History {
  /** Step number N is in slot N % SLOTS; steps `first` … `pushed - 1` are kept. */
  private pushed = 0;
  private first = 0;
  /** Steps dropped off the front. */
  dropped = 0;
  // The columns are made at the first step (`allocate`): a session that sees
  // none, or not yet (every start-up), does not pay for ~0.5 MB of them.
  private kinds = new Uint8Array(0);
  private times = new Float64Array(0);
  /** Time of the last chunk merged into a byte step (its own time when only one). */
  private lasts = new Float64Array(0);
  private byteCounts = new Float64Array(0);
  private chunkCounts = new Float64Array(0);
  private previewLengths = new Uint8Array(0);
  private ring = Buffer.alloc(0);
  private ids: (string | undefined)[] = [];
  /**
   * The step's strings, by kind: a datagram's peer; a relay's `from` and `to`;
   * a connect's or accept's `local`, `remote` (and `server`); a bound
   * socket's `local`; a handshake's label and role; an error's code.
   */
  private a: (string | undefined)[] = [];
  private b: (string | undefined)[] = [];
  private c: (string | undefined)[] = [];

  /** The event kinds that make a step (`record`'s `types` when subscribed); the others change nothing. */
  static readonly TYPES = ['connect', 'accept', 'listening', 'relay', 'datagram', 'send', 'data', 'secure', 'shutdown', 'end', 'close', 'timeout', 'error'] as const;

  /** How many steps are kept now. */
  get kept(): number {
    return this.pushed - this.first;
  }

  /** The steps kept, oldest first: a new array each time, with each preview a copy. */
  get steps(): Step[] {
    const steps: Step[] = [];
    for (let n = this.first; n < this.pushed; n++) steps.push(this.stepAt(n % SLOTS));
    return steps;
  }

  /**
   * The steps kept, oldest first, read in place from the columns: valid
   * until the next `record` (read it at once, as a drawing does). What
   * `steps` gives, with no object per step until `step(i)` asks.
   */
  get view(): StepList {
    const first = this.first;
    const length = this.pushed - first;
    return {
      length,
      kind: (i) => KINDS[this.kinds[(first + i) % SLOTS] as number] as Step['kind'],
      id: (i) => this.ids[(first + i) % SLOTS] as string,
      step: (i) => this.stepAt((first + i) % SLOTS),
    };
  }

  readonly record = (ev: SessionEvent): void => {
    // A burst of chunks in one direction (nothing between them, each within
    // MERGE_MS of the one before) is one step: a flood costs a counter, not a
    // copy per chunk, while writes typed one by one stay apart.
    if (this.pushed > this.first) {
      const last = (this.pushed - 1) % SLOTS;
      const kind = this.kinds[last] as number;
      if (kind <= RELAY && ev.t - (this.lasts[last] as number) <= MERGE_MS && this.merges(ev, kind, last)) {
        (this.byteCounts[last] as number) += ev.data.length;
        (this.chunkCounts[last] as number)++;
        this.lasts[last] = ev.t;
        return;
      }
    }
    switch (ev.type) {
      case 'send':
        if (ev.to !== undefined) return this.pushBytes(DGRAM_OUT, ev.t, ev.id, ev.data, ev.to, undefined);
        return this.pushBytes(SEND, ev.t, ev.id, ev.data, undefined, undefined);
      case 'data':
        return this.pushBytes(DATA, ev.t, ev.id, ev.data, undefined, undefined);
      case 'datagram':
        return this.pushBytes(DGRAM_IN, ev.t, ev.id, ev.data, ev.from, undefined);
      case 'relay':
        return this.pushBytes(RELAY, ev.t, ev.id, ev.data, ev.from, ev.to);
      case 'connect':
        return void this.push(CONNECT, ev.t, ev.id, ev.local, ev.remote, undefined);
      case 'accept':
        return void this.push(ACCEPT, ev.t, ev.id, ev.local, ev.remote, ev.server);
      case 'listening':
        if (ev.kind === 'udp') this.push(BOUND, ev.t, ev.id, formatLocal(ev.address, ev.port), undefined, undefined);
        return;
      case 'secure':
        return void this.push(SECURE, ev.t, ev.id, `${ev.protocol.replace(/^TLSv/, 'TLS ')} handshake${ev.alpn === null ? '' : ` (ALPN ${ev.alpn})`}`, ev.role, undefined);
      case 'shutdown':
        return void this.push(FIN_OUT, ev.t, ev.id, undefined, undefined, undefined);
      case 'end':
        return void this.push(FIN_IN, ev.t, ev.id, undefined, undefined, undefined);
      case 'close':
        if (ev.id.startsWith('c') || ev.id.startsWith('u')) this.push(ev.reset ? RST : CLOSED, ev.t, ev.id, undefined, undefined, undefined);
        return;
      case 'timeout':
        this.push(TIMEOUT, ev.t, ev.id, undefined, undefined, undefined);
        // An idle timeout destroys the socket without an RST: the peer sees a FIN, sent now.
        if (ev.destroyed) this.push(FIN_OUT, ev.t, ev.id, undefined, undefined, undefined);
        return;
      case 'error':
        if (ev.id !== undefined) this.push(ERROR, ev.t, ev.id, ev.code, undefined, undefined);
        return;
    }
  };

  /** Whether a byte event continues the byte step in `slot` (of `kind`, within MERGE_MS). */
  private merges(ev: SessionEvent, kind: number, slot: number): ev is Extract<SessionEvent, { data: Buffer }> {
    switch (ev.type) {
      case 'data':
        return kind === DATA && this.ids[slot] === ev.id;
      case 'send':
        if (ev.to !== undefined) return kind === DGRAM_OUT && this.ids[slot] === ev.id && this.a[slot] === ev.to;
        return kind === SEND && this.ids[slot] === ev.id;
      case 'datagram':
        return kind === DGRAM_IN && this.ids[slot] === ev.id && this.a[slot] === ev.from;
      case 'relay':
        return kind === RELAY && this.a[slot] === ev.from;
      default:
        return false;
    }
  }

  /** Write a step into the next slot of the ring (the front cut in batches past the limit); returns the slot. */
  private push(kind: number, t: number, id: string, a: string | undefined, b: string | undefined, c: string | undefined): number {
    if (this.pushed === 0) this.allocate();
    const slot = this.pushed % SLOTS;
    this.pushed++;
    // Cut in batches, as the array of steps this replaced was (splice per step moved 5,000 entries).
    if (this.pushed - this.first >= HISTORY_LIMIT + HISTORY_SLACK) {
      const n = this.pushed - this.first - HISTORY_LIMIT;
      this.first += n;
      this.dropped += n;
    }
    this.kinds[slot] = kind;
    this.times[slot] = t;
    this.lasts[slot] = t;
    this.ids[slot] = id;
    this.a[slot] = a;
    this.b[slot] = b;
    this.c[slot] = c;
    return slot;
  }

  /** Make the columns, SLOTS long each (at the first step). */
  private allocate(): void {
    this.kinds = new Uint8Array(SLOTS);
    this.times = new Float64Array(SLOTS);
    this.lasts = new Float64Array(SLOTS);
    this.byteCounts = new Float64Array(SLOTS);
    this.chunkCounts = new Float64Array(SLOTS);
    this.previewLengths = new Uint8Array(SLOTS);
    this.ring = Buffer.alloc(SLOTS * PREVIEW);
    this.ids = strings();
    this.a = strings();
    this.b = strings();
    this.c = strings();
  }

  private pushBytes(kind: number, t: number, id: string, data: Buffer, a: string | undefined, b: string | undefined): void {
    const slot = this.push(kind, t, id, a, b, undefined);
    this.byteCounts[slot] = data.length;
    this.chunkCounts[slot] = 1;
    // A copy, not the chunk: a chunk must not be kept alive for its first
    // bytes, and a buffer written from JS may change afterwards. (By hand: for
    // ≤ 24 bytes it is cheaper than Buffer#copy's native call.)
    const n = data.length < PREVIEW ? data.length : PREVIEW;
    this.previewLengths[slot] = n;
    const ring = this.ring;
    const at = slot * PREVIEW;
    if (n === PREVIEW) copyFullPreview(ring, at, data);
    else for (let i = 0; i < n; i++) ring[at + i] = data[i] as number;
  }

  /** The step in `slot` as an object, its preview a copy. */
  private stepAt(slot: number): Step {
    const kind = this.kinds[slot] as number;
    const t = this.times[slot] as number;
    const id = this.ids[slot] as string;
    const a = this.a[slot] as string;
    const b = this.b[slot] as string;
    if (kind <= RELAY) {
      const at = slot * PREVIEW;
      const chunks = this.chunkCounts[slot] as number;
      const common = {
        t,
        id,
        bytes: this.byteCounts[slot] as number,
        preview: Buffer.from(this.ring.subarray(at, at + (this.previewLengths[slot] as number))),
        chunks,
        ...(chunks > 1 && { last: this.lasts[slot] as number }),
      };
      if (kind === DGRAM_OUT || kind === DGRAM_IN) return { ...common, kind: KINDS[kind] as ByteStep['kind'] & ('dgram-out' | 'dgram-in'), peer: a };
      if (kind === RELAY) return { ...common, kind: 'relay', from: a, to: b };
      return { ...common, kind: KINDS[kind] as 'send' | 'data' };
    }
    switch (kind) {
      case CONNECT:
        return { t, kind: 'connect', id, local: a, remote: b };
      case ACCEPT:
        return { t, kind: 'accept', id, local: a, remote: b, server: this.c[slot] as string };
      case BOUND:
        return { t, kind: 'bound', id, local: a };
      case SECURE:
        return { t, kind: 'secure', id, role: b as 'client' | 'server', label: a };
      case ERROR:
        return { t, kind: 'error', id, code: a };
      default:
        return { t, kind: KINDS[kind] as 'fin-out' | 'fin-in' | 'rst' | 'closed' | 'timeout', id };
    }
  }
}

/**
 * The first PREVIEW (24) bytes of `d` into `r` at `at`, at constant offsets.
 * Measured under callgrind (docs/performance.md, "Round 2, session 6"): a
 * loop over the 24 bytes cost ~500 instructions per chunk (each byte checked
 * against both arrays' bounds), these 24 stores ~70; a ping-pong copies two
 * previews per round trip.
 */
function copyFullPreview(r: Buffer, at: number, d: Buffer): void {
  r[at + 0] = d[0] as number; r[at + 1] = d[1] as number; r[at + 2] = d[2] as number; r[at + 3] = d[3] as number;
  r[at + 4] = d[4] as number; r[at + 5] = d[5] as number; r[at + 6] = d[6] as number; r[at + 7] = d[7] as number;
  r[at + 8] = d[8] as number; r[at + 9] = d[9] as number; r[at + 10] = d[10] as number; r[at + 11] = d[11] as number;
  r[at + 12] = d[12] as number; r[at + 13] = d[13] as number; r[at + 14] = d[14] as number; r[at + 15] = d[15] as number;
  r[at + 16] = d[16] as number; r[at + 17] = d[17] as number; r[at + 18] = d[18] as number; r[at + 19] = d[19] as number;
  r[at + 20] = d[20] as number; r[at + 21] = d[21] as number; r[at + 22] = d[22] as number; r[at + 23] = d[23] as number;
}

/** A column of strings, one per slot. */
function strings(): (string | undefined)[] {
  return new Array<string | undefined>(SLOTS).fill(undefined);
}

function formatLocal(address: string, port: number | undefined): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
