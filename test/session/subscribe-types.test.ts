import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/session/manager.js';
import type { SessionEvent } from '../../src/session/events.js';

const note = (message: string): SessionEvent => ({ type: 'note', t: 0, message });
const data = (id: string): SessionEvent => ({ type: 'data', t: 0, id, data: Buffer.from('x') });

describe('subscribe(fn, { types })', () => {
  it('calls a subscriber only for the kinds it names, in subscription order with the others', () => {
    const reg = new Registry();
    const seen: string[] = [];
    reg.subscribe((ev) => seen.push(`all:${ev.type}`));
    reg.subscribe((ev) => seen.push(`data:${ev.type}`), { types: ['data'] });
    reg.subscribe((ev) => seen.push(`last:${ev.type}`));
    reg.emit(note('a'));
    reg.emit(data('c1'));
    reg.emit(note('b'));
    expect(seen).toEqual(['all:note', 'last:note', 'all:data', 'data:data', 'last:data', 'all:note', 'last:note']);
  });

  it('reaches a subscriber added during an emit and skips one removed during it, as a Set did', () => {
    const reg = new Registry();
    const seen: string[] = [];
    let offLate = (): void => {};
    const late = (ev: SessionEvent): void => {
      seen.push(`late:${ev.type}`);
    };
    reg.subscribe(() => {
      if (seen.length === 0) seen.push('first');
    });
    reg.subscribe(() => {
      offLate();
    });
    offLate = reg.subscribe(late, { types: ['note'] });
    reg.emit(note('a'));
    expect(seen).toEqual(['first']);

    const added: string[] = [];
    reg.subscribe(() => {
      if (added.length === 0) reg.subscribe((ev) => added.push(ev.type), { types: ['data'] });
      added.push('adder');
    }, { types: ['data'] });
    reg.emit(data('c1'));
    expect(added).toEqual(['adder', 'data']);
  });

  it('unsubscribes, and subscribing the same function twice calls it once with the last types', () => {
    const reg = new Registry();
    const seen: string[] = [];
    const fn = (ev: SessionEvent): void => {
      seen.push(ev.type);
    };
    reg.subscribe(fn);
    reg.emit(note('a'));
    const off = reg.subscribe(fn, { types: ['data'] });
    reg.emit(note('b'));
    reg.emit(data('c1'));
    off();
    reg.emit(data('c1'));
    expect(seen).toEqual(['note', 'data']);
  });
});

describe('subscribe(fn, { keepsBytes })', () => {
  it('counts as keeping relayed bytes only a subscriber that may receive relay events and does not say it keeps none', () => {
    const reg = new Registry();
    expect(reg.relayBytesKept).toBe(false);
    reg.subscribe(() => {}, { keepsBytes: false });
    reg.subscribe(() => {}, { types: ['close', 'data'] });
    expect(reg.relayBytesKept).toBe(false);
    const offAll = reg.subscribe(() => {});
    expect(reg.relayBytesKept).toBe(true);
    offAll();
    expect(reg.relayBytesKept).toBe(false);
    const keeper = (): void => {};
    reg.subscribe(keeper, { types: ['relay'] });
    expect(reg.relayBytesKept).toBe(true);
    // The same function subscribed again with keepsBytes: false replaces its options.
    const off = reg.subscribe(keeper, { types: ['relay'], keepsBytes: false });
    expect(reg.relayBytesKept).toBe(false);
    reg.subscribe(keeper, { types: ['relay'] });
    off();
    expect(reg.relayBytesKept).toBe(false);
  });
});
