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

/** Steps kept; older ones are dropped so a long session stays bounded. */
export const HISTORY_LIMIT = 5000;
/** Steps kept past the limit before a batch is dropped. */
export const HISTORY_SLACK = 500;
/** Bytes of each chunk kept for its label (the timeline shows 16). */
const PREVIEW = 24;
const MERGE_MS = 5;
/** Slots in the preview ring: one per step that can be kept at once. */
const SLOTS = HISTORY_LIMIT + HISTORY_SLACK;

/** The steps that carry bytes. */
type ByteStep = Extract<Step, { preview: Buffer }>;
/** A step that carries no bytes: kept as the object it is (they are rare: one or two per connection). */
type OtherStep = Exclude<Step, ByteStep>;

/** Kind codes of the byte steps, in the `kinds` column; OTHER = the step is in `others`. */
const OTHER = 0;
const BYTE_KINDS = ['', 'send', 'data', 'dgram-out', 'dgram-in', 'relay'] as const;
const SEND = 1;
const DATA = 2;
const DGRAM_OUT = 3;
const DGRAM_IN = 4;
const RELAY = 5;

/**
 * The timeline subscriber: keeps the last HISTORY_LIMIT steps of the session
 * (connects, bytes, FIN, RST, closes) for `.timeline`.
 *
 * The data path allocates nothing here. Byte steps are kept in columns of
 * one ring of SLOTS (typed arrays for times and counts, the first bytes of
 * each chunk in one SLOTS × PREVIEW buffer, arrays of the id strings): an
 * object per step, alive for 5,000 steps, outlived the young generation, so
 * in a ping-pong every step was copied twice by the GC and then marked in
 * the old one. `steps` builds the objects when asked.
 */
export class History {
  /** Step number N is in slot N % SLOTS; steps `first` … `pushed - 1` are kept. */
  private pushed = 0;
  private first = 0;
  /** Steps dropped off the front. */
  dropped = 0;
  private readonly kinds = new Uint8Array(SLOTS);
  private readonly times = new Float64Array(SLOTS);
  /** Time of the last chunk merged into the step (its own time when only one). */
  private readonly lasts = new Float64Array(SLOTS);
  private readonly byteCounts = new Float64Array(SLOTS);
  private readonly chunkCounts = new Float64Array(SLOTS);
  private readonly previewLengths = new Uint8Array(SLOTS);
  private readonly ring = Buffer.alloc(SLOTS * PREVIEW);
  private readonly ids: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
  /** The peer of a datagram step, or the `from` socket of a relay step. */
  private readonly peers: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
  /** The `to` socket of a relay step. */
  private readonly tos: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
  private readonly others: (OtherStep | undefined)[] = new Array<OtherStep | undefined>(SLOTS).fill(undefined);

  /** The event kinds that make a step (`record`'s `types` when subscribed); the others change nothing. */
  static readonly TYPES = ['connect', 'accept', 'listening', 'relay', 'datagram', 'send', 'data', 'secure', 'shutdown', 'end', 'close', 'timeout', 'error'] as const;

  /** The steps kept, oldest first: a new array each time, with each preview a copy. */
  get steps(): Step[] {
    const steps: Step[] = [];
    for (let n = this.first; n < this.pushed; n++) steps.push(this.stepAt(n % SLOTS));
    return steps;
  }

  readonly record = (ev: SessionEvent): void => {
    // A burst of chunks in one direction (nothing between them, each within
    // MERGE_MS of the one before) is one step: a flood costs a counter, not a
    // copy per chunk, while writes typed one by one stay apart.
    if (this.pushed > this.first) {
      const last = (this.pushed - 1) % SLOTS;
      const kind = this.kinds[last];
      if (kind !== OTHER && ev.t - (this.lasts[last] as number) <= MERGE_MS && this.merges(ev, kind as number, last)) {
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
    }
    const step = toStep(ev);
    if (step) this.pushOther(step);
    // An idle timeout destroys the socket without an RST: the peer sees a FIN, sent now.
    if (ev.type === 'timeout' && ev.destroyed) this.pushOther({ t: ev.t, kind: 'fin-out', id: ev.id });
  };

  /** Whether a byte event continues the byte step in `slot` (of `kind`, within MERGE_MS). */
  private merges(ev: SessionEvent, kind: number, slot: number): ev is Extract<SessionEvent, { data: Buffer }> {
    switch (ev.type) {
      case 'data':
        return kind === DATA && this.ids[slot] === ev.id;
      case 'send':
        if (ev.to !== undefined) return kind === DGRAM_OUT && this.ids[slot] === ev.id && this.peers[slot] === ev.to;
        return kind === SEND && this.ids[slot] === ev.id;
      case 'datagram':
        return kind === DGRAM_IN && this.ids[slot] === ev.id && this.peers[slot] === ev.from;
      case 'relay':
        return kind === RELAY && this.peers[slot] === ev.from;
      default:
        return false;
    }
  }

  /** The slot of a new step: the next in the ring, the front cut in batches past the limit. */
  private next(): number {
    const slot = this.pushed % SLOTS;
    this.pushed++;
    // Cut in batches, as the array of steps this replaced was (splice per step moved 5,000 entries).
    if (this.pushed - this.first >= HISTORY_LIMIT + HISTORY_SLACK) {
      const n = this.pushed - this.first - HISTORY_LIMIT;
      this.first += n;
      this.dropped += n;
    }
    return slot;
  }

  private pushBytes(kind: number, t: number, id: string, data: Buffer, peer: string | undefined, to: string | undefined): void {
    const slot = this.next();
    this.kinds[slot] = kind;
    this.times[slot] = t;
    this.lasts[slot] = t;
    this.byteCounts[slot] = data.length;
    this.chunkCounts[slot] = 1;
    this.ids[slot] = id;
    this.peers[slot] = peer;
    this.tos[slot] = to;
    this.others[slot] = undefined;
    // A copy, not the chunk: a chunk must not be kept alive for its first
    // bytes, and a buffer written from JS may change afterwards. (A loop: for
    // ≤ 24 bytes it is cheaper than Buffer#copy's native call.)
    const n = data.length < PREVIEW ? data.length : PREVIEW;
    this.previewLengths[slot] = n;
    const ring = this.ring;
    const at = slot * PREVIEW;
    for (let i = 0; i < n; i++) ring[at + i] = data[i] as number;
  }

  private pushOther(step: OtherStep): void {
    const slot = this.next();
    this.kinds[slot] = OTHER;
    this.others[slot] = step;
    this.ids[slot] = this.peers[slot] = this.tos[slot] = undefined;
  }

  /** The step in `slot` as an object, its preview a copy. */
  private stepAt(slot: number): Step {
    const kind = this.kinds[slot] as number;
    if (kind === OTHER) return this.others[slot] as OtherStep;
    const at = slot * PREVIEW;
    const chunks = this.chunkCounts[slot] as number;
    const common = {
      t: this.times[slot] as number,
      id: this.ids[slot] as string,
      bytes: this.byteCounts[slot] as number,
      preview: Buffer.from(this.ring.subarray(at, at + (this.previewLengths[slot] as number))),
      chunks,
      ...(chunks > 1 && { last: this.lasts[slot] as number }),
    };
    const peer = this.peers[slot] as string;
    switch (kind) {
      case DGRAM_OUT:
      case DGRAM_IN:
        return { ...common, kind: BYTE_KINDS[kind] as 'dgram-out' | 'dgram-in', peer };
      case RELAY:
        return { ...common, kind: 'relay', from: peer, to: this.tos[slot] as string };
      default:
        return { ...common, kind: BYTE_KINDS[kind] as 'send' | 'data' };
    }
  }
}

/** The step an event without bytes makes, if any. */
function toStep(ev: SessionEvent): OtherStep | undefined {
  switch (ev.type) {
    case 'connect':
      return { t: ev.t, kind: 'connect', id: ev.id, local: ev.local, remote: ev.remote };
    case 'accept':
      return { t: ev.t, kind: 'accept', id: ev.id, local: ev.local, remote: ev.remote, server: ev.server };
    case 'listening':
      return ev.kind === 'udp' ? { t: ev.t, kind: 'bound', id: ev.id, local: formatLocal(ev.address, ev.port) } : undefined;
    case 'secure':
      return { t: ev.t, kind: 'secure', id: ev.id, role: ev.role, label: `${ev.protocol.replace(/^TLSv/, 'TLS ')} handshake${ev.alpn === null ? '' : ` (ALPN ${ev.alpn})`}` };
    case 'shutdown':
      return { t: ev.t, kind: 'fin-out', id: ev.id };
    case 'end':
      return { t: ev.t, kind: 'fin-in', id: ev.id };
    case 'close':
      return ev.id.startsWith('c') || ev.id.startsWith('u') ? { t: ev.t, kind: ev.reset ? 'rst' : 'closed', id: ev.id } : undefined;
    case 'timeout':
      return { t: ev.t, kind: 'timeout', id: ev.id };
    case 'error':
      return ev.id === undefined ? undefined : { t: ev.t, kind: 'error', id: ev.id, code: ev.code };
    default:
      return undefined;
  }
}

function formatLocal(address: string, port: number | undefined): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
