/**
 * Issue 9: 500 connections each sending 19 chunks a second printed 94,728
 * data lines and never folded, since folding was per socket (19 < 20 a
 * second). The human view now also folds across the session, says so, and
 * accounts for every chunk.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FOLD_AFTER, FOLD_INTERVAL, HumanPrinter, SESSION_FOLD_AFTER } from '../../src/render/printer.js';
import type { SessionEvent } from '../../src/session/events.js';
import { defaultSettings } from '../../src/settings.js';

afterEach(() => {
  vi.useRealTimers();
});

function printer() {
  const writes: string[] = [];
  const p = new HumanPrinter(defaultSettings({ time: false }), (text) => writes.push(text));
  const lines = (): string[] => writes.join('').split('\n').filter((l) => l !== '');
  return { p, lines };
}

const chunk = (id: string, t: number): SessionEvent => ({ type: 'data', t, id, data: Buffer.from('tick\n') });

/** Chunks a set of lines accounts for: data lines shown plus every fold summary's count. */
function accounted(lines: string[]): { shown: number; folded: number } {
  const shown = lines.filter((l) => /^c\d+ +← 5 B/.test(l)).length;
  const folded = lines
    .map((l) => /^(?:c\d+|all) +← ([\d,]+) chunks/.exec(l))
    .filter((m) => m !== null)
    .reduce((sum, m) => sum + Number(m[1]!.replace(/,/g, '')), 0);
  return { shown, folded };
}

describe('session-wide folding', () => {
  it('the issue example: 500 sockets × 19 chunks a second for 10 s fold into a few lines; every chunk is counted', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { p, lines } = printer();
    const sockets = 500;
    const seconds = 10;
    expect(19).toBeLessThanOrEqual(FOLD_AFTER);
    for (let s = 0; s < seconds; s++) {
      for (let k = 0; k < 19; k++) {
        for (let i = 1; i <= sockets; i++) p.handle(chunk(`c${i}`, Date.now()));
        vi.advanceTimersByTime(FOLD_INTERVAL / 19);
      }
    }
    p.close();
    const out = lines();
    // Without it: 95,000 data lines.
    expect(out.length).toBeLessThan(SESSION_FOLD_AFTER * 2 + 50);
    const { shown, folded } = accounted(out);
    expect(shown + folded).toBe(sockets * 19 * seconds);
    expect(out.some((l) => l.includes(`more than ${SESSION_FOLD_AFTER} data events a second over all sockets`))).toBe(true);
    expect(out.some((l) => /^all +← [\d,]+ chunks, .* on 500 sockets$/.test(l))).toBe(true);
  });

  it('unfolds once the rate falls under the threshold, and says so', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { p, lines } = printer();
    for (let i = 1; i <= SESSION_FOLD_AFTER * 2; i++) p.handle(chunk(`c${i}`, Date.now()));
    vi.advanceTimersByTime(FOLD_INTERVAL);
    vi.advanceTimersByTime(FOLD_INTERVAL);
    p.handle(chunk('c1', Date.now()));
    p.close();
    const out = lines();
    expect(out.some((l) => l.includes('calmed down'))).toBe(true);
    expect(out.at(-1)).toMatch(/^c1 +← 5 B/);
    const { shown, folded } = accounted(out);
    expect(shown + folded).toBe(SESSION_FOLD_AFTER * 2 + 1);
  });

  it('a few busy sockets under the session threshold still show every line', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { p, lines } = printer();
    for (let i = 1; i <= 10; i++) for (let k = 0; k < 10; k++) p.handle(chunk(`c${i}`, Date.now()));
    p.close();
    expect(accounted(lines())).toEqual({ shown: 100, folded: 0 });
  });

  it('the fold summary of a reset stream comes before its error line', () => {
    const { p, lines } = printer();
    const t = Date.now();
    for (let k = 0; k < 100; k++) p.handle(chunk('c2', t));
    p.handle({ type: 'error', t, id: 'c2', code: 'ECONNRESET', message: 'read ECONNRESET' });
    p.handle({ type: 'close', t, id: 'c2', hadError: true });
    p.close();
    const out = lines();
    const fold = out.findIndex((l) => /^c2 +← [\d,]+ chunks/.test(l));
    const error = out.findIndex((l) => l.includes('ECONNRESET'));
    expect(fold).toBeGreaterThan(-1);
    expect(fold).toBeLessThan(error);
  });
});
