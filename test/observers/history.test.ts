/**
 * History keeps its steps in columns (src/observers/history.ts): each event
 * kind must come back as the step object `.timeline`, transcripts and the
 * page read, with bursts merged and everything else kept apart. Pure.
 */
import { describe, expect, it } from 'vitest';
import { History } from '../../src/observers/history.js';
import type { SessionEvent } from '../../src/session/events.js';

const b = (s: string): Buffer => Buffer.from(s);

describe('History', () => {
  it('turns every kind of event into its step, merges a burst, and skips what draws nothing', () => {
    const h = new History();
    const events = [
      { type: 'listening', t: 1, id: 's1', address: '127.0.0.1', port: 9000 },
      { type: 'listening', t: 2, id: 'u1', kind: 'udp', address: '::1', port: 53 },
      { type: 'connect', t: 3, id: 'c1', local: '127.0.0.1:5000', remote: '127.0.0.1:9000' },
      { type: 'accept', t: 4, id: 'c2', server: 's1', local: '127.0.0.1:9000', remote: '127.0.0.1:5000' },
      { type: 'send', t: 10, id: 'c1', data: b('a'.repeat(30)) },
      { type: 'data', t: 11, id: 'c2', data: b('hi') },
      { type: 'data', t: 13, id: 'c2', data: b('!!') },
      { type: 'data', t: 30, id: 'c2', data: b('late') },
      { type: 'datagram', t: 31, id: 'u1', from: '[::1]:4000', data: b('q') },
      { type: 'datagram', t: 32, id: 'u1', from: '[::1]:4001', data: b('r') },
      { type: 'send', t: 33, id: 'u1', to: '[::1]:4001', data: b('s') },
      { type: 'relay', t: 34, id: 'p1', from: 'c3', to: 'c4', dir: 'up', data: b('GET') },
      { type: 'secure', t: 35, id: 'c5', role: 'client', protocol: 'TLSv1.3', alpn: 'h2' },
      { type: 'shutdown', t: 36, id: 'c1' },
      { type: 'end', t: 37, id: 'c2' },
      { type: 'close', t: 38, id: 'c2', hadError: false, reset: true },
      { type: 'close', t: 39, id: 'c1', hadError: false },
      { type: 'close', t: 40, id: 's1', hadError: false },
      { type: 'timeout', t: 41, id: 'c6', ms: 500, destroyed: true },
      { type: 'error', t: 42, id: 'c7', code: 'ECONNREFUSED', message: 'x' },
      { type: 'error', t: 43, code: 'E_USAGE', message: 'no id' },
    ] as unknown as SessionEvent[];
    for (const ev of events) h.record(ev);
    expect(h.steps).toEqual([
      { t: 2, kind: 'bound', id: 'u1', local: '[::1]:53' },
      { t: 3, kind: 'connect', id: 'c1', local: '127.0.0.1:5000', remote: '127.0.0.1:9000' },
      { t: 4, kind: 'accept', id: 'c2', local: '127.0.0.1:9000', remote: '127.0.0.1:5000', server: 's1' },
      { t: 10, kind: 'send', id: 'c1', bytes: 30, preview: b('a'.repeat(24)), chunks: 1 },
      { t: 11, kind: 'data', id: 'c2', bytes: 4, preview: b('hi'), chunks: 2, last: 13 },
      { t: 30, kind: 'data', id: 'c2', bytes: 4, preview: b('late'), chunks: 1 },
      { t: 31, kind: 'dgram-in', id: 'u1', peer: '[::1]:4000', bytes: 1, preview: b('q'), chunks: 1 },
      { t: 32, kind: 'dgram-in', id: 'u1', peer: '[::1]:4001', bytes: 1, preview: b('r'), chunks: 1 },
      { t: 33, kind: 'dgram-out', id: 'u1', peer: '[::1]:4001', bytes: 1, preview: b('s'), chunks: 1 },
      { t: 34, kind: 'relay', id: 'p1', from: 'c3', to: 'c4', bytes: 3, preview: b('GET'), chunks: 1 },
      { t: 35, kind: 'secure', id: 'c5', role: 'client', label: 'TLS 1.3 handshake (ALPN h2)' },
      { t: 36, kind: 'fin-out', id: 'c1' },
      { t: 37, kind: 'fin-in', id: 'c2' },
      { t: 38, kind: 'rst', id: 'c2' },
      { t: 39, kind: 'closed', id: 'c1' },
      { t: 41, kind: 'timeout', id: 'c6' },
      { t: 41, kind: 'fin-out', id: 'c6' },
      { t: 42, kind: 'error', id: 'c7', code: 'ECONNREFUSED' },
    ]);
  });

  // A preview of a whole 24 bytes is copied at constant offsets (the fast path); shorter chunks byte by byte.
  it('keeps each chunk\'s first 24 bytes exactly, at every length around 24 and across the ring\'s wrap', () => {
    const h = new History();
    const source = Buffer.from(Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff));
    const lengths = [0, 1, 16, 23, 24, 25, 40];
    // Enough steps to wrap the ring (5,500 slots) twice; each step apart (alternating kinds).
    const n = 11_003;
    for (let i = 0; i < n; i++) {
      const len = lengths[i % lengths.length] as number;
      // A view into a larger buffer at an odd offset, as Node's pooled chunks are.
      const data = Buffer.concat([Buffer.alloc(3), source]).subarray(3 + (i % 5), 3 + (i % 5) + Math.min(len, 35));
      h.record({ type: i % 2 === 0 ? 'data' : 'send', t: i * 10, id: 'c1', data } as SessionEvent);
    }
    const steps = h.steps as Array<{ t: number; preview: Buffer; bytes: number }>;
    expect(steps.length).toBeGreaterThanOrEqual(5000);
    for (const step of steps) {
      const i = step.t / 10;
      const len = Math.min(lengths[i % lengths.length] as number, 35);
      const expected = source.subarray(i % 5, (i % 5) + Math.min(len, 24));
      expect([i, step.bytes, [...step.preview]]).toEqual([i, len, [...expected]]);
    }
  });
});
