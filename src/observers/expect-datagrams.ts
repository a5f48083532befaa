import { sleepUntilWoken } from './wake.js';
import { SocklabError } from '../errors.js';
import type { SessionEvent } from '../session/events.js';
import type { Pattern } from './expect.js';
import { DatagramLog } from './datagram-log.js';

/** Datagrams kept per socket for `.expect` (the oldest go first). */
export const EXPECT_DATAGRAMS = 4096;
/** Bytes of datagrams kept per socket for `.expect`. */
export const EXPECT_DATAGRAM_BYTES = 1024 * 1024;

/** Datagrams kept past EXPECT_DATAGRAMS before a batch is dropped. */
export const EXPECT_DATAGRAM_SLACK = 1024;

interface Queue {
  datagrams: DatagramLog;
  /** Datagrams at the front already searched by the waiting `.expect`. */
  searched: number;
  waiter: (() => void) | undefined;
}

/**
 * The datagrams each UDP socket received since its last `.expect` match.
 * Boundaries are kept (SPEC 9): a pattern matches inside one datagram, never
 * across two. Bounded per socket by count and bytes; datagrams are kept as
 * copies in a DatagramLog (no object per datagram).
 */
export class DatagramExpects {
  private readonly queues = new Map<string, Queue>();

  /** Handle a session event (called by ExpectBuffers.record). */
  record(ev: SessionEvent): void {
    if (ev.type === 'datagram') {
      const q = this.queue(ev.id);
      q.datagrams.push(ev.data);
      // Cut in batches, as the array this replaced was (a splice per datagram moved thousands of entries).
      if (q.datagrams.length > EXPECT_DATAGRAMS + EXPECT_DATAGRAM_SLACK || q.datagrams.bytes > EXPECT_DATAGRAM_BYTES) this.trim(q);
      q.waiter?.();
    } else if (ev.type === 'close') this.queues.get(ev.id)?.waiter?.();
  }

  /**
   * Resolve with the datagrams up to and including the first that matches
   * (consumed); reject with E_EXPECT on timeout or when `ended()`, with what
   * did arrive as `received`.
   */
  async expect(id: string, pattern: Pattern, timeoutMs: number, ended: () => boolean, signal?: AbortSignal): Promise<Buffer> {
    const q = this.queue(id);
    if (q.waiter) throw new SocklabError('E_STATE', `an .expect on ${id} is already waiting`);
    const deadline = Date.now() + timeoutMs;
    q.searched = 0;
    try {
      for (;;) {
        const matched = this.match(q, pattern);
        if (matched) return matched;
        const left = deadline - Date.now();
        if (ended()) throw miss(id, q, 'the socket closed before it arrived');
        if (left <= 0) throw miss(id, q, `timed out after ${timeoutMs} ms`);
        if (signal?.aborted) throw miss(id, q, 'cancelled', 'E_CANCELLED');
        await sleepUntilWoken(left, signal, (wake) => (q.waiter = wake));
      }
    } finally {
      q.waiter = undefined;
    }
  }

  forget(id: string): void {
    if (!this.queues.get(id)?.waiter) this.queues.delete(id);
  }

  private match(q: Queue, pattern: Pattern): Buffer | undefined {
    for (let i = q.searched; i < q.datagrams.length; i++) {
      const d = q.datagrams.at(i);
      const hit = pattern.kind === 'bytes' ? d.includes(pattern.bytes) : pattern.regex.find(d, 0) !== undefined;
      if (!hit) continue;
      const received = q.datagrams.join(i + 1);
      q.datagrams.drop(i + 1);
      q.searched = 0;
      return received;
    }
    q.searched = q.datagrams.length;
    return undefined;
  }

  private trim(q: Queue): void {
    let drop = 0;
    let bytes = q.datagrams.bytes;
    while (drop < q.datagrams.length - 1 && (q.datagrams.length - drop > EXPECT_DATAGRAMS || bytes > EXPECT_DATAGRAM_BYTES)) bytes -= q.datagrams.lengthAt(drop++);
    q.datagrams.drop(drop);
    q.searched = Math.max(0, q.searched - drop);
  }

  private queue(id: string): Queue {
    let q = this.queues.get(id);
    if (!q) {
      q = { datagrams: new DatagramLog(), searched: 0, waiter: undefined };
      this.queues.set(id, q);
    }
    return q;
  }
}

function miss(id: string, q: Queue, why: string, code: 'E_EXPECT' | 'E_CANCELLED' = 'E_EXPECT'): SocklabError & { received: Buffer } {
  const err = new SocklabError(code, `expect ${id} ${why}`) as SocklabError & { received: Buffer };
  err.received = q.datagrams.join();
  return err;
}
