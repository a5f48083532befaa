/**
 * The diagram drawn from the history's columns in place (`History#view`):
 * the same rows as from the steps made whole, with labels made only for the
 * rows a drawing keeps. Pure: scripted events, no sockets (the page's
 * diagram of a real session is in test/serve/diagram-snapshot.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { drawnTimeline, renderMermaid, renderTimeline, timelineRows } from '../../src/render/timeline.js';
import { HISTORY_LIMIT, HISTORY_SLACK, History } from '../../src/observers/history.js';
import type { SessionEvent } from '../../src/session/events.js';
import { T } from './events.js';

/**
 * A session's story with every kind of step: c1 → s1 accepted as c2 (both ours), c3 accepted
 * from outside, a relay p1 with its link sockets c4/c5, two UDP sockets of ours, a TLS
 * handshake, an error; then `rounds` round trips that alternate sockets, so no two
 * steps merge and the ids change from step to step.
 */
function story(rounds: number): History {
  const h = new History();
  let t = T;
  const ev = (e: Record<string, unknown>) => h.record({ t: (t += 10), ...e } as unknown as SessionEvent);
  ev({ type: 'connect', id: 'c1', local: '127.0.0.1:5000', remote: '127.0.0.1:9000' });
  ev({ type: 'accept', id: 'c2', server: 's1', local: '127.0.0.1:9000', remote: '127.0.0.1:5000' });
  ev({ type: 'accept', id: 'c3', server: 's1', local: '127.0.0.1:9000', remote: '10.0.0.7:40000' });
  ev({ type: 'accept', id: 'c4', server: 'p1', local: '127.0.0.1:7000', remote: '10.0.0.8:41000' });
  ev({ type: 'connect', id: 'c5', local: '127.0.0.1:6001', remote: '10.0.0.9:80' });
  ev({ type: 'listening', id: 'u1', kind: 'udp', address: '127.0.0.1', port: 7001 });
  ev({ type: 'listening', id: 'u2', kind: 'udp', address: '127.0.0.1', port: 7002 });
  ev({ type: 'secure', id: 'c1', role: 'client', protocol: 'TLSv1.3', alpn: null });
  ev({ type: 'error', id: 'c3', code: 'ECONNRESET', message: 'reset' });
  for (let i = 0; i < rounds; i++) {
    const data = Buffer.from(`round ${i}: more than sixteen bytes \x1b[2J`);
    ev({ type: 'send', id: 'c1', data });
    ev({ type: 'data', id: 'c2', data });
    ev({ type: 'data', id: 'c3', data });
    ev({ type: 'relay', id: 'p1', from: 'c4', to: 'c5', data });
    ev({ type: 'send', id: 'u1', to: '127.0.0.1:7002', data });
    ev({ type: 'datagram', id: 'u2', from: '127.0.0.1:7001', data });
    ev({ type: 'datagram', id: 'u2', from: '10.1.1.1:53', data });
    ev({ type: 'send', id: 'c3', data });
  }
  ev({ type: 'shutdown', id: 'c1' });
  ev({ type: 'end', id: 'c2' });
  ev({ type: 'close', id: 'c3', hadError: false, reset: true });
  return h;
}

describe('History#view', () => {
  it('reads the same steps as `steps`, after the ring went round many times', () => {
    // Over HISTORY_LIMIT + HISTORY_SLACK steps, so the kept ones start mid-ring.
    const h = story(Math.ceil((3 * (HISTORY_LIMIT + HISTORY_SLACK)) / 9));
    const steps = h.steps;
    const view = h.view;
    expect(h.dropped).toBeGreaterThan(0);
    expect(view.length).toBe(steps.length);
    for (let i = 0; i < steps.length; i++) {
      expect(view.kind(i)).toBe(steps[i]?.kind);
      expect(view.id(i)).toBe(steps[i]?.id);
      expect(view.step(i)).toEqual(steps[i]);
    }
  });

  it('of an empty history is empty', () => {
    expect(new History().view.length).toBe(0);
    expect(renderTimeline(new History().view)).toBe('nothing to draw yet: connect something and send a few bytes');
  });
});

describe('drawnTimeline', () => {
  it('keeps the newest rows, labelled as when every row is labelled; counts all rows and participants', () => {
    const h = story(400);
    const full = timelineRows(h.steps);
    for (const max of [1, 7, 300, 1000]) {
      const drawn = drawnTimeline(h.view, undefined, max);
      // At most MAX_COLUMNS (12) participants here, so the newest rows are kept whatever their columns.
      expect(full.participants.length).toBeLessThanOrEqual(12);
      expect(drawn.rows).toEqual(full.rows.slice(-max));
      expect(drawn.all).toEqual({ participants: full.participants.length, rows: full.rows.length });
      const used = new Set(drawn.rows.flatMap((r) => (r.arrow ? [r.from, r.to] : [r.at])));
      expect(drawn.participants).toEqual(full.participants.filter((p) => used.has(p)));
    }
  });

  it('draws from the view what it draws from the steps: whole, for some sockets only, and as Mermaid', () => {
    const h = story(50);
    expect(timelineRows(h.view)).toEqual(timelineRows(h.steps));
    for (const only of [new Set(['c1']), new Set(['c2']), new Set(['c3', 'u2']), new Set(['p1']), new Set(['u1'])]) {
      expect(timelineRows(h.view, only)).toEqual(timelineRows(h.steps, only));
    }
    expect(renderTimeline(h.view, undefined, { rows: 40 })).toBe(renderTimeline(h.steps, undefined, { rows: 40 }));
    expect(renderMermaid(h.view, new Set(['c1']))).toBe(renderMermaid(h.steps, new Set(['c1'])));
  });

  it('a socket left out between steps of one drawn (ids alternate) draws only the drawn one, each its own way', () => {
    const h = new History();
    h.record({ type: 'accept', t: T, id: 'c3', server: 's1', local: '127.0.0.1:9000', remote: '10.0.0.7:40000' });
    h.record({ type: 'accept', t: T, id: 'c4', server: 's1', local: '127.0.0.1:9000', remote: '10.0.0.8:40000' });
    for (let i = 0; i < 3; i++) {
      h.record({ type: 'data', t: T + 10 * i, id: 'c3', data: Buffer.from(`in ${i}`) });
      h.record({ type: 'send', t: T + 10 * i, id: 'c4', data: Buffer.from(`out ${i}`) });
    }
    const rows = (only?: Set<string>) => timelineRows(h.view, only).rows.map((r) => (r.arrow ? `${r.from}>${r.to} ${r.label}` : `[${r.label}]`));
    expect(rows(new Set(['c4']))).toEqual(['10.0.0.8:40000>c4 connect (accepted by s1)', 'c4>10.0.0.8:40000 5 B "out 0"', 'c4>10.0.0.8:40000 5 B "out 1"', 'c4>10.0.0.8:40000 5 B "out 2"']);
    expect(rows()).toEqual([
      '10.0.0.7:40000>c3 connect (accepted by s1)',
      '10.0.0.8:40000>c4 connect (accepted by s1)',
      '10.0.0.7:40000>c3 4 B "in 0"',
      'c4>10.0.0.8:40000 5 B "out 0"',
      '10.0.0.7:40000>c3 4 B "in 1"',
      'c4>10.0.0.8:40000 5 B "out 1"',
      '10.0.0.7:40000>c3 4 B "in 2"',
      'c4>10.0.0.8:40000 5 B "out 2"',
    ]);
  });
});
