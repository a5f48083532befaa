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
 * Chunks shorter than this are copied into a shared block instead of being
 * kept as one Buffer each: 6 million one-byte chunks must not cost 6 million
 * objects (about 150 B each). Longer chunks are kept by reference.
 */
export const EXPECT_COALESCE = 4 * 1024;
const BLOCK = 16 * 1024;
/** The shortest pause between two full rescans of a window for a regex that can match any length, ms. */
export const RESCAN_MS = 10;

/**
 * The bytes a stream received since its last match, searched incrementally:
 * the one search of `.expect` (per socket) and `.on` (per rule and socket).
 * Long chunks are kept by reference and short ones gathered into blocks;
 * bytes are joined only when a search looks, and a search looks only at what
 * is new (a regex of unbounded length rescans the whole window at most every
 * RESCAN_MS or when the window grew by a quarter, so a flood costs a bounded
 * multiple of its size). The owner bounds it with `trim`.
 */
export class ByteWindow {
  /** Unmatched bytes, oldest first: long chunks by reference, short ones gathered into blocks. */
  private chunks: Buffer[] = [];
  /** Bytes in the window. */
  bytes = 0;
  /** The block the last chunk lies in, while short chunks are still copied into it; `used` bytes of it are taken. */
  private block: Buffer | undefined;
  private used = 0;
  /**
   * Where in `block` the last chunk starts, and whether that chunk (a view)
   * still ends before `used`: appending only copies, and the view is made
   * again when something reads the chunks (`sync`). A view per append was
   * an object per chunk, a third of this subscriber's cost in a ping-pong.
   */
  private blockFrom = 0;
  private stale = false;
  /**
   * Bytes of the window already searched without a match: a literal search
   * starts near there, a regex one looks back only as far as a match can span.
   */
  private searched = 0;
  /** When a regex of unbounded length may next rescan the whole window (ms since epoch). */
  private rescanAt = 0;
  /** True when a regex left new bytes unsearched until its rescan is due (`rescanDue` says when). */
  deferred = false;

  /** Keep a chunk: a long one by reference, a short one copied onto the end of the current block. */
  append(data: Buffer): void {
    this.bytes += data.length;
    if (data.length >= EXPECT_COALESCE) {
      this.sync();
      this.chunks.push(data);
      this.block = undefined;
      return;
    }
    const block = this.block;
    if (block !== undefined && this.used + data.length <= block.length) {
      block.set(data, this.used);
      this.used += data.length;
      // The last chunk is a view of the block that grows with it (made again by `sync`).
      this.stale = true;
      return;
    }
    this.sync();
    this.block = Buffer.allocUnsafe(BLOCK);
    this.block.set(data, 0);
    this.used = data.length;
    this.blockFrom = 0;
    this.chunks.push(this.block.subarray(0, this.used));
  }

  /** Make the last chunk cover what was appended to its block since it was made (see `stale`). */
  private sync(): void {
    if (!this.stale) return;
    this.stale = false;
    if (this.block !== undefined) this.chunks[this.chunks.length - 1] = this.block.subarray(this.blockFrom, this.used);
  }

  /** Search from the start again (a new `.expect` begins). */
  restart(): void {
    this.searched = 0;
    this.rescanAt = 0;
  }

  /** Buffers held (short chunks are gathered, so this stays far below the chunk count). */
  get chunkCount(): number {
    this.sync();
    return this.chunks.length;
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
    this.sync();
    return pattern.kind === 'bytes' ? this.findBytes(pattern.bytes) : this.findRegex(pattern.regex, all);
  }

  /** The first `end` bytes, removed from the window; the search starts over behind them. */
  take(end: number): Buffer {
    this.sync();
    const taken = this.suffix(0).subarray(0, end);
    this.trim(this.bytes - end);
    this.searched = 0;
    return taken;
  }

  /** Every byte in the window, joined (for messages). */
  all(): Buffer {
    this.sync();
    return Buffer.concat(this.chunks, this.bytes);
  }

  /**
   * Drop the oldest bytes until `keep` are left; returns how many were dropped.
   * Cuts inside a chunk when needed: a window that is one big chunk (a regex
   * joins it) must still shrink.
   */
  trim(keep: number): number {
    const excess = this.bytes - keep;
    if (excess <= 0) return 0;
    this.sync();
    let whole = 0;
    let cut = 0;
    while (whole < this.chunks.length && cut + (this.chunks[whole] as Buffer).length <= excess) cut += (this.chunks[whole++] as Buffer).length;
    // One splice for all the whole chunks (shift() per chunk would be quadratic).
    if (whole > 0) this.chunks.splice(0, whole);
    if (cut < excess) this.chunks[0] = (this.chunks[0] as Buffer).subarray(excess - cut);
    // The last chunk may no longer be the block's growing view: start a new block.
    this.block = undefined;
    this.bytes -= excess;
    this.searched = Math.max(0, this.searched - excess);
    return excess;
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
    if (base === 0) {
      // The joined window replaces its pieces, so the next full search joins only what came since.
      this.chunks = [window];
      this.block = undefined;
    }
    const m = regex.find(window, from - base);
    this.searched = this.bytes;
    if (unbounded) this.rescanAt = Date.now() + Math.max(RESCAN_MS, 4 * (Date.now() - started));
    if (m === undefined) return undefined;
    const shift = (s: { start: number; end: number } | undefined) => (s === undefined ? undefined : { start: base + s.start, end: base + s.end });
    return { start: base + m.start, end: base + m.end, captures: m.captures.map(shift) };
  }

  /** The window's bytes from offset `from` to the end, joined (a view when one chunk holds them). */
  private suffix(from: number): Buffer {
    this.sync();
    const want = this.bytes - from;
    let have = 0;
    let i = this.chunks.length;
    while (have < want && i > 0) have += (this.chunks[--i] as Buffer).length;
    const parts = this.chunks.slice(i);
    const joined = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, have);
    return joined.subarray(have - want);
  }
}
