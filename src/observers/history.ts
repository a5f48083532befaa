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
/** A step as kept: a byte step's preview is a slot of the ring (`at`, `n` bytes), not a Buffer of its own. */
type Kept = Exclude<Step, ByteStep> | (ByteStep extends infer S ? (S extends ByteStep ? Omit<S, 'preview'> & { at: number; n: number } : never) : never);

/**
 * The timeline subscriber: keeps the last HISTORY_LIMIT steps of the session
 * (connects, bytes, FIN, RST, closes) for `.timeline`.
 *
 * The data path allocates nothing here but a step per burst: the first bytes
 * of each chunk are copied into one ring of SLOTS × PREVIEW bytes (a Buffer
 * per step, alive for 5,000 steps, cost a third of a ping-pong's per-event
 * work in allocation and GC). `steps` reads them out when asked.
 */
export class History {
  private readonly kept: Kept[] = [];
  private readonly ring = Buffer.alloc(SLOTS * PREVIEW);
  /** Steps ever pushed: step number N has slot N % SLOTS, so no two kept steps share one. */
  private pushed = 0;
  /** Steps dropped off the front. */
  dropped = 0;

  /** The event kinds that make a step (`record`'s `types` when subscribed); the others change nothing. */
  static readonly TYPES = ['connect', 'accept', 'listening', 'relay', 'datagram', 'send', 'data', 'secure', 'shutdown', 'end', 'close', 'timeout', 'error'] as const;

  /** The steps kept, oldest first: a new array each time, with each preview a copy. */
  get steps(): Step[] {
    return this.kept.map((k) => {
      if (!('at' in k)) return k;
      const { at, n, ...step } = k;
      return { ...step, preview: Buffer.from(this.ring.subarray(at, at + n)) } as Step;
    });
  }

  readonly record = (ev: SessionEvent): void => {
    // A burst of chunks in one direction (nothing between them, each within
    // MERGE_MS of the one before) is one step: a flood costs a counter, not a
    // copy per chunk, while writes typed one by one stay apart.
    const last = this.kept[this.kept.length - 1];
    if ((ev.type === 'data' || ev.type === 'send') && last?.kind === ev.type && last.id === ev.id && ev.t - (last.last ?? last.t) <= MERGE_MS) {
      last.bytes += ev.data.length;
      last.chunks++;
      last.last = ev.t;
      return;
    }
    if (ev.type === 'relay' && last?.kind === 'relay' && last.from === ev.from && ev.t - (last.last ?? last.t) <= MERGE_MS) {
      last.bytes += ev.data.length;
      last.chunks++;
      last.last = ev.t;
      return;
    }
    if ((ev.type === 'datagram' || ev.type === 'send') && (last?.kind === 'dgram-out' || last?.kind === 'dgram-in') && last.id === ev.id && ev.t - (last.last ?? last.t) <= MERGE_MS) {
      const peer = ev.type === 'datagram' ? (last.kind === 'dgram-in' ? ev.from : undefined) : last.kind === 'dgram-out' ? ev.to : undefined;
      if (peer !== undefined && peer === last.peer) {
        last.bytes += ev.data.length;
        last.chunks++;
        last.last = ev.t;
        return;
      }
    }
    const step = this.toStep(ev);
    if (step) this.push(step);
    // An idle timeout destroys the socket without an RST: the peer sees a FIN, sent now.
    if (ev.type === 'timeout' && ev.destroyed) this.push({ t: ev.t, kind: 'fin-out', id: ev.id });
  };

  private push(step: Kept): void {
    this.kept.push(step);
    this.pushed++;
    // Cut in batches: shift() per step would move 5,000 entries per event.
    if (this.kept.length >= HISTORY_LIMIT + HISTORY_SLACK) {
      const n = this.kept.length - HISTORY_LIMIT;
      this.kept.splice(0, n);
      this.dropped += n;
    }
  }

  /**
   * Copy the first bytes of a chunk into the slot of the step about to be
   * pushed; returns where. A copy, not the chunk: a chunk must not be kept
   * alive for them, and a buffer written from JS may change afterwards.
   * (A loop: for ≤ 24 bytes it is cheaper than Buffer#copy's native call.)
   */
  private preview(data: Buffer): number {
    const n = previewLength(data);
    const at = (this.pushed % SLOTS) * PREVIEW;
    const ring = this.ring;
    for (let i = 0; i < n; i++) ring[at + i] = data[i] as number;
    return at;
  }

  private toStep(ev: SessionEvent): Kept | undefined {
    switch (ev.type) {
      case 'connect':
        return { t: ev.t, kind: 'connect', id: ev.id, local: ev.local, remote: ev.remote };
      case 'accept':
        return { t: ev.t, kind: 'accept', id: ev.id, local: ev.local, remote: ev.remote, server: ev.server };
      case 'listening':
        return ev.kind === 'udp' ? { t: ev.t, kind: 'bound', id: ev.id, local: formatLocal(ev.address, ev.port) } : undefined;
      case 'relay':
        return { t: ev.t, kind: 'relay', id: ev.id, from: ev.from, to: ev.to, bytes: ev.data.length, at: this.preview(ev.data), n: previewLength(ev.data), chunks: 1 };
      case 'datagram':
        return { t: ev.t, kind: 'dgram-in', id: ev.id, peer: ev.from, bytes: ev.data.length, at: this.preview(ev.data), n: previewLength(ev.data), chunks: 1 };
      case 'send':
      case 'data': {
        const at = this.preview(ev.data);
        const n = previewLength(ev.data);
        if (ev.type === 'send' && ev.to !== undefined) {
          return { t: ev.t, kind: 'dgram-out', id: ev.id, peer: ev.to, bytes: ev.data.length, at, n, chunks: 1 };
        }
        return { t: ev.t, kind: ev.type, id: ev.id, bytes: ev.data.length, at, n, chunks: 1 };
      }
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
}

function previewLength(data: Buffer): number {
  return data.length < PREVIEW ? data.length : PREVIEW;
}

function formatLocal(address: string, port: number | undefined): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
