import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { SocklabError, isSocklabError } from '../errors.js';
import type { SocketEndpoint } from '../endpoints/tcp-types.js';
import type { SessionEvent } from '../session/events.js';
import type { Session } from '../session/session.js';

/** First pause between refused attempts, ms; it doubles up to `MAX_BACKOFF_MS`. */
export const FIRST_BACKOFF_MS = 50;
/** Longest pause between attempts, ms: a server that comes up is found within this. */
export const MAX_BACKOFF_MS = 500;

/** OS errors that mean "nobody listens there yet": worth another try. */
const NOT_YET = new Set(['ECONNREFUSED', 'ENOENT']);

/** The events held back for one attempt; once `dropping`, they are thrown away up to its close. */
interface Held {
  events: SessionEvent[];
  dropping: boolean;
}

/**
 * Events of endpoints whose attempt is still being retried, by session: held
 * back so a refused attempt prints nothing; released (the last attempt's
 * only) when the retry gives up.
 */
const held = new WeakMap<Session, Map<string, Held>>();

/** Hold back the events of endpoint `id` from `session`'s subscribers until released or dropped. */
function hold(session: Session, id: string): void {
  let map = held.get(session);
  if (map === undefined) {
    const holding = new Map<string, Held>();
    map = holding;
    held.set(session, holding);
    // The session has no quiet connect: its emit is wrapped, once, to keep a retried
    // attempt's events back. Events of every other endpoint pass straight through.
    const emit = session.emit.bind(session);
    session.emit = (ev: SessionEvent): void => {
      const id = (ev as { id?: string }).id;
      const entry = id === undefined ? undefined : holding.get(id);
      if (entry === undefined) return emit(ev);
      if (!entry.dropping) entry.events.push(ev);
      else if (ev.type === 'close' && id !== undefined) holding.delete(id);
    };
  }
  map.set(id, { events: [], dropping: false });
}

/** Let `id`'s held events out now, and the later ones as they come. */
function release(session: Session, id: string, edit: (ev: SessionEvent) => SessionEvent = (ev) => ev): void {
  const map = held.get(session);
  const entry = map?.get(id);
  map?.delete(id);
  for (const ev of entry?.events ?? []) session.emit(edit(ev));
}

/** Throw `id`'s events away, those held and those to come up to its close. */
function drop(session: Session, id: string, closed: boolean): void {
  const map = held.get(session);
  const entry = map?.get(id);
  if (entry === undefined) return;
  if (closed) map?.delete(id);
  else entry.dropping = true;
}

/**
 * Connect with `attempt`, and while the connect is refused (ECONNREFUSED, or
 * ENOENT for a Unix socket path) try again with a short back-off
 * (`FIRST_BACKOFF_MS` doubling to `MAX_BACKOFF_MS`) until `retryMs` have
 * passed since the start. A refused attempt prints nothing: one note says
 * the retry started, and on giving up the last attempt's error event goes
 * out with how long it tried. Each attempt is a new endpoint (a new id): the
 * socket that connects has the id of its attempt, so scripts name it with
 * `as NAME`. Resolves to the connected endpoint; rejects with the last
 * attempt's `E_NET` error (other errors are not retried) or `E_CANCELLED`.
 */
export async function connectWithRetry(
  session: Session,
  attempt: () => SocketEndpoint,
  retryMs: number,
  signal?: AbortSignal,
): Promise<SocketEndpoint> {
  const start = Date.now();
  let backoff = FIRST_BACKOFF_MS;
  for (let tries = 1; ; tries++) {
    const ep = attempt();
    hold(session, ep.id);
    let err: unknown;
    try {
      await ep.ready;
      release(session, ep.id);
      return ep;
    } catch (e) {
      err = e;
    }
    const os = isSocklabError(err) ? err.osCode : undefined;
    const left = retryMs - (Date.now() - start);
    if (os === undefined || !NOT_YET.has(os) || left <= 0 || signal?.aborted) {
      const tried = `gave up after ${tries} attempt${tries === 1 ? '' : 's'} in ${Date.now() - start} ms of --retry`;
      const retried = NOT_YET.has(os ?? '');
      release(session, ep.id, (ev) => (ev.type === 'error' && retried ? { ...ev, message: `${ev.message} (${tried})` } : ev));
      if (isSocklabError(err) && retried) throw new SocklabError(err.code, `${err.message} (${tried})`, { cause: err, osCode: os });
      throw err;
    }
    if (tries === 1) session.emit({ type: 'note', t: session.now(), message: `${ep.remote} refused (${os}); retrying for up to ${retryMs} ms` });
    // The attempt's close comes after its error: drop its events once it is closed
    // (then its name, if it has one, is free for the next attempt).
    drop(session, ep.id, ep.closedAt !== undefined);
    if (ep.closedAt === undefined) await once(ep.socket, 'close');
    try {
      await sleep(Math.min(backoff, left), undefined, { signal });
    } catch (cause) {
      throw new SocklabError('E_CANCELLED', `connect to ${ep.remote} cancelled while retrying`, { cause });
    }
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
}
