/** How often folded streams print their summary, ms. */
export const FOLD_INTERVAL = 1000;

/**
 * Data events shown per second over all sockets before the whole session
 * folds: per-socket folding alone lets 500 sockets of 19 chunks a second
 * each print 9,500 lines a second.
 */
export const SESSION_FOLD_AFTER = 200;

/** What one interval of a session-wide fold gathered in one direction. */
export interface SessionFoldSummary {
  dir: '←' | '→';
  chunks: number;
  bytes: number;
  sockets: number;
  ms: number;
}

interface Tally {
  chunks: number;
  bytes: number;
  sockets: Set<string>;
}

/**
 * The session-wide rate limit of the human view. Counts every data and send
 * event not already folded per socket; past SESSION_FOLD_AFTER in one
 * FOLD_INTERVAL it takes them all and the printer shows one summary per
 * direction per interval, until an interval has fewer than the threshold.
 */
export class SessionFold {
  folding = false;
  private windowStart = 0;
  private windowCount = 0;
  private since = 0;
  private readonly tallies = { '←': newTally(), '→': newTally() };

  /**
   * Count an event at `t` (ms); true when it is folded (not to be shown).
   * `started` is set when this event began the fold.
   */
  take(t: number, id: string, dir: '←' | '→', bytes: number): { folded: boolean; started: boolean } {
    if (t - this.windowStart >= FOLD_INTERVAL) {
      this.windowStart = t;
      this.windowCount = 0;
    }
    let started = false;
    if (++this.windowCount > SESSION_FOLD_AFTER && !this.folding) {
      this.folding = true;
      this.since = t;
      started = true;
    }
    if (!this.folding) return { folded: false, started };
    const tally = this.tallies[dir];
    tally.chunks++;
    tally.bytes += bytes;
    tally.sockets.add(id);
    return { folded: true, started };
  }

  /**
   * The summaries of the interval that ended at `now` (ms), and whether the
   * fold ended (`stop`, or fewer than SESSION_FOLD_AFTER events came in it).
   */
  drain(now: number, stop = false): { summaries: SessionFoldSummary[]; ended: boolean } {
    if (!this.folding) return { summaries: [], ended: false };
    const summaries: SessionFoldSummary[] = [];
    let total = 0;
    for (const dir of ['←', '→'] as const) {
      const tally = this.tallies[dir];
      total += tally.chunks;
      if (tally.chunks > 0) summaries.push({ dir, chunks: tally.chunks, bytes: tally.bytes, sockets: tally.sockets.size, ms: now - this.since });
      this.tallies[dir] = newTally();
    }
    this.since = now;
    const ended = stop || total < SESSION_FOLD_AFTER;
    if (ended) {
      this.folding = false;
      this.windowCount = 0;
    }
    return { summaries, ended };
  }
}

function newTally(): Tally {
  return { chunks: 0, bytes: 0, sockets: new Set() };
}
