import { KEEPS_NO_BYTES } from '../session/manager.js';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { SocklabError } from '../errors.js';
import { isLoopback } from '../endpoints/tcp-server.js';
import type { Session } from '../session/session.js';
import type { Settings } from '../settings.js';
import { loadAssets } from './assets.js';
import { PageFeed } from './feed.js';
import { SECURITY_HEADERS, refuse, route } from './http.js';
import { SnapshotFrames } from './frames.js';
import { diagramSnapshot, tableSnapshot } from './snapshots.js';
import { Viewer } from './viewer.js';
import { nodeCrypto } from '../lazy-builtins.js';

/** Browsers watching at once at most; one more gets 503 (a class of 30, each with a laptop and a phone). */
export const MAX_VIEWERS = 64;
/** The table and the diagram are sent at most this often, ms (they are rebuilt from the session, not per event). */
export const SNAPSHOT_MS = 500;
/** The table is rebuilt this often, ms, while someone watches: its ages and counters move without events. */
export const TABLE_REFRESH_MS = 5000;
/** Refused requests are told in the terminal at most once per this many ms (the rest are counted). */
const REFUSAL_NOTE_MS = 1000;

/** Where to serve: `host` defaults to 127.0.0.1; `port` 0 picks a free one. */
export interface ServeOptions {
  host?: string;
  port: number;
  /** The person's settings: the page follows `.view`, `maxbytes`, `.explain` as the terminal does. */
  settings: Settings;
}

/** A page being served. */
export interface Serving {
  readonly host: string;
  readonly port: number;
  /** Required as `?token=` when the page is reachable from the network; undefined on loopback. */
  readonly token: string | undefined;
  /** Links to give the class (one per address of the machine for a wildcard bind), with the token. */
  readonly urls: string[];
  /** The browsers connected now. */
  readonly viewers: ReadonlySet<Viewer>;
  /** Close every viewer's stream (they reconnect and resume): for tests of resuming. */
  dropViewers(): void;
  /** Stop serving: every stream ends, the port is closed. Idempotent. */
  stop(): Promise<void>;
}

const active = new WeakMap<Session, Serving>();

/** The page being served for `session`, if any. */
export function servingOf(session: Session): Serving | undefined {
  return active.get(session);
}

/** Stop serving `session`'s page, if it is served. */
export async function stopServing(session: Session): Promise<void> {
  await active.get(session)?.stop();
}

/**
 * Serve the read-only page of `session` (SPEC section 14) over node:http:
 * the page's files, and `/events`, a server-sent-events stream (WHATWG HTML
 * 9.2) of the event log with ids, the endpoints table and the diagram. One
 * per session. Throws `E_STATE` when one is served already, `E_IO` when the
 * page's files are missing, and the listen error (`EADDRINUSE`, `EACCES`)
 * as a SocklabError with Node's code.
 */
export async function startServing(session: Session, options: ServeOptions): Promise<Serving> {
  const current = active.get(session);
  if (current) throw new SocklabError('E_STATE', `the page is served already at ${current.urls[0]}: .serve stop first`);
  const assets = loadAssets();
  const host = options.host ?? '127.0.0.1';
  const token = host === 'localhost' || isLoopback(host) ? undefined : nodeCrypto().randomBytes(18).toString('base64url');
  const viewers = new Set<Viewer>();
  // The table and the diagram are rebuilt at most every SNAPSHOT_MS while something changed (the
  // diagram no more often than DIAGRAM_SHARE allows), and sent only when they differ from what the viewers have.
  const snapshots = new SnapshotFrames({
    table: () => JSON.stringify(tableSnapshot(session)),
    diagram: () => JSON.stringify(diagramSnapshot(session)),
    diagramSize: () => session.history.kept,
  });
  let timer: NodeJS.Timeout | undefined;
  let pumping = false;
  const send = (): void => {
    if (snapshots.refresh()) for (const v of viewers) v.touch();
  };
  const tick = (): void => {
    timer = undefined;
    send();
    // A costly diagram waits for its turn: look again (the table meanwhile goes on every SNAPSHOT_MS).
    if (snapshots.diagramWaiting) arm();
  };
  const arm = (): void => {
    if (timer !== undefined || viewers.size === 0) return;
    timer = setTimeout(tick, SNAPSHOT_MS);
    timer.unref();
  };
  const feed = new PageFeed(
    options.settings,
    () => {
      // Once per turn of the event loop, not per entry: a burst goes out as one write per viewer.
      if (pumping || viewers.size === 0) return;
      pumping = true;
      setImmediate(() => {
        pumping = false;
        for (const v of viewers) v.pump();
      });
    },
    () => {
      snapshots.stale();
      arm();
    },
  );
  const unsubscribe = session.subscribe(feed.handle, KEEPS_NO_BYTES);
  // Ages (and counters of quiet sockets) change with no event: a modest refresh keeps the page as `.ls` would be now.
  const refreshTable = (): void => {
    snapshots.staleTable();
    send();
  };
  const refresh = setInterval(() => viewers.size > 0 && refreshTable(), TABLE_REFRESH_MS);
  refresh.unref();

  let refusedSince = 0;
  let lastNote = 0;
  const noteRefusal = (note: string) => {
    const now = Date.now();
    if (now - lastNote < REFUSAL_NOTE_MS) return void refusedSince++;
    const more = refusedSince > 0 ? ` (and ${refusedSince} more refused since the last note)` : '';
    lastNote = now;
    refusedSince = 0;
    session.emit({ type: 'note', t: now, message: `classroom page: ${note}${more}` });
  };

  const openStream = (req: IncomingMessage, res: ServerResponse, lastEventId: string | undefined) => {
    if (viewers.size >= MAX_VIEWERS) return refuse(res, 503, `${MAX_VIEWERS} viewers are watching already: try again when one leaves`);
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
    if (req.method === 'HEAD') return void res.end();
    res.socket?.setNoDelay(true);
    const resumed = /^([0-9a-f]+)\.(\d+)$/.exec(lastEventId ?? '');
    const after = resumed && resumed[1] === feed.tag ? Number(resumed[2]) : undefined;
    // Resuming goes on after the last entry the browser got (a resync when that is no longer kept).
    const resume = after !== undefined && after <= feed.ring.last;
    const hello = { mode: resume ? 'resume' : 'fresh', earlier: resume ? 0 : feed.ring.first - 1 };
    res.write(`retry: 1000\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`);
    const viewer = new Viewer(res, feed.ring, snapshots, resume ? after + 1 : feed.ring.first, feed.tag);
    viewers.add(viewer);
    res.on('close', () => viewers.delete(viewer));
    // A new viewer gets the table as it is now, not as it was at the last event (and so do the others).
    refreshTable();
    if (snapshots.diagramWaiting) arm();
    viewer.pump();
  };

  // node:http (and its agent, parser, …) is loaded on the first `.serve`, not at start-up.
  const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');
  const server: Server = createServer((req, res) => {
    const r = route(req, assets, token);
    if (r.kind === 'refused') {
      if (r.note !== undefined) noteRefusal(r.note);
      return refuse(res, r.status, r.reason);
    }
    if (r.kind === 'events') return openStream(req, res, r.lastEventId);
    const asset = assets.get(r.name)!;
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': asset.type, 'Content-Length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      unsubscribe();
      feed.close();
      clearInterval(refresh);
      const hint = err.code === 'EADDRINUSE' ? ': something else listens there; choose another port, or 0 for any free one' : err.code === 'EACCES' ? ': ports below 1024 need privileges; choose one above' : '';
      reject(new SocklabError('E_NET', `cannot serve the page on ${host}:${options.port} (${err.code ?? err.message})${hint}`, { cause: err, ...(err.code !== undefined && { osCode: err.code }) }));
    });
    server.listen(options.port, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  const serving: Serving = {
    host,
    port,
    token,
    urls: pageUrls(host, port, token),
    viewers,
    dropViewers() {
      for (const v of viewers) v.end();
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        active.delete(session);
        unsubscribe();
        feed.close();
        clearTimeout(timer);
        clearInterval(refresh);
        for (const v of viewers) v.end();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
  active.set(session, serving);
  return serving;
}

/** The links to give: the bound address, or for a wildcard every external address of the machine. */
function pageUrls(host: string, port: number, token: string | undefined): string[] {
  const query = token === undefined ? '' : `?token=${token}`;
  const wildcard = host === '0.0.0.0' || host === '::';
  const hosts = wildcard
    ? Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined && !a.internal && (host === '::' || a.family === 'IPv4'))
        .map((a) => a!.address)
    : [host];
  if (hosts.length === 0) hosts.push(host);
  return hosts.map((h) => `http://${h.includes(':') ? `[${h}]` : h}:${port}/${query}`);
}
