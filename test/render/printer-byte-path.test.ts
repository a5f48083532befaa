/**
 * The printer's per-event path for bytes (src/render/printer.ts), which skips
 * work for a folded flood: which events count as bytes is decided by
 * comparisons (it was a Set), and a socket's own view (`.view hex c2`) is
 * looked up only for a line that is shown. These check the cases around
 * those shortcuts: every kind classified as before, a view still applied to
 * the lines shown before and after a fold, a relay shown with the view of its
 * link socket or of the relay itself. Pure: synthetic events, no sockets.
 */
import { describe, expect, it } from 'vitest';
import { FOLD_AFTER, FOLD_INTERVAL, HumanPrinter } from '../../src/render/printer.js';
import type { SessionEvent } from '../../src/session/events.js';
import { defaultSettings } from '../../src/settings.js';
import { SAMPLES, T } from './events.js';

/** The kinds that carry bytes, as the printer's Set listed them before it became comparisons. */
const BYTE_KINDS = ['data', 'send', 'datagram', 'relay', 'message'];

function printerWith(views: Record<string, 'text' | 'hex' | 'off'>, view: 'text' | 'hex' = 'text'): { p: HumanPrinter; text: () => string } {
  const writes: string[] = [];
  const settings = defaultSettings({ time: false, view, views: new Map(Object.entries(views)) });
  const p = new HumanPrinter(settings, (t) => writes.push(t));
  return { p, text: () => (p.flush(), writes.join('')) };
}

describe('the printer byte path', () => {
  it('shows exactly the byte-carrying kinds with the data view (a hexdump), every other kind without', () => {
    for (const [kind, ev] of Object.entries(SAMPLES)) {
      const { p, text } = printerWith({}, 'hex');
      p.handle(ev as SessionEvent);
      const dumped = /^\s+00000000 /m.test(text());
      expect([kind, dumped]).toEqual([kind, BYTE_KINDS.includes(kind)]);
      p.close();
    }
  });

  it("a socket's own view applies to the lines before a fold and after it, the hex offset running on through the folded chunks", () => {
    const { p, text } = printerWith({ c2: 'hex' });
    const chunk = Buffer.from('0123456789abcdef');
    const data = (t: number): SessionEvent => ({ type: 'data', t, id: 'c2', data: chunk });
    const other = (t: number): SessionEvent => ({ type: 'data', t, id: 'c9', data: chunk });
    for (let i = 0; i < FOLD_AFTER + 5; i++) p.handle(data(T));
    // Another socket keeps the session's view (text).
    p.handle(other(T));
    // A quiet interval ends the fold (the tick), then a chunk is shown again.
    (p as unknown as { tick(): void }).tick();
    (p as unknown as { tick(): void }).tick();
    p.handle(data(T + 3 * FOLD_INTERVAL));
    const out = text();
    const offsets = [...out.matchAll(/^\s+([0-9a-f]{8}) /gm)].map((m) => parseInt(m[1]!, 16));
    // FOLD_AFTER chunks shown, five folded, then the next one at the offset after all of them.
    expect(offsets).toEqual([...Array.from({ length: FOLD_AFTER }, (_, i) => i * 16), (FOLD_AFTER + 5) * 16]);
    expect(out).toContain('c9   ← 16 B  "0123456789abcdef"');
    p.close();
  });

  it("a relayed chunk shows with its link socket's view, else with the relay's own", () => {
    const relay = (from: string): SessionEvent => ({ type: 'relay', t: T, id: 'p1', from, to: 'c4', dir: 'up', data: Buffer.from('hi') });
    const byLink = printerWith({ c3: 'hex', p1: 'off' });
    byLink.p.handle(relay('c3'));
    expect(byLink.text()).toMatch(/^\s+00000000 /m);
    const byRelay = printerWith({ p1: 'hex' });
    byRelay.p.handle(relay('c5'));
    expect(byRelay.text()).toMatch(/^\s+00000000 /m);
    const neither = printerWith({});
    neither.p.handle(relay('c5'));
    expect(neither.text()).toContain('"hi"');
    expect(neither.text()).not.toMatch(/^\s+00000000 /m);
  });
});
