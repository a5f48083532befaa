import { SocklabError } from '../errors.js';
import type { SessionEvent } from '../session/events.js';

/** Events a `.wait` can wait for. */
export const WAITABLE = ['listening', 'connect', 'accept', 'data', 'message', 'datagram', 'secure', 'end', 'close', 'error', 'timeout'] as const;
export type WaitableEvent = (typeof WAITABLE)[number];
const IS_WAITABLE: ReadonlySet<string> = new Set(WAITABLE);
/** The event kinds `record` reads: `session.subscribe(queue.record, { types: QUEUED_TYPES })`. */
export const QUEUED_TYPES = [...WAITABLE, 'relay'] as const;

/** Accepted-socket ids kept per server for `.wait … accept` that no wait has taken yet. */
export const MAX_QUEUED_IDS = 10_000;

interface Slot {
  /** How many such events happened. */
  count: number;
  /** How many of them earlier waits consumed. */
  consumed: number;
  /** For `accept`: the ids of accepted sockets no wait has consumed yet, oldest first. */
  ids: string[] | undefined;
  /** The waits still waiting, oldest first; made by the first wait (most slots are never waited on). */
  waiters: Array<(socketId: string | undefined) => void> | undefined;
}

/**
 * Queues events per endpoint and kind so that `.wait` never races: an event
 * that already happened, and that no earlier wait on the same target and kind
 * consumed, satisfies the next wait at once. Keeps counts, not events, so a
 * socket receiving millions of chunks costs one number.
 */
export class EventQueue {
  // By endpoint id, then by kind: the data path looks up two keys, builds no string.
  private readonly slots = new Map<string, Partial<Record<WaitableEvent, Slot>>>();

  /** The subscriber: `session.subscribe(queue.record)`. */
  readonly record = (ev: SessionEvent): void => {
    let id: string | undefined;
    let socketId: string | undefined;
    if (ev.type === 'accept') {
      id = ev.server;
      socketId = ev.id;
    } else if (ev.type === 'relay') {
      // What a link socket received, relayed: `.wait c3 data` waits for it.
      return this.count(ev.from, 'data', undefined);
    } else if (IS_WAITABLE.has(ev.type) && 'id' in ev) {
      id = ev.id;
    }
    if (id === undefined) return;
    this.count(id, ev.type as WaitableEvent, socketId);
  };

  private count(id: string, kind: WaitableEvent, socketId: string | undefined): void {
    const slot = this.slot(id, kind);
    slot.count++;
    if (socketId !== undefined) {
      slot.ids ??= [];
      slot.ids.push(socketId);
      // Nobody waited for the oldest accepts for a long time: count them as taken.
      if (slot.ids.length > MAX_QUEUED_IDS) {
        slot.ids.shift();
        slot.consumed++;
      }
    }
    const waiter = slot.waiters?.shift();
    if (waiter) waiter(this.consume(slot));
  }

  /**
   * Resolve with the next unconsumed `kind` event of `id` (for `accept`, the
   * accepted socket's id); reject with E_TIMEOUT after `timeoutMs`.
   */
  wait(id: string, kind: WaitableEvent, timeoutMs: number, describe: () => string, signal?: AbortSignal): Promise<string | undefined> {
    const slot = this.slot(id, kind);
    if (slot.consumed < slot.count && (slot.waiters === undefined || slot.waiters.length === 0)) return Promise.resolve(this.consume(slot));
    const waiters = (slot.waiters ??= []);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', cancel);
      };
      const waiter = (socketId: string | undefined): void => {
        done();
        resolve(socketId);
      };
      const give = (err: SocklabError): void => {
        done();
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(err);
      };
      const cancel = (): void => give(new SocklabError('E_CANCELLED', `wait ${id} ${kind} cancelled`));
      const timer = setTimeout(() => give(new SocklabError('E_TIMEOUT', `wait ${id} ${kind} timed out after ${timeoutMs} ms (${describe()})`)), timeoutMs);
      signal?.addEventListener('abort', cancel, { once: true });
      waiters.push(waiter);
    });
  }

  /** Forget the queues of an endpoint that is gone (keeps a long session bounded). */
  forget(id: string): void {
    const kinds = this.slots.get(id);
    if (kinds && !Object.values(kinds).some((slot) => slot.waiters !== undefined && slot.waiters.length > 0)) this.slots.delete(id);
  }

  private consume(slot: Slot): string | undefined {
    slot.consumed++;
    return slot.ids?.shift();
  }

  private slot(id: string, kind: WaitableEvent): Slot {
    let kinds = this.slots.get(id);
    if (!kinds) {
      kinds = {};
      this.slots.set(id, kinds);
    }
    return (kinds[kind] ??= { count: 0, consumed: 0, ids: undefined, waiters: undefined });
  }
}
