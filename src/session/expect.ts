import { SocklabError } from '../errors.js';
import type { SessionEvent } from './events.js';

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

/** What `.expect` looks for: literal bytes, or a regular expression over the UTF-8 text. */
export type Pattern = { kind: 'bytes'; bytes: Buffer } | { kind: 'regex'; regex: RegExp };

/** Read `/regex/flags`; anything else is not a regex (undefined). Bad regex → E_BAD_PAYLOAD. */
export function parseRegexPattern(text: string): RegExp | undefined {
  const m = /^\/(.+)\/([a-z]*)$/s.exec(text);
  if (!m) return undefined;
  try {
    return new RegExp(m[1] ?? '', (m[2] ?? '').replace('g', ''));
  } catch (err) {
    throw new SocklabError('E_BAD_PAYLOAD', `bad regex ${text}: ${(err as Error).message}`, { cause: err });
  }
}

interface Stream {
  /** Unmatched chunks as received (references, not copies), oldest first. */
  chunks: Buffer[];
  bytes: number;
  /** Where the next literal search may start: earlier offsets were searched already. */
  searched: number;
  waiter: (() => void) | undefined;
}

/**
 * The bytes each socket received since its last `.expect` match. The data
 * path only pushes a reference per chunk; bytes are joined only when an
 * `.expect` looks, and never more than EXPECT_WINDOW of them.
 */
export class ExpectBuffers {
  private readonly streams = new Map<string, Stream>();
  /** Bytes kept over all streams. */
  private total = 0;

  /** The subscriber: `session.subscribe(buffers.record)`. */
  readonly record = (ev: SessionEvent): void => {
    if (ev.type === 'data') {
      const s = this.stream(ev.id);
      s.chunks.push(ev.data);
      s.bytes += ev.data.length;
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
   * what did arrive on the error as `received`.
   */
  async expect(id: string, pattern: Pattern, timeoutMs: number, ended: () => boolean, signal?: AbortSignal): Promise<Buffer> {
    const s = this.stream(id);
    if (s.waiter) throw new SocklabError('E_STATE', `an .expect on ${id} is already waiting`);
    const deadline = Date.now() + timeoutMs;
    s.searched = 0;
    try {
      for (;;) {
        const matched = this.match(s, pattern);
        if (matched) return matched;
        if (ended()) throw this.miss(id, s, 'the peer closed before it arrived');
        const left = deadline - Date.now();
        if (left <= 0) throw this.miss(id, s, `timed out after ${timeoutMs} ms`);
        if (signal?.aborted) throw this.miss(id, s, 'cancelled', 'E_CANCELLED');
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', wake);
            resolve();
          };
          const timer = setTimeout(wake, left);
          signal?.addEventListener('abort', wake, { once: true });
          s.waiter = wake;
        });
        s.waiter = undefined;
      }
    } finally {
      s.waiter = undefined;
    }
  }

  /** Bytes kept over all sockets (bounded by EXPECT_BUDGET plus one window). */
  keptBytes(): number {
    return this.total;
  }

  /** What arrived on `id` since the last match (for messages). */
  pending(id: string): Buffer {
    const s = this.streams.get(id);
    return s ? Buffer.concat(s.chunks, s.bytes) : Buffer.alloc(0);
  }

  forget(id: string): void {
    const s = this.streams.get(id);
    if (s && !s.waiter) {
      this.total -= s.bytes;
      this.streams.delete(id);
    }
  }

  private match(s: Stream, pattern: Pattern): Buffer | undefined {
    if (s.bytes === 0) return undefined;
    let end: number;
    if (pattern.kind === 'bytes') {
      // Only the bytes not searched yet (plus the overlap a pattern split
      // across chunks needs) are joined and searched: a chunk costs its size.
      const from = s.searched;
      const at = suffix(s, from).indexOf(pattern.bytes);
      if (at === -1) {
        s.searched = Math.max(from, s.bytes - pattern.bytes.length + 1);
        return undefined;
      }
      end = from + at + pattern.bytes.length;
    } else {
      const window = suffix(s, 0);
      s.chunks = [window];
      const text = window.toString('utf8');
      const m = pattern.regex.exec(text);
      if (!m) return undefined;
      end = utf8Offset(window, text, m.index + m[0].length);
    }
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
      s = { chunks: [], bytes: 0, searched: 0, waiter: undefined };
      this.streams.set(id, s);
    }
    return s;
  }
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
  s.bytes -= excess;
  s.searched = Math.max(0, s.searched - excess);
  return excess;
}

/**
 * The byte offset in `buf` of UTF-16 index `units` of `text` (= buf decoded
 * as UTF-8). Re-encoding the prefix is exact only for valid UTF-8: an invalid
 * byte decodes to U+FFFD, 3 bytes once re-encoded, and a match after it would
 * consume bytes that came after the match. So walk the bytes as the decoder
 * does (one U+FFFD per maximal invalid subpart, WHATWG) when they differ.
 */
function utf8Offset(buf: Buffer, text: string, units: number): number {
  // Equal lengths: every invalid subpart (if any) was 3 bytes, like its U+FFFD.
  if (Buffer.byteLength(text) === buf.length) return Buffer.byteLength(text.slice(0, units));
  let i = 0;
  let u = 0;
  while (u < units && i < buf.length) {
    const b = buf[i] as number;
    let need = 0;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    }
    let j = i + 1;
    let got = 0;
    for (; got < need && j < buf.length; got++, j++) {
      const c = buf[j] as number;
      if (c < lo || c > hi) break;
      lo = 0x80;
      hi = 0xbf;
    }
    // A complete 4-byte sequence is a surrogate pair; anything else is one unit (a char or one U+FFFD).
    u += need === 3 && got === 3 ? 2 : 1;
    i = j;
  }
  return i;
}
