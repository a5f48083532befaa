import type { BytePattern, PatternMatch } from '../protocols/pattern.js';

/** What `.expect` and `.on` look for: literal bytes, or a regular expression (RE2, linear time) over the bytes as UTF-8. */
export type Pattern = { kind: 'bytes'; bytes: Buffer } | { kind: 'regex'; regex: BytePattern };

/** Bytes kept per window; older unmatched bytes are dropped (a pattern must fit in this window). */
export const EXPECT_WINDOW = 1024 * 1024;
/**
 * How far a window may grow past EXPECT_WINDOW before it is cut back: cutting
 * on every chunk would move an array of thousands of small chunks per chunk.
 */
export const EXPECT_SLACK = 256 * 1024;
/**
 * Chunks at least this long that the caller owns (nobody writes into their
 * memory again: a socket's 'data' chunk) are kept by reference, not copied.
 */
export const EXPECT_KEEP_OWNED = 4 * 1024;
/**
 * Memory a socket reads into again (its own read buffer, tcp-read-buffer.ts):
 * a chunk that is a view of it is copied, even when the caller says it owns it.
 */
const readIntoAgain = new WeakSet<ArrayBufferLike>();

/** Say that `memory` is read into again (or, `again` false, no longer): a window copies views of it. */
export function markReadIntoAgain(memory: ArrayBufferLike, again = true): void {
  if (again) readIntoAgain.add(memory);
  else readIntoAgain.delete(memory);
}
/** Bytes per block a window copies chunks into. */
export const WINDOW_BLOCK = 16 * 1024;
/** Free blocks kept for reuse, over all windows of the process: at most 2 MiB. */
const POOL_MAX = 128;
const pool: Buffer[] = [];
/** The shortest pause between two full rescans of a window for a regex that can match any length, ms. */
export const RESCAN_MS = 10;

/** A run of a window's bytes: `buf[start, end)`. A pooled block goes back to the pool when the window drops it. */
interface Segment {
  buf: Buffer;
  start: number;
  end: number;
  pooled: boolean;
}

/**
 * The bytes a stream received since its last match, searched incrementally:
 * the one search of `.expect` (per socket) and `.on` (per rule and socket).
 * A chunk is copied into blocks of WINDOW_BLOCK bytes that the window owns
 * and, once dropped, hands back to a small pool shared by all windows, unless
 * the caller owns it and it is long (EXPECT_KEEP_OWNED): then it is kept by
 * reference. So a relay may read every chunk into one buffer it reuses
 * (docs/performance.md, "Round 2, session 5: relay"), a TCP socket's long
 * chunks cost no copy, and a flood of short ones no object per chunk. No view
 * of a block leaves the window (`take` and `all` copy). Bytes are joined only when a
 * search looks, and a search looks only at what is new (a regex of unbounded
 * length rescans the whole window at most every RESCAN_MS or when the window
 * grew by a quarter, so a flood costs a bounded multiple of its size). The
 * owner bounds it with `trim`.
 */
export class ByteWindow {
  /** Unmatched bytes, oldest first. */
  private segs: Segment[] = [];
  /** Bytes in the window. */
  bytes = 0;
  /**
   * Bytes of the window already searched without a match: a literal search
   * starts near there, a regex one looks back only as far as a match can span.
   */
  private searched = 0;
  /** When a regex of unbounded length may next rescan the whole window (ms since epoch). */
  private rescanAt = 0;
  /** True when a regex left new bytes unsearched until its rescan is due (`rescanDue` says when). */
  deferred = false;

  /**
   * Keep a chunk's bytes: a copy onto the end of the last block, then into
   * blocks from the pool. `owned`: nobody writes into the chunk's memory
   * again, so a long one may be kept by reference.
   */
  append(data: Uint8Array, owned = false): void {
    const n = data.length;
    this.bytes += n;
    if (owned && n >= EXPECT_KEEP_OWNED && !readIntoAgain.has(data.buffer)) {
      this.segs.push({ buf: Buffer.from(data.buffer, data.byteOffset, n), start: 0, end: n, pooled: false });
      return;
    }
    let at = 0;
    const last = this.segs[this.segs.length - 1];
    if (last !== undefined && last.pooled && last.end < WINDOW_BLOCK) {
      at = Math.min(WINDOW_BLOCK - last.end, n);
      last.buf.set(at === n ? data : data.subarray(0, at), last.end);
      last.end += at;
    }
    while (at < n) {
      const buf = pool.pop() ?? Buffer.allocUnsafeSlow(WINDOW_BLOCK);
      const take = Math.min(WINDOW_BLOCK, n - at);
      buf.set(at === 0 && take === n ? data : data.subarray(at, at + take), 0);
      this.segs.push({ buf, start: 0, end: take, pooled: true });
      at += take;
    }
  }

  /** Search from the start again (a new `.expect` begins). */
  restart(): void {
    this.searched = 0;
    this.rescanAt = 0;
  }

  /** Runs of bytes held (one per block, so this stays far below the chunk count). */
  get chunkCount(): number {
    return this.segs.length;
  }

  /** Milliseconds until a deferred regex rescan is due (at least 1). */
  rescanDue(now = Date.now()): number {
    return Math.max(1, this.rescanAt - now);
  }

  /**
   * The first match in the window, offsets from its start (nothing is
   * consumed: `take` does that); `all` = search every byte now, even when a
   * regex rescan would be deferred.
   */
  find(pattern: Pattern, all: boolean): PatternMatch | undefined {
    if (this.bytes === 0 || (this.searched >= this.bytes && !all)) return undefined;
    return pattern.kind === 'bytes' ? this.findBytes(pattern.bytes) : this.findRegex(pattern.regex, all);
  }

  /** The first `end` bytes, copied out and removed from the window; the search starts over behind them. */
  take(end: number): Buffer {
    const taken = this.copy(end);
    this.trim(this.bytes - end);
    this.searched = 0;
    return taken;
  }

  /** Every byte in the window, copied (for messages). */
  all(): Buffer {
    return this.copy(this.bytes);
  }

  /**
   * Drop the oldest bytes until `keep` are left; returns how many were dropped.
   * Cuts inside a block when needed: a window that is one big run (a regex
   * joins it) must still shrink. Blocks dropped whole go back to the pool.
   */
  trim(keep: number): number {
    const excess = this.bytes - keep;
    if (excess <= 0) return 0;
    let left = excess;
    let whole = 0;
    for (;;) {
      const seg = this.segs[whole];
      if (seg === undefined || seg.end - seg.start > left) break;
      left -= seg.end - seg.start;
      if (seg.pooled && pool.length < POOL_MAX) pool.push(seg.buf);
      whole++;
    }
    // One splice for all the whole runs (shift() per run would be quadratic).
    if (whole > 0) this.segs.splice(0, whole);
    if (left > 0) (this.segs[0] as Segment).start += left;
    this.bytes -= excess;
    this.searched = Math.max(0, this.searched - excess);
    return excess;
  }

  /** The first `n` bytes as a new Buffer of their own. */
  private copy(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    for (const seg of this.segs) {
      if (at >= n) break;
      const take = Math.min(seg.end - seg.start, n - at);
      seg.buf.copy(out, at, seg.start, seg.start + take);
      at += take;
    }
    return out;
  }

  /** A literal: only the bytes not searched yet (plus the overlap a pattern split across chunks needs) are joined. */
  private findBytes(bytes: Buffer): PatternMatch | undefined {
    const from = this.searched;
    const at = this.suffix(from).indexOf(bytes);
    if (at === -1) {
      this.searched = Math.max(from, this.bytes - bytes.length + 1);
      return undefined;
    }
    return { start: from + at, end: from + at + bytes.length, captures: [] };
  }

  /**
   * A regex. A match the last search could not see ends at most 4 bytes (one
   * character that `\b` or `$` looks at) before the old end of the window, so
   * it starts no earlier than that minus the longest match. With a bound, only
   * that tail is joined and searched, with 4 bytes of context before it; without
   * one, the whole window is searched again, but at most every RESCAN_MS (scaled
   * with what a search costs) unless the window grew by a quarter or `all`.
   */
  private findRegex(regex: BytePattern, all: boolean): PatternMatch | undefined {
    const from = Math.max(0, this.searched - 4 - regex.maxLength);
    const unbounded = regex.maxLength === Infinity;
    this.deferred = unbounded && !all && this.searched > 0 && this.bytes - this.searched < this.searched / 4 && Date.now() < this.rescanAt;
    if (this.deferred) return undefined;
    const base = Math.max(0, from - 4);
    const started = Date.now();
    const window = this.suffix(base);
    if (base === 0 && this.segs.length > 1) {
      // The joined window replaces its pieces, so the next full search joins only what came since.
      for (const seg of this.segs) if (seg.pooled && pool.length < POOL_MAX) pool.push(seg.buf);
      this.segs = [{ buf: window, start: 0, end: window.length, pooled: false }];
    }
    const m = regex.find(window, from - base);
    this.searched = this.bytes;
    if (unbounded) this.rescanAt = Date.now() + Math.max(RESCAN_MS, 4 * (Date.now() - started));
    if (m === undefined) return undefined;
    const shift = (s: { start: number; end: number } | undefined) => (s === undefined ? undefined : { start: base + s.start, end: base + s.end });
    return { start: base + m.start, end: base + m.end, captures: m.captures.map(shift) };
  }

  /**
   * The window's bytes from offset `from` to the end: a view when one run
   * holds them, else joined into a new Buffer. A view of a block is only
   * searched, never handed out.
   */
  private suffix(from: number): Buffer {
    const want = this.bytes - from;
    let have = 0;
    let i = this.segs.length;
    while (have < want && i > 0) {
      const seg = this.segs[--i] as Segment;
      have += seg.end - seg.start;
    }
    if (i === this.segs.length - 1) {
      const seg = this.segs[i] as Segment;
      return seg.buf.subarray(seg.end - want, seg.end);
    }
    const parts: Buffer[] = [];
    for (let j = i; j < this.segs.length; j++) {
      const seg = this.segs[j] as Segment;
      parts.push(seg.buf.subarray(seg.start, seg.end));
    }
    const joined = Buffer.concat(parts, have);
    return joined.subarray(have - want);
  }
}
