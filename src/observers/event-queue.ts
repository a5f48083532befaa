import { SocklabError } from '../errors.js';
import type { SessionEvent } from '../session/events.js';

/** Events a `.wait` can wait for. */
export const WAITABLE = ['listening', 'connect', 'accept', 'data', 'message', 'datagram', 'secure', 'end', 'close', 'error', 'timeout'] as const;
export type WaitableEvent = (typeof WAITABLE)[number];
/** The event kinds `record` reads: `session.subscribe(queue.record, { types: QUEUED_TYPES })`. */
export const QUEUED_TYPES = [...WAITABLE, 'relay'] as const;

/** Accepted-socket ids kept per server for `.wait … accept` that no wait has taken yet. */
export const MAX_QUEUED_IDS = 10_000;

/** Each waitable kind's place in an endpoint's counts. */
const INDEX: ReadonlyMap<string, number> = new Map(WAITABLE.map((kind, i) => [kind, i]));
const ACCEPT = WAITABLE.indexOf('accept');
const DATA = WAITABLE.indexOf('data');
/** The last place of the counts: 1 once some kind of the endpoint has a slot (a wait or an accept touched it). */
const SLOTTED = WAITABLE.length;
/** A new endpoint's counts: one zero per kind, then SLOTTED. */
const ZEROS: readonly number[] = [...WAITABLE.map(() => 0), 0];

/** What a wait or an accept needs beyond the count of one endpoint's kind. */
interface Slot {
  /** How many of the kind's events earlier waits consumed. */
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
  // By endpoint id: one array of small integers, a count per kind (INDEX), so
  // an event costs one map lookup and an increment, and an endpoint one array
  // (not an object per kind, keyed by the kind's name: a connect/close loop made
  // three objects per socket and missed the property caches). The slots (what
  // a wait or an accept keeps besides) are apart, made only when needed.
  private readonly counts = new Map<string, number[]>();
  private readonly slots = new Map<string, Array<Slot | undefined>>();

  /** The subscriber: `session.subscribe(queue.record)`. */
  readonly record = (ev: SessionEvent): void => {
    if (ev.type === 'accept') return this.count(ev.server, ACCEPT, ev.id);
    // What a link socket received, relayed: `.wait c3 data` waits for it.
    if (ev.type === 'relay') return this.count(ev.from, DATA, undefined);
    const k = INDEX.get(ev.type);
    if (k === undefined || !('id' in ev) || ev.id === undefined) return;
    this.count(ev.id, k, undefined);
  };

  private count(id: string, k: number, socketId: string | undefined): void {
    const counts = this.countsOf(id);
    (counts[k] as number)++;
    if (socketId === undefined && counts[SLOTTED] === 0) return;
    const slot = this.slot(id, counts, k);
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
    const counts = this.countsOf(id);
    const k = INDEX.get(kind) as number;
    const slot = this.slot(id, counts, k);
    if (slot.consumed < (counts[k] as number) && (slot.waiters === undefined || slot.waiters.length === 0)) return Promise.resolve(this.consume(slot));
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
    const slots = this.slots.get(id);
    if (slots !== undefined) {
      if (slots.some((slot) => slot?.waiters !== undefined && slot.waiters.length > 0)) return;
      this.slots.delete(id);
    }
    this.counts.delete(id);
  }

  private consume(slot: Slot): string | undefined {
    slot.consumed++;
    return slot.ids?.shift();
  }

  private countsOf(id: string): number[] {
    let counts = this.counts.get(id);
    if (counts === undefined) {
      counts = ZEROS.slice();
      this.counts.set(id, counts);
    }
    return counts;
  }

  private slot(id: string, counts: number[], k: number): Slot {
    let slots = this.slots.get(id);
    if (slots === undefined) {
      slots = [];
      this.slots.set(id, slots);
      counts[SLOTTED] = 1;
    }
    return (slots[k] ??= { consumed: 0, ids: undefined, waiters: undefined });
  }
}
