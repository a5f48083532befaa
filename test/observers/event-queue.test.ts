import { afterEach, describe, expect, it, vi } from 'vitest';
import { SocklabError } from '../../src/errors.js';
import { EventQueue } from '../../src/observers/event-queue.js';
import type { SessionEvent } from '../../src/session/events.js';

// Pure tests: the queue is fed synthetic events, no sockets.

const t = 0;
const accept = (server: string, id: string): SessionEvent => ({ type: 'accept', t, id, server, local: '127.0.0.1:1', remote: '127.0.0.1:2' });
const data = (id: string, text = 'x'): SessionEvent => ({ type: 'data', t, id, data: Buffer.from(text) });
const close = (id: string): SessionEvent => ({ type: 'close', t, id, hadError: false });
const end = (id: string): SessionEvent => ({ type: 'end', t, id });
const describeState = () => 'c1 is open';

/** Settled state of a promise right now (after pending microtasks ran). */
async function state<T>(p: Promise<T>): Promise<'pending' | { value: T } | { error: unknown }> {
  let result: 'pending' | { value: T } | { error: unknown } = 'pending';
  p.then(
    (value) => (result = { value }),
    (error: unknown) => (result = { error }),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return result;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('EventQueue.wait on events that already happened', () => {
  it('an event recorded before the wait satisfies it at once', async () => {
    const q = new EventQueue();
    q.record(data('c1'));
    expect(await state(q.wait('c1', 'data', 50, describeState))).toEqual({ value: undefined });
  });

  it('each event is consumed by one wait only', async () => {
    const q = new EventQueue();
    q.record(data('c1'));
    await q.wait('c1', 'data', 50, describeState);
    const second = q.wait('c1', 'data', 1000, describeState);
    expect(await state(second)).toBe('pending');
    q.record(data('c1'));
    expect(await state(second)).toEqual({ value: undefined });
  });

  it('two past events satisfy two waits, a third waits', async () => {
    const q = new EventQueue();
    q.record(end('c1'));
    q.record(end('c1'));
    expect(await state(q.wait('c1', 'end', 1000, describeState))).toEqual({ value: undefined });
    expect(await state(q.wait('c1', 'end', 1000, describeState))).toEqual({ value: undefined });
    const third = q.wait('c1', 'end', 30, describeState);
    await expect(third).rejects.toMatchObject({ code: 'E_TIMEOUT' });
  });

  it('keeps targets and kinds apart', async () => {
    const q = new EventQueue();
    q.record(data('c2'));
    q.record(close('c1'));
    const onC1 = q.wait('c1', 'data', 1000, describeState);
    expect(await state(onC1)).toBe('pending');
    expect(await state(q.wait('c1', 'close', 1000, describeState))).toEqual({ value: undefined });
    expect(await state(q.wait('c2', 'data', 1000, describeState))).toEqual({ value: undefined });
    q.record(data('c1'));
    expect(await state(onC1)).toEqual({ value: undefined });
  });

  it('ignores events that are not waitable or have no endpoint', async () => {
    const q = new EventQueue();
    q.record({ type: 'command', t, line: '.ls' });
    q.record({ type: 'error', t, code: 'EX', message: 'session-level' });
    q.record({ type: 'send', t, id: 'c1', data: Buffer.from('x') });
    await expect(q.wait('c1', 'error', 20, describeState)).rejects.toMatchObject({ code: 'E_TIMEOUT' });
  });
});

describe('EventQueue.wait before the event', () => {
  it('resolves when the event comes', async () => {
    const q = new EventQueue();
    const w = q.wait('s1', 'listening', 1000, describeState);
    expect(await state(w)).toBe('pending');
    q.record({ type: 'listening', t, id: 's1', address: '127.0.0.1', port: 1, exposed: false });
    expect(await state(w)).toEqual({ value: undefined });
  });

  it('serves waiters first in, first out', async () => {
    const q = new EventQueue();
    const order: string[] = [];
    const a = q.wait('c1', 'data', 1000, describeState).then(() => order.push('a'));
    const b = q.wait('c1', 'data', 1000, describeState).then(() => order.push('b'));
    const c = q.wait('c1', 'data', 1000, describeState).then(() => order.push('c'));
    q.record(data('c1'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['a']);
    q.record(data('c1'));
    q.record(data('c1'));
    await Promise.all([a, b, c]);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('a wait that arrives while others are queued does not jump the line', async () => {
    const q = new EventQueue();
    const first = q.wait('c1', 'data', 1000, describeState);
    q.record(data('c1'));
    const second = q.wait('c1', 'data', 1000, describeState);
    expect(await state(first)).toEqual({ value: undefined });
    expect(await state(second)).toBe('pending');
    q.record(data('c1'));
    expect(await state(second)).toEqual({ value: undefined });
  });

  it('a timed-out waiter leaves the queue: the next event goes to the next waiter', async () => {
    const q = new EventQueue();
    const early = q.wait('c1', 'data', 10, describeState);
    const late = q.wait('c1', 'data', 2000, describeState);
    await expect(early).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    q.record(data('c1'));
    expect(await state(late)).toEqual({ value: undefined });
  });

  it('a timed-out waiter does not swallow the event that comes later', async () => {
    const q = new EventQueue();
    await expect(q.wait('c1', 'close', 10, describeState)).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    q.record(close('c1'));
    expect(await state(q.wait('c1', 'close', 1000, describeState))).toEqual({ value: undefined });
  });

  it('a middle waiter timing out removes itself, not another one', async () => {
    vi.useFakeTimers();
    const q = new EventQueue();
    const got: string[] = [];
    const a = q.wait('c1', 'data', 1000, describeState).then(() => got.push('a'));
    const b = q.wait('c1', 'data', 10, describeState).catch((err: SocklabError) => got.push(`b ${err.code}`));
    const c = q.wait('c1', 'data', 1000, describeState).then(() => got.push('c'));
    await vi.advanceTimersByTimeAsync(20);
    q.record(data('c1'));
    q.record(data('c1'));
    await Promise.all([a, b, c]);
    expect(got).toEqual(['b E_TIMEOUT', 'a', 'c']);
  });
});

describe('EventQueue accept', () => {
  it('resolves with the accepted socket ids in order, past and future', async () => {
    const q = new EventQueue();
    q.record(accept('s1', 'c2'));
    q.record(accept('s1', 'c4'));
    expect(await q.wait('s1', 'accept', 100, describeState)).toBe('c2');
    const pendingWait = q.wait('s1', 'accept', 100, describeState);
    const next = q.wait('s1', 'accept', 1000, describeState);
    expect(await pendingWait).toBe('c4');
    expect(await state(next)).toBe('pending');
    q.record(accept('s1', 'c6'));
    expect(await next).toBe('c6');
  });

  it('counts accepts per server, not on the accepted socket', async () => {
    const q = new EventQueue();
    q.record(accept('s1', 'c2'));
    q.record(accept('s2', 'c3'));
    expect(await q.wait('s2', 'accept', 100, describeState)).toBe('c3');
    expect(await q.wait('s1', 'accept', 100, describeState)).toBe('c2');
    await expect(q.wait('c2', 'accept', 10, describeState)).rejects.toMatchObject({ code: 'E_TIMEOUT' });
  });
});

describe('EventQueue timeout', () => {
  it('rejects with E_TIMEOUT naming target, kind, timeout and state', async () => {
    const q = new EventQueue();
    const err = await q.wait('c1', 'data', 25, () => 'c1 is half-closed').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SocklabError);
    expect((err as SocklabError).code).toBe('E_TIMEOUT');
    expect((err as SocklabError).message).toBe('wait c1 data timed out after 25 ms (c1 is half-closed)');
  });

  it('describes the state when it gives up, not when it started', async () => {
    vi.useFakeTimers();
    const q = new EventQueue();
    let now = 'c1 is open';
    const w = q.wait('c1', 'end', 100, () => now).catch((e: SocklabError) => e.message);
    now = 'c1 is closed';
    await vi.advanceTimersByTimeAsync(100);
    expect(await w).toContain('(c1 is closed)');
  });

  it('does not fire early', async () => {
    vi.useFakeTimers();
    const q = new EventQueue();
    const w = q.wait('c1', 'data', 100, describeState);
    await vi.advanceTimersByTimeAsync(99);
    expect(await state2(w)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    await expect(w).rejects.toMatchObject({ code: 'E_TIMEOUT' });
  });
});

describe('EventQueue counts kept without a slot (the common case: no wait ever asked)', () => {
  it('events counted before the first wait are all there when it comes', async () => {
    const q = new EventQueue();
    q.record(data('c1'));
    q.record(end('c1'));
    q.record(data('c1'));
    q.record(data('c1'));
    for (let i = 0; i < 3; i++) expect(await state(q.wait('c1', 'data', 1000, describeState))).toEqual({ value: undefined });
    expect(await state(q.wait('c1', 'data', 1000, describeState))).toBe('pending');
    expect(await state(q.wait('c1', 'end', 1000, describeState))).toEqual({ value: undefined });
  });

  it('once one kind is waited on, the other kinds of that endpoint still count', async () => {
    const q = new EventQueue();
    const closed = q.wait('c1', 'close', 1000, describeState);
    q.record(data('c1'));
    q.record(data('c1'));
    q.record(end('c1'));
    expect(await state(closed)).toBe('pending');
    q.record(close('c1'));
    expect(await state(closed)).toEqual({ value: undefined });
    expect(await state(q.wait('c1', 'data', 1000, describeState))).toEqual({ value: undefined });
    expect(await state(q.wait('c1', 'data', 1000, describeState))).toEqual({ value: undefined });
    expect(await state(q.wait('c1', 'end', 1000, describeState))).toEqual({ value: undefined });
  });

  it('an endpoint whose waits are done is forgotten whole', async () => {
    const q = new EventQueue();
    q.record(accept('s1', 'c2'));
    expect(await q.wait('s1', 'accept', 100, describeState)).toBe('c2');
    q.record(accept('s1', 'c3'));
    q.forget('s1');
    await expect(q.wait('s1', 'accept', 10, describeState)).rejects.toMatchObject({ code: 'E_TIMEOUT' });
  });
});

describe('EventQueue.forget', () => {
  it('drops the counts of a gone endpoint', async () => {
    const q = new EventQueue();
    q.record(close('c1'));
    q.forget('c1');
    await expect(q.wait('c1', 'close', 10, describeState)).rejects.toMatchObject({ code: 'E_TIMEOUT' });
  });

  it('keeps a queue that still has a waiter', async () => {
    const q = new EventQueue();
    const w = q.wait('c1', 'close', 1000, describeState);
    q.forget('c1');
    q.record(close('c1'));
    expect(await state(w)).toEqual({ value: undefined });
  });
});

/** `state` for fake timers: settle microtasks without needing setImmediate. */
async function state2<T>(p: Promise<T>): Promise<'pending' | 'settled'> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return settled ? 'settled' : 'pending';
}
