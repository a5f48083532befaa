import { FOLD_INTERVAL } from './session-fold.js';

/** Firings of one rule shown per second before they fold into one summary line per second. */
export const RULE_FOLD_AFTER = 20;

interface RuleTally {
  windowStart: number;
  windowCount: number;
  folding: boolean;
  /** Firings folded since `since` (ms). */
  folded: number;
  since: number;
}

/** One interval of a folded rule: `r1 fired 4,210 times in 1.0 s`. */
export interface RuleFoldSummary {
  rule: string;
  fired: number;
  ms: number;
}

/**
 * The human view's rate limit for `rule` events: past RULE_FOLD_AFTER
 * firings of one rule in one FOLD_INTERVAL, that rule's events are counted,
 * not shown, and each interval prints one summary, until an interval passes
 * without a firing. The JSON stream is not folded (it is lossless).
 */
export class RuleFold {
  private readonly tallies = new Map<string, RuleTally>();

  /** True while some rule is folded (the printer keeps its timer running). */
  get folding(): boolean {
    for (const t of this.tallies.values()) if (t.folding) return true;
    return false;
  }

  /** Count a firing of `rule` at `t` (ms); true when it is folded (not shown). `started`: this one began the fold. */
  take(rule: string, t: number): { folded: boolean; started: boolean } {
    let tally = this.tallies.get(rule);
    if (tally === undefined) this.tallies.set(rule, (tally = { windowStart: t, windowCount: 0, folding: false, folded: 0, since: t }));
    if (t - tally.windowStart >= FOLD_INTERVAL) {
      tally.windowStart = t;
      tally.windowCount = 0;
    }
    let started = false;
    if (++tally.windowCount > RULE_FOLD_AFTER && !tally.folding) {
      tally.folding = true;
      tally.since = t;
      started = true;
    }
    if (tally.folding) tally.folded++;
    return { folded: tally.folding, started };
  }

  /** The summaries of the interval that ended at `now`; a rule with no firing in it (or every rule, `stop`) unfolds. */
  drain(now: number, stop = false): RuleFoldSummary[] {
    const out: RuleFoldSummary[] = [];
    for (const [rule, tally] of this.tallies) {
      if (tally.folded > 0) out.push({ rule, fired: tally.folded, ms: now - tally.since });
      if (stop || (tally.folding && tally.folded === 0) || !tally.folding) this.tallies.delete(rule);
      tally.folded = 0;
      tally.since = now;
    }
    return out;
  }
}
