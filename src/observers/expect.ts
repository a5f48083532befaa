import { sleepUntilWoken } from './wake.js';
import { SocklabError } from '../errors.js';
import { compilePattern, type BytePattern } from '../protocols/pattern.js';
import type { SessionEvent } from '../session/events.js';
import { DatagramExpects } from './expect-datagrams.js';
import { ByteWindow, EXPECT_SLACK, EXPECT_WINDOW, type Pattern } from './byte-window.js';

export { EXPECT_SLACK, EXPECT_WINDOW, RESCAN_MS, type Pattern } from './byte-window.js';

/**
 * Bytes kept for `.expect` over all sockets. Past it, the socket that is
 * receiving keeps only its last EXPECT_MIN_KEEP bytes, so 10,000 busy sockets
 * cannot hold 10,000 windows: the bound is EXPECT_BUDGET + EXPECT_WINDOW +
 * EXPECT_MIN_KEEP per socket (64 MiB + 1 MiB + 160 MiB for 10,000 sockets).
 */
export const EXPECT_BUDGET = 64 * 1024 * 1024;
export const EXPECT_MIN_KEEP = 16 * 1024;

/** Read `/regex/flags` (see compilePattern); anything else is not a regex (undefined). Bad regex → E_BAD_PAYLOAD. */
export function parseRegexPattern(text: string): BytePattern | undefined {
  return compilePattern(text);
}

/** A socket's window and the `.expect` waiting on it. */
interface Stream {
  window: ByteWindow;
  waiter: (() => void) | undefined;
}

/**
 * The bytes each socket received since its last `.expect` match. The data
 * path copies each chunk into blocks the window owns (ByteWindow);
 * bytes are joined only when an `.expect` looks, never more than
 * EXPECT_WINDOW of them, and a waiting `.expect` searches only what is new
 * (a regex of unbounded length rescans at most every RESCAN_MS or when the
 * window grew by a quarter, so a flood costs a bounded multiple of its size).
 */
export class ExpectBuffers {
  private readonly streams = new Map<string, Stream>();
  /** Bytes kept over all streams. */
  private total = 0;

  /** Datagrams of UDP sockets: matched one at a time (boundaries kept). */
  private readonly datagrams = new DatagramExpects();

  /** The event kinds `record` reads (its `types` when subscribed). */
  static readonly TYPES = ['data', 'relay', 'datagram', 'end', 'close'] as const;

  /** The subscriber: `session.subscribe(buffers.record, { types: ExpectBuffers.TYPES })`. */
  readonly record = (ev: SessionEvent): void => {
    if (ev.type === 'datagram') return this.datagrams.record(ev);
    if (ev.type === 'close') this.datagrams.record(ev);
    if (ev.type === 'data' || ev.type === 'relay') {
      // A relayed chunk is what its link socket (`from`) received.
      const s = this.stream(ev.type === 'relay' ? ev.from : ev.id);
      const w = s.window;
      // A socket's 'data' chunk is its own (Node reads each into fresh memory); a relayed one may be lent (relay-reader.ts).
      w.append(ev.data, ev.type === 'data');
      this.total += ev.data.length;
      if (w.bytes > EXPECT_WINDOW + EXPECT_SLACK) this.total -= w.trim(EXPECT_WINDOW);
      if (this.total > EXPECT_BUDGET && w.bytes > EXPECT_MIN_KEEP) this.total -= w.trim(EXPECT_MIN_KEEP);
      s.waiter?.();
    } else if (ev.type === 'end' || ev.type === 'close') {
      this.streams.get(ev.id)?.waiter?.();
    }
  };

  /**
   * Resolve with the received bytes up to the end of the match (consumed);
   * reject on timeout, or when the socket can send no more (`ended()`), with
   * what did arrive on the error as `received`. Every byte that arrived is
   * searched before a miss is reported.
   */
  async expect(id: string, pattern: Pattern, timeoutMs: number, ended: () => boolean, signal?: AbortSignal, boundaries = false): Promise<Buffer> {
    if (boundaries) return this.datagrams.expect(id, pattern, timeoutMs, ended, signal);
    const s = this.stream(id);
    if (s.waiter) throw new SocklabError('E_STATE', `an .expect on ${id} is already waiting`);
    const deadline = Date.now() + timeoutMs;
    s.window.restart();
    try {
      for (;;) {
        const left = deadline - Date.now();
        const last = ended() || left <= 0 || signal?.aborted === true;
        const matched = this.match(s, pattern, last);
        if (matched) return matched;
        if (ended()) throw this.miss(id, s, 'the peer closed before it arrived');
        if (left <= 0) throw this.miss(id, s, `timed out after ${timeoutMs} ms`);
        if (signal?.aborted) throw this.miss(id, s, 'cancelled', 'E_CANCELLED');
        // Bytes a regex left for later are searched when the rescan is due, even if nothing more comes.
        const wakeIn = s.window.deferred ? Math.min(left, s.window.rescanDue()) : left;
        await sleepUntilWoken(wakeIn, signal, (wake) => (s.waiter = wake));
      }
    } finally {
      s.waiter = undefined;
    }
  }

  /** Bytes kept over all sockets (bounded by EXPECT_BUDGET plus one window). */
  keptBytes(): number {
    return this.total;
  }

  /** Buffers held over all sockets (short chunks are gathered, so this stays far below the chunk count). */
  keptChunks(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.window.chunkCount;
    return n;
  }

  /** What arrived on `id` since the last match (for messages). */
  pending(id: string): Buffer {
    const s = this.streams.get(id);
    return s ? s.window.all() : Buffer.alloc(0);
  }

  forget(id: string): void {
    this.datagrams.forget(id);
    const s = this.streams.get(id);
    if (s && !s.waiter) {
      this.total -= s.window.bytes;
      this.streams.delete(id);
    }
  }

  /** The end of the first match in the window, consumed; `all` = search every byte now. */
  private match(s: Stream, pattern: Pattern, all: boolean): Buffer | undefined {
    const m = s.window.find(pattern, all);
    if (m === undefined) return undefined;
    this.total -= m.end;
    return s.window.take(m.end);
  }

  private miss(id: string, s: Stream, why: string, code: 'E_EXPECT' | 'E_CANCELLED' = 'E_EXPECT'): SocklabError & { received: Buffer } {
    const received = s.window.all();
    const err = new SocklabError(code, `expect ${id} ${why}`) as SocklabError & { received: Buffer };
    err.received = received;
    return err;
  }

  private stream(id: string): Stream {
    let s = this.streams.get(id);
    if (!s) {
      s = { window: new ByteWindow(), waiter: undefined };
      this.streams.set(id, s);
    }
    return s;
  }
}

