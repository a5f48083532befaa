/**
 * Real-socket helpers for tests: bare `net` peers on 127.0.0.1 port 0,
 * sessions whose events are recorded, waiting on events (never on time),
 * and tracking of everything opened so `afterEach(closeAll)` cleans up.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionEvent } from '../../src/session/events.js';
import type { SessionOptions } from '../../src/session/manager.js';
import { createSession, type Session } from '../../src/session/session.js';
import { patience } from './patience.js';

type Cleanup = () => void | Promise<void>;
const cleanups: Cleanup[] = [];
/** Lifecycle problems found while closing (an endpoint with 0 or 2 close events). */
let problems: string[] = [];

/** Run `fn` in `closeAll`, last registered first. */
export function track(fn: Cleanup): void {
  cleanups.push(fn);
}

/**
 * Close everything tests opened (sessions shut down, peers destroyed, temp
 * dirs removed), then fail if any session broke the lifecycle contract.
 * Use as `afterEach(closeAll)`.
 */
export async function closeAll(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()?.();
  const found = problems;
  problems = [];
  if (found.length > 0) throw new Error(`lifecycle contract broken:\n${found.join('\n')}`);
}

/** A short description of an event for failure messages. */
export function describeEvent(ev: SessionEvent): string {
  const parts: string[] = [ev.type];
  if ('id' in ev && ev.id !== undefined) parts.push(ev.id);
  if (ev.type === 'error' || ev.type === 'command-error') parts.push(ev.code, JSON.stringify(ev.message));
  if (ev.type === 'data' || ev.type === 'send') parts.push(JSON.stringify(ev.data.toString('latin1').slice(0, 40)));
  if (ev.type === 'close') parts.push(`hadError=${ev.hadError}${ev.aborted ? ' aborted' : ''}`);
  return parts.join(' ');
}

/** Every event a session emitted, in order, with waiting that sees past events too. */
export interface EventLog {
  events: SessionEvent[];
  /** The first recorded event (past or future) matching, or a rejection listing what was seen. */
  waitFor<E extends SessionEvent>(predicate: (ev: SessionEvent) => ev is E, ms?: number): Promise<E>;
  waitFor(predicate: (ev: SessionEvent) => boolean, ms?: number): Promise<SessionEvent>;
  /** Events of one type (and id). */
  of<T extends SessionEvent['type']>(type: T, id?: string): Array<Extract<SessionEvent, { type: T }>>;
}

/**
 * The event with a copy of its bytes: the log keeps events past the emit,
 * and a relay may read its next chunk into the memory of the last one while
 * every subscriber says it keeps no bytes (SubscribeOptions.keepsBytes). The
 * test logs say so, so every relay test runs the path a user's session runs.
 */
function owned(ev: SessionEvent): SessionEvent {
  return 'data' in ev && Buffer.isBuffer(ev.data) ? ({ ...ev, data: Buffer.from(ev.data) } as SessionEvent) : ev;
}

export function recordEvents(session: Session): EventLog {
  const events: SessionEvent[] = [];
  session.subscribe((ev) => events.push(owned(ev)), { keepsBytes: false });
  return {
    events,
    waitFor(predicate: (ev: SessionEvent) => boolean, ms = 3000): Promise<SessionEvent> {
      const past = events.find(predicate);
      return past ? Promise.resolve(past) : waitForEvent(session, predicate, ms, events);
    },
    of<T extends SessionEvent['type']>(type: T, id?: string) {
      return events.filter((ev) => ev.type === type && (id === undefined || ('id' in ev && ev.id === id))) as Array<
        Extract<SessionEvent, { type: T }>
      >;
    },
  } as EventLog;
}

/**
 * Resolve on the first event from now on that matches; reject after `ms`
 * with a message listing the events that did arrive (and `before`, if given).
 */
export function waitForEvent(
  session: Session,
  predicate: (ev: SessionEvent) => boolean,
  ms = 3000,
  before: SessionEvent[] = [],
): Promise<SessionEvent> {
  const seen: SessionEvent[] = [];
  ms = patience(ms);
  return new Promise((resolve, reject) => {
    const unsubscribe = session.subscribe(
      (event) => {
        const ev = owned(event);
        seen.push(ev);
        if (!predicate(ev)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(ev);
      },
      { keepsBytes: false },
    );
    const timer = setTimeout(() => {
      unsubscribe();
      const all = before.length > 0 ? before : seen;
      const list = all.map((ev) => `  ${describeEvent(ev)}`).join('\n') || '  (none)';
      reject(new Error(`no matching event within ${ms} ms; events seen:\n${list}`));
    }, ms);
  });
}

/** Shorthand predicate: an event of `type` on `id`. */
export const is =
  <T extends SessionEvent['type']>(type: T, id?: string) =>
  (ev: SessionEvent): ev is Extract<SessionEvent, { type: T }> =>
    ev.type === type && (id === undefined || ('id' in ev && ev.id === id));

/**
 * A session that is shut down after the test, with its events recorded. On
 * cleanup it checks the lifecycle contract: every endpoint that appeared in
 * an event has exactly one `close`, and it is that endpoint's last event.
 */
export function newSession(options?: SessionOptions): { session: Session; log: EventLog } {
  const session = createSession(options);
  const log = recordEvents(session);
  track(async () => {
    await session.shutdown(200);
    problems.push(...lifecycleProblems(log.events));
  });
  return { session, log };
}

const ENDPOINT_EVENTS = new Set<SessionEvent['type']>(['listening', 'connect', 'accept', 'send', 'data', 'message', 'datagram', 'secure', 'end', 'shutdown', 'stop', 'close', 'error', 'timeout']);

/** What breaks "exactly one close, last" in a list of events. */
export function lifecycleProblems(events: SessionEvent[]): string[] {
  const out: string[] = [];
  const ids = new Set<string>();
  for (const ev of events) if (ENDPOINT_EVENTS.has(ev.type) && 'id' in ev && ev.id !== undefined) ids.add(ev.id);
  for (const id of ids) {
    const mine = events.filter((ev) => ENDPOINT_EVENTS.has(ev.type) && 'id' in ev && ev.id === id);
    const closes = mine.filter((ev) => ev.type === 'close').length;
    if (closes !== 1) out.push(`${id}: ${closes} close events (${mine.map(describeEvent).join(', ')})`);
    else if (mine.at(-1)?.type !== 'close') out.push(`${id}: events after close (${mine.map(describeEvent).join(', ')})`);
  }
  return out;
}

/** A bare `net` server on 127.0.0.1:0 that a test drives by hand. */
export interface Peer {
  server: net.Server;
  port: number;
  /** Sockets it accepted, in order. */
  sockets: net.Socket[];
  /** The next accepted socket (or one already accepted and not yet taken). */
  nextSocket(): Promise<net.Socket>;
  close(): Promise<void>;
}

/** Start a bare peer server; `echo` writes back what it reads. */
export async function peerServer(options: { echo?: boolean; allowHalfOpen?: boolean } = {}): Promise<Peer> {
  const server = net.createServer({ allowHalfOpen: options.allowHalfOpen === true });
  const sockets: net.Socket[] = [];
  const waiting: Array<(s: net.Socket) => void> = [];
  let taken = 0;
  server.on('connection', (socket) => {
    socket.on('error', () => {}); // peers see resets on purpose
    if (options.echo) socket.pipe(socket);
    sockets.push(socket);
    const next = waiting.shift();
    if (next) {
      taken++;
      next(socket);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  let closed: Promise<void> | undefined;
  const peer: Peer = {
    server,
    port,
    sockets,
    nextSocket: () => {
      const ready = sockets[taken];
      if (ready) {
        taken++;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
  track(() => peer.close());
  return peer;
}

/** A bare client socket, destroyed on cleanup; resolves once connected. */
export async function peerClient(port: number, options: { allowHalfOpen?: boolean } = {}): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen === true });
  socket.on('error', () => {});
  track(() => {
    socket.destroy();
  });
  await once(socket, 'connect');
  return socket;
}

/** Everything a socket receives until it ends (or closes). */
export function collect(socket: net.Socket): { data: () => Buffer; ended: Promise<Buffer> } {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<Buffer>((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))));
  return { data: () => Buffer.concat(chunks), ended };
}

/** Resolve once `socket` has received at least `text` (as a substring of everything so far). */
export function receive(socket: net.Socket, text: string, ms = 3000): Promise<string> {
  let got = '';
  ms = patience(ms);
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer): void => {
      got += c.toString('latin1');
      if (got.includes(text)) done(() => resolve(got));
    };
    const onClose = (): void => done(() => reject(new Error(`socket closed before ${JSON.stringify(text)}; got ${JSON.stringify(got)}`)));
    const timer = setTimeout(() => done(() => reject(new Error(`no ${JSON.stringify(text)} within ${ms} ms; got ${JSON.stringify(got)}`))), ms);
    const done = (then: () => void): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      then();
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A fresh directory under os.tmpdir(), removed on cleanup. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'socklab-test-'));
  track(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Poll a condition on each turn of the event loop (for socket state that has no event, like a full buffer). */
export async function until(condition: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  ms = patience(ms);
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** True when this machine can listen on ::1. */
export async function hasIpv6Loopback(): Promise<boolean> {
  const server = net.createServer();
  try {
    server.listen(0, '::1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}
