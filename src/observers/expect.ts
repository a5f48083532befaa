import { sleepUntilWoken } from './wake.js';
import { SocklabError } from '../errors.js';
import { compilePattern, type BytePattern } from '../protocols/pattern.js';
import type { SessionEvent } from '../session/events.js';
import { DatagramExpects } from './expect-datagrams.js';

/** Bytes kept per socket for `.expect`; older unmatched bytes are dropped (a pattern must fit in this window). */
export const EXPECT_WINDOW = 1024 * 1024;
/**
 * Bytes kept for `.expect` over all sockets. Past it, the socket that is
 * receiving keeps only its last EXPECT_MIN_KEEP bytes, so 10,000 busy sockets
 * cannot hold 10,000 windows: the bound is EXPECT_BUDGET + EXPECT_WINDOW +
 * EXPECT_MIN_KEEP per socket (64 MiB + 1 MiB + 160 MiB for 10,000 sockets).
 */
export const EXPECT_BUDGET = 64 * 1024 * 1024;
export const EXPECT_MIN_KEEP = 16 * 1024;
/**
 * How far a window may grow past EXPECT_WINDOW before it is cut back: cutting
 * on every chunk would move an array of thousands of small chunks per chunk.
 */
export const EXPECT_SLACK = 256 * 1024;

/**
 * Chunks shorter than this are copied into a shared block instead of being
 * kept as one Buffer each: 6 million one-byte chunks must not cost 6 million
 * objects (about 150 B each). Longer chunks are kept by reference.
 */
export const EXPECT_COALESCE = 4 * 1024;
const BLOCK = 16 * 1024;
/** The shortest pause between two full rescans of a window for a regex that can match any length, ms. */
export const RESCAN_MS = 10;

/** What `.expect` looks for: literal bytes, or a regular expression (RE2, linear time) over the bytes as UTF-8. */
export type Pattern = { kind: 'bytes'; bytes: Buffer } | { kind: 'regex'; regex: BytePattern };

/** Read `/regex/flags` (see compilePattern); anything else is not a regex (undefined). Bad regex → E_BAD_PAYLOAD. */
export function parseRegexPattern(text: string): BytePattern | undefined {
  return compilePattern(text);
}

interface Stream {
  /** Unmatched bytes, oldest first: long chunks by reference, short ones gathered into blocks. */
  chunks: Buffer[];
  bytes: number;
  /** The block the last chunk lies in, while short chunks are still copied into it; `used` bytes of it are taken. */
  block: Buffer | undefined;
  used: number;
  /**
   * Bytes of the window already searched without a match: a literal search
   * starts near there, a regex one looks back only as far as a match can span.
   */
  searched: number;
  /** When a regex of unbounded length may next rescan the whole window (ms since epoch). */
  rescanAt: number;
  /** True when a regex left new bytes unsearched until its rescan is due. */
  deferred: boolean;
  waiter: (() => void) | undefined;
}

/**
 * The bytes each socket received since its last `.expect` match. The data
 * path keeps long chunks by reference and gathers short ones into blocks;
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

  /** The subscriber: `session.subscribe(buffers.record)`. */
  readonly record = (ev: SessionEvent): void => {
    if (ev.type === 'datagram') return this.datagrams.record(ev);
    if (ev.type === 'close') this.datagrams.record(ev);
    if (ev.type === 'data' || ev.type === 'relay') {
      // A relayed chunk is what its link socket (`from`) received.
      const s = this.stream(ev.type === 'relay' ? ev.from : ev.id);
      append(s, ev.data);
      this.total += ev.data.length;
      if (s.bytes > EXPECT_WINDOW + EXPECT_SLACK) this.total -= trim(s, EXPECT_WINDOW);
      if (this.total > EXPECT_BUDGET && s.bytes > EXPECT_MIN_KEEP) this.total -= trim(s, EXPECT_MIN_KEEP);
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
    s.searched = 0;
    s.rescanAt = 0;
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
        const wakeIn = s.deferred ? Math.min(left, Math.max(1, s.rescanAt - Date.now())) : left;
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
    for (const s of this.streams.values()) n += s.chunks.length;
    return n;
  }

  /** What arrived on `id` since the last match (for messages). */
  pending(id: string): Buffer {
    const s = this.streams.get(id);
    return s ? Buffer.concat(s.chunks, s.bytes) : Buffer.alloc(0);
  }

  forget(id: string): void {
    this.datagrams.forget(id);
    const s = this.streams.get(id);
    if (s && !s.waiter) {
      this.total -= s.bytes;
      this.streams.delete(id);
    }
  }

  /** The end of the first match in the window, consumed; `all` = search every byte now. */
  private match(s: Stream, pattern: Pattern, all: boolean): Buffer | undefined {
    if (s.bytes === 0 || (s.searched >= s.bytes && !all)) return undefined;
    const end = pattern.kind === 'bytes' ? findBytes(s, pattern.bytes) : findRegex(s, pattern.regex, all);
    if (end === undefined) return undefined;
    const matched = suffix(s, 0).subarray(0, end);
    this.total -= trim(s, s.bytes - end);
    s.searched = 0;
    return matched;
  }

  private miss(id: string, s: Stream, why: string, code: 'E_EXPECT' | 'E_CANCELLED' = 'E_EXPECT'): SocklabError & { received: Buffer } {
    const received = Buffer.concat(s.chunks, s.bytes);
    const err = new SocklabError(code, `expect ${id} ${why}`) as SocklabError & { received: Buffer };
    err.received = received;
    return err;
  }

  private stream(id: string): Stream {
    let s = this.streams.get(id);
    if (!s) {
      s = { chunks: [], bytes: 0, block: undefined, used: 0, searched: 0, rescanAt: 0, deferred: false, waiter: undefined };
      this.streams.set(id, s);
    }
    return s;
  }
}

/** Keep a chunk: a long one by reference, a short one copied onto the end of the current block. */
function append(s: Stream, data: Buffer): void {
  s.bytes += data.length;
  if (data.length >= EXPECT_COALESCE) {
    s.chunks.push(data);
    s.block = undefined;
    return;
  }
  const last = s.chunks[s.chunks.length - 1];
  if (s.block && last && s.used + data.length <= s.block.length) {
    data.copy(s.block, s.used);
    s.used += data.length;
    // The last chunk is a view of the block that grows with it.
    s.chunks[s.chunks.length - 1] = s.block.subarray(s.used - last.length - data.length, s.used);
    return;
  }
  s.block = Buffer.allocUnsafe(BLOCK);
  data.copy(s.block, 0);
  s.used = data.length;
  s.chunks.push(s.block.subarray(0, s.used));
}

/** A literal: only the bytes not searched yet (plus the overlap a pattern split across chunks needs) are joined. */
function findBytes(s: Stream, bytes: Buffer): number | undefined {
  const from = s.searched;
  const at = suffix(s, from).indexOf(bytes);
  if (at === -1) {
    s.searched = Math.max(from, s.bytes - bytes.length + 1);
    return undefined;
  }
  return from + at + bytes.length;
}

/**
 * A regex. A match the last search could not see ends at most 4 bytes (one
 * character that `\b` or `$` looks at) before the old end of the window, so
 * it starts no earlier than that minus the longest match. With a bound, only
 * that tail is joined and searched, with 4 bytes of context before it; without
 * one, the whole window is searched again, but at most every RESCAN_MS (scaled
 * with what a search costs) unless the window grew by a quarter or `all`.
 */
function findRegex(s: Stream, regex: BytePattern, all: boolean): number | undefined {
  const from = Math.max(0, s.searched - 4 - regex.maxLength);
  const unbounded = regex.maxLength === Infinity;
  s.deferred = unbounded && !all && s.searched > 0 && s.bytes - s.searched < s.searched / 4 && Date.now() < s.rescanAt;
  if (s.deferred) return undefined;
  const base = Math.max(0, from - 4);
  const started = Date.now();
  const window = suffix(s, base);
  if (base === 0) {
    // The joined window replaces its pieces, so the next full search joins only what came since.
    s.chunks = [window];
    s.block = undefined;
  }
  const m = regex.find(window, from - base);
  s.searched = s.bytes;
  if (unbounded) s.rescanAt = Date.now() + Math.max(RESCAN_MS, 4 * (Date.now() - started));
  return m === undefined ? undefined : base + m.end;
}

/** The stream's bytes from offset `from` to the end, joined (a view when one chunk holds them). */
function suffix(s: Stream, from: number): Buffer {
  const want = s.bytes - from;
  let have = 0;
  let i = s.chunks.length;
  while (have < want && i > 0) have += (s.chunks[--i] as Buffer).length;
  const parts = s.chunks.slice(i);
  const joined = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, have);
  return joined.subarray(have - want);
}

/**
 * Drop the oldest bytes until `keep` are left; returns how many were dropped.
 * Cuts inside a chunk when needed: a window that is one big chunk (a regex
 * joins it) must still shrink.
 */
function trim(s: Stream, keep: number): number {
  const excess = s.bytes - keep;
  if (excess <= 0) return 0;
  let whole = 0;
  let cut = 0;
  while (whole < s.chunks.length && cut + (s.chunks[whole] as Buffer).length <= excess) cut += (s.chunks[whole++] as Buffer).length;
  // One splice for all the whole chunks (shift() per chunk would be quadratic).
  if (whole > 0) s.chunks.splice(0, whole);
  if (cut < excess) s.chunks[0] = (s.chunks[0] as Buffer).subarray(excess - cut);
  // The last chunk may no longer be the block's growing view: start a new block.
  s.block = undefined;
  s.bytes -= excess;
  s.searched = Math.max(0, s.searched - excess);
  return excess;
}
