/**
 * UDP in the pure renderers: human lines name the peer, a datagram is
 * escaped on its own (a character cut at its end is not continued by the
 * next datagram), a flood of datagrams folds like TCP data, `.explain` says
 * what UDP is, and the timeline and Mermaid draw datagrams as arrows with no
 * connection behind them.
 */
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { explainEvent } from '../../src/render/explain.js';
import { formatEvent } from '../../src/render/human.js';
import { FOLD_AFTER, HumanPrinter } from '../../src/render/printer.js';
import { renderMermaid, renderTimeline } from '../../src/render/timeline.js';
import { History } from '../../src/observers/history.js';
import { DatagramLog } from '../../src/observers/datagram-log.js';
import { DatagramExpects, EXPECT_DATAGRAM_SLACK, EXPECT_DATAGRAMS } from '../../src/observers/expect-datagrams.js';
import type { SessionEvent } from '../../src/session/events.js';
import { defaultSettings } from '../../src/settings.js';
import { T } from './events.js';

const plain = { time: false, colors: pc.createColors(false) };
const dgram = (data: string | Buffer, t = T, id = 'u1', from = '127.0.0.1:5353'): SessionEvent => ({ type: 'datagram', t, id, from, data: Buffer.from(data) });

function printer() {
  const writes: string[] = [];
  const p = new HumanPrinter(defaultSettings({ time: false }), (text) => writes.push(text));
  return { p, lines: () => writes.join('').split('\n').filter((l) => l !== '') };
}

describe('human lines', () => {
  it('SPEC 9 shapes: ← 5 B from HOST:PORT "hello", → 2 B to HOST:PORT "hi"', () => {
    const { p, lines } = printer();
    p.handle(dgram('hello'));
    p.handle({ type: 'send', t: T, id: 'u1', data: Buffer.from('hi'), to: '127.0.0.1:9999' });
    p.close();
    expect(lines()).toEqual(['u1   ← 5 B from 127.0.0.1:5353  "hello"', 'u1   → 2 B to 127.0.0.1:9999  "hi"']);
    expect(formatEvent({ type: 'listening', t: T, id: 'u1', kind: 'udp', address: '::1', port: 53, exposed: false }, plain)).toBe('u1   listening on [::1]:53 (UDP)');
  });

  it('each datagram is escaped on its own: a cut character is not glued to the next datagram', () => {
    const { p, lines } = printer();
    const euro = Buffer.from('€'); // e2 82 ac
    p.handle(dgram(euro.subarray(0, 2)));
    p.handle(dgram(Buffer.concat([euro.subarray(2), Buffer.from('\x1b[31m')])));
    p.close();
    expect(lines()).toEqual(['u1   ← 2 B from 127.0.0.1:5353  "\\xe2\\x82"', 'u1   ← 6 B from 127.0.0.1:5353  "\\xac\\x1b[31m"']);
  });

  it('a flood of 1,000 datagrams folds into a summary like TCP data', () => {
    const { p, lines } = printer();
    for (let i = 0; i < 1000; i++) p.handle(dgram(`d${i}`));
    p.handle({ type: 'close', t: T, id: 'u1', hadError: false });
    p.close();
    const out = lines();
    expect(out.filter((l) => / from 127/.test(l))).toHaveLength(FOLD_AFTER);
    expect(out.some((l) => l.startsWith(`u1   ← ${(1000 - FOLD_AFTER).toLocaleString('en-US')} chunks`))).toBe(true);
    expect(out.at(-1)).toBe('u1   closed');
  });
});

describe('.explain for UDP', () => {
  it('no connection, no delivery guarantee, boundaries kept; ICMP as ECONNREFUSED on a connected socket; EMSGSIZE', () => {
    expect(explainEvent(dgram('x'))).toMatch(/keeps boundaries.*No connection, no delivery guarantee/);
    expect(explainEvent({ type: 'listening', t: T, id: 'u1', kind: 'udp', address: '127.0.0.1', port: 1, exposed: false })).toMatch(/no connection and no handshake/);
    expect(explainEvent({ type: 'send', t: T, id: 'u1', data: Buffer.from('x'), to: '127.0.0.1:9' })).toMatch(/no handshake and no acknowledgement/);
    const refused = explainEvent({ type: 'error', t: T, id: 'u1', code: 'ECONNREFUSED', message: 'recvmsg ECONNREFUSED', context: 'udp' });
    expect(refused).toMatch(/ICMP port unreachable.*only on a connected UDP socket/);
    expect(refused).not.toMatch(/SYN/);
    expect(explainEvent({ type: 'error', t: T, id: 'u1', code: 'EMSGSIZE', message: 'send EMSGSIZE', context: 'udp' })).toMatch(/65,507 B/);
    expect(explainEvent({ type: 'close', t: T, id: 'u1', hadError: false })).toMatch(/no peer is told/);
  });
});

describe('timeline and Mermaid', () => {
  function story(): History {
    const h = new History();
    h.record({ type: 'listening', t: T, id: 'u1', kind: 'udp', address: '127.0.0.1', port: 7000, exposed: false });
    h.record({ type: 'listening', t: T, id: 'u2', kind: 'udp', address: '127.0.0.1', port: 7001, exposed: false });
    h.record({ type: 'send', t: T + 10, id: 'u2', data: Buffer.from('ping'), to: '127.0.0.1:7000' });
    h.record({ type: 'datagram', t: T + 11, id: 'u1', from: '127.0.0.1:7001', data: Buffer.from('ping') });
    h.record({ type: 'datagram', t: T + 20, id: 'u1', from: '10.0.0.9:53', data: Buffer.from('hi') });
    return h;
  }

  it('a datagram between two sockets of the session is one dotted arrow; one from outside comes from its address', () => {
    const lines = renderTimeline(story().steps).split('\n');
    expect(lines[0]?.trim().split(/\s+/)).toEqual(['u1', 'u2', '10.0.0.9:53']);
    expect(lines[1]).toMatch(/◀┄+ 4 B "ping" ┄+│/);
    expect(lines[2]).toMatch(/◀┄+ 2 B "hi" ┄+│$/);
    expect(lines).toHaveLength(3);
    expect(lines.join('\n')).not.toMatch(/connect/);
  });

  it('Mermaid uses the open arrow -) for datagrams', () => {
    const m = renderMermaid(story().steps);
    expect(m).toContain('u2-)u1: 4 B #34;ping#34;');
    expect(m).toMatch(/P2-\)u1: 2 B #34;hi#34;/);
  });
});

describe('.expect keeps a bounded queue of datagrams', () => {
  it(`a flood keeps the last ${EXPECT_DATAGRAMS} datagrams (plus a batch of ${EXPECT_DATAGRAM_SLACK}) at most`, () => {
    const q = new DatagramExpects();
    for (let i = 0; i < 3 * EXPECT_DATAGRAMS; i++) q.record(dgram(`n${i}`));
    const kept = (q as unknown as { queues: Map<string, { datagrams: DatagramLog }> }).queues.get('u1')?.datagrams ?? new DatagramLog();
    expect(kept.length).toBeGreaterThanOrEqual(EXPECT_DATAGRAMS);
    expect(kept.length).toBeLessThanOrEqual(EXPECT_DATAGRAM_SLACK + EXPECT_DATAGRAMS);
    expect(kept.at(kept.length - 1).toString()).toBe(`n${3 * EXPECT_DATAGRAMS - 1}`);
    expect(kept.at(0).toString()).toBe(`n${3 * EXPECT_DATAGRAMS - kept.length}`);
  });
});
