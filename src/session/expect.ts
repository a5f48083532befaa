import { SocklabError } from '../errors.js';
import type { SessionEvent } from './events.js';

/** Bytes kept per socket for `.expect`; older unmatched bytes are dropped (a pattern must fit in this window). */
export const EXPECT_WINDOW = 1024 * 1024;

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
  /** Bytes dropped off the front because the window was full. */
  dropped: number;
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

  /** The subscriber: `session.subscribe(buffers.record)`. */
  readonly record = (ev: SessionEvent): void => {
    if (ev.type === 'data') {
      const s = this.stream(ev.id);
      s.chunks.push(ev.data);
      s.bytes += ev.data.length;
      while (s.bytes - (s.chunks[0]?.length ?? 0) >= EXPECT_WINDOW) {
        const old = s.chunks.shift() as Buffer;
        s.bytes -= old.length;
        s.dropped += old.length;
        s.searched = Math.max(0, s.searched - old.length);
      }
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
  async expect(id: string, pattern: Pattern, timeoutMs: number, ended: () => boolean): Promise<Buffer> {
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
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          s.waiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        s.waiter = undefined;
      }
    } finally {
      s.waiter = undefined;
    }
  }

  /** What arrived on `id` since the last match (for messages). */
  pending(id: string): Buffer {
    const s = this.streams.get(id);
    return s ? Buffer.concat(s.chunks, s.bytes) : Buffer.alloc(0);
  }

  forget(id: string): void {
    const s = this.streams.get(id);
    if (s && !s.waiter) this.streams.delete(id);
  }

  private match(s: Stream, pattern: Pattern): Buffer | undefined {
    if (s.bytes === 0) return undefined;
    const window = s.chunks.length === 1 ? (s.chunks[0] as Buffer) : Buffer.concat(s.chunks, s.bytes);
    let end: number;
    if (pattern.kind === 'bytes') {
      const at = window.indexOf(pattern.bytes, s.searched);
      if (at === -1) {
        // Keep the window joined and remember how far we looked, so the next
        // chunk costs a search of the new bytes only.
        s.chunks = [window];
        s.searched = Math.max(0, window.length - pattern.bytes.length + 1);
        return undefined;
      }
      end = at + pattern.bytes.length;
    } else {
      const text = window.toString('utf8');
      const m = pattern.regex.exec(text);
      if (!m) {
        s.chunks = [window];
        return undefined;
      }
      end = Buffer.byteLength(text.slice(0, m.index + m[0].length));
    }
    const rest = window.subarray(end);
    s.chunks = rest.length > 0 ? [rest] : [];
    s.bytes = rest.length;
    s.searched = 0;
    return window.subarray(0, end);
  }

  private miss(id: string, s: Stream, why: string): SocklabError & { received: Buffer } {
    const received = Buffer.concat(s.chunks, s.bytes);
    const err = new SocklabError('E_EXPECT', `expect ${id} ${why}`) as SocklabError & { received: Buffer };
    err.received = received;
    return err;
  }

  private stream(id: string): Stream {
    let s = this.streams.get(id);
    if (!s) {
      s = { chunks: [], bytes: 0, dropped: 0, searched: 0, waiter: undefined };
      this.streams.set(id, s);
    }
    return s;
  }
}
