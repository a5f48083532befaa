/**
 * `rule` events in the human view (pure, no sockets): one line per firing,
 * escaped, cut when long; past RULE_FOLD_AFTER firings of one rule in a
 * second they fold into one summary line per second, and unfold once quiet.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HumanPrinter } from '../../src/render/printer.js';
import { RULE_FOLD_AFTER } from '../../src/render/rule-fold.js';
import { FOLD_INTERVAL } from '../../src/render/session-fold.js';
import type { RuleEvent } from '../../src/session/events.js';
import { defaultSettings } from '../../src/settings.js';
import { T } from './events.js';

afterEach(() => {
  vi.useRealTimers();
});

function printer(explain = false) {
  const out: string[] = [];
  const p = new HumanPrinter({ ...defaultSettings({ time: false, color: false }), explain }, (text) => out.push(text));
  return { p, lines: () => out.join('').split('\n').filter((l) => l !== '') };
}

const fired = (n: number, t = T, rule = 'r1'): RuleEvent => ({ type: 'rule', t, rule, id: 'c2', command: `.sendln c2 "PONG ${n}"` });

describe('rule events in the human view', () => {
  it('one line per firing; a command holding control bytes or a long capture is escaped and cut', () => {
    const { p, lines } = printer();
    p.handle(fired(1));
    p.handle({ ...fired(2), command: '.sendln c2 "\x1b[2J\u202e"' });
    p.handle({ ...fired(3), command: `.sendln c2 "${'A'.repeat(1000)}"` });
    p.close();
    expect(lines()).toEqual([
      'c2   r1 fired: .sendln c2 "PONG 1"',
      'c2   r1 fired: .sendln c2 "\\x1b[2J\\u{202e}"',
      `c2   r1 fired: .sendln c2 "${'A'.repeat(288)}… (+713 characters)`,
    ]);
  });

  it(`past ${RULE_FOLD_AFTER} firings a second a rule folds: a note, one summary per second, then one by one again`, () => {
    vi.useFakeTimers({ now: T });
    const { p, lines } = printer();
    for (let i = 0; i < 100; i++) p.handle(fired(i, Date.now()));
    p.handle(fired(0, Date.now(), 'r2'));
    vi.advanceTimersByTime(FOLD_INTERVAL);
    p.flush();
    const out = lines();
    expect(out.filter((l) => l.includes('r1 fired:'))).toHaveLength(RULE_FOLD_AFTER);
    expect(out).toContain(`c2   r1 fires more than ${RULE_FOLD_AFTER} times a second: one summary a second until it calms down`);
    expect(out).toContain(`r1   fired ${100 - RULE_FOLD_AFTER} times in 1.0 s`);
    expect(out).toContain('c2   r2 fired: .sendln c2 "PONG 0"');
    vi.advanceTimersByTime(FOLD_INTERVAL); // nothing came: the fold ends
    p.handle(fired(500, Date.now()));
    p.flush();
    expect(lines().at(-1)).toBe('c2   r1 fired: .sendln c2 "PONG 500"');
    p.close();
  });

  it(".explain: a rule's firing is explained once per rule, not per firing", () => {
    const { p, lines } = printer(true);
    p.handle(fired(1));
    p.handle(fired(2));
    p.handle(fired(1, T, 'r2'));
    p.close();
    const explained = lines().filter((l) => l.includes('↳'));
    expect(explained).toHaveLength(2);
    expect(explained[0]).toMatch(/↳ Rule r1 matched an event of c2 and runs its command as if typed/);
  });
});
