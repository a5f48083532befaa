/**
 * The order of fold summaries (src/render/printer.ts): each tick and the end
 * of a session list the folded streams in the order they began, socket by
 * socket, as before the printer kept its display state per direction
 * (review 4, nit 3: the tick case failed then; the end case held throughout).
 * Pure: synthetic events, no sockets.
 */
import { describe, expect, it } from 'vitest';
import { FOLD_AFTER, HumanPrinter } from '../../src/render/printer.js';
import type { SessionEvent } from '../../src/session/events.js';
import { defaultSettings } from '../../src/settings.js';
import { T } from './events.js';

const chunk = Buffer.from('x');
const data = (id: string): SessionEvent => ({ type: 'data', t: T, id, data: chunk });
const send = (id: string): SessionEvent => ({ type: 'send', t: T, id, data: chunk });

function flood(): { p: HumanPrinter; summaries: () => string[] } {
  const writes: string[] = [];
  const p = new HumanPrinter(defaultSettings({ time: false }), (text) => writes.push(text));
  // c1 receives first; c2 sends first: the streams begin c1 ←, c1 →, c2 →, c2 ←.
  for (let i = 0; i < 3 * FOLD_AFTER; i++) {
    p.handle(data('c1'));
    p.handle(send('c1'));
    p.handle(send('c2'));
    p.handle(data('c2'));
  }
  const summaries = (): string[] =>
    writes
      .join('')
      .split('\n')
      .filter((l) => / chunks, /.test(l))
      .map((l) => l.replace(/ +/g, ' ').split(' ').slice(0, 2).join(' '));
  return { p, summaries };
}

describe('fold summaries', () => {
  it('at each tick: stream by stream in the order they began', () => {
    const { p, summaries } = flood();
    (p as unknown as { tick(): void }).tick();
    p.flush();
    expect(summaries()).toEqual(['c1 ←', 'c1 →', 'c2 →', 'c2 ←']);
    p.close();
  });

  it('at the end: socket by socket, each received then sent', () => {
    const { p, summaries } = flood();
    p.close();
    expect(summaries()).toEqual(['c1 ←', 'c1 →', 'c2 ←', 'c2 →']);
  });
});
